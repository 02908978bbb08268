package seal

import (
	"fmt"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/signer"
	"github.com/waxseal/waxseal/internal/trust"
	"github.com/waxseal/waxseal/internal/verifier"
)

// checkIdentity applies, before anything is signed, the registry's rules about the identity itself (the npm
// registry's own wording first, then the fix), and the privacy rule for Sigstore's public log. It returns a warning
// to report when an opt-in let a private repository through.
func (o Options) checkIdentity(c *oidc.Claims) (warning string, err error) {
	vis := c.RepositoryVisibility
	private := vis != "" && vis != "public"
	npmProvenance := o.Provenance && !o.SkipNPMChecksUnsafe && c.IsGitHubActions()
	publicLog := o.Trust.Instance() != trust.Custom
	switch {
	case npmProvenance && private:
		return "", fmt.Errorf("the npm registry would refuse this provenance: \"Unsupported GitHub Actions source repository visibility: %s\"; "+
			"npm accepts provenance only from public repositories: make %s public, or sign without provenance (--provenance=false, Action input provenance: false)",
			vis, c.Repository)
	case npmProvenance && publicLog && c.Issuer != oidc.GitHubIssuer:
		return "", fmt.Errorf("the npm registry would refuse this provenance: its certificate issuer would be %s, and the registry accepts provenance "+
			"from GitHub Actions on github.com (%s) and GitLab CI on gitlab.com only: publish from github.com, or sign without provenance (--provenance=false)",
			c.Issuer, oidc.GitHubIssuer)
	case private && publicLog && !o.AllowPrivateRepository:
		return "", fmt.Errorf("%s is a %s repository, and signing writes its name, workflow and commit into Sigstore's public transparency log, "+
			"where anyone can read them for good: if that is acceptable, pass --allow-private-repository (Action input allow-private-repository: true); "+
			"otherwise sign with a private Sigstore instance (--trusted-root and --signing-config)", c.Repository, vis)
	case private && publicLog:
		return fmt.Sprintf("%s is a %s repository: its name, workflow and commit are now in Sigstore's public transparency log (allow-private-repository is on)",
			c.Repository, vis), nil
	}
	return "", nil
}

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
			rep.Packages[i].Error = oneLine(err)
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
				"extension that backs it): %s; sign in the job the token was issued to, without overriding GITHUB_* variables", t.Path, oneLine(err))
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
