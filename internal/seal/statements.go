package seal

import (
	"fmt"

	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/signer"
	"github.com/waxseal/waxseal/internal/verifier"
)

// buildStatements builds each artifact's provenance statement, as it will be checked and signed; an artifact whose
// statement cannot be built fails.
func buildStatements(arts []*artifact, gh provenance.GitHub, rep *Report) [][]byte {
	out := make([][]byte, len(arts))
	for i, a := range arts {
		if a == nil || rep.Artifacts[i].Error != "" {
			continue
		}
		var err error
		if out[i], err = statementFor(a, gh); err != nil {
			rep.Artifacts[i].Error = message(err)
		}
	}
	return out
}

// checkStatements compares, with the run's certificate in hand and before anything is signed or logged, each
// package's provenance statement with the certificate extension that backs each of its fields, as the registry
// does: a mismatch fails the package.
func checkStatements(s *signer.Signer, arts []*artifact, statements [][]byte, rep *Report) {
	cert := s.Certificate()
	for i, a := range arts {
		if a == nil || rep.Artifacts[i].Error != "" {
			continue
		}
		if err := verifier.CheckStatement(statements[i], cert); err != nil {
			rep.Artifacts[i].Error = fmt.Sprintf("%s: its provenance would contradict its certificate, which verifiers (and the npm registry) refuse (every statement field must equal the certificate "+
				"extension that backs it): %s; sign in the job the token was issued to, without overriding GITHUB_* variables", a.Path, message(err))
		}
	}
}

// statementFor builds an artifact's provenance statement.
func statementFor(a *artifact, gh provenance.GitHub) ([]byte, error) {
	st, err := provenance.Statement(gh, a.subjects()...)
	if err != nil {
		return nil, fmt.Errorf("building provenance for %s: %w", a.Path, err)
	}
	payload, err := provenance.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding provenance for %s: %w", a.Path, err)
	}
	return payload, nil
}
