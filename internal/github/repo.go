package github

import (
	"context"
	"fmt"
	"strconv"
)

// Repository is what GitHub says of a repository that waxseal uses.
type Repository struct {
	// ID and OwnerID are GitHub's numeric IDs of the repository and its owner, which survive renames.
	ID, OwnerID string
	// Push reports whether the token may push (nil when GitHub's answer says nothing of the token's permissions,
	// as for some kinds of token and without one).
	Push *bool
}

// Info returns the repository's IDs and the token's push permission.
func (r *Repo) Info(ctx context.Context) (*Repository, error) {
	var a struct {
		ID    int64 `json:"id"`
		Owner struct {
			ID int64 `json:"id"`
		} `json:"owner"`
		Permissions *struct {
			Push bool `json:"push"`
		} `json:"permissions"`
	}
	if err := r.c.getJSON(ctx, fmt.Sprintf("repos/%s/%s", r.owner, r.name), &a); err != nil {
		return nil, fmt.Errorf("looking up repository %s: %w", r.FullName(), err)
	}
	out := &Repository{ID: id(a.ID), OwnerID: id(a.Owner.ID)}
	if a.Permissions != nil {
		out.Push = &a.Permissions.Push
	}
	return out, nil
}

func id(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
