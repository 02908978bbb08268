package verifier_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/waxseal/waxseal/internal/verifier"
)

// BenchmarkParseBundle measures parsing and the structural checks of a real npm provenance bundle.
func BenchmarkParseBundle(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(npmRealDir, "playwright-cli-0.1.1.tgz.provenance.sigstore.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := verifier.ParseBundle(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyProvenance measures a full offline verification of real npm provenance (bundle v0.3, Rekor dsse).
func BenchmarkVerifyProvenance(b *testing.B) {
	v, err := verifier.New(publicGood(b), verifier.Identity{SAN: playwrightCLI, Issuer: githubIssuer})
	if err != nil {
		b.Fatal(err)
	}
	bun, err := v.LoadBundle(filepath.Join(npmRealDir, "playwright-cli-0.1.1.tgz.provenance.sigstore.json"))
	if err != nil {
		b.Fatal(err)
	}
	sum := tarballSHA512(b, "playwright-cli-0.1.1.tgz")
	for b.Loop() {
		if _, err := v.VerifyProvenance(bun, "pkg:npm/%40playwright/cli@0.1.1", sum); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyArtifactRekorV2 measures a message-signature bundle from Rekor v2 with an RFC 3161 timestamp.
func BenchmarkVerifyArtifactRekorV2(b *testing.B) {
	c := conformanceCase{}
	for _, cc := range loadConformanceCases(b) {
		if cc.name == "rekor2-happy-path" {
			c = cc
		}
	}
	tm, err := rootFromPath(c.trustedRoot)
	if err != nil {
		b.Fatal(err)
	}
	v, err := verifier.New(tm, verifier.Identity{SAN: c.identity, Issuer: c.issuer})
	if err != nil {
		b.Fatal(err)
	}
	bun, err := v.LoadBundle(filepath.Join(c.dir, "bundle.sigstore.json"))
	if err != nil {
		b.Fatal(err)
	}
	d := artifactDigest(b, c.dir)
	for b.Loop() {
		if _, err := v.VerifyArtifact(bun, d); err != nil {
			b.Fatal(err)
		}
	}
}
