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
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/waxseal/waxseal/internal/retry"
)

// maxAPIBody bounds what is read of one API response (JSON listings and error bodies).
const maxAPIBody = 8 << 20

// Client is the GitHub REST implementation of [Service] for one repository. go-github builds the requests and
// decodes GitHub's answers; every request goes through the run's retry policy (internal/retry) with GitHub's
// rate-limit rules (githubService).
type Client struct {
	gh          *github.Client
	api         *http.Client // JSON calls
	upload      *http.Client // asset uploads: a long timeout per try
	download    *http.Client // asset downloads: streamed, and redirects to storage never carry the token
	token       string
	owner, repo string
	serverURL   string
	clock       retry.Clock
	budget      time.Duration // the policy's For: how long waits above single requests may take
	findWait    time.Duration
	pace        *pacer
}

var _ Service = (*Client)(nil)

// uploadTimeout bounds one try of an asset upload (tarballs can be hundreds of megabytes).
const uploadTimeout = 15 * time.Minute

// Option tunes a Client.
type Option func(*Client) error

// WithServerURL sets the web host download URLs are built on (GITHUB_SERVER_URL); default https://github.com.
func WithServerURL(u string) Option {
	return func(c *Client) error {
		if u == "" {
			return nil
		}
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || p.Host == "" {
			return fmt.Errorf("GITHUB_SERVER_URL %q is not an absolute URL", u)
		}
		c.serverURL = strings.TrimSuffix(u, "/")
		return nil
	}
}

// WithContentRate paces content-creating requests (uploads, asset edits and deletes) at no more than perMinute
// in any minute and perHour in any hour; default DefaultPerMinute and DefaultPerHour.
func WithContentRate(perMinute, perHour int) Option {
	return func(c *Client) error {
		if perMinute <= 0 || perHour < perMinute {
			return fmt.Errorf("content rate %d a minute, %d an hour: want 0 < per minute <= per hour", perMinute, perHour)
		}
		c.pace.perMinute, c.pace.perHour = perMinute, perHour
		return nil
	}
}

// WithFindWait sets how long FindRelease keeps looking for a release that is not listed yet; default 30s.
func WithFindWait(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("find wait %s is negative", d)
		}
		c.findWait = d
		return nil
	}
}

// NewClient returns a Client for repository ("owner/name") on the API at apiURL (GITHUB_API_URL; empty means
// https://api.github.com), authenticated with token. Requests go over transport (nil means
// http.DefaultTransport) under the retry policy; waits above single requests (re-polling, pacing) use the
// policy's clock.
func NewClient(transport http.RoundTripper, policy retry.Policy, apiURL, repository, token string, opts ...Option) (*Client, error) {
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repository %q is not owner/name: set GITHUB_REPOSITORY", repository)
	}
	if token == "" {
		return nil, errors.New("no GitHub token: set the `github-token` input (default `${{ github.token }}`) and grant the job `permissions: contents: write`")
	}
	api := policy.Client(transport, githubService)
	gh := github.NewClient(api)
	if apiURL != "" {
		u, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("parsing GITHUB_API_URL %q: %w", apiURL, err)
		}
		gh.BaseURL = u
	}
	gh.UserAgent = "waxseal"
	up := policy
	up.AttemptTimeout = max(up.AttemptTimeout, uploadTimeout)
	dl := policy.Client(transport, githubDownload)
	dl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		req.Header.Del("Authorization")
		return nil
	}
	clock, budget := clockOf(policy)
	c := &Client{gh: gh, api: api, upload: up.Client(transport, githubService), download: dl, token: token, owner: owner,
		repo: repo, serverURL: "https://github.com", clock: clock, budget: budget, findWait: defaultFindWait,
		pace: &pacer{clock: clock, perMinute: DefaultPerMinute, perHour: DefaultPerHour, budget: budget}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// clockOf is the policy's clock and budget, with the policy's defaults.
func clockOf(p retry.Policy) (retry.Clock, time.Duration) {
	clock, budget := p.Clock, p.For
	if clock == nil {
		clock = retry.RealClock{}
	}
	if budget <= 0 {
		budget = retry.DefaultFor
	}
	return clock, budget
}

// send performs one logical request (the retry policy makes its tries) and returns a 2xx response whose body the
// caller closes. Failures come back as go-github's typed errors (*github.ErrorResponse and friends), or as a
// *retry.Error when GitHub kept failing.
func (c *Client) send(ctx context.Context, hc *http.Client, req *http.Request) (*http.Response, error) {
	req = req.WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, withHint(retry.Cause(err))
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxAPIBody), resp.Body}
	failure := github.CheckResponse(resp)
	_ = resp.Body.Close() // read whole by the retry policy
	return nil, withHint(failure)
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	req, err := c.gh.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, c.api, req)
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
func withHint(err error) error {
	var re *retry.Error
	if errors.As(err, &re) {
		return err // names GitHub, what it answered and for how long it was tried
	}
	switch statusOf(err) {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (GitHub refused the token: check the `github-token` input)", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w (the token may not change releases: grant the job `permissions: contents: write`, or give `github-token` a token that has it)", err)
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

func (c *Client) release(a *apiRelease) *Release {
	up, _, _ := strings.Cut(a.GetUploadURL(), "{")
	return &Release{ID: a.GetID(), TagName: a.GetTagName(), Draft: a.GetDraft(), Immutable: a.Immutable,
		HTMLURL: tagURL(c.serverURL, c.owner, c.repo, "tag", a.GetTagName()), UploadURL: up,
		DownloadBase: tagURL(c.serverURL, c.owner, c.repo, "download", a.GetTagName()) + "/"}
}

// maxReleasePages bounds the listing: 1000 releases, newest first.
const maxReleasePages = 10

// defaultFindWait is how long FindRelease keeps looking for a release that is not listed: GitHub's listings lag
// its writes, so a draft created a moment earlier ("gh release create --draft", then waxseal) can be missing for
// seconds (cli/cli#6599, onyx-dot-app/onyx#12471: "a just-created draft can be absent from the list for several
// seconds").
const defaultFindWait = 30 * time.Second

// FindRelease returns the release for tag, drafts included. It looks the tag up directly, which finds published
// releases only, then lists releases to find a draft ("Information about published releases are available to
// everyone. Only users with push access will receive listings for draft releases."), and keeps looking with
// backoff for a while, as listings lag. When there is none, it returns ErrReleaseNotFound, or ErrReleaseHidden
// when the token could not have seen a draft.
func (c *Client) FindRelease(ctx context.Context, tag string) (*Release, error) {
	var rel *Release
	err := poll(ctx, c.clock, c.findWait, func() (bool, error) {
		var err error
		rel, err = c.findOnce(ctx, tag)
		return rel != nil, err
	})
	if err != nil || rel != nil {
		return rel, err
	}
	if push, known, err := c.canPush(ctx); err == nil && known && !push {
		return nil, fmt.Errorf("tag %q in %s/%s: %w", tag, c.owner, c.repo, ErrReleaseHidden)
	}
	return nil, fmt.Errorf("tag %q in %s/%s: %w", tag, c.owner, c.repo, ErrReleaseNotFound)
}

func (c *Client) findOnce(ctx context.Context, tag string) (*Release, error) {
	var r apiRelease
	err := c.getJSON(ctx, fmt.Sprintf("repos/%s/%s/releases/tags/%s", c.owner, c.repo, url.PathEscape(tag)), &r)
	if err == nil {
		return c.release(&r), nil
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
				return c.release(&rs[i]), nil
			}
		}
		if len(rs) < 100 {
			break
		}
	}
	return nil, nil
}

// canPush reports whether the token may push to the repository, as GET /repos/{owner}/{repo} says in
// "permissions"; known is false when the answer has no permissions (GitHub leaves them out for some kinds of
// token), so nothing can be said.
func (c *Client) canPush(ctx context.Context) (push, known bool, err error) {
	var r struct {
		Permissions *struct {
			Push bool `json:"push"`
		} `json:"permissions"`
	}
	if err := c.getJSON(ctx, fmt.Sprintf("repos/%s/%s", c.owner, c.repo), &r); err != nil {
		return false, false, err
	}
	if r.Permissions == nil {
		return false, false, nil
	}
	return r.Permissions.Push, true, nil
}

type apiAsset struct {
	github.ReleaseAsset
	Digest string `json:"digest"`
}

func (a *apiAsset) asset() Asset {
	return Asset{ID: a.GetID(), Name: a.GetName(), Label: a.GetLabel(), Size: int64(a.GetSize()), State: a.GetState(),
		DownloadURL: a.GetBrowserDownloadURL(), Digest: a.Digest, Created: a.GetCreatedAt().Time}
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
	if err := c.pace.wait(ctx); err != nil {
		return nil, fmt.Errorf("uploading %q: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close() // read-only
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	req, err := c.gh.NewUploadRequest(u, f, st.Size(), mediaType(filepath.Base(name)))
	if err != nil {
		_ = f.Close() // read-only
		return nil, err
	}
	// Each try re-reads the file from the start; the transport closes each body it sends.
	req.Body = f
	req.GetBody = func() (io.ReadCloser, error) { return os.Open(path) }
	resp, err := c.send(ctx, c.upload, req)
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
	return fmt.Errorf("uploading %q: %w", name, classifyWrite(err))
}

// classifyWrite turns GitHub's refusals of an upload or a rename into the package's errors: 422 already_exists
// is ErrAssetExists, a refusal on an immutable release ErrImmutableRelease.
func classifyWrite(err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
		for _, e := range er.Errors {
			if e.Code == "already_exists" {
				return ErrAssetExists
			}
		}
	}
	return immutableOr(err)
}

// DeleteAsset deletes an asset; one already gone counts as deleted. It returns ErrImmutableRelease when GitHub
// refuses because the release is published and immutable.
func (c *Client) DeleteAsset(ctx context.Context, assetID int64) error {
	req, err := c.gh.NewRequest(http.MethodDelete, fmt.Sprintf("repos/%s/%s/releases/assets/%d", c.owner, c.repo, assetID), nil)
	if err != nil {
		return err
	}
	if err := c.pace.wait(ctx); err != nil {
		return fmt.Errorf("deleting release asset %d: %w", assetID, err)
	}
	resp, err := c.send(ctx, c.api, req)
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting release asset %d: %w", assetID, immutableOr(err))
	}
	return resp.Body.Close()
}

// RenameAsset renames an asset ("Update a release asset": PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}
// with {"name": ...}). It returns ErrAssetExists when the release has another asset of that name, and
// ErrImmutableRelease when the release is published and immutable.
func (c *Client) RenameAsset(ctx context.Context, assetID int64, name string) (*Asset, error) {
	req, err := c.gh.NewRequest(http.MethodPatch, fmt.Sprintf("repos/%s/%s/releases/assets/%d", c.owner, c.repo, assetID),
		map[string]string{"name": name})
	if err != nil {
		return nil, err
	}
	if err := c.pace.wait(ctx); err != nil {
		return nil, fmt.Errorf("renaming release asset %d to %q: %w", assetID, name, err)
	}
	resp, err := c.send(ctx, c.api, req)
	if err != nil {
		return nil, fmt.Errorf("renaming release asset %d to %q: %w", assetID, name, classifyWrite(err))
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	var a apiAsset
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(&a); err != nil {
		return nil, fmt.Errorf("decoding the renamed asset %q: %w", name, err)
	}
	out := a.asset()
	return &out, nil
}

// immutableOr recognises GitHub's refusal to change a published immutable release (422 with a message or error
// naming immutability: "Cannot upload assets to an immutable release.", "Cannot delete asset from an immutable
// release") and returns ErrImmutableRelease wrapping it; other errors come back as they are.
func immutableOr(err error) error {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return err
	}
	texts := []string{er.Message}
	for _, e := range er.Errors {
		texts = append(texts, e.Message)
	}
	if strings.Contains(strings.ToLower(strings.Join(texts, " ")), "immutable release") {
		return fmt.Errorf("%w (%w)", ErrImmutableRelease, err)
	}
	return err
}

// OpenAsset downloads an asset through the API. GitHub redirects to its storage, which takes pre-signed URLs
// and refuses an Authorization header, so the redirect is followed without the token.
func (c *Client) OpenAsset(ctx context.Context, assetID int64) (io.ReadCloser, error) {
	req, err := c.gh.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/releases/assets/%d", c.owner, c.repo, assetID), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := c.send(ctx, c.download, req)
	if err != nil {
		return nil, fmt.Errorf("downloading release asset %d: %w", assetID, err)
	}
	return resp.Body, nil
}
