package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/retry"
)

// releaseRef is OWNER/REPO@TAG.
type releaseRef struct{ owner, repo, tag string }

func (r *releaseRef) String() string { return r.owner + "/" + r.repo + "@" + r.tag }

func parseReleaseRef(s string) (*releaseRef, error) {
	repo, tag, ok := strings.Cut(s, "@")
	if !ok || tag == "" || !repoPattern.MatchString(repo) {
		return nil, usagef("verify: --release %q is not OWNER/REPO@TAG", s)
	}
	owner, name, _ := strings.Cut(repo, "/")
	return &releaseRef{owner: owner, repo: name, tag: tag}, nil
}

// maxAssetBytes bounds one downloaded release asset.
const maxAssetBytes = registry.MaxTarballBytes

// releaseAsset reports whether waxseal verifies an asset of this name: tarballs and their bundles.
func releaseAsset(name string) bool {
	return strings.HasSuffix(name, ".tgz") || strings.HasSuffix(name, ".tgz.sigstore.json") ||
		strings.HasSuffix(name, ".tgz.provenance.sigstore.json")
}

// learnRepositoryIDs looks up the release's repository and pins its numeric IDs (which survive renames and
// cannot be taken over by whoever registers the old name): the certificate's source repository identifier and
// owner identifier must then match. IDs given as flags must agree with GitHub's.
func (e *Env) learnRepositoryIDs(ctx context.Context, f *verifyFlags, rel *releaseRef) error {
	if f.repository != rel.owner+"/"+rel.repo {
		return nil // the identity names another repository: its IDs are not this one's
	}
	gh, err := e.githubClient(f.githubAPI, f.net)
	if err != nil {
		return err
	}
	repo, _, err := gh.Repositories.Get(ctx, rel.owner, rel.repo)
	if err != nil {
		return fmt.Errorf("looking up repository %s/%s: %w", rel.owner, rel.repo, describeGitHubErr(err))
	}
	for _, x := range []struct {
		flag string
		dst  *string
		id   int64
	}{{"--repository-id", &f.repositoryID, repo.GetID()}, {"--repository-owner-id", &f.ownerID, repo.GetOwner().GetID()}} {
		got := strconv.FormatInt(x.id, 10)
		if x.id == 0 {
			continue
		}
		if *x.dst != "" && *x.dst != got {
			return fmt.Errorf("%s %s contradicts GitHub, which gives %s/%s the ID %s: check which repository you mean", x.flag, *x.dst, rel.owner, rel.repo, got)
		}
		*x.dst = got
	}
	return nil
}

// downloadRelease downloads the release's tarballs and bundles into dir; it returns asset name -> path. No token
// is needed for a public repository; $GITHUB_TOKEN (or $GH_TOKEN) is sent when set.
func (e *Env) downloadRelease(ctx context.Context, apiURL string, policy retry.Policy, rel *releaseRef, dir string) (map[string]string, error) {
	gh, err := e.githubClient(apiURL, policy)
	if err != nil {
		return nil, err
	}
	r, _, err := gh.Repositories.GetReleaseByTag(ctx, rel.owner, rel.repo, rel.tag)
	if err != nil {
		return nil, fmt.Errorf("finding release %s: %w", rel, describeGitHubErr(err))
	}
	var assets []*github.ReleaseAsset
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := gh.Repositories.ListReleaseAssets(ctx, rel.owner, rel.repo, r.GetID(), opts)
		if err != nil {
			return nil, fmt.Errorf("listing the assets of release %s: %w", rel, describeGitHubErr(err))
		}
		assets = append(assets, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	out := map[string]string{}
	for _, a := range assets {
		name := a.GetName()
		if !releaseAsset(name) {
			continue
		}
		if name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("release %s has an asset named %q, which is not a plain file name", rel, name)
		}
		path := filepath.Join(dir, name)
		if err := downloadAsset(ctx, gh, policy.Client(e.transport(), release.DownloadService()), rel, a, path); err != nil {
			return nil, err
		}
		out[name] = path
	}
	return out, nil
}

func downloadAsset(ctx context.Context, gh *github.Client, storage *http.Client, rel *releaseRef, a *github.ReleaseAsset, path string) error {
	// GitHub answers the asset URL with a redirect to its storage host, which go-github follows with storage: a
	// client that never sends the token.
	rc, _, err := gh.Repositories.DownloadReleaseAsset(ctx, rel.owner, rel.repo, a.GetID(), storage)
	if err != nil {
		return fmt.Errorf("downloading %s from release %s: %w", a.GetName(), rel, describeGitHubErr(err))
	}
	defer func() { _ = rc.Close() }() // response body, read-only
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("saving %s: %w", a.GetName(), err)
	}
	n, err := io.Copy(f, io.LimitReader(rc, maxAssetBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("downloading %s from release %s: %w", a.GetName(), rel, err)
	}
	if n > maxAssetBytes {
		return fmt.Errorf("downloading %s from release %s: larger than %d bytes", a.GetName(), rel, int64(maxAssetBytes))
	}
	return nil
}

func (e *Env) githubClient(apiURL string, policy retry.Policy) (*github.Client, error) {
	if apiURL == "" {
		apiURL = e.Getenv("GITHUB_API_URL")
	}
	if apiURL == "" {
		apiURL = "https://api.github.com/"
	}
	u, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
	if err != nil || u.Host == "" {
		return nil, usagef("verify: GitHub API URL %q is not a URL", apiURL)
	}
	var rt http.RoundTripper = policy.Transport(e.transport(), release.APIService())
	if tok := firstNonEmptyEnv(e.Getenv, "GITHUB_TOKEN", "GH_TOKEN"); tok != "" {
		rt = &apiAuth{base: rt, scheme: u.Scheme, host: u.Host, token: tok}
	}
	gh := github.NewClient(&http.Client{Transport: rt})
	gh.BaseURL = u
	return gh, nil
}

// apiAuth adds the token to requests for the API's own scheme and host, and to nothing else: not to a redirect
// to another host (go-github's WithAuthToken adds it to every request, redirects included).
type apiAuth struct {
	base         http.RoundTripper
	scheme, host string
	token        string
}

func (a *apiAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != a.scheme || req.URL.Host != a.host {
		return a.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+a.token)
	return a.base.RoundTrip(req)
}

func firstNonEmptyEnv(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// describeGitHubErr adds what to do to GitHub's answers.
func describeGitHubErr(err error) error {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("%w (GitHub's rate limit for unauthenticated requests is low: set GITHUB_TOKEN)", err)
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w (check OWNER/REPO and the tag; a private repository needs GITHUB_TOKEN)", err)
		case http.StatusUnauthorized:
			return fmt.Errorf("%w (GITHUB_TOKEN is invalid or expired)", err)
		}
	}
	return err
}

func sortTargets(ts []target) {
	slices.SortFunc(ts, func(a, b target) int { return strings.Compare(a.display, b.display) })
}
