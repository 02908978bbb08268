package verifier_test

import (
	"crypto/sha512"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/waxseal/waxseal/internal/verifier"
)

const (
	npmRealDir    = "../../testdata/npm-real"
	githubIssuer  = "https://token.actions.githubusercontent.com"
	sigstoreJS    = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	playwrightCLI = "https://github.com/microsoft/playwright-cli/.github/workflows/publish.yml@refs/tags/v0.1.1"
)

func publicGood(t testing.TB) root.TrustedMaterial {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(filepath.Join(conformanceDir, "public-good.trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func tarballSHA512(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(npmRealDir, name))
	if err != nil {
		t.Fatal(err)
	}
	d := sha512.Sum512(data)
	return d[:]
}

// TestRealNPMProvenance verifies provenance the npm CLI produced in 2023 (SLSA v0.2 and v1, Rekor intoto
// entries) offline against the public-good trusted root.
func TestRealNPMProvenance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tarball, purl, san string
		want                     verifier.Result
	}{
		{
			name: "bundle v0.1, Rekor intoto, SLSA v0.2 (npm 9.5, 2023)", tarball: "sigstore-1.3.0.tgz", purl: "pkg:npm/sigstore@1.3.0", san: sigstoreJS,
			want: verifier.Result{
				SAN: sigstoreJS, Issuer: githubIssuer, Repository: "https://github.com/sigstore/sigstore-js", RepositoryID: "495574555", OwnerID: "71096353",
				Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main",
				Commit: "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1", RunnerEnvironment: "github-hosted",
				LogIndex: 18300934, LogTime: time.Unix(1681839912, 0).UTC(),
				TimestampSource: "transparency log integrated time (https://rekor.sigstore.dev)",
			},
		},
		{
			name: "bundle v0.1, Rekor intoto, SLSA v1 (npm 9.8, 2023)", tarball: "sigstore-2.0.0.tgz", purl: "pkg:npm/sigstore@2.0.0", san: sigstoreJS,
			want: verifier.Result{
				SAN: sigstoreJS, Issuer: githubIssuer, Repository: "https://github.com/sigstore/sigstore-js", RepositoryID: "495574555", OwnerID: "71096353",
				Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main",
				Commit: "f0b49a04e5a62250e0f60fb128004a73110fe311", RunnerEnvironment: "github-hosted",
				LogIndex: 31821305, LogTime: time.Unix(1692374735, 0).UTC(),
				TimestampSource: "transparency log integrated time (https://rekor.sigstore.dev)",
			},
		},
		{
			name: "bundle v0.3, Rekor dsse, SLSA v1, scoped (npm 11, 2026)", tarball: "playwright-cli-0.1.1.tgz",
			purl: "pkg:npm/%40playwright/cli@0.1.1", san: playwrightCLI,
			want: verifier.Result{
				SAN: playwrightCLI, Issuer: githubIssuer, Repository: "https://github.com/microsoft/playwright-cli", RepositoryID: "273562379", OwnerID: "6154722",
				Workflow: ".github/workflows/publish.yml", Ref: "refs/tags/v0.1.1",
				Commit: "d1c6d1113932ddcee243e8b111b6d4aea553df20", RunnerEnvironment: "github-hosted",
				LogIndex: 953297574, LogTime: time.Unix(1771111723, 0).UTC(),
				TimestampSource: "transparency log integrated time (https://rekor.sigstore.dev)",
			},
		},
	}
	tm := publicGood(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := verifier.LoadBundle(filepath.Join(npmRealDir, tt.tarball+".provenance.sigstore.json"))
			if err != nil {
				t.Fatal(err)
			}
			sum := tarballSHA512(t, tt.tarball)
			v, err := verifier.New(tm, verifier.Identity{SAN: tt.san, Issuer: githubIssuer})
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.VerifyProvenance(b, tt.purl, sum)
			if err != nil {
				t.Fatalf("VerifyProvenance: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}

			rejects := []struct {
				name    string
				id      verifier.Identity
				purl    string
				sha512  []byte
				wantErr error
			}{
				{"other workflow", verifier.Identity{SAN: strings.Replace(tt.san, ".yml@", "-ci.yml@", 1), Issuer: githubIssuer}, tt.purl, sum, verifier.ErrIdentityMismatch},
				{"other repository", verifier.Identity{SANRegexp: `^https://github\.com/evil/`, Issuer: githubIssuer}, tt.purl, sum, verifier.ErrIdentityMismatch},
				{"other issuer", verifier.Identity{SAN: tt.san, Issuer: "https://accounts.google.com"}, tt.purl, sum, verifier.ErrIdentityMismatch},
				{"other package", verifier.Identity{SAN: tt.san, Issuer: githubIssuer}, "pkg:npm/sigstore@9.9.9", sum, verifier.ErrSubjectMismatch},
				{"other tarball", verifier.Identity{SAN: tt.san, Issuer: githubIssuer}, tt.purl, make([]byte, 64), verifier.ErrDigestMismatch},
			}
			for _, r := range rejects {
				v, err := verifier.New(tm, r.id)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.VerifyProvenance(b, r.purl, r.sha512); !errors.Is(err, r.wantErr) {
					t.Errorf("%s: got %v, want %v", r.name, err, r.wantErr)
				}
			}
		})
	}
}

// TestRealNPMPublishAttestation verifies npm's own publish attestation (bundle v0.2, Rekor dsse entry, signed
// with the registry's key, not a certificate) and then refuses it as provenance: it is not SLSA.
func TestRealNPMPublishAttestation(t *testing.T) {
	t.Parallel()
	pemKey, err := os.ReadFile(filepath.Join(npmRealDir, "npm-registry-attestations-key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := cryptoutils.UnmarshalPEMToPublicKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(publicGood(t), verifier.Identity{}, verifier.WithPublicKey(key))
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.LoadBundle(filepath.Join(npmRealDir, "playwright-cli-0.1.1.tgz.publish.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := tarballSHA512(t, "playwright-cli-0.1.1.tgz")
	_, err = v.VerifyProvenance(b, "pkg:npm/%40playwright/cli@0.1.1", sum)
	if !errors.Is(err, verifier.ErrPredicateType) {
		t.Fatalf("got %v, want ErrPredicateType after a successful signature check", err)
	}
	_, err = v.VerifyProvenance(b, "pkg:npm/%40playwright/cli@0.1.1", make([]byte, 64))
	if !errors.Is(err, verifier.ErrDigestMismatch) {
		t.Errorf("another tarball: got %v, want ErrDigestMismatch", err)
	}
	identity, err := verifier.New(publicGood(t), verifier.Identity{SAN: playwrightCLI, Issuer: githubIssuer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.VerifyProvenance(b, "pkg:npm/%40playwright/cli@0.1.1", sum); !errors.Is(err, verifier.ErrKeyMismatch) {
		t.Errorf("key-signed bundle against an identity: got %v, want ErrKeyMismatch", err)
	}
}
