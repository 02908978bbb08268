package action

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/seal"
)

// uploader is a found release and the service to reach it.
type uploader struct {
	svc    release.Service
	rel    *github.Release
	policy retry.Policy
	pace   *release.Pacer
}

// uploadResult is a release.Result, the local file it came from, and the artifact that file belongs to (the
// artifact itself, or one of its bundles).
type uploadResult struct {
	release.Result
	path, artifact string
}

// prepareUpload decides whether this run uploads and finds the release. It returns a nil uploader and a note
// for the summary when there is nothing to upload to and upload is "auto".
func (r *Runner) prepareUpload(ctx context.Context, cfg *Config, bases map[string]string, pace *release.Pacer) (*uploader, string, error) {
	if cfg.Upload == UploadFalse {
		return nil, "Upload is off (`upload: false`): the bundles are in the workspace.", nil
	}
	tag, from, err := releaseTag(cfg)
	if err != nil {
		return nil, "", err
	}
	if tag == "" {
		if cfg.Upload == UploadTrue {
			return nil, "", fmt.Errorf("`upload: true` but this run has no release or tag (event %q, ref %q): %s", cfg.EventName, cfg.Ref, noReleaseHelp)
		}
		return nil, "No release or tag for this run, so nothing was uploaded: the bundles are in the workspace.", nil
	}
	if cfg.GitHubToken == "" {
		return nil, "", fmt.Errorf("uploading to the release %q needs a token: set the `github-token` input (default `${{ github.token }}`) and grant the job `permissions: contents: write`, or set `upload: false`", tag)
	}
	svc, err := r.githubRepo(cfg)
	if err != nil {
		return nil, "", err
	}
	rel, err := release.Find(ctx, svc, tag, r.Retry)
	if errors.Is(err, release.ErrReleaseHidden) {
		// A draft for the tag may well exist: skipping would leave it without bundles, for good once published
		// immutable. So even `upload: auto` fails here.
		return nil, "", fmt.Errorf("looking for the release for tag %q (from %s): %w", tag, from, err)
	}
	if errors.Is(err, release.ErrReleaseNotFound) {
		if cfg.Upload == UploadAuto && cfg.ReleaseTag == "" && from != fromReleaseEvent {
			return nil, fmt.Sprintf("No release for tag %s (from %s), so nothing was uploaded: the bundles are in the workspace.", code(tag), from), nil
		}
		return nil, "", fmt.Errorf("no release for tag %q (from %s), drafts included: create the release (a draft is best) before this step, or fix `release-tag`", tag, from)
	}
	if err != nil {
		return nil, "", err
	}
	if rel.Immutable && !rel.Draft {
		return nil, "", fmt.Errorf("release %q: %w\n%s", tag, github.ErrImmutableRelease, immutableHelp)
	}
	// An interrupted earlier run's leftovers are undone first, so they do not count as a finished run's bundles.
	if _, err := release.Recover(ctx, svc, rel, release.PublishOptions{Policy: r.Retry, Pacer: pace, Run: cfg.Run}); err != nil {
		return nil, "", err
	}
	if !cfg.Overwrite {
		if err := checkNoBundles(ctx, svc, rel, bases, cfg.Provenance); err != nil {
			return nil, "", err
		}
	}
	return &uploader{svc: svc, rel: rel, policy: r.Retry, pace: pace}, "", nil
}

// checkNoBundles refuses, before anything is signed, a release that already holds bundles this run would
// upload: every run signs afresh (new certificate, new signature), so they cannot have the same bytes, and
// finding out after signing would leave transparency-log entries for bundles that are then thrown away. Names
// are compared as GitHub stores them; an asset whose upload never finished (state "starter") is a leftover,
// which Publish deletes, not a bundle. (Recover has already undone interrupted runs, so what is left here was
// uploaded by a run that finished.)
func checkNoBundles(ctx context.Context, svc release.Service, rel *github.Release, bases map[string]string, prov bool) error {
	assets, err := svc.ListAssets(ctx, rel.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, a := range assets {
		if a.Complete() {
			have[a.Name] = true
		}
	}
	var clash []string
	for _, base := range bases {
		for _, n := range bundlefile.Names(base, prov) {
			if have[github.StoredName(n)] {
				clash = append(clash, n)
			}
		}
	}
	if len(clash) == 0 {
		return nil
	}
	slices.Sort(clash)
	return fmt.Errorf("release %q already has %s, probably from an earlier run: each run signs afresh, so the new bundles cannot match (%w)",
		rel.TagName, strings.Join(clash, ", "), release.ErrAssetConflict)
}

const immutableHelp = `Change the workflow so the release is a draft while waxseal runs, and publish it afterwards:
  - run: gh release create "$TAG" --draft --verify-tag
  - uses: waxseal/waxseal@v1
    with: { release-tag: "${{ github.ref_name }}" }
  - run: gh release edit "$TAG" --draft=false`

func (u *uploader) publish(ctx context.Context, cfg *Config, rep *seal.Report, bases map[string]string) ([]uploadResult, error) {
	var files []release.File
	var owner []string // the artifact each file belongs to
	for _, a := range rep.Artifacts {
		base := bases[a.Path]
		if a.Kind == seal.NPM && cfg.UploadTarballs || a.Kind != seal.NPM && cfg.UploadArtifacts {
			files, owner = append(files, release.File{Name: base, Path: a.Path, SHA256: a.SHA256}), append(owner, a.Path)
		}
		files, owner = append(files, release.File{Name: bundlefile.SignatureOf(base), Path: a.Bundle}), append(owner, a.Path)
		if a.ProvenanceBundle != "" {
			files = append(files, release.File{Name: bundlefile.ProvenanceOf(base), Path: a.ProvenanceBundle},
				release.File{Name: bundlefile.JSONLOf(base), Path: a.ProvenanceJSONL})
			owner = append(owner, a.Path, a.Path)
		}
	}
	res, err := release.Publish(ctx, u.svc, u.rel, files, release.PublishOptions{Overwrite: cfg.Overwrite, Policy: u.policy,
		Pacer: u.pace, Run: cfg.Run})
	if err != nil {
		if errors.Is(err, github.ErrImmutableRelease) {
			err = fmt.Errorf("%w\n%s", err, immutableHelp)
		}
		return nil, fmt.Errorf("uploading to the release %q: %w", u.rel.TagName, err)
	}
	out := make([]uploadResult, len(res))
	for i, r := range res {
		out[i] = uploadResult{Result: r, path: files[i].Path, artifact: owner[i]}
	}
	return out, nil
}
