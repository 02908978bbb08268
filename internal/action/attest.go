package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/seal"
)

// attestResult is one provenance bundle stored in GitHub's attestation store.
type attestResult struct {
	// Artifact is the artifact's path in the workspace; Tarball repeats it for an npm tarball (results.json named
	// it so before other kinds were signed).
	Artifact string `json:"artifact"`
	Tarball  string `json:"tarball,omitempty"`
	github.Attestation
	path string // the artifact's local path
}

// attest stores each package's provenance bundle in GitHub's attestation store, before anything is put on the
// release. GitHub offers no way for the job's token to delete an attestation (its delete endpoints are for
// organization and user accounts), so an attestation cannot be taken back: "nothing half done" means that the
// release is not touched unless every attestation was stored, and that when one fails, the error lists the ones
// already stored. Those are true statements about their tarballs whatever happens next, and a re-run stores
// fresh ones (every run signs afresh); verifiers accept any one of them.
func (r *Runner) attest(ctx context.Context, cfg *Config, ws *Workspace, rep *seal.Report, pace *release.Pacer) ([]attestResult, error) {
	if cfg.GitHubToken == "" {
		return nil, errors.New("`attest: true` needs a token: set the `github-token` input (default `${{ github.token }}`) and grant the job `permissions: attestations: write`")
	}
	c, err := r.githubRepo(cfg)
	if err != nil {
		return nil, err
	}
	var out []attestResult
	for _, p := range rep.Artifacts {
		if p.ProvenanceBundle == "" {
			continue
		}
		b, err := os.ReadFile(p.ProvenanceBundle)
		if err == nil {
			err = pace.Wait(ctx)
		}
		if err == nil {
			var a *github.Attestation
			if a, err = c.Attest(ctx, b); err == nil {
				r := attestResult{Artifact: ws.Rel(p.Path), Attestation: *a, path: p.Path}
				if p.Kind == seal.NPM {
					r.Tarball = r.Artifact
				}
				out = append(out, r)
				continue
			}
		}
		return out, fmt.Errorf("storing the provenance of %s in GitHub's attestation store: %w; %s", ws.Rel(p.Path), err, storedSoFar(out))
	}
	return out, nil
}

func storedSoFar(done []attestResult) string {
	if len(done) == 0 {
		return "no attestation was stored, and the release was not changed"
	}
	var s []string
	for _, a := range done {
		s = append(s, fmt.Sprintf("%s (%s)", a.Artifact, a.URL))
	}
	return "the attestations of " + strings.Join(s, ", ") + " were stored (GitHub offers no way to delete them; they stay valid, and a re-run stores new ones); the release was not changed"
}

// githubRepo is the job's repository through the one GitHub client, with the `github-token` input.
func (r *Runner) githubRepo(cfg *Config) (*github.Repo, error) {
	c, err := github.New(github.Config{APIURL: cfg.APIURL, ServerURL: cfg.ServerURL, Token: cfg.GitHubToken,
		Transport: r.Transport, Retry: r.Retry})
	if err != nil {
		return nil, err
	}
	repo, err := c.Repo(cfg.Repository)
	if err != nil {
		return nil, fmt.Errorf("%w: check GITHUB_REPOSITORY", err)
	}
	return repo, nil
}
