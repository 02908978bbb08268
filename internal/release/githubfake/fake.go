// Package githubfake is an in-process GitHub REST API for the release endpoints, behaving as GitHub documents:
// uploads go to a separate host named by the release's upload_url, the asset name is the `name` query parameter,
// a duplicate name is 422 already_exists, drafts are invisible to GET /releases/tags/{tag} but listed, published
// immutable releases refuse uploads with GitHub's own 422 message, and scripted faults produce 5xx answers and
// primary (x-ratelimit-*) or secondary (Retry-After) rate limits.
package githubfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Server is the fake. API and Uploads are two servers, as api.github.com and uploads.github.com are.
type Server struct {
	API, Uploads *httptest.Server
	// Owner/Repo is the only repository served.
	Owner, Repo string
	// Token is the bearer token every request must carry.
	Token string

	mu       sync.Mutex
	nextID   int64
	releases []*Release
	assets   map[int64]*Asset
	faults   []*Fault
	log      []string
	ids      IDs
}

// Release is a release held by the fake.
type Release struct {
	ID        int64
	Tag       string
	Draft     bool
	Immutable bool
}

// Asset is an asset held by the fake.
type Asset struct {
	ID        int64
	ReleaseID int64
	Name      string
	State     string
	Data      []byte
}

// Fault is a scripted answer to the next Times (default 1) requests whose method, host ("api", "uploads" or
// "download") and path prefix match. Status 0 hangs up without an answer, as a connection reset does.
type Fault struct {
	Method, Host, PathPrefix string
	Status                   int
	Header                   http.Header
	Body                     string
	Times                    int
}

// New starts the fake for owner/repo with token; Close stops it.
func New(owner, repo, token string) *Server {
	s := &Server{Owner: owner, Repo: repo, Token: token, nextID: 100, assets: map[int64]*Asset{}}
	s.API = httptest.NewServer(http.HandlerFunc(s.serveAPI))
	s.Uploads = httptest.NewServer(http.HandlerFunc(s.serveUploads))
	return s
}

// Close stops both servers.
func (s *Server) Close() { s.API.Close(); s.Uploads.Close() }

// AddRelease adds a release and returns its ID.
func (s *Server) AddRelease(tag string, draft, immutable bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.releases = append(s.releases, &Release{ID: s.nextID, Tag: tag, Draft: draft, Immutable: immutable})
	return s.nextID
}

// AddAsset attaches an asset (state "uploaded" unless given) and returns its ID.
func (s *Server) AddAsset(releaseID int64, name string, data []byte, state string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == "" {
		state = "uploaded"
	}
	s.nextID++
	s.assets[s.nextID] = &Asset{ID: s.nextID, ReleaseID: releaseID, Name: name, State: state, Data: data}
	return s.nextID
}

// Assets returns the release's assets by name.
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

// admit logs the request, checks the token and plays a matching fault; it reports whether to go on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r.Method+" "+host+" "+r.URL.RequestURI())
	if host != "download" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return false
	}
	for i, f := range s.faults {
		if f.Method == r.Method && f.Host == host && strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			if f.Times--; f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			_, _ = io.Copy(io.Discard, r.Body)
			if f.Status == 0 { // a connection reset: hang up without answering
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					_ = conn.Close()
				}
				return false
			}
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
			return false
		}
	}
	return true
}

func (s *Server) releaseJSON(rel *Release) map[string]any {
	base := fmt.Sprintf("%s/repos/%s/%s/releases/%d", s.API.URL, s.Owner, s.Repo, rel.ID)
	return map[string]any{
		"id": rel.ID, "tag_name": rel.Tag, "draft": rel.Draft, "immutable": rel.Immutable, "url": base,
		"html_url":   fmt.Sprintf("https://github.com/%s/%s/releases/tag/%s", s.Owner, s.Repo, rel.Tag),
		"upload_url": fmt.Sprintf("%s/repos/%s/%s/releases/%d/assets{?name,label}", s.Uploads.URL, s.Owner, s.Repo, rel.ID),
	}
}

func (s *Server) assetJSON(a *Asset) map[string]any {
	sum := sha256.Sum256(a.Data)
	return map[string]any{
		"id": a.ID, "name": a.Name, "state": a.State, "size": len(a.Data), "content_type": "application/octet-stream",
		"url":                  fmt.Sprintf("%s/repos/%s/%s/releases/assets/%d", s.API.URL, s.Owner, s.Repo, a.ID),
		"browser_download_url": fmt.Sprintf("%s/download/%d/%s", s.Uploads.URL, a.ID, a.Name),
		"digest":               "sha256:" + hex.EncodeToString(sum[:]),
	}
}
