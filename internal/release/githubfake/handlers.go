package githubfake

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const docRelease = "https://docs.github.com/rest/releases/releases"

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, "api") || s.serveRepository(w, r) {
		return
	}
	prefix := fmt.Sprintf("/repos/%s/%s/releases", s.Owner, s.Repo)
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch parts := strings.Split(strings.Trim(rest, "/"), "/"); {
	case r.Method == http.MethodGet && rest == "":
		s.listReleases(w, r)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "tags":
		// "Get a release by tag name ... Get a published release with the specified tag."
		for _, rel := range slices.Backward(s.releases) {
			if rel.Tag == parts[1] && !rel.Draft {
				writeJSON(w, http.StatusOK, s.releaseJSON(rel))
				return
			}
		}
		writeError(w, http.StatusNotFound, "Not Found", docRelease+"#get-a-release-by-tag-name")
	case r.Method == http.MethodGet && len(parts) == 2 && parts[1] == "assets":
		s.listAssets(w, r, parts[0])
	case len(parts) == 2 && parts[0] == "assets":
		s.asset(w, r, parts[1])
	default:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
}

func page(r *http.Request, n int) (lo, hi int) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p <= 0 {
		p = 1
	}
	lo, hi = min((p-1)*per, n), min(p*per, n)
	return lo, hi
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request) {
	var all []map[string]any
	for _, rel := range slices.Backward(s.releases) { // newest first
		all = append(all, s.releaseJSON(rel))
	}
	lo, hi := page(r, len(all))
	writeJSON(w, http.StatusOK, append([]map[string]any{}, all[lo:hi]...))
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request, id string) {
	relID, _ := strconv.ParseInt(id, 10, 64)
	var all []map[string]any
	for _, a := range s.sortedAssets() {
		if a.ReleaseID == relID {
			all = append(all, s.assetJSON(a))
		}
	}
	lo, hi := page(r, len(all))
	writeJSON(w, http.StatusOK, append([]map[string]any{}, all[lo:hi]...))
}

func (s *Server) sortedAssets() []*Asset {
	var out []*Asset
	for _, a := range s.assets {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Asset) int { return int(a.ID - b.ID) })
	return out
}

func (s *Server) release(id int64) *Release {
	for _, rel := range s.releases {
		if rel.ID == id {
			return rel
		}
	}
	return nil
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request, idStr string) {
	id, _ := strconv.ParseInt(idStr, 10, 64)
	a, ok := s.assets[id]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/releases/assets")
		return
	}
	switch r.Method {
	case http.MethodDelete:
		if rel := s.release(a.ReleaseID); rel != nil && rel.Immutable && !rel.Draft {
			writeError(w, http.StatusUnprocessableEntity, "Cannot delete assets from an immutable release.", "https://docs.github.com/rest")
			return
		}
		delete(s.assets, id)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		if r.Header.Get("Accept") == "application/octet-stream" {
			// GitHub answers with a redirect to its storage host.
			http.Redirect(w, r, fmt.Sprintf("%s/download/%d/%s", s.Uploads.URL, a.ID, a.Name), http.StatusFound)
			return
		}
		writeJSON(w, http.StatusOK, s.assetJSON(a))
	default:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
}

func (s *Server) serveUploads(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/download/") {
		s.download(w, r)
		return
	}
	if !s.admit(w, r, "uploads") {
		return
	}
	var relID int64
	if _, err := fmt.Sscanf(r.URL.Path, "/repos/"+s.Owner+"/"+s.Repo+"/releases/%d/assets", &relID); err != nil || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" || r.Header.Get("Content-Type") == "" || r.ContentLength < 0 {
		writeError(w, http.StatusBadRequest, "name, Content-Type and Content-Length are required", docRelease)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || int64(len(data)) != r.ContentLength {
		writeError(w, http.StatusBadRequest, "body does not match Content-Length", docRelease)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rel := s.release(relID)
	switch {
	case rel == nil:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	case rel.Immutable && !rel.Draft:
		writeError(w, http.StatusUnprocessableEntity, "Cannot upload assets to an immutable release.", "https://docs.github.com/rest")
		return
	}
	for _, a := range s.assets {
		if a.ReleaseID == relID && a.Name == name {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", "https://docs.github.com/rest/releases/assets#upload-a-release-asset",
				map[string]string{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"})
			return
		}
	}
	s.nextID++
	a := &Asset{ID: s.nextID, ReleaseID: relID, Name: name, State: "uploaded", Data: data}
	s.assets[a.ID] = a
	writeJSON(w, http.StatusCreated, s.assetJSON(a))
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, "download") {
		return
	}
	if r.Header.Get("Authorization") != "" {
		// Storage URLs are pre-signed; an Authorization header is refused, as S3 does.
		http.Error(w, "Only one auth mechanism allowed", http.StatusBadRequest)
		return
	}
	var id int64
	if _, err := fmt.Sscanf(r.URL.Path, "/download/%d/", &id); err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	a, ok := s.assets[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(a.Data)
}

// Publish turns a draft into a published release.
func (s *Server) Publish(releaseID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rel := s.release(releaseID); rel != nil {
		rel.Draft = false
	}
}
