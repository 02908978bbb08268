package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/verifier"
)

// TestVerifyNPMFromTheRegistry verifies a real published package, @playwright/cli@0.1.1, from the registry's own
// attestations (its SLSA provenance, and the registry's publish attestation signed with the registry's key), against
// a local registry serving the real bytes: no release, no bundles named, the repository pinned from package.json.
func TestVerifyNPMFromTheRegistry(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(npmRealDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tgz := read("playwright-cli-0.1.1.tgz")
	var doc struct {
		Attestations []npmregistry.Attestation `json:"attestations"`
	}
	if err := json.Unmarshal(read("playwright-cli-0.1.1.attestations.json"), &doc); err != nil {
		t.Fatal(err)
	}
	// The key, and the id the registry lists it under (the publish attestation's key hint; testdata/npm-real/NOTICE).
	const keyID = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U"
	key := registryKey(t, read("npm-registry-attestations-key.pub"))
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalPKIXPublicKey(&otherKey.PublicKey)
	for _, tc := range []struct {
		name      string
		atts      []npmregistry.Attestation
		keyID     string
		key       string
		args      []string
		want      string
		wantErr   error
		wantLines []string
	}{
		{name: "the registry's attestations, pinned from package.json", atts: doc.Attestations, keyID: keyID, key: key,
			wantLines: []string{"VERIFIED npm:@playwright/cli@0.1.1 (pkg:npm/%40playwright/cli@0.1.1)",
				"verified:      SLSA provenance and the registry's publish attestation", "repository:    https://github.com/microsoft/playwright-cli",
				"pinned from:   package.json's repository.url (pass --repository to pin another)"}},
		{name: "another repository named", atts: doc.Attestations, keyID: keyID, key: key, args: []string{"--repository", "mallory/playwright-cli"},
			wantErr: verifier.ErrIdentityMismatch},
		{name: "no provenance kept", atts: doc.Attestations[:1], keyID: keyID, key: key, wantErr: ErrRegistryAttestation,
			want: "published without provenance"},
		{name: "the publish attestation under a key the registry does not list", atts: doc.Attestations, keyID: "SHA256:other",
			key: base64.StdEncoding.EncodeToString(otherDER), wantErr: ErrRegistryAttestation, want: "which the registry does not list"},
		{name: "the publish attestation under another key", atts: doc.Attestations, keyID: keyID,
			key: base64.StdEncoding.EncodeToString(otherDER), wantErr: verifier.ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := npmregistry.New("t")
			t.Cleanup(reg.Close)
			reg.AddVersion("@playwright/cli", "0.1.1", tgz, tc.atts...)
			reg.AddKey(tc.keyID, tc.key)
			env, out, _ := testEnv(http.DefaultTransport, nil)
			args := append([]string{"verify", "npm:@playwright/cli@0.1.1", "--registry", reg.URL, "--trusted-root", publicGoodRoot}, tc.args...)
			err := env.Run(t.Context(), args)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v\n%s", err, tc.wantErr, out)
			}
			if tc.want != "" && !strings.Contains(out.String(), tc.want) && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("the verdict does not say %q:\n%s", tc.want, out)
			}
			for _, l := range tc.wantLines {
				if !strings.Contains(out.String(), l) {
					t.Errorf("the verdict lacks %q:\n%s", l, out)
				}
			}
		})
	}
}

// registryKey is a PEM public key as /-/npm/v1/keys serves it: the base64 DER.
func registryKey(t *testing.T, pemBytes []byte) string {
	t.Helper()
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	if _, err := x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(blk.Bytes)
}
