package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v62/github"
)

// What GitHub answered, for callers to tell apart with errors.Is; each wraps go-github's typed error, which says
// the method, URL, status and GitHub's message.
var (
	// ErrNotFound: 404. GitHub answers it for a repository or release that does not exist, and for a private one
	// the token cannot see.
	ErrNotFound = errors.New("GitHub has nothing there (404)")
	// ErrUnauthorized: 401, the token is invalid or expired.
	ErrUnauthorized = errors.New("GitHub refused the token (401)")
	// ErrForbidden: 403 that is no rate limit, the token lacks a permission.
	ErrForbidden = errors.New("GitHub refused the request: the token lacks a permission (403)")
	// ErrAssetExists: 422 already_exists, the release has an asset of that name.
	ErrAssetExists = errors.New("an asset with this name already exists")
	// ErrImmutableRelease: GitHub refuses a change to a published release with immutability on.
	ErrImmutableRelease = errors.New(`the release is published and immutable, so GitHub refuses changes to its assets: sign while the release is still a draft (create it with "draft: true", run waxseal, then publish it)`)
)

// classify wraps go-github's error in the sentinel for its status.
func classify(err error) error {
	switch StatusOf(err) {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case http.StatusForbidden:
		var rl *gh.RateLimitError
		var abuse *gh.AbuseRateLimitError
		if errors.As(err, &rl) || errors.As(err, &abuse) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	case http.StatusUnprocessableEntity:
		return classify422(err)
	}
	return err
}

// classify422 recognises 422 already_exists, and GitHub's refusal to change a published immutable release (a
// message or error naming immutability: "Cannot upload assets to an immutable release.", "Cannot delete asset
// from an immutable release").
func classify422(err error) error {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		return err
	}
	texts := []string{er.Message}
	for _, e := range er.Errors {
		if e.Code == "already_exists" {
			return fmt.Errorf("%w: %w", ErrAssetExists, err)
		}
		texts = append(texts, e.Message)
	}
	if strings.Contains(strings.ToLower(strings.Join(texts, " ")), "immutable release") {
		return fmt.Errorf("%w (%w)", ErrImmutableRelease, err)
	}
	return err
}

// StatusOf is the HTTP status of GitHub's answer in err's chain; 0 when there is none.
func StatusOf(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	return 0
}
