package verifier

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// The verdicts. Every rejection wraps exactly one of them, so callers (and people) learn the one reason a bundle
// was refused; check them with errors.Is.
var (
	// ErrMalformedBundle: the bundle is not Sigstore bundle JSON at all.
	ErrMalformedBundle = errors.New("bundle is not valid Sigstore bundle JSON")
	// ErrUnsupportedBundle: the bundle's media type names a version this verifier does not know.
	ErrUnsupportedBundle = errors.New("bundle media type is not supported")
	// ErrInvalidBundle: the bundle parses but is structurally unusable (missing or malformed material).
	ErrInvalidBundle = errors.New("bundle is structurally invalid")
	// ErrTransparencyLog: the transparency log entry, its inclusion proof, checkpoint or promise does not verify,
	// or does not describe this bundle's signature.
	ErrTransparencyLog = errors.New("transparency log entry does not verify")
	// ErrTimestamp: no trusted observer timestamp (Rekor integrated time or RFC 3161) vouches for the signing time.
	ErrTimestamp = errors.New("no trusted timestamp vouches for the signing time")
	// ErrCertificate: the signing certificate does not chain to a trusted certificate authority at the signing time.
	ErrCertificate = errors.New("signing certificate does not chain to a trusted authority at the signing time")
	// ErrSCT: the signing certificate carries no valid signed certificate timestamp from a trusted CT log.
	ErrSCT = errors.New("signing certificate has no valid certificate transparency timestamp")
	// ErrSignature: the signature does not verify under the bundle's certificate or key.
	ErrSignature = errors.New("signature does not verify")
	// ErrKeyMismatch: the bundle was signed with a key the caller did not name, or with a certificate when a key
	// was expected.
	ErrKeyMismatch = errors.New("bundle was not signed with the expected key")
	// ErrDigestMismatch: the bundle is validly signed, but over a different artifact.
	ErrDigestMismatch = errors.New("bundle was signed over a different artifact")
	// ErrIdentityMismatch: the certificate was issued to an identity other than the one required.
	ErrIdentityMismatch = errors.New("certificate identity does not match the required identity")
	// ErrSubjectMismatch: the provenance statement does not name the package being verified.
	ErrSubjectMismatch = errors.New("provenance subject does not name this package")
	// ErrPredicateType: the attestation is not SLSA provenance.
	ErrPredicateType = errors.New("attestation is not SLSA provenance")
	// ErrProvenanceMismatch: the provenance statement's claims contradict the signing certificate.
	ErrProvenanceMismatch = errors.New("provenance contradicts the signing certificate")
)

// verdict wraps cause under sentinel, keeping both reachable with errors.Is/As.
func verdict(sentinel, cause error) error {
	if cause == nil {
		return sentinel
	}
	return fmt.Errorf("%w: %w", sentinel, cause)
}

// sigstore-go's Verifier.Verify wraps the failure of each step of the Sigstore client specification with a fixed
// prefix, and offers no error type for most of them. Those prefixes name the step that failed, which is the reason a
// person needs; this table is the one place waxseal reads sigstore-go's message text.
var stepVerdicts = []struct {
	prefix   string
	sentinel error
}{
	{"failed to build policy", ErrInvalidBundle},
	{"failed to verify log inclusion", ErrTransparencyLog},
	{"failed to verify timestamps", ErrTimestamp},
	{"failed to fetch verification content", ErrInvalidBundle},
	{"failed to summarize certificate", ErrInvalidBundle},
	{"failed to verify leaf certificate", ErrCertificate},
	{"failed to verify signed certificate timestamp", ErrSCT},
	{"expected key signature, not certificate", ErrKeyMismatch},
	{"SCTs required but bundle is signed with a public key", ErrKeyMismatch},
	{"signature time outside of public key validity window", ErrKeyMismatch},
	{"failed to fetch signature content", ErrInvalidBundle},
	{"failed to fetch entity version", ErrInvalidBundle},
	{"failed to get signature verifier", ErrKeyMismatch},
	{"failed to verify signature", ErrSignature},
	{"failed to fetch envelope statement", ErrInvalidBundle},
	{"can't verify certificate identities", ErrIdentityMismatch},
	{"failed to verify certificate identity", ErrIdentityMismatch},
}

// classify maps an error from sigstore-go's Verify to the verdict for the step that failed: by type where
// sigstore-go gives one (a certificate identity that matched no policy, a bundle that fails validation), else by
// the step's prefix (stepVerdicts, each checked against sigstore-go by TestStepVerdictsComeFromSigstoreGo).
func classify(err error) error {
	var nm *verify.ErrNoMatchingCertificateIdentity
	if errors.As(err, &nm) {
		return verdict(ErrIdentityMismatch, identityError{nm})
	}
	if errors.Is(err, bundle.ErrValidation) {
		return verdict(ErrInvalidBundle, err)
	}
	msg := err.Error()
	for _, s := range stepVerdicts {
		if strings.HasPrefix(msg, s.prefix) {
			return verdict(s.sentinel, err)
		}
	}
	return verdict(ErrInvalidBundle, err)
}

// identityError says what the certificate holds that the policy did not accept, without sigstore-go's framing.
type identityError struct {
	e *verify.ErrNoMatchingCertificateIdentity
}

func (i identityError) Error() string {
	errs := i.e.Unwrap()
	if len(errs) == 0 {
		return i.e.Error()
	}
	return errs[len(errs)-1].Error()
}

func (i identityError) Unwrap() error { return i.e }
