package github

import (
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"
)

// Release is a GitHub release, as far as putting files next to it matters.
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
	// DownloadURL is the download URL people follow: GitHub's browser_download_url, or the tag-based one that
	// survives publishing a draft (Release.DownloadURL).
	DownloadURL string `json:"downloadUrl"`
	// Digest is GitHub's "sha256:<hex>" of the content, when the API reports one.
	Digest string `json:"digest,omitempty"`
	// Created is when the asset's upload began (GitHub's created_at): a "starter" asset younger than an upload
	// may still be in flight.
	Created time.Time `json:"createdAt,omitzero"`
}

// Complete reports whether the asset's upload finished (the API leaves the state out in some answers).
func (a *Asset) Complete() bool { return a.State == "uploaded" || a.State == "" }

// The stand-ins below add what go-github v62 predates to its types: a release's immutable flag (2025) and an
// asset's digest (2025). They are the only ones.

type apiRelease struct {
	gh.RepositoryRelease
	Immutable bool `json:"immutable"`
}

type apiAsset struct {
	gh.ReleaseAsset
	Digest string `json:"digest"`
}

func (r *Repo) release(a *apiRelease) *Release {
	up, _, _ := strings.Cut(a.GetUploadURL(), "{")
	return &Release{ID: a.GetID(), TagName: a.GetTagName(), Draft: a.GetDraft(), Immutable: a.Immutable,
		HTMLURL: r.tagURL("tag", a.GetTagName()), UploadURL: up, DownloadBase: r.tagURL("download", a.GetTagName()) + "/"}
}

func (a *apiAsset) asset() Asset {
	return Asset{ID: a.GetID(), Name: a.GetName(), Label: a.GetLabel(), Size: int64(a.GetSize()), State: a.GetState(),
		DownloadURL: a.GetBrowserDownloadURL(), Digest: a.Digest, Created: a.GetCreatedAt().Time}
}
