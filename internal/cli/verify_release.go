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
	"github.com/waxseal/waxseal/internal/printable"
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

// releaseDownloads is a release's list of assets and what has been downloaded of it: only the assets a verdict
// needs are, each once. No token is needed for a public repository; $GITHUB_TOKEN (or $GH_TOKEN) is sent when set.
type releaseDownloads struct {
	e                     *Env
	repo                  *github.Repo
	rel                   *releaseRef
	dir                   string
	signature, provenance bool
	assets                map[string]github.Asset // by name, as GitHub stores it
	got                   map[string]string       // name -> downloaded path
}

// openRelease finds the release and lists its assets (two requests).
func (e *Env) openRelease(ctx context.Context, f *verifyFlags, rel *releaseRef, dir string) (*releaseDownloads, error) {
	repo, err := e.githubRepo(f.githubAPI, f.net, rel)
	if err != nil {
		return nil, err
	}
	r, err := repo.ReleaseByTag(ctx, rel.tag)
	if err != nil {
		return nil, fmt.Errorf("finding release %s: %w", rel, e.explainGitHub(err))
	}
	list, err := repo.ListAssets(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("listing the assets of release %s: %w", rel, e.explainGitHub(err))
	}
	d := &releaseDownloads{e: e, repo: repo, rel: rel, dir: dir, signature: !f.noSignature, provenance: !f.noProvenance,
		assets: map[string]github.Asset{}, got: map[string]string{}}
	for _, a := range list {
		if a.Name != filepath.Base(a.Name) || a.Name == "." || a.Name == ".." || strings.ContainsAny(a.Name, `/\`) || !printable.Safe(a.Name) {
			return nil, fmt.Errorf("release %s has an asset named %s, which is not a plain file name: report it to the maintainers", rel, printable.Quote(a.Name))
		}
		d.assets[a.Name] = a
	}
	return d, nil
}

// all is every asset of the release that is not itself a bundle. One that no bundle signs is a target too, and
// fails as unsigned: a release verifies only when everything on it does (name the assets to verify fewer).
func (d *releaseDownloads) all(ctx context.Context) ([]target, error) {
	var names []string
	for n := range d.assets {
		if _, _, bundle := bundlefile.Split(n); !bundle {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("release %s has no assets to verify: sign them with waxseal and upload them with their bundles", d.rel)
	}
	slices.Sort(names)
	out := make([]target, 0, len(names))
	for _, n := range names {
		t, err := d.artifact(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// artifact downloads the asset name and the bundles a verdict on it needs. An asset no bundle signs is not
// downloaded: it is rejected as unsigned.
func (d *releaseDownloads) artifact(ctx context.Context, name string) (target, error) {
	if _, ok := d.assets[name]; !ok {
		return target{}, fmt.Errorf("release %s has no asset %s: name one of its assets, or leave the names out to verify them all", d.rel, printable.Quote(name))
	}
	if !slices.ContainsFunc(bundlefile.Names(name, true),
		func(b string) bool { _, ok := d.assets[github.StoredName(b)]; return ok }) {
		return target{display: name, unsigned: true}, nil
	}
	path, _, err := d.get(ctx, name)
	if err != nil {
		return target{}, err
	}
	t := target{display: name, file: path}
	t.bundle, t.provenance, err = d.bundlesOf(ctx, name, filepath.Join(d.dir, "release-lacks-"+bundlefile.SignatureOf(name)),
		filepath.Join(d.dir, "release-lacks-"+bundlefile.ProvenanceOf(name)))
	return t, err
}

// bundlesOf downloads the artifact's bundles a verdict needs: its signature, and its provenance (the
// .provenance.sigstore.json asset, else the .intoto.jsonl one). A bundle the release lacks keeps its placeholder
// path, which then fails as missing.
func (d *releaseDownloads) bundlesOf(ctx context.Context, artifact, sig, prov string) (string, string, error) {
	if d.signature {
		if p, ok, err := d.get(ctx, bundlefile.SignatureOf(artifact)); err != nil {
			return "", "", err
		} else if ok {
			sig = p
		}
	}
	if d.provenance {
		for _, n := range []string{bundlefile.ProvenanceOf(artifact), bundlefile.JSONLOf(artifact)} {
			p, ok, err := d.get(ctx, n)
			if err != nil {
				return "", "", err
			}
			if ok {
				prov = p
				break
			}
		}
	}
	return sig, prov, nil
}

// get downloads the asset name once, when the release has it.
func (d *releaseDownloads) get(ctx context.Context, name string) (string, bool, error) {
	if p, ok := d.got[name]; ok {
		return p, true, nil
	}
	a, ok := d.assets[github.StoredName(name)]
	if !ok {
		return "", false, nil
	}
	path := filepath.Join(d.dir, a.Name)
	fmt.Fprintf(d.e.Stderr, "waxseal: downloading %s (%d bytes) from %s\n", a.Name, a.Size, d.rel)
	if err := downloadAsset(ctx, d.repo, d.rel, a, path); err != nil {
		return "", false, d.e.explainGitHub(err)
	}
	d.got[name] = path
	return path, true, nil
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
