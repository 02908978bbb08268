package githubfake

// IDs are the numeric IDs of the fake's repository and its owner (GitHub's never change when a repository is
// renamed or transferred; a certificate's source repository identifiers carry them). Zero values answer 1 and 2.
type IDs struct{ Repository, Owner int64 }

// SetIDs sets the IDs GET /repos/{owner}/{repo} answers.
func (s *Server) SetIDs(ids IDs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = ids
}
