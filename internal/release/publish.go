package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/waxseal/waxseal/internal/retry"
)

// File is one file to put on the release.
type File struct {
	// Name is the asset name, e.g. "pkg-1.0.0.tgz.sigstore.json".
	Name string
	// Path is the local file.
	Path string
}

// Outcome says what happened to one file.
type Outcome string

// The outcomes of [Publish].
const (
	// Uploaded: the release had no asset of that name; it has one now.
	Uploaded Outcome = "uploaded"
	// Kept: the release already had an asset of that name with the same bytes (a re-run); it was left alone.
	Kept Outcome = "kept"
	// Replaced: the release had different bytes under that name and overwrite was on.
	Replaced Outcome = "replaced"
)

// Result is what happened to one file.
type Result struct {
	Name    string  `json:"name"`
	Outcome Outcome `json:"outcome"`
	Asset   Asset   `json:"asset"`
}

// PublishOptions tunes [Publish].
type PublishOptions struct {
	// Overwrite replaces an asset of the same name with different bytes; default false, which fails instead.
	Overwrite bool
	// Policy is the run's retry policy: its Clock is what waits above single requests (re-polling a listing,
	// pacing) wait on, and its For bounds them. The zero value means the real clock and retry.DefaultFor.
	Policy retry.Policy
}

// Publish puts every file on the release, all or nothing: an asset already there with the same bytes is kept,
// different bytes fail unless Overwrite, and if any file cannot be placed, the assets this run uploaded are
// deleted again and the error says so. (An asset Overwrite replaced cannot be restored; the error says that too.)
func Publish(ctx context.Context, svc Service, rel *Release, files []File, opts PublishOptions) ([]Result, error) {
	if rel.Immutable && !rel.Draft {
		return nil, fmt.Errorf("release %s: %w", rel.TagName, ErrImmutableRelease)
	}
	existing, err := svc.ListAssets(ctx, rel.ID)
	if err != nil {
		return nil, err
	}
	byName := map[string]Asset{}
	for _, a := range existing {
		byName[a.Name] = a
	}
	var done []Result
	for _, f := range files {
		res, err := place(ctx, svc, rel, f, byName, opts)
		if err != nil {
			return nil, rollback(ctx, svc, done, err)
		}
		done = append(done, *res)
	}
	return done, nil
}

func place(ctx context.Context, svc Service, rel *Release, f File, byName map[string]Asset, opts PublishOptions) (*Result, error) {
	if old, ok := byName[f.Name]; ok {
		return settle(ctx, svc, rel, f, old, opts)
	}
	a, err := svc.UploadAsset(ctx, rel, f.Name, f.Path)
	if errors.Is(err, ErrAssetExists) {
		// Someone (or an earlier try of ours whose answer was lost) got there first: look again.
		assets, lerr := svc.ListAssets(ctx, rel.ID)
		if lerr != nil {
			return nil, lerr
		}
		for _, old := range assets {
			if old.Name == f.Name {
				res, err := settle(ctx, svc, rel, f, old, opts)
				if err == nil && res.Outcome == Kept {
					// It was not there when the run began: most likely our own upload whose answer was lost
					// before a retry, so it is this run's to take back on failure.
					res.Outcome = Uploaded
				}
				return res, err
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return &Result{Name: f.Name, Outcome: Uploaded, Asset: *a}, nil
}

// settle handles a name already on the release: keep it, replace it, or refuse.
func settle(ctx context.Context, svc Service, rel *Release, f File, old Asset, opts PublishOptions) (*Result, error) {
	outcome := Replaced
	if old.State != "" && old.State != "uploaded" {
		outcome = Uploaded // a broken earlier upload ("starter") blocks the name; GitHub wants it deleted first
	} else {
		same, err := sameContent(ctx, svc, old, f.Path)
		if err != nil {
			return nil, err
		}
		if same {
			return &Result{Name: f.Name, Outcome: Kept, Asset: old}, nil
		}
		if !opts.Overwrite {
			return nil, fmt.Errorf("asset %q: %w", f.Name, ErrAssetConflict)
		}
	}
	if err := svc.DeleteAsset(ctx, old.ID); err != nil {
		return nil, err
	}
	a, err := svc.UploadAsset(ctx, rel, f.Name, f.Path)
	if err != nil {
		return nil, err
	}
	return &Result{Name: f.Name, Outcome: outcome, Asset: *a}, nil
}

// sameContent compares an asset with a local file without holding either in memory: by size, then by GitHub's
// digest when it reports one, else by hashing the download (read up to size+1 bytes).
func sameContent(ctx context.Context, svc Service, a Asset, path string) (bool, error) {
	size, local, err := fileSHA256(path)
	if err != nil {
		return false, err
	}
	if a.Size != size {
		return false, nil
	}
	if hexDigest, ok := strings.CutPrefix(a.Digest, "sha256:"); ok {
		return hexDigest == hex.EncodeToString(local), nil
	}
	rc, err := svc.OpenAsset(ctx, a.ID)
	if err != nil {
		return false, err
	}
	defer func() { _ = rc.Close() }() // read-only
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, a.Size+1))
	if err != nil {
		return false, fmt.Errorf("downloading asset %q: %w", a.Name, err)
	}
	return n == size && bytes.Equal(h.Sum(nil), local), nil
}

func fileSHA256(path string) (int64, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, fmt.Errorf("reading %q: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, nil, fmt.Errorf("reading %q: %w", path, err)
	}
	return n, h.Sum(nil), nil
}

// rollback deletes what this run uploaded (with a fresh context: the run's may be what failed) and explains.
func rollback(ctx context.Context, svc Service, done []Result, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var deleted, replaced []string
	var failures []error
	for _, r := range done {
		switch r.Outcome {
		case Kept:
			continue
		case Replaced:
			replaced = append(replaced, r.Name)
		}
		if err := svc.DeleteAsset(ctx, r.Asset.ID); err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", r.Name, err))
			continue
		}
		deleted = append(deleted, r.Name)
	}
	msg := "no asset of this run had been uploaded yet"
	if len(deleted) > 0 {
		msg = fmt.Sprintf("deleted the %d asset(s) this run had uploaded (%s)", len(deleted), strings.Join(deleted, ", "))
	}
	if len(replaced) > 0 {
		msg += fmt.Sprintf("; the earlier versions of %s were replaced and cannot be restored", strings.Join(replaced, ", "))
	}
	if len(failures) > 0 {
		return fmt.Errorf("%w; %s; could not delete: %w (delete them by hand on the release page)", cause, msg, errors.Join(failures...))
	}
	return fmt.Errorf("%w; %s", cause, msg)
}
