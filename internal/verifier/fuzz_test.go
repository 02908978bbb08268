package verifier_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/waxseal/waxseal/internal/verifier"
)

var allVerdicts = []error{
	verifier.ErrMalformedBundle, verifier.ErrUnsupportedBundle, verifier.ErrInvalidBundle, verifier.ErrTransparencyLog,
	verifier.ErrTimestamp, verifier.ErrCertificate, verifier.ErrSCT, verifier.ErrSignature, verifier.ErrKeyMismatch,
	verifier.ErrDigestMismatch, verifier.ErrIdentityMismatch, verifier.ErrSubjectMismatch, verifier.ErrPredicateType,
	verifier.ErrProvenanceMismatch,
}

// hasVerdict reports whether err carries one of the package's verdicts.
func hasVerdict(err error) bool {
	for _, v := range allVerdicts {
		if errors.Is(err, v) {
			return true
		}
	}
	return false
}

// seedBundles adds every conformance and npm-real bundle to the corpus.
func seedBundles(f *testing.F, add func(data []byte)) {
	paths, _ := filepath.Glob(filepath.Join(conformanceDir, "assets/bundle-verify/*/bundle.sigstore.json"))
	more, _ := filepath.Glob(filepath.Join(npmRealDir, "*.sigstore.json"))
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(data)
	}
}

// FuzzParseBundle: any input is parsed or refused with a verdict, never a panic, and what parses re-encodes to
// something that parses again.
func FuzzParseBundle(f *testing.F) {
	seedBundles(f, func(data []byte) { f.Add(data) })
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := verifier.ParseBundle(data)
		if err != nil {
			if !hasVerdict(err) {
				t.Fatalf("refusal without a verdict: %v", err)
			}
			return
		}
		again, err := b.MarshalJSON()
		if err != nil {
			t.Fatalf("re-encoding a parsed bundle: %v", err)
		}
		if _, err := verifier.ParseBundle(again); err != nil {
			t.Fatalf("a re-encoded bundle no longer parses: %v", err)
		}
	})
}

// FuzzVerify: every rejection by VerifyArtifact and VerifyProvenance carries a verdict, and nothing panics.
func FuzzVerify(f *testing.F) {
	seedBundles(f, func(data []byte) { f.Add(data, []byte("artifact")) })
	a, _ := os.ReadFile(filepath.Join(conformanceDir, "assets/bundle-verify/a.txt"))
	f.Add([]byte("{}"), a)
	tm := publicGood(f)
	v, err := verifier.New(tm, verifier.Identity{SANRegexp: ".", IssuerRegexp: "."})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data, artifact []byte) {
		b, err := v.ParseBundle(data)
		if err != nil {
			if !hasVerdict(err) {
				t.Fatalf("refusal without a verdict: %v", err)
			}
			return
		}
		d256 := sha256.Sum256(artifact)
		if _, err := v.VerifyArtifact(b, d256[:]); err != nil && !hasVerdict(err) {
			t.Fatalf("VerifyArtifact refused without a verdict: %v", err)
		}
		d512 := sha512.Sum512(artifact)
		if _, err := v.VerifyProvenance(b, "pkg:npm/x@1.0.0", d512[:]); err == nil {
			t.Fatal("provenance verified for a package no seed signs")
		} else if !hasVerdict(err) {
			t.Fatalf("VerifyProvenance refused without a verdict: %v", err)
		}
	})
}
