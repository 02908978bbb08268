package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/verifier"
)

// nextStepError is a rejection that knows better what to do than its verdict's general advice.
type nextStepError struct {
	err  error
	next string
}

func (e *nextStepError) Error() string { return e.err.Error() }
func (e *nextStepError) Unwrap() error { return e.err }

// explainIdentity looks, when a bundle was refused for its signer, at what its certificate does say, to name the
// flag that was wrong rather than report someone else: a repository named in another case (GitHub's names are
// case-insensitive, certificates keep the case), or a ref other than the one pinned (--release pins the tag).
func explainIdentity(err error, bundlePath string, f *verifyFlags) error {
	if !errors.Is(err, verifier.ErrIdentityMismatch) {
		return err
	}
	b, lerr := verifier.LoadBundle(bundlePath)
	if lerr != nil {
		return err
	}
	vc, verr := b.VerificationContent()
	if verr != nil || vc.Certificate() == nil {
		return err
	}
	sum, serr := certificate.SummarizeCertificate(vc.Certificate())
	if serr != nil {
		return err
	}
	repo := strings.TrimPrefix(sum.SourceRepositoryURI, github.DefaultServerURL+"/")
	switch {
	case f.repository != "" && repo != f.repository && strings.EqualFold(repo, f.repository):
		return &nextStepError{err, fmt.Sprintf("the certificate names the repository %s, in another case than --repository %s: GitHub's names ignore case, certificates keep it; pass --repository %s",
			printable.Line(repo), f.repository, printable.Line(repo))}
	case repo == f.repository && f.ref != "" && sum.SourceRepositoryRef != "" && sum.SourceRepositoryRef != f.ref:
		why := "--ref " + f.ref
		if f.refFromRelease {
			why = "--release pins the release's tag, " + f.ref
		}
		return &nextStepError{err, fmt.Sprintf("it was signed by %s at %s, and %s: if the release was built from %s, pass --ref %s",
			printable.Line(repo), printable.Line(sum.SourceRepositoryRef), why, printable.Line(sum.SourceRepositoryRef), printable.Line(sum.SourceRepositoryRef))}
	}
	return err
}
