// Package verifier verifies Sigstore bundles for npm tarballs: the signature, certificate, transparency log entry
// and timestamps through sigstore-go, the signer's identity against a policy, and, for SLSA provenance, the
// checks the npm registry makes (subject purl and sha512, certificate extensions against the statement).
package verifier

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
)

// Identity is the signer a bundle must come from: the certificate's subject alternative name (for GitHub Actions,
// the workflow URI at a ref) and the OIDC issuer that vouched for it. Give at least one SAN form and one issuer
// form; the exact and regexp forms of a field may be combined and must then both match.
type Identity struct {
	SAN, SANRegexp, Issuer, IssuerRegexp string
}

func (id Identity) isZero() bool { return id == Identity{} }

// Option configures a Verifier.
type Option func(*config) error

type config struct {
	key        crypto.PublicKey
	extensions certificate.Extensions
}

// WithPublicKey verifies bundles signed with this long-lived key instead of a Fulcio certificate (the Sigstore
// "managed key" flow). It contradicts a certificate identity: pass a zero Identity with it.
func WithPublicKey(key crypto.PublicKey) Option {
	return func(c *config) error {
		if key == nil {
			return errors.New("configuring the verifier: nil public key")
		}
		c.key = key
		return nil
	}
}

// WithCertificateExtensions additionally requires the certificate's Fulcio extensions to equal every non-empty
// field of ext (for example SourceRepositoryURI, SourceRepositoryRef, SourceRepositoryDigest).
func WithCertificateExtensions(ext certificate.Extensions) Option {
	return func(c *config) error {
		c.extensions = ext
		return nil
	}
}

// Verifier verifies bundles against one trusted root and one identity policy. It is safe for concurrent use.
type Verifier struct {
	tm       root.TrustedMaterial
	identity *verify.CertificateIdentity // nil when verifying with a public key
	keyMode  bool
}

// New returns a Verifier that trusts tm and accepts only bundles from id (or, with WithPublicKey, only bundles
// signed by that key). It refuses an empty identity: verifying without one proves nothing about who signed.
func New(tm root.TrustedMaterial, id Identity, opts ...Option) (*Verifier, error) {
	if tm == nil {
		return nil, errors.New("creating verifier: no trusted root: load one with the trust package")
	}
	var c config
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.key != nil {
		if !id.isZero() {
			return nil, errors.New("creating verifier: a public key and a certificate identity contradict each other: pass one")
		}
		km, err := keyMaterial(c.key)
		if err != nil {
			return nil, err
		}
		return &Verifier{tm: root.TrustedMaterialCollection{km, tm}, keyMode: true}, nil
	}
	if id.SAN == "" && id.SANRegexp == "" {
		return nil, errors.New("creating verifier: no certificate identity: name the signer (for GitHub Actions, --repository OWNER/REPO, or --certificate-identity URI)")
	}
	if id.Issuer == "" && id.IssuerRegexp == "" {
		return nil, errors.New("creating verifier: no OIDC issuer: name it (--certificate-oidc-issuer, https://token.actions.githubusercontent.com for GitHub Actions)")
	}
	san, err := verify.NewSANMatcher(id.SAN, id.SANRegexp)
	if err != nil {
		return nil, fmt.Errorf("creating verifier: compiling the SAN pattern: %w", err)
	}
	iss, err := verify.NewIssuerMatcher(id.Issuer, id.IssuerRegexp)
	if err != nil {
		return nil, fmt.Errorf("creating verifier: compiling the issuer pattern: %w", err)
	}
	ci, err := verify.NewCertificateIdentity(san, iss, c.extensions)
	if err != nil {
		return nil, fmt.Errorf("creating verifier: %w", err)
	}
	return &Verifier{tm: tm, identity: &ci}, nil
}

func keyMaterial(key crypto.PublicKey) (root.TrustedMaterial, error) {
	sv, err := sigsig.LoadDefaultVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("creating verifier: loading the public key: %w", err)
	}
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
	}), nil
}

// Result is what a successful verification vouches for.
type Result struct {
	// SAN and Issuer are the certificate's identity (empty when a public key signed).
	SAN    string `json:"certificateIdentity,omitempty"`
	Issuer string `json:"certificateIssuer,omitempty"`
	// Repository is the source repository URI from the certificate, e.g. https://github.com/owner/repo.
	Repository string `json:"repository,omitempty"`
	// RepositoryID and OwnerID are GitHub's numeric IDs of the source repository and its owner, from the
	// certificate (empty in certificates Fulcio issued before it recorded them).
	RepositoryID string `json:"repositoryId,omitempty"`
	OwnerID      string `json:"repositoryOwnerId,omitempty"`
	// Workflow is the workflow file the build ran, e.g. .github/workflows/release.yml.
	Workflow string `json:"workflow,omitempty"`
	// Ref and Commit are the git ref and commit the build ran at.
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
	// RunnerEnvironment is github-hosted or self-hosted.
	RunnerEnvironment string `json:"runnerEnvironment,omitempty"`
	// LogIndex is the transparency log entry's index.
	LogIndex int64 `json:"logIndex"`
	// LogTime is the verified time of signing: Rekor's integrated time, or the RFC 3161 time for Rekor v2.
	LogTime time.Time `json:"logTime"`
	// TimestampSource says who vouched for LogTime.
	TimestampSource string `json:"timestampSource"`
}

// VerifyArtifact verifies a bundle whose message signature (or DSSE statement subject) covers the artifact with
// this SHA-256 digest.
func (v *Verifier) VerifyArtifact(b *bundle.Bundle, sha256 []byte) (*Result, error) {
	res, err := v.verify(b, "sha256", sha256)
	if err != nil {
		return nil, err
	}
	return newResult(b, res), nil
}

// VerifyArtifactDigests verifies a bundle over an artifact whose digests under several algorithms are known (a
// file the caller hashed once with each). It checks the one digest the bundle's signature is made over: the
// message digest's algorithm for a message signature; for a DSSE statement, the strongest algorithm its subjects
// name (npm's provenance names sha512 only). Which one is taken from the bundle before verification, so it only
// selects: the verification itself then holds the artifact to that digest.
func (v *Verifier) VerifyArtifactDigests(b *bundle.Bundle, digests map[string][]byte) (*Result, error) {
	alg, err := signedAlgorithm(b, digests)
	if err != nil {
		return nil, err
	}
	res, err := v.verify(b, alg, digests[alg])
	if err != nil {
		return nil, err
	}
	return newResult(b, res), nil
}

// signedAlgorithm picks the digest algorithm b's signature covers among those in digests.
func signedAlgorithm(b *bundle.Bundle, digests map[string][]byte) (string, error) {
	if b == nil || b.Bundle == nil {
		return "", verdict(ErrInvalidBundle, errors.New("empty bundle"))
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return "", verdict(ErrInvalidBundle, err)
	}
	if m := sc.MessageSignatureContent(); m != nil {
		alg := hashName(m.DigestAlgorithm())
		if _, ok := digests[alg]; !ok {
			return "", verdict(ErrDigestMismatch, fmt.Errorf("the bundle signs a %s digest, which waxseal does not compute", alg))
		}
		return alg, nil
	}
	used := map[string]bool{}
	if env := sc.EnvelopeContent(); env != nil {
		if st, err := env.Statement(); err == nil {
			for _, sub := range st.GetSubject() {
				for alg := range sub.GetDigest() {
					used[alg] = true
				}
			}
		}
	}
	for _, alg := range []string{"sha512", "sha384", "sha256"} {
		if _, ok := digests[alg]; ok && used[alg] {
			return alg, nil
		}
	}
	return "", verdict(ErrDigestMismatch, errors.New("no statement subject has a sha256, sha384 or sha512 digest"))
}

// verify runs the Sigstore client verification of b over the artifact digest.
func (v *Verifier) verify(b *bundle.Bundle, alg string, digest []byte) (*verify.VerificationResult, error) {
	if b == nil || b.Bundle == nil {
		return nil, verdict(ErrInvalidBundle, errors.New("empty bundle"))
	}
	if err := v.checkChainRoots(b); err != nil {
		return nil, err
	}
	// Spec (client verification): the verifier MUST verify the transparency log entry, establish the signing time
	// from an observer timestamp, verify the certificate chain at that time, and verify its SCTs.
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	if !v.keyMode {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	// A timestamp the bundle presents must verify; an unverifiable one is a reason to reject, not to ignore.
	if ts, err := b.Timestamps(); err == nil && len(ts) > 0 {
		opts = append(opts, verify.WithSignedTimestamps(1))
	}
	sev, err := verify.NewVerifier(v.tm, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring sigstore verifier: %w", err)
	}
	var pol []verify.PolicyOption
	if v.keyMode {
		pol = append(pol, verify.WithKey())
	} else {
		pol = append(pol, verify.WithCertificateIdentity(*v.identity))
	}
	res, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest(alg, digest), pol...))
	if err != nil {
		return nil, v.explain(b, alg, digest, err)
	}
	return res, nil
}

// explain turns sigstore-go's error into a verdict. sigstore-go checks the log entry first, so a bundle whose
// signature is simply wrong fails there as "log entry does not match"; explain looks for the plainer reason in
// the order a person would: wrong kind of signer, another artifact, a bad signature, then the failed step.
func (v *Verifier) explain(b *bundle.Bundle, alg string, digest []byte, err error) error {
	sc, scErr := b.SignatureContent()
	vc, vcErr := b.VerificationContent()
	if scErr != nil || vcErr != nil {
		return classify(err)
	}
	switch {
	case v.keyMode && vc.Certificate() != nil:
		return verdict(ErrKeyMismatch, errors.New("the bundle was signed with a Fulcio certificate, not a key: verify it with a certificate identity"))
	case !v.keyMode && vc.PublicKey() != nil:
		return verdict(ErrKeyMismatch, errors.New("the bundle was signed with a key, not a Fulcio certificate: verify it with --key"))
	}
	m := sc.MessageSignatureContent()
	// The message digest is the signed value; if it is not the artifact's, the bundle is for another artifact.
	if m != nil && hashName(m.DigestAlgorithm()) == alg && !bytes.Equal(m.Digest(), digest) {
		return verdict(ErrDigestMismatch, fmt.Errorf("the bundle signs %s %x, the artifact's is %x", alg, m.Digest(), digest))
	}
	ad := []verify.ArtifactDigest{{Algorithm: alg, Digest: digest}}
	if v.keyMode && vc.PublicKey() != nil {
		if _, keyErr := v.tm.PublicKeyVerifier(vc.PublicKey().Hint()); keyErr != nil {
			return verdict(ErrKeyMismatch, fmt.Errorf("the bundle names key %q, which is not the key given", vc.PublicKey().Hint()))
		}
	}
	if sigErr := verify.VerifySignatureWithArtifactDigests(sc, vc, v.tm, ad); sigErr != nil {
		// A DSSE envelope whose signature verifies failed only on the subject digest.
		if m == nil && verify.VerifySignature(sc, vc, v.tm) == nil {
			return verdict(ErrDigestMismatch, fmt.Errorf("no statement subject has %s %x", alg, digest))
		}
		return verdict(ErrSignature, sigErr)
	}
	if entries, _ := b.TlogEntries(); len(entries) == 0 {
		if ts, _ := b.Timestamps(); len(ts) == 0 {
			why := errors.New("the bundle has no transparency log entry and no signed timestamp, so nothing vouches for when the short-lived certificate was used")
			if c := vc.Certificate(); c != nil {
				why = fmt.Errorf("%w (it was valid from %s to %s)", why, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
			}
			return verdict(ErrTimestamp, why)
		}
	}
	if why := outsideValidity(b, vc.Certificate()); why != nil {
		return verdict(ErrCertificate, fmt.Errorf("%w: %w", why, err))
	}
	out := classify(err)
	if errors.Is(out, ErrTransparencyLog) {
		if why := v.untrustedEntries(b); why != nil {
			return verdict(ErrTransparencyLog, why)
		}
	}
	return out
}

// hashName maps a protobuf-specs HashAlgorithm name (SHA2_256) to the in-toto digest name (sha256).
func hashName(protoName string) string {
	switch protoName {
	case "SHA2_256":
		return "sha256"
	case "SHA2_384":
		return "sha384"
	case "SHA2_512":
		return "sha512"
	}
	return strings.ToLower(protoName)
}

// outsideValidity says when a log entry recorded the signature at a time the certificate was not valid.
func outsideValidity(b *bundle.Bundle, cert *x509.Certificate) error {
	entries, err := b.TlogEntries()
	if err != nil || cert == nil {
		return nil
	}
	for _, e := range entries {
		at := e.IntegratedTime()
		if !at.IsZero() && (at.Before(cert.NotBefore) || at.After(cert.NotAfter)) {
			return fmt.Errorf("the certificate was not valid when the log recorded the signature (%s, outside %s to %s)",
				at.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// untrustedEntries says why no log entry could be verified: the log is unknown to the trusted root (the bundle
// comes from another Sigstore instance), or the log's promise does not verify.
func (v *Verifier) untrustedEntries(b *bundle.Bundle) error {
	entries, err := b.TlogEntries()
	if err != nil || len(entries) == 0 {
		return nil
	}
	logs := v.tm.RekorLogs()
	var errs []error
	for _, e := range entries {
		id := hex.EncodeToString([]byte(e.LogKeyID()))
		if _, ok := logs[id]; !ok {
			errs = append(errs, fmt.Errorf("the entry is in transparency log %s, which the trusted root does not list: the bundle comes from another Sigstore instance (staging or private?); pass that instance's trusted root", id))
			continue
		}
		if e.HasInclusionPromise() {
			if err := tlog.VerifySET(e, logs); err != nil {
				errs = append(errs, fmt.Errorf("the log's inclusion promise (signed entry timestamp) does not verify: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// checkChainRoots refuses a certificate chain that carries its own root. Spec (bundle): the chain MUST NOT contain
// the root; trust anchors come from the trusted root alone. Bundles npm made in early 2023 ship the full chain, so a
// root that is itself a trust anchor of the trusted root is tolerated: it adds nothing and changes nothing.
func (v *Verifier) checkChainRoots(b *bundle.Bundle) error {
	chain := b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()
	for i, c := range chain {
		cert, err := x509.ParseCertificate(c.GetRawBytes())
		if err != nil {
			return verdict(ErrInvalidBundle, fmt.Errorf("certificate %d: %w", i, err))
		}
		if isSelfSigned(cert) && !v.isTrustAnchor(cert) {
			return errRootInChain(cert)
		}
	}
	return nil
}

func (v *Verifier) isTrustAnchor(cert *x509.Certificate) bool {
	for _, ca := range v.tm.FulcioCertificateAuthorities() {
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok && f.Root != nil && f.Root.Equal(cert) {
			return true
		}
	}
	return false
}
