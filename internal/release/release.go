// Package release puts files next to a GitHub release, all or nothing: it finds the release (drafts included,
// looking again while GitHub's listings lag), uploads through a journal so that a run that cannot finish is
// taken back exactly, and keeps under GitHub's content-creation limits. The GitHub client is package github's;
// this package is the upload protocol.
package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/retry"
)

// Service is what the upload protocol needs from GitHub; *github.Repo is the real one.
type Service interface {
	// FindRelease returns the release for tag, drafts included, looking once; nil, nil when there is none.
	FindRelease(ctx context.Context, tag string) (*github.Release, error)
	// Info says whether the token may push, which decides whether a draft could have been listed.
	Info(ctx context.Context) (*github.Repository, error)
	// ListAssets returns every asset of the release.
	ListAssets(ctx context.Context, releaseID int64) ([]github.Asset, error)
	// UploadAsset uploads the file at path as an asset named name (github.ErrAssetExists for a duplicate name).
	UploadAsset(ctx context.Context, rel *github.Release, name, path string) (*github.Asset, error)
	// DeleteAsset deletes an asset; one already gone counts as deleted.
	DeleteAsset(ctx context.Context, assetID int64) error
	// RenameAsset gives an asset a new name (github.ErrAssetExists when another asset has it).
	RenameAsset(ctx context.Context, assetID int64, name string) (*github.Asset, error)
	// OpenAsset streams an asset's content.
	OpenAsset(ctx context.Context, assetID int64) (io.ReadCloser, error)
}

var _ Service = (*github.Repo)(nil)

// Errors a caller tells apart with errors.Is.
var (
	ErrReleaseNotFound = errors.New("release not found")
	// ErrReleaseHidden means no release was found, but the token lacks push access, and GitHub lists drafts only
	// to tokens that have it: a draft for the tag may well exist.
	ErrReleaseHidden = errors.New("no release found, but the token cannot see drafts (GitHub lists them only to tokens with push access)")
	// ErrBusy means another upload to the release is in progress for a file this run would place.
	ErrBusy = errors.New("another run is uploading to the release right now")
	// ErrAssetConflict means an asset of the same name but different content is already on the release.
	ErrAssetConflict = errors.New("an asset of the same name with different content is already on the release")
)

// findWait is how long Find keeps looking for a release that is not listed: GitHub's listings lag its writes, so
// a draft created a moment earlier ("gh release create --draft", then waxseal) can be missing for seconds
// (cli/cli#6599, onyx-dot-app/onyx#12471: "a just-created draft can be absent from the list for several
// seconds").
const findWait = 30 * time.Second

// Find returns the release for tag, drafts included, and keeps looking with backoff (on the policy's clock) for a
// while, as listings lag. When there is none, it returns ErrReleaseNotFound, or ErrReleaseHidden when the token
// could not have seen a draft.
func Find(ctx context.Context, svc Service, tag string, policy retry.Policy) (*github.Release, error) {
	clock, _ := clockOf(policy)
	var rel *github.Release
	err := poll(ctx, clock, findWait, func() (bool, error) {
		var err error
		rel, err = svc.FindRelease(ctx, tag)
		return rel != nil, err
	})
	if err != nil || rel != nil {
		return rel, err
	}
	if info, err := svc.Info(ctx); err == nil && info.Push != nil && !*info.Push {
		return nil, fmt.Errorf("tag %q: %w", tag, ErrReleaseHidden)
	}
	return nil, fmt.Errorf("tag %q: %w", tag, ErrReleaseNotFound)
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

// downloadURL is where the asset stored as name is downloaded from once rel is published.
func downloadURL(rel *github.Release, name string) string {
	if rel.DownloadBase == "" {
		return ""
	}
	return rel.DownloadBase + url.PathEscape(name)
}
