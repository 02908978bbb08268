package githubfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const (
	docRelease = "https://docs.github.com/rest/releases/releases"
	docAssets  = "https://docs.github.com/rest/releases/assets"
)

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if ok, _ := s.admit(w, r, "api"); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodGet && r.URL.Path == fmt.Sprintf("/repos/%s/%s", s.Owner, s.Repo) {
		s.repository(w)
		return
	}
	if s.serveAttestations(w, r) {
		return
	}
	prefix := fmt.Sprintf("/repos/%s/%s/releases", s.Owner, s.Repo)
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	}
	switch parts := strings.Split(strings.Trim(rest, "/"), "/"); {
	case r.Method == http.MethodGet && rest == "":
		s.listReleases(w, r)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "tags":
		// "Get a release by tag name ... Get a published release with the specified tag."
		for _, rel := range slices.Backward(s.releases) {
			if rel.Tag == parts[1] && !rel.Draft && s.listed(rel) {
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

// repository answers GET /repos/{owner}/{repo} with the permissions of the token's user.
// repository answers GET /repos/{owner}/{repo} ("Get a repository", docs.github.com/rest/repos/repos#get-a-repository)
// with the fields waxseal reads: the numeric IDs (see IDs) and the token's permissions.
func (s *Server) repository(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{"id": max(s.ids.Repository, 1), "name": s.Repo, "full_name": s.Owner + "/" + s.Repo,
		"owner":       map[string]any{"login": s.Owner, "id": max(s.ids.Owner, 2)},
		"permissions": map[string]bool{"admin": false, "push": !s.modes.ReadOnly, "pull": true}})
}

// listed reports whether listings show the release yet, and to this token.
func (s *Server) listed(rel *Release) bool {
	return !s.now().Before(rel.visibleAt) && (!rel.Draft || !s.modes.ReadOnly)
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
		if s.listed(rel) {
			all = append(all, s.releaseJSON(rel))
		}
	}
	lo, hi := page(r, len(all))
	writeJSON(w, http.StatusOK, append([]map[string]any{}, all[lo:hi]...))
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request, id string) {
	relID, _ := strconv.ParseInt(id, 10, 64)
	if rel := s.release(relID); rel == nil || !s.listed(rel) {
		writeError(w, http.StatusNotFound, "Not Found", docAssets+"#list-release-assets")
		return
	}
	var all []map[string]any
	now := s.now()
	for _, a := range s.sortedAssets() {
		if a.ReleaseID == relID && !now.Before(a.visibleAt) {
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

// frozen reports whether the asset's release is published and immutable. GitHub's immutable-releases docs:
// "Release assets cannot be modified or deleted: All files attached to the release (such as binaries and
// archives) are protected from modification or deletion."
func (s *Server) frozen(a *Asset) bool {
	rel := s.release(a.ReleaseID)
	return rel != nil && rel.Immutable && !rel.Draft
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request, idStr string) {
	id, _ := strconv.ParseInt(idStr, 10, 64)
	a, ok := s.assets[id]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", docAssets)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		if s.frozen(a) {
			// GitHub's body, as uutils/coreutils#13839 quotes it: Validation Failed:
			// {"resource":"ReleaseAsset","code":"custom","message":"Cannot delete asset from an immutable release"}
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docAssets+"#delete-a-release-asset",
				map[string]string{"resource": "ReleaseAsset", "code": "custom", "message": "Cannot delete asset from an immutable release"})
			return
		}
		s.counts.Deletes++
		delete(s.assets, id)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		s.patchAsset(w, r, a)
	case http.MethodGet:
		if r.Header.Get("Accept") == "application/octet-stream" {
			// GitHub answers with a redirect to its storage host.
			http.Redirect(w, r, s.storageURL(a), http.StatusFound)
			return
		}
		writeJSON(w, http.StatusOK, s.assetJSON(a))
	default:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
}

// patchAsset is "Update a release asset" (PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}, body name,
// label, state; "Users with push access to the repository can edit a release asset."). Not documented, and so
// assumed here: a new name is rewritten as an upload's is, a name another asset of the release has is 422
// already_exists as for an upload, and an asset of a published immutable release cannot be renamed (the
// immutable-releases docs say assets cannot be modified; the exact body is not known, so the delete's is used).
func (s *Server) patchAsset(w http.ResponseWriter, r *http.Request, a *Asset) {
	var body struct {
		Name  *string `json:"name"`
		Label *string `json:"label"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docAssets+"#update-a-release-asset")
		return
	}
	if s.frozen(a) {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docAssets+"#update-a-release-asset",
			map[string]string{"resource": "ReleaseAsset", "code": "custom", "message": "Cannot update asset from an immutable release"})
		return
	}
	if body.Name != nil {
		name := StoredName(*body.Name)
		for _, o := range s.assets {
			if o.ReleaseID == a.ReleaseID && o.ID != a.ID && o.Name == name {
				writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docAssets+"#update-a-release-asset",
					map[string]string{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"})
				return
			}
		}
		a.Name = name
	}
	if body.Label != nil {
		a.Label = *body.Label
	}
	s.counts.Patches++
	writeJSON(w, http.StatusOK, s.assetJSON(a))
}

func (s *Server) serveUploads(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/download/") {
		s.download(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, bundlePath) {
		s.bundle(w, r)
		return
	}
	ok, storeFault := s.admit(w, r, "uploads")
	if !ok {
		return
	}
	var relID int64
	if _, err := fmt.Sscanf(r.URL.Path, "/repos/"+s.Owner+"/"+s.Repo+"/releases/%d/assets", &relID); err != nil || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" || r.Header.Get("Content-Type") == "" || r.ContentLength < 0 {
		writeError(w, http.StatusBadRequest, "name, Content-Type and Content-Length are required", docAssets)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || int64(len(data)) != r.ContentLength {
		writeError(w, http.StatusBadRequest, "body does not match Content-Length", docAssets)
		return
	}
	a, n, after := s.store(w, relID, StoredName(name), data, storeFault)
	if a == nil {
		return
	}
	if after != nil {
		after(n, a.Name)
	}
	if storeFault != nil {
		answerFault(w, storeFault)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.assetJSON(a))
}

// store keeps an uploaded asset; it answers and returns nil when GitHub would refuse it.
func (s *Server) store(w http.ResponseWriter, relID int64, name string, data []byte, f *Fault) (*Asset, int, func(int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rel := s.release(relID)
	switch {
	case rel == nil:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return nil, 0, nil
	case rel.Immutable && !rel.Draft:
		// GitHub's answer, as asdf-vm/asdf#2329 and cameronrye/openzim-mcp#215 log it: "422 Cannot upload assets
		// to an immutable release."
		writeError(w, http.StatusUnprocessableEntity, "Cannot upload assets to an immutable release.", docAssets+"#upload-a-release-asset")
		return nil, 0, nil
	}
	for _, a := range s.assets {
		if a.ReleaseID == relID && a.Name == name {
			if f != nil { // the fault is answered whatever is stored
				answerFault(w, f)
				return nil, 0, nil
			}
			// "If you upload an asset with the same filename as another uploaded asset, you'll receive an error and
			// must delete the old file before you can re-upload the new asset."
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docAssets+"#upload-a-release-asset",
				map[string]string{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"})
			return nil, 0, nil
		}
	}
	s.nextID++
	a := &Asset{ID: s.nextID, ReleaseID: relID, Name: name, State: "uploaded", Data: data, Created: s.now(), visibleAt: s.now().Add(s.modes.AssetLag)}
	if f != nil && f.Store == "starter" {
		a.State, a.Data, a.visibleAt = "starter", nil, s.now().Add(s.modes.AssetLag+s.modes.StarterLag)
	}
	s.assets[a.ID] = a
	s.counts.Uploads++
	s.uploads++
	if s.modes.PublishAfterUploads > 0 && s.uploads == s.modes.PublishAfterUploads {
		rel.Draft = false
	}
	return a, s.uploads, s.afterUpload
}

// storage admits a request to the storage host, whose URLs are pre-signed: an Authorization header is refused,
// as S3 does. It reports whether to go on.
func (s *Server) storage(w http.ResponseWriter, r *http.Request) bool {
	if ok, _ := s.admit(w, r, "download"); !ok {
		return false
	}
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "Only one auth mechanism allowed", http.StatusBadRequest)
		return false
	}
	return true
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	if !s.storage(w, r) {
		return
	}
	var id int64
	if _, err := fmt.Sscanf(r.URL.Path, "/download/%d/", &id); err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	a, ok := s.assets[id]
	var data []byte
	if ok {
		data = a.Data
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(data)
}
