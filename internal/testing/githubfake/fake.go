// Package githubfake is an in-process GitHub REST API for the release endpoints. It behaves as GitHub documents,
// and misbehaves the way GitHub is seen to misbehave in the issue trackers of the well-used release-upload tools,
// each misbehaviour switchable per test (see [Modes] and [Fault]); the source of each is cited where it is
// modelled. Uploads go to a separate host named by the release's upload_url; the asset name is the `name` query
// parameter, rewritten as GitHub rewrites names; a duplicate name is 422 already_exists; drafts are invisible to
// GET /releases/tags/{tag}, and listed only to tokens with push access; published immutable releases refuse
// uploads and deletes with GitHub's own bodies; scripted faults produce 5xx answers, connection resets, rate
// limits, and uploads that are stored although they fail. Time (listing lags, per-minute content-creation
// limits) is read from [Server.Now], so tests drive it with the same clock the client's retries wait on.
package githubfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Server is the fake. API and Uploads are two servers, as api.github.com and uploads.github.com are.
type Server struct {
	API, Uploads *httptest.Server
	// Owner/Repo is the only repository served.
	Owner, Repo string
	// Token is the bearer token every request must carry.
	Token string
	// ServerURL is the web host browser_download_url and html_url name; default https://github.com.
	ServerURL string

	mu           sync.Mutex
	now          func() time.Time
	nextID       int64
	releases     []*Release
	assets       map[int64]*Asset
	faults       []*Fault
	modes        Modes
	log          []string
	creations    []time.Time // content-creating requests admitted, for the rate windows
	counts       Counts
	uploads      int
	afterUpload  func(n int, name string)
	attestations []StoredAttestation
	ids          IDs
}

// Release is a release held by the fake.
type Release struct {
	ID        int64
	Tag       string
	Draft     bool
	Immutable bool
	// untagged is the placeholder a draft's URLs carry instead of its tag.
	untagged string
	// visibleAt is when listings start to show it (Modes.ReleaseLag after it was made).
	visibleAt time.Time
}

// Asset is an asset held by the fake.
type Asset struct {
	ID        int64
	ReleaseID int64
	Name      string
	Label     string
	State     string
	Data      []byte
	// Created is when the upload began (GitHub's created_at).
	Created   time.Time
	visibleAt time.Time
}

// Counts are what the fake has seen, for tests that assert pacing and cleanup.
type Counts struct {
	Uploads, Deletes, Patches int
	// Limited is how many requests were answered with a secondary rate limit.
	Limited int
	// PeakPerMinute is the most content-creating requests admitted within any 60 seconds.
	PeakPerMinute int
}

// New starts the fake for owner/repo with token; Close stops it. Its clock is the wall clock until SetClock.
func New(owner, repo, token string) *Server {
	s := &Server{Owner: owner, Repo: repo, Token: token, ServerURL: "https://github.com", nextID: 100,
		assets: map[int64]*Asset{}, now: time.Now}
	s.API = httptest.NewServer(http.HandlerFunc(s.serveAPI))
	s.Uploads = httptest.NewServer(http.HandlerFunc(s.serveUploads))
	return s
}

// Close stops both servers.
func (s *Server) Close() { s.API.Close(); s.Uploads.Close() }

// SetClock makes the fake read time from now (a test clock, usually the one the client's retry policy waits on).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetModes switches GitHub's misbehaviours on or off.
func (s *Server) SetModes(m Modes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes = m
}

// AfterUpload calls f (outside the fake's lock, before the answer is sent) with the count of uploads stored so
// far and the stored name, each time one is stored: tests use it to stop a run or change the release mid-run.
func (s *Server) AfterUpload(f func(n int, name string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterUpload = f
}

// AddRelease adds a release and returns its ID. With Modes.ReleaseLag set, listings miss it for that long.
func (s *Server) AddRelease(tag string, draft, immutable bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	s.releases = append(s.releases, &Release{ID: s.nextID, Tag: tag, Draft: draft, Immutable: immutable,
		untagged: "untagged-" + hex.EncodeToString(b), visibleAt: s.now().Add(s.modes.ReleaseLag)})
	return s.nextID
}

// AddAssetAt attaches an asset whose upload began at created (GitHub's created_at), as AddAsset does.
func (s *Server) AddAssetAt(releaseID int64, name string, data []byte, state string, created time.Time) int64 {
	id := s.AddAsset(releaseID, name, data, state)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assets[id].Created = created
	return id
}

// AddAsset attaches an asset (state "uploaded" unless given), listed at once, and returns its ID. The name is
// taken as given (it is what GitHub stored).
func (s *Server) AddAsset(releaseID int64, name string, data []byte, state string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == "" {
		state = "uploaded"
	}
	s.nextID++
	s.assets[s.nextID] = &Asset{ID: s.nextID, ReleaseID: releaseID, Name: name, State: state, Data: data, Created: s.now()}
	return s.nextID
}

// Assets returns the release's assets by name, whatever their state and whether or not listings show them yet.
func (s *Server) Assets(releaseID int64) map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for _, a := range s.assets {
		if a.ReleaseID == releaseID {
			out[a.Name] = a.Data
		}
	}
	return out
}

// AssetStates returns the release's assets by name with their state.
func (s *Server) AssetStates(releaseID int64) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, a := range s.assets {
		if a.ReleaseID == releaseID {
			out[a.Name] = a.State
		}
	}
	return out
}

// Counts returns what the fake has counted so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Requests returns "METHOD host path?query" for every request served so far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Publish turns a draft into a published release (its URLs change from untagged-... to the tag).
func (s *Server) Publish(releaseID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rel := s.release(releaseID); rel != nil {
		rel.Draft = false
	}
}

// BrowserDownloadURL is the browser_download_url GitHub gives the asset now.
func (s *Server) BrowserDownloadURL(releaseID int64, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloadURL(s.release(releaseID), name)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to tell it
}

func writeError(w http.ResponseWriter, status int, msg, doc string, errs ...map[string]string) {
	body := map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

// htmlTag is what a release's URLs carry: "Draft download URLs are untagged-... and change when the release is
// published" (softprops/action-gh-release#86: "This is what a download link looks like BEFORE releasing the
// draft: https://github.com/TheSlowGrowth/Wunderkiste/releases/download/untagged-[someCharacters]/Wunderkiste.bin";
// #713; esphome/workflows#170: "a draft release's html_url always points at an untagged-* placeholder until the
// release is published").
func (rel *Release) htmlTag() string {
	if rel.Draft {
		return rel.untagged
	}
	return rel.Tag
}

func (s *Server) releaseJSON(rel *Release) map[string]any {
	base := fmt.Sprintf("%s/repos/%s/%s/releases/%d", s.API.URL, s.Owner, s.Repo, rel.ID)
	return map[string]any{
		"id": rel.ID, "tag_name": rel.Tag, "draft": rel.Draft, "immutable": rel.Immutable, "url": base,
		"html_url":   fmt.Sprintf("%s/%s/%s/releases/tag/%s", s.ServerURL, s.Owner, s.Repo, url.PathEscape(rel.htmlTag())),
		"upload_url": fmt.Sprintf("%s/repos/%s/%s/releases/%d/assets{?name,label}", s.Uploads.URL, s.Owner, s.Repo, rel.ID),
	}
}

func (s *Server) downloadURL(rel *Release, name string) string {
	tag := "unknown"
	if rel != nil {
		tag = url.PathEscape(rel.htmlTag())
	}
	return fmt.Sprintf("%s/%s/%s/releases/download/%s/%s", s.ServerURL, s.Owner, s.Repo, tag, url.PathEscape(name))
}

func (s *Server) assetJSON(a *Asset) map[string]any {
	sum := sha256.Sum256(a.Data)
	return map[string]any{
		"id": a.ID, "name": a.Name, "label": a.Label, "state": a.State, "size": len(a.Data),
		"content_type":         "application/octet-stream",
		"url":                  fmt.Sprintf("%s/repos/%s/%s/releases/assets/%d", s.API.URL, s.Owner, s.Repo, a.ID),
		"browser_download_url": s.downloadURL(s.release(a.ReleaseID), a.Name),
		"digest":               "sha256:" + hex.EncodeToString(sum[:]),
		"created_at":           a.Created.UTC().Format(time.RFC3339),
	}
}

// storageURL is where the API's redirect for an asset's bytes goes (the pre-signed storage host).
func (s *Server) storageURL(a *Asset) string {
	return fmt.Sprintf("%s/download/%d/%s", s.Uploads.URL, a.ID, url.PathEscape(a.Name))
}
