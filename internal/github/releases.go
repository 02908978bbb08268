package github

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// maxReleasePages bounds FindRelease's listing: 1000 releases, newest first.
const maxReleasePages = 10

// ReleaseByTag returns the published release for tag (GitHub never finds a draft by its tag); ErrNotFound when
// there is none. One request.
func (r *Repo) ReleaseByTag(ctx context.Context, tag string) (*Release, error) {
	var a apiRelease
	if err := r.c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases/tags/%s", r.owner, r.name, url.PathEscape(tag)), &a); err != nil {
		return nil, fmt.Errorf("looking up the release for tag %q in %s: %w", tag, r.FullName(), err)
	}
	return r.release(&a), nil
}

// FindRelease returns the release for tag, drafts included: by its tag, which finds published releases, then by
// listing releases, which shows drafts ("Only users with push access will receive listings for draft releases").
// It returns nil, nil when neither finds one. It looks once; GitHub's listings lag its writes, so a caller that
// has just created a draft looks again (package release does).
func (r *Repo) FindRelease(ctx context.Context, tag string) (*Release, error) {
	rel, err := r.ReleaseByTag(ctx, tag)
	if err == nil || StatusOf(err) != http.StatusNotFound {
		return rel, err
	}
	for page := 1; page <= maxReleasePages; page++ {
		var rs []apiRelease
		if err := r.c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases?per_page=100&page=%d", r.owner, r.name, page), &rs); err != nil {
			return nil, fmt.Errorf("listing the releases of %s: %w", r.FullName(), err)
		}
		for i := range rs {
			if rs[i].GetTagName() == tag {
				return r.release(&rs[i]), nil
			}
		}
		if len(rs) < 100 {
			break
		}
	}
	return nil, nil
}

// ListAssets lists every asset of a release.
func (r *Repo) ListAssets(ctx context.Context, releaseID int64) ([]Asset, error) {
	var out []Asset
	for page := 1; ; page++ {
		var as []apiAsset
		if err := r.c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases/%d/assets?per_page=100&page=%d", r.owner, r.name, releaseID, page), &as); err != nil {
			return nil, fmt.Errorf("listing the assets of release %d of %s: %w", releaseID, r.FullName(), err)
		}
		for i := range as {
			out = append(out, as[i].asset())
		}
		if len(as) < 100 {
			return out, nil
		}
	}
}

func mediaType(name string) string {
	switch {
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	case strings.HasSuffix(name, ".tgz"), strings.HasSuffix(name, ".gz"):
		return "application/gzip"
	}
	return "application/octet-stream"
}

// UploadAsset uploads the file at path to the release's own upload URL as an asset named name. It returns
// ErrAssetExists for a duplicate name and ErrImmutableRelease when the release is published and immutable.
func (r *Repo) UploadAsset(ctx context.Context, rel *Release, name, path string) (*Asset, error) {
	if rel.UploadURL == "" {
		return nil, fmt.Errorf("uploading %q: release %d has no upload URL", name, rel.ID)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("uploading %q: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close() // read-only
		return nil, fmt.Errorf("uploading %q: %w", name, err)
	}
	req, err := r.c.gh.NewUploadRequest(rel.UploadURL+"?"+url.Values{"name": {name}}.Encode(), f, st.Size(), mediaType(filepath.Base(name)))
	if err != nil {
		_ = f.Close() // read-only
		return nil, fmt.Errorf("uploading %q: %w", name, err)
	}
	// Each try re-reads the file from the start; the transport closes each body it sends.
	req.Body = f
	req.GetBody = func() (io.ReadCloser, error) { return os.Open(path) }
	var a apiAsset
	if err := r.c.doJSON(ctx, r.c.upload, req, &a); err != nil {
		return nil, fmt.Errorf("uploading %q: %w", name, err)
	}
	out := a.asset()
	return &out, nil
}

// DeleteAsset deletes an asset; one already gone counts as deleted. It returns ErrImmutableRelease when the
// release is published and immutable.
func (r *Repo) DeleteAsset(ctx context.Context, assetID int64) error {
	req, err := r.c.gh.NewRequest(http.MethodDelete, fmt.Sprintf("repos/%s/%s/releases/assets/%d", r.owner, r.name, assetID), nil)
	if err != nil {
		return err
	}
	resp, err := r.c.send(ctx, r.c.api, req)
	if StatusOf(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting release asset %d: %w", assetID, err)
	}
	return resp.Body.Close()
}

// RenameAsset renames an asset ("Update a release asset": PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}
// with {"name": ...}). It returns ErrAssetExists when the release has another asset of that name, and
// ErrImmutableRelease when the release is published and immutable.
func (r *Repo) RenameAsset(ctx context.Context, assetID int64, name string) (*Asset, error) {
	req, err := r.c.gh.NewRequest(http.MethodPatch, fmt.Sprintf("repos/%s/%s/releases/assets/%d", r.owner, r.name, assetID),
		map[string]string{"name": name})
	if err != nil {
		return nil, err
	}
	var a apiAsset
	if err := r.c.doJSON(ctx, r.c.api, req, &a); err != nil {
		return nil, fmt.Errorf("renaming release asset %d to %q: %w", assetID, name, err)
	}
	out := a.asset()
	return &out, nil
}

// OpenAsset streams an asset's content through the API. GitHub redirects to its storage, which takes pre-signed
// URLs and refuses an Authorization header, so the redirect is followed without the token.
func (r *Repo) OpenAsset(ctx context.Context, assetID int64) (io.ReadCloser, error) {
	req, err := r.c.gh.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/releases/assets/%d", r.owner, r.name, assetID), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := r.c.send(ctx, r.c.download, req)
	if err != nil {
		return nil, fmt.Errorf("downloading release asset %d: %w", assetID, err)
	}
	return resp.Body, nil
}
