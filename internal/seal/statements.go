package seal

import (
	"fmt"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/signer"
	"github.com/waxseal/waxseal/internal/verifier"
)

// buildStatements builds each package's provenance statement, as it will be checked and signed; a package whose
// statement cannot be built fails.
func buildStatements(tarballs []*npm.Tarball, gh provenance.GitHub, rep *Report) [][]byte {
	out := make([][]byte, len(tarballs))
	for i, t := range tarballs {
		if t == nil || rep.Packages[i].Error != "" {
			continue
		}
		var err error
		if out[i], err = statementFor(t, gh); err != nil {
			rep.Packages[i].Error = message(err)
		}
	}
	return out
}

// checkStatements compares, with the run's certificate in hand and before anything is signed or logged, each
// package's provenance statement with the certificate extension that backs each of its fields, as the registry
// does: a mismatch fails the package.
func checkStatements(s *signer.Signer, tarballs []*npm.Tarball, statements [][]byte, rep *Report) {
	cert := s.Certificate()
	for i, t := range tarballs {
		if t == nil || rep.Packages[i].Error != "" {
			continue
		}
		if err := verifier.CheckStatement(statements[i], cert); err != nil {
			rep.Packages[i].Error = fmt.Sprintf("%s: the npm registry would refuse its provenance (every statement field must equal the certificate "+
				"extension that backs it): %s; sign in the job the token was issued to, without overriding GITHUB_* variables", t.Path, message(err))
		}
	}
}

// statementFor builds a package's provenance statement.
func statementFor(t *npm.Tarball, gh provenance.GitHub) ([]byte, error) {
	st, err := provenance.Statement(gh, provenance.Subject{Name: t.Purl(), SHA512: t.SHA512Hex()})
	if err != nil {
		return nil, fmt.Errorf("building provenance for %s: %w", t.Path, err)
	}
	payload, err := provenance.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding provenance for %s: %w", t.Path, err)
	}
	return payload, nil
}
