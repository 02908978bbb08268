package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v62/github"
)

// maxAPIBody bounds what is read of one API response (JSON listings and error bodies).
const maxAPIBody = 8 << 20

// Client is the GitHub REST implementation of [Service] for one repository. go-github builds the requests and
// decodes GitHub's errors; Client sends them itself so retries wait on the injected Clock (go-github's own
// rate-limit bookkeeping reads the wall clock).
type Client struct {
	gh          *github.Client
	hc          *http.Client
	download    *http.Client // hc, but redirects (to GitHub's storage) never carry the token
	token       string
	owner, repo string
	retry       Retry
}

var _ Service = (*Client)(nil)

// NewClient returns a Client for repository ("owner/name") on the API at apiURL (GITHUB_API_URL; empty means
// https://api.github.com), authenticated with token. hc must carry a timeout.
func NewClient(hc *http.Client, apiURL, repository, token string, retry Retry) (*Client, error) {
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repository %q is not owner/name: set GITHUB_REPOSITORY", repository)
	}
	if token == "" {
		return nil, errors.New("no GitHub token: set the `github-token` input (default `${{ github.token }}`) and grant the job `permissions: contents: write`")
	}
	gh := github.NewClient(hc)
	if apiURL != "" {
		u, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("parsing GITHUB_API_URL %q: %w", apiURL, err)
		}
		gh.BaseURL = u
	}
	gh.UserAgent = "waxseal"
	dl := *hc
	dl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		req.Header.Del("Authorization")
		return nil
	}
	return &Client{gh: gh, hc: hc, download: &dl, token: token, owner: owner, repo: repo, retry: retry.withDefaults()}, nil
}

// send performs one logical request, building a fresh request for every try, and returns a 2xx response whose
// body the caller closes. Failures come back as go-github's typed errors (*github.ErrorResponse and friends).
func (c *Client) send(ctx context.Context, build func() (*http.Request, error)) (*http.Response, error) {
	return c.sendWith(ctx, c.hc, build)
}

func (c *Client) sendWith(ctx context.Context, hc *http.Client, build func() (*http.Request, error)) (*http.Response, error) {
	r := c.retry
	deadline := r.Clock.Now().Add(r.Budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for attempt := 0; ; attempt++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		req = req.WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := hc.Do(req)
		if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		failure := err
		if err == nil {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.LimitReader(resp.Body, maxAPIBody), resp.Body}
			failure = github.CheckResponse(resp)
			_ = resp.Body.Close() // fully read by CheckResponse
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		wait, limited, retry := r.retryWait(resp, err, attempt, r.Clock.Now())
		if !retry || attempt+1 >= r.Attempts {
			return nil, withHint(failure, resp)
		}
		if r.Clock.Now().Add(wait).After(deadline) {
			if limited {
				return nil, &RateLimitError{Until: r.Clock.Now().Add(wait), Status: resp.StatusCode}
			}
			return nil, failure
		}
		if err := r.Clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	resp, err := c.send(ctx, func() (*http.Request, error) { return c.gh.NewRequest(http.MethodGet, path, nil) })
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

// withHint adds what to do about a final failure a user can act on.
func withHint(err error, resp *http.Response) error {
	if resp == nil {
		return fmt.Errorf("%w (the connection to GitHub kept failing: re-run the job)", err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w (GitHub refused the token: check the `github-token` input)", err)
	case code == http.StatusForbidden:
		return fmt.Errorf("%w (the token may not change releases: grant the job `permissions: contents: write`)", err)
	case code >= 500:
		return fmt.Errorf("%w (GitHub kept failing: re-run the job; see githubstatus.com)", err)
	}
	return err
}

func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// apiRelease adds what go-github v62 predates: the immutable flag.
type apiRelease struct {
	github.RepositoryRelease
	Immutable bool `json:"immutable"`
}

func (a *apiRelease) release() *Release {
	up, _, _ := strings.Cut(a.GetUploadURL(), "{")
	return &Release{ID: a.GetID(), TagName: a.GetTagName(), Draft: a.GetDraft(), Immutable: a.Immutable,
		HTMLURL: a.GetHTMLURL(), UploadURL: up}
}

// maxReleasePages bounds the listing: 1000 releases, newest first.
const maxReleasePages = 10

// FindRelease looks the tag up directly, which finds published releases only, then lists releases to find a
// draft ("Information about published releases are available to everyone. Only users with push access will
// receive listings for draft releases.").
func (c *Client) FindRelease(ctx context.Context, tag string) (*Release, error) {
	var r apiRelease
	err := c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases/tags/%s", c.owner, c.repo, url.PathEscape(tag)), &r)
	if err == nil {
		return r.release(), nil
	}
	if statusOf(err) != http.StatusNotFound {
		return nil, fmt.Errorf("looking up the release for tag %q: %w", tag, err)
	}
	for page := 1; page <= maxReleasePages; page++ {
		var rs []apiRelease
		if err := c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases?per_page=100&page=%d", c.owner, c.repo, page), &rs); err != nil {
			return nil, fmt.Errorf("listing releases: %w", err)
		}
		for i := range rs {
			if rs[i].GetTagName() == tag {
				return rs[i].release(), nil
			}
		}
		if len(rs) < 100 {
			break
		}
	}
	return nil, fmt.Errorf("tag %q in %s/%s: %w", tag, c.owner, c.repo, ErrReleaseNotFound)
}

type apiAsset struct {
	github.ReleaseAsset
	Digest string `json:"digest"`
}

func (a *apiAsset) asset() Asset {
	return Asset{ID: a.GetID(), Name: a.GetName(), Size: int64(a.GetSize()), State: a.GetState(),
		DownloadURL: a.GetBrowserDownloadURL(), Digest: a.Digest}
}

// ListAssets lists every asset of a release.
func (c *Client) ListAssets(ctx context.Context, releaseID int64) ([]Asset, error) {
	var out []Asset
	for page := 1; ; page++ {
		var as []apiAsset
		if err := c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases/%d/assets?per_page=100&page=%d", c.owner, c.repo, releaseID, page), &as); err != nil {
			return nil, fmt.Errorf("listing release assets: %w", err)
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

// UploadAsset uploads a file to the release's own upload URL (a separate host on github.com).
func (c *Client) UploadAsset(ctx context.Context, rel *Release, name, path string) (*Asset, error) {
	if rel.UploadURL == "" {
		return nil, fmt.Errorf("release %d has no upload URL", rel.ID)
	}
	u := rel.UploadURL + "?" + url.Values{"name": {name}}.Encode()
	var f *os.File
	defer func() {
		if f != nil {
			_ = f.Close() // read-only
		}
	}()
	resp, err := c.send(ctx, func() (*http.Request, error) {
		if f != nil {
			_ = f.Close() // the previous try's file, read-only
		}
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("opening %q: %w", path, err)
		}
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", path, err)
		}
		return c.gh.NewUploadRequest(u, f, st.Size(), mediaType(filepath.Base(name)))
	})
	if err != nil {
		return nil, classifyUpload(name, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	var a apiAsset
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(&a); err != nil {
		return nil, fmt.Errorf("decoding the uploaded asset %q: %w", name, err)
	}
	out := a.asset()
	return &out, nil
}

func classifyUpload(name string, err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
		for _, e := range er.Errors {
			if e.Code == "already_exists" {
				return fmt.Errorf("uploading %q: %w", name, ErrAssetExists)
			}
		}
		// GitHub answers 422 "Cannot upload assets to an immutable release." once an immutable release is out.
		if strings.Contains(strings.ToLower(er.Message), "immutable") {
			return fmt.Errorf("uploading %q: %w", name, ErrImmutableRelease)
		}
	}
	return fmt.Errorf("uploading %q: %w", name, err)
}

// DeleteAsset deletes an asset; one already gone counts as deleted.
func (c *Client) DeleteAsset(ctx context.Context, assetID int64) error {
	resp, err := c.send(ctx, func() (*http.Request, error) {
		return c.gh.NewRequest(http.MethodDelete, fmt.Sprintf("repos/%s/%s/releases/assets/%d", c.owner, c.repo, assetID), nil)
	})
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting release asset %d: %w", assetID, err)
	}
	return resp.Body.Close()
}

// OpenAsset downloads an asset through the API. GitHub redirects to its storage, which takes pre-signed URLs
// and refuses an Authorization header, so the redirect is followed without the token.
func (c *Client) OpenAsset(ctx context.Context, assetID int64) (io.ReadCloser, error) {
	resp, err := c.sendWith(ctx, c.download, func() (*http.Request, error) {
		req, err := c.gh.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/releases/assets/%d", c.owner, c.repo, assetID), nil)
		if err == nil {
			req.Header.Set("Accept", "application/octet-stream")
		}
		return req, err
	})
	if err != nil {
		return nil, fmt.Errorf("downloading release asset %d: %w", assetID, err)
	}
	return resp.Body, nil
}
