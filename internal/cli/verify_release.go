package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/verifycmd"
)

// releaseRef is OWNER/REPO@TAG.
type releaseRef struct{ owner, repo, tag string }

func (r *releaseRef) String() string { return r.owner + "/" + r.repo + "@" + r.tag }

func parseReleaseRef(s string) (*releaseRef, error) {
	repo, tag, ok := strings.Cut(s, "@")
	if !ok || tag == "" || !verifycmd.ValidRepository(repo) {
		return nil, usagef("verify: --release %q is not OWNER/REPO@TAG", s)
	}
	owner, name, _ := strings.Cut(repo, "/")
	return &releaseRef{owner: owner, repo: name, tag: tag}, nil
}

// maxAssetBytes bounds one downloaded release asset.
const maxAssetBytes = registry.MaxTarballBytes

// releaseAsset reports whether waxseal verifies an asset of this name: tarballs and their bundles.
func releaseAsset(name string) bool {
	if artifact, kind, ok := bundlefile.Split(name); ok {
		return kind != bundlefile.JSONL && strings.HasSuffix(artifact, ".tgz")
	}
	return strings.HasSuffix(name, ".tgz")
}

// learnRepositoryIDs looks up the release's repository and pins its numeric IDs (which survive renames and
// cannot be taken over by whoever registers the old name): the certificate's source repository identifier and
// owner identifier must then match. IDs given as flags must agree with GitHub's.
func (e *Env) learnRepositoryIDs(ctx context.Context, f *verifyFlags, rel *releaseRef) error {
	if f.repository != rel.owner+"/"+rel.repo {
		return nil // the identity names another repository: its IDs are not this one's
	}
	repo, err := e.githubRepo(f.githubAPI, f.net, rel)
	if err != nil {
		return err
	}
	info, err := repo.Info(ctx)
	if err != nil {
		return e.explainGitHub(err)
	}
	for _, x := range []struct {
		flag string
		dst  *string
		id   string
	}{{"--repository-id", &f.repositoryID, info.ID}, {"--repository-owner-id", &f.ownerID, info.OwnerID}} {
		if x.id == "" {
			continue
		}
		if *x.dst != "" && *x.dst != x.id {
			return fmt.Errorf("%s %s contradicts GitHub, which gives %s/%s the ID %s: check which repository you mean", x.flag, *x.dst, rel.owner, rel.repo, x.id)
		}
		*x.dst = x.id
	}
	return nil
}

// downloadRelease downloads the release's tarballs and bundles into dir; it returns asset name -> path. No token
// is needed for a public repository; $GITHUB_TOKEN (or $GH_TOKEN) is sent when set.
func (e *Env) downloadRelease(ctx context.Context, apiURL string, policy retry.Policy, rel *releaseRef, dir string) (map[string]string, error) {
	repo, err := e.githubRepo(apiURL, policy, rel)
	if err != nil {
		return nil, err
	}
	r, err := repo.ReleaseByTag(ctx, rel.tag)
	if err != nil {
		return nil, fmt.Errorf("finding release %s: %w", rel, e.explainGitHub(err))
	}
	assets, err := repo.ListAssets(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("listing the assets of release %s: %w", rel, e.explainGitHub(err))
	}
	out := map[string]string{}
	for _, a := range assets {
		name := a.Name
		if !releaseAsset(name) {
			continue
		}
		if name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("release %s has an asset named %q, which is not a plain file name", rel, name)
		}
		path := filepath.Join(dir, name)
		if err := downloadAsset(ctx, repo, rel, a, path); err != nil {
			return nil, e.explainGitHub(err)
		}
		out[name] = path
	}
	return out, nil
}

func downloadAsset(ctx context.Context, repo *github.Repo, rel *releaseRef, a github.Asset, path string) error {
	rc, err := repo.OpenAsset(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("downloading %s from release %s: %w", a.Name, rel, err)
	}
	defer func() { _ = rc.Close() }() // response body, read-only
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("saving %s: %w", a.Name, err)
	}
	n, err := io.Copy(f, io.LimitReader(rc, maxAssetBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("downloading %s from release %s: %w", a.Name, rel, err)
	}
	if n > maxAssetBytes {
		return fmt.Errorf("downloading %s from release %s: larger than %d bytes", a.Name, rel, int64(maxAssetBytes))
	}
	return nil
}

// githubRepo is rel's repository through the one GitHub client: the API at --github-api-url, else
// $GITHUB_API_URL, else api.github.com, with $GITHUB_TOKEN (or $GH_TOKEN) when set.
func (e *Env) githubRepo(apiURL string, policy retry.Policy, rel *releaseRef) (*github.Repo, error) {
	c, err := github.New(github.Config{APIURL: cmp.Or(apiURL, e.Getenv("GITHUB_API_URL")),
		Token: firstNonEmptyEnv(e.Getenv, "GITHUB_TOKEN", "GH_TOKEN"), Transport: e.transport(), Retry: policy})
	if err != nil {
		return nil, usagef("verify: %v: fix --github-api-url (or GITHUB_API_URL)", err)
	}
	return c.Repo(rel.owner + "/" + rel.repo)
}

func firstNonEmptyEnv(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// explainGitHub adds what to do to GitHub's answers, in the command line's words.
func (e *Env) explainGitHub(err error) error {
	var re *retry.Error
	switch {
	case errors.Is(err, github.ErrNotFound):
		return fmt.Errorf("%w (check OWNER/REPO and the tag; a private repository needs GITHUB_TOKEN)", err)
	case errors.Is(err, github.ErrUnauthorized):
		return fmt.Errorf("%w (GITHUB_TOKEN is invalid or expired)", err)
	case errors.As(err, &re) && (re.Status == http.StatusForbidden || re.Status == http.StatusTooManyRequests) &&
		firstNonEmptyEnv(e.Getenv, "GITHUB_TOKEN", "GH_TOKEN") == "":
		return fmt.Errorf("%w (GitHub's rate limit for requests without a token is 60 an hour: set GITHUB_TOKEN)", err)
	}
	return err
}

func sortTargets(ts []target) {
	slices.SortFunc(ts, func(a, b target) int { return strings.Compare(a.display, b.display) })
}
