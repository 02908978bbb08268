package githubfake

import (
	"fmt"
	"net/http"
)

// IDs are the numeric IDs of the fake's repository and its owner (GitHub's never change when a repository is
// renamed or transferred; a certificate's source repository identifiers carry them). Zero values answer 1 and 2.
type IDs struct{ Repository, Owner int64 }

// SetIDs sets the IDs GET /repos/{owner}/{repo} answers.
func (s *Server) SetIDs(ids IDs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = ids
}

// serveRepository answers GET /repos/{owner}/{repo} ("Get a repository",
// docs.github.com/rest/repos/repos#get-a-repository) with the fields waxseal reads.
func (s *Server) serveRepository(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.Path != fmt.Sprintf("/repos/%s/%s", s.Owner, s.Repo) {
		return false
	}
	s.mu.Lock()
	ids := s.ids
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": max(ids.Repository, 1), "name": s.Repo, "full_name": s.Owner + "/" + s.Repo,
		"owner": map[string]any{"login": s.Owner, "id": max(ids.Owner, 2)},
	})
	return true
}
