// Package release puts files next to a GitHub release: it finds the release (drafts included), uploads assets
// idempotently, and takes back what one run uploaded when the run cannot finish. The GitHub REST API is reached
// through go-github with retries that honour GitHub's rate-limit headers.
package release

import (
	"context"
	"errors"
	"io"
	"time"
)

// Release is a GitHub release, as far as uploading next to it matters.
type Release struct {
	ID      int64  `json:"id"`
	TagName string `json:"tagName"`
	Draft   bool   `json:"draft"`
	// Immutable is GitHub's immutable-release flag: once such a release is published its assets are frozen.
	Immutable bool `json:"immutable"`
	// HTMLURL is the release page by its tag (a draft's own html_url names an "untagged-..." placeholder that stops
	// working once it is published).
	HTMLURL string `json:"htmlUrl"`
	// UploadURL is the hypermedia upload URL without its "{?name,label}" template.
	UploadURL string `json:"-"`
	// DownloadBase is SERVER/OWNER/REPO/releases/download/TAG/, where the release's assets are downloaded once it
	// is published, drafts included.
	DownloadBase string `json:"-"`
}

// Asset is a file attached to a release.
type Asset struct {
	ID int64 `json:"id"`
	// Name is the name GitHub stored, which may differ from the name asked for (see StoredName).
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	Size  int64  `json:"size"`
	// State is "uploaded" for a complete asset; "starter" marks an upload that never finished.
	State string `json:"state"`
	// DownloadURL is the download URL people follow: after Publish, the tag-based one that survives publishing a
	// draft; from ListAssets, GitHub's browser_download_url.
	DownloadURL string `json:"downloadUrl"`
	// Digest is GitHub's "sha256:<hex>" of the content, when the API reports one.
	Digest string `json:"digest,omitempty"`
	// Created is when the asset's upload began (GitHub's created_at): a "starter" asset younger than an upload
	// may still be in flight.
	Created time.Time `json:"createdAt,omitzero"`
}

// Service is what [Publish] needs from GitHub. [Client] implements it over the REST API.
type Service interface {
	// FindRelease returns the release for tag, drafts included; ErrReleaseNotFound when there is none.
	FindRelease(ctx context.Context, tag string) (*Release, error)
	// ListAssets returns every asset of the release.
	ListAssets(ctx context.Context, releaseID int64) ([]Asset, error)
	// UploadAsset uploads the file at path as an asset named name. It returns ErrAssetExists for a duplicate name
	// and ErrImmutableRelease when GitHub refuses because the release is published and immutable.
	UploadAsset(ctx context.Context, rel *Release, name, path string) (*Asset, error)
	// DeleteAsset deletes an asset. It returns ErrImmutableRelease when GitHub refuses because the release is
	// published and immutable.
	DeleteAsset(ctx context.Context, assetID int64) error
	// RenameAsset gives an asset a new name; ErrAssetExists when another asset has it.
	RenameAsset(ctx context.Context, assetID int64, name string) (*Asset, error)
	// OpenAsset streams an asset's content.
	OpenAsset(ctx context.Context, assetID int64) (io.ReadCloser, error)
}

// Errors a caller tells apart with errors.Is.
var (
	ErrReleaseNotFound = errors.New("release not found")
	// ErrReleaseHidden means no release was found, but the token lacks push access, and GitHub lists drafts only
	// to tokens that have it: a draft for the tag may well exist.
	ErrReleaseHidden = errors.New("no release found, but the token cannot see drafts (GitHub lists them only to tokens with push access): grant the job `permissions: contents: write`, or give `github-token` a token that has it")
	ErrAssetExists   = errors.New("an asset with this name already exists")
	// ErrImmutableRelease means the release is published with immutability on, so no asset can be added.
	ErrImmutableRelease = errors.New(`the release is published and immutable, so GitHub refuses new assets: sign while the release is still a draft (create it with "draft: true", run waxseal, then publish it)`)
	// ErrBusy means another upload to the release is in progress for a file this run would place.
	ErrBusy = errors.New("another run is uploading to the release right now")
	// ErrAssetConflict means an asset of the same name but different content is already on the release.
	ErrAssetConflict = errors.New("an asset of the same name with different content is already on the release: set `overwrite: true` to replace it, or delete it")
)
