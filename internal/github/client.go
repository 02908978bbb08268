// Package github is waxseal's one client of GitHub's REST API: a repository's numeric IDs and permissions,
// releases (drafts included) and their assets, and artifact attestations. go-github v62 builds the requests and
// decodes GitHub's answers; every request goes through the caller's retry policy with GitHub's rate-limit rules
// (see [APIService]). A token is optional: public repositories are read without one.
//
// The token is sent only to the API host and GitHub's upload host, and never on a redirect: asset downloads
// redirect to a storage host that takes pre-signed URLs (go-github's WithAuthToken would send it there too).
// Failures come back as go-github's typed errors wrapped in this package's sentinels ([ErrNotFound],
// [ErrUnauthorized], [ErrForbidden], [ErrAssetExists], [ErrImmutableRelease]), or as a *retry.Error when GitHub
// kept failing; the words of what to do (a flag, an input, a workflow permission) are the caller's.
package github

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/waxseal/waxseal/internal/retry"
)

// DefaultServerURL is github.com, where GitHub Actions workflows and their repositories live unless
// GITHUB_SERVER_URL names a GitHub Enterprise Server.
const DefaultServerURL = "https://github.com"

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// maxAPIBody bounds what is read of one API answer (JSON listings and error bodies), in the retry policy (an
// answer past it is a final error that names the bound) and in the decoders after it. The largest answer read whole
// is a page of 100 releases, each with its notes (up to 125,000 characters) and its asset list: a few MB for a busy
// repository.
const maxAPIBody = 32 << 20

// uploadTimeout bounds one try of an asset upload (release assets can be gigabytes).
const uploadTimeout = 15 * time.Minute

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// APIURL is the REST API's base URL (GITHUB_API_URL); default DefaultAPIURL.
	APIURL string
	// ServerURL is the web host (GITHUB_SERVER_URL) that release and attestation pages are on; default
	// DefaultServerURL.
	ServerURL string
	// Token authenticates every API and upload request; optional.
	Token string
	// Transport carries every request; default http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is how long and how often each request is retried; its zero value means the defaults.
	Retry retry.Policy
}

// Client reaches one GitHub host. It is safe for concurrent use.
type Client struct {
	gh        *gh.Client
	api       *http.Client // JSON calls
	upload    *http.Client // asset uploads: a long timeout per try
	download  *http.Client // asset downloads: streamed
	token     string
	apiHost   string
	serverURL string
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	apiURL := cmp.Or(cfg.APIURL, DefaultAPIURL)
	u, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("the GitHub API URL %q is not an absolute URL", apiURL)
	}
	server := strings.TrimSuffix(cmp.Or(cfg.ServerURL, DefaultServerURL), "/")
	if s, err := url.Parse(server); err != nil || s.Scheme == "" || s.Host == "" {
		return nil, fmt.Errorf("the GitHub server URL %q is not an absolute URL", server)
	}
	noRedirectToken := func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		req.Header.Del("Authorization")
		return nil
	}
	api := cfg.Retry.Client(cfg.Transport, githubService)
	api.CheckRedirect = noRedirectToken
	up := cfg.Retry
	up.AttemptTimeout = max(up.AttemptTimeout, uploadTimeout)
	upload := up.Client(cfg.Transport, githubService)
	upload.CheckRedirect = noRedirectToken
	download := cfg.Retry.Client(cfg.Transport, githubDownload)
	download.CheckRedirect = noRedirectToken
	client := gh.NewClient(api)
	client.BaseURL = u
	client.UserAgent = "waxseal"
	return &Client{gh: client, api: api, upload: upload, download: download, token: cfg.Token, apiHost: u.Hostname(),
		serverURL: server}, nil
}

// ServerURL is the web host the client's pages and download URLs are on, without a trailing slash.
func (c *Client) ServerURL() string { return c.serverURL }

// Authenticated reports whether the client sends a token.
func (c *Client) Authenticated() bool { return c.token != "" }

// Repo is one repository on the client's host.
type Repo struct {
	c           *Client
	owner, name string
}

// Repo returns the repository fullName ("owner/name").
func (c *Client) Repo(fullName string) (*Repo, error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q is not OWNER/NAME", fullName)
	}
	return &Repo{c: c, owner: owner, name: name}, nil
}

// FullName is OWNER/NAME.
func (r *Repo) FullName() string { return r.owner + "/" + r.name }

// send performs one logical request (the retry policy makes its tries) and returns a 2xx answer whose body the
// caller closes.
func (c *Client) send(ctx context.Context, hc *http.Client, req *http.Request) (*http.Response, error) {
	req = req.WithContext(ctx)
	if c.token != "" {
		if !c.ownHost(req.URL) {
			return nil, fmt.Errorf("%s %s: GitHub's answer points at a host other than its API and upload hosts; refusing to send the token there", req.Method, req.URL.Redacted())
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, retry.Cause(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxAPIBody), resp.Body}
	failure := gh.CheckResponse(resp)
	_ = resp.Body.Close() // read whole by the retry policy
	return nil, classify(failure)
}

// ownHost reports whether u is on the API host or GitHub's upload host for it: uploads.github.com beside
// api.github.com, the same host for GitHub Enterprise Server (/api/uploads).
func (c *Client) ownHost(u *url.URL) bool {
	h := u.Hostname()
	if h == c.apiHost {
		return true
	}
	domain, ok := strings.CutPrefix(c.apiHost, "api.")
	return ok && h == "uploads."+domain
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	req, err := c.gh.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, c.api, req, v)
}

// doJSON sends req and decodes the answer into v.
func (c *Client) doJSON(ctx context.Context, hc *http.Client, req *http.Request, v any) error {
	resp, err := c.send(ctx, hc, req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(v); err != nil {
		return fmt.Errorf("decoding GitHub's answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
