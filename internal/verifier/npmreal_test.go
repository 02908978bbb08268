package verifier_test

import (
	"crypto/sha512"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/verifier"
)

const (
	npmRealDir   = "../../testdata/npm-real"
	githubIssuer = "https://token.actions.githubusercontent.com"
	sigstoreJS   = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
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
		name, tarball, purl string
		want                verifier.Result
	}{
		{
			name: "SLSA v0.2, npm 9.5", tarball: "sigstore-1.3.0.tgz", purl: "pkg:npm/sigstore@1.3.0",
			want: verifier.Result{
				SAN: sigstoreJS, Issuer: githubIssuer, Repository: "https://github.com/sigstore/sigstore-js",
				Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main",
				Commit: "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1", RunnerEnvironment: "github-hosted",
				LogIndex: 18300934, LogTime: time.Unix(1681839912, 0).UTC(),
				TimestampSource: "transparency log integrated time (https://rekor.sigstore.dev)",
			},
		},
		{
			name: "SLSA v1, npm 9.8", tarball: "sigstore-2.0.0.tgz", purl: "pkg:npm/sigstore@2.0.0",
			want: verifier.Result{
				SAN: sigstoreJS, Issuer: githubIssuer, Repository: "https://github.com/sigstore/sigstore-js",
				Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main",
				Commit: "f0b49a04e5a62250e0f60fb128004a73110fe311", RunnerEnvironment: "github-hosted",
				LogIndex: 31821305, LogTime: time.Unix(1692374735, 0).UTC(),
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
			v, err := verifier.New(tm, verifier.Identity{SAN: sigstoreJS, Issuer: githubIssuer})
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
				{"other workflow", verifier.Identity{SAN: "https://github.com/sigstore/sigstore-js/.github/workflows/ci.yml@refs/heads/main", Issuer: githubIssuer}, tt.purl, sum, verifier.ErrIdentityMismatch},
				{"other repository", verifier.Identity{SANRegexp: `^https://github\.com/evil/sigstore-js/`, Issuer: githubIssuer}, tt.purl, sum, verifier.ErrIdentityMismatch},
				{"other issuer", verifier.Identity{SAN: sigstoreJS, Issuer: "https://accounts.google.com"}, tt.purl, sum, verifier.ErrIdentityMismatch},
				{"other package", verifier.Identity{SAN: sigstoreJS, Issuer: githubIssuer}, "pkg:npm/sigstore@9.9.9", sum, verifier.ErrSubjectMismatch},
				{"other tarball", verifier.Identity{SAN: sigstoreJS, Issuer: githubIssuer}, tt.purl, make([]byte, 64), verifier.ErrDigestMismatch},
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
