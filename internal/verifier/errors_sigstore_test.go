package verifier

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// TestStepVerdictsComeFromSigstoreGo drives sigstore-go's Verify, on entities signed by its own virtual Sigstore,
// to fail at each step its errors name, and checks that each failure gets the verdict stepVerdicts gives it. A
// message sigstore-go rewords fails here instead of misleading a user; every prefix in the table is produced.
func TestStepVerdictsComeFromSigstoreGo(t *testing.T) {
	t.Parallel()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const san, iss = "https://github.com/octo/pkg/.github/workflows/r.yml@refs/tags/v1", "https://token.actions.githubusercontent.com"
	artifact := []byte("the artifact")
	signed, err := vs.Sign(san, iss, artifact)
	if err != nil {
		t.Fatal(err)
	}
	attested, err := vs.Attest(san, iss, []byte("not an in-toto statement"))
	if err != nil {
		t.Fatal(err)
	}
	keyed, keyMaterial := keySigned(t, artifact, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	_, expiredKey := keySigned(t, artifact, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	identity := func(s string) verify.PolicyOption {
		m, _ := verify.NewSANMatcher(s, "")
		i, _ := verify.NewIssuerMatcher(iss, "")
		ci, _ := verify.NewCertificateIdentity(m, i, certificate.Extensions{})
		return verify.WithCertificateIdentity(ci)
	}
	withArtifact := func() verify.ArtifactPolicyOption { return verify.WithArtifact(bytes.NewReader(artifact)) }
	tlog := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	now := []verify.VerifierOption{verify.WithCurrentTime()}
	tests := []struct {
		prefix string
		tm     root.TrustedMaterial
		opts   []verify.VerifierOption
		entity verify.SignedEntity
		policy verify.PolicyBuilder
		want   error
	}{
		{"failed to build policy", vs, tlog, signed, verify.NewPolicy(withArtifact(), verify.WithKey(), identity(san)), ErrInvalidBundle},
		{"failed to verify log inclusion", other, tlog, signed, verify.NewPolicy(withArtifact(), identity(san)), ErrTransparencyLog},
		{"failed to verify timestamps", vs, []verify.VerifierOption{verify.WithObserverTimestamps(2)}, signed, verify.NewPolicy(withArtifact(), identity(san)), ErrTimestamp},
		{"failed to fetch verification content", vs, now, broken{TestEntity: signed, verification: true}, verify.NewPolicy(withArtifact(), identity(san)), ErrInvalidBundle},
		{"failed to summarize certificate", vs, now, withCert{TestEntity: signed, cert: badExtensionCert(t)}, verify.NewPolicy(withArtifact(), identity(san)), ErrInvalidBundle},
		{"failed to verify leaf certificate", other, now, signed, verify.NewPolicy(withArtifact(), identity(san)), ErrCertificate},
		{"failed to verify signed certificate timestamp", withoutCTLogs{vs}, append([]verify.VerifierOption{verify.WithSignedCertificateTimestamps(1)}, now...), signed,
			verify.NewPolicy(withArtifact(), identity(san)), ErrSCT},
		{"expected key signature, not certificate", vs, now, signed, verify.NewPolicy(withArtifact(), verify.WithKey()), ErrKeyMismatch},
		{"SCTs required but bundle is signed with a public key", keyMaterial, append([]verify.VerifierOption{verify.WithSignedCertificateTimestamps(1)}, now...), keyed,
			verify.NewPolicy(withArtifact(), verify.WithKey()), ErrKeyMismatch},
		{"signature time outside of public key validity window", expiredKey, now, keyed, verify.NewPolicy(withArtifact(), verify.WithKey()), ErrKeyMismatch},
		{"failed to fetch signature content", vs, now, broken{TestEntity: signed, signature: true}, verify.NewPolicy(withArtifact(), identity(san)), ErrInvalidBundle},
		{"failed to fetch entity version", vs, now, broken{TestEntity: signed, version: true}, verify.NewPolicy(withArtifact(), identity(san)), ErrInvalidBundle},
		{"failed to get signature verifier", vs, now, keyEntity{sig: keyed.(keyEntity).sig, anyTime: true}, verify.NewPolicy(withArtifact(), verify.WithKey()), ErrKeyMismatch},
		{"failed to verify signature", vs, tlog, signed, verify.NewPolicy(verify.WithArtifact(strings.NewReader("another")), identity(san)), ErrSignature},
		{"failed to fetch envelope statement", vs, tlog, attested, verify.NewPolicy(verify.WithoutArtifactUnsafe(), identity(san)), ErrInvalidBundle},
		{"can't verify certificate identities", keyMaterial, now, keyed, verify.NewPolicy(withArtifact(), identity(san)), ErrIdentityMismatch},
		{"failed to verify certificate identity", vs, tlog, signed, verify.NewPolicy(withArtifact(), identity("https://github.com/mallory/x/.github/workflows/r.yml@refs/tags/v1")), ErrIdentityMismatch},
	}
	produced := map[string]bool{}
	for _, tc := range tests {
		v, err := verify.NewVerifier(tc.tm, tc.opts...)
		if err != nil {
			t.Fatalf("%s: %v", tc.prefix, err)
		}
		_, err = v.Verify(tc.entity, tc.policy)
		if err == nil || !strings.HasPrefix(err.Error(), tc.prefix) {
			t.Errorf("sigstore-go failed with %v, want a failure that starts %q: the step's message changed upstream; update stepVerdicts", err, tc.prefix)
			continue
		}
		produced[tc.prefix] = true
		if got := classify(err); !errors.Is(got, tc.want) {
			t.Errorf("classify(%q) = %v, want the verdict %v", err, got, tc.want)
		}
	}
	for _, s := range stepVerdicts {
		if !produced[s.prefix] {
			t.Errorf("no case makes sigstore-go fail with %q: add one, or drop the prefix", s.prefix)
		}
	}
}

// keySigned is an artifact signed with a long-lived key (no certificate, no log entry), and a trusted root that
// holds that key for the given validity window.
func keySigned(t *testing.T, artifact []byte, from, until time.Time) (verify.SignedEntity, root.TrustedMaterial) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sv.SignMessage(bytes.NewReader(artifact))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(artifact)
	tm := root.NewTrustedPublicKeyMaterial(func(hint string) (root.TimeConstrainedVerifier, error) {
		if hint != "the-key" {
			return nil, errors.New("no such key")
		}
		return root.NewExpiringKey(sv, from, until), nil
	})
	return keyEntity{sig: bundle.NewMessageSignature(digest[:], "SHA2_256", sig)}, tm
}

type keyEntity struct {
	sig     *bundle.MessageSignature
	anyTime bool // the key's content vouches for any time, whatever the trusted material says
}

func (k keyEntity) HasInclusionPromise() bool                          { return false }
func (k keyEntity) HasInclusionProof() bool                            { return false }
func (k keyEntity) SignatureContent() (verify.SignatureContent, error) { return k.sig, nil }
func (k keyEntity) Timestamps() ([][]byte, error)                      { return nil, nil }
func (k keyEntity) TlogEntries() ([]*tlog.Entry, error)                { return nil, nil }
func (k keyEntity) VerificationContent() (verify.VerificationContent, error) {
	return keyContent{anyTime: k.anyTime}, nil
}
func (k keyEntity) Version() (string, error) { return "v0.3", nil }

// keyContent names the long-lived key "the-key".
type keyContent struct{ anyTime bool }

func (keyContent) CompareKey(any, root.TrustedMaterial) bool { return false }
func (k keyContent) ValidAtTime(t time.Time, tm root.TrustedMaterial) bool {
	if k.anyTime {
		return true
	}
	v, err := tm.PublicKeyVerifier("the-key")
	return err == nil && v.ValidAtTime(t)
}
func (keyContent) Certificate() *x509.Certificate      { return nil }
func (keyContent) Intermediates() []*x509.Certificate  { return nil }
func (keyContent) PublicKey() verify.PublicKeyProvider { return keyHint{} }

type keyHint struct{}

func (keyHint) Hint() string { return "the-key" }

// broken fails to hand out one of its parts.
type broken struct {
	*ca.TestEntity
	verification, signature, version bool
}

func (b broken) VerificationContent() (verify.VerificationContent, error) {
	if b.verification {
		return nil, errors.New("no verification material")
	}
	return b.TestEntity.VerificationContent()
}

func (b broken) SignatureContent() (verify.SignatureContent, error) {
	if b.signature {
		return nil, errors.New("no signature")
	}
	return b.TestEntity.SignatureContent()
}

func (b broken) Version() (string, error) {
	if b.version {
		return "", errors.New("no media type")
	}
	return b.TestEntity.Version()
}

// withCert presents another certificate as the signer's.
type withCert struct {
	*ca.TestEntity
	cert *x509.Certificate
}

func (w withCert) VerificationContent() (verify.VerificationContent, error) {
	return bundle.NewCertificate(w.cert), nil
}

// withoutCTLogs is trusted material that knows no certificate transparency log.
type withoutCTLogs struct{ root.TrustedMaterial }

func (withoutCTLogs) CTLogs() map[string]*root.TransparencyLog { return nil }

// badExtensionCert is a certificate whose Fulcio issuer extension (1.3.6.1.4.1.57264.1.8) is not a UTF8String.
func badExtensionCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: []byte{0x02, 0x01, 0x05}}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
