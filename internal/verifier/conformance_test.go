package verifier_test

import (
	"bufio"
	"crypto/sha256"
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

const conformanceDir = "../../testdata/conformance"

// conformanceCase is one row of cases.tsv.
type conformanceCase struct {
	name, dir, trustedRoot, identity, issuer, key string
	wantFail                                      bool
}

func loadConformanceCases(t testing.TB) []conformanceCase {
	t.Helper()
	f, err := os.Open(filepath.Join(conformanceDir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []conformanceCase
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 7 {
			t.Fatalf("cases.tsv: want 7 columns, got %q", sc.Text())
		}
		c := conformanceCase{
			name:        filepath.Base(cols[0]),
			dir:         filepath.Join(conformanceDir, cols[0]),
			wantFail:    cols[1] == "fail",
			trustedRoot: filepath.Join(conformanceDir, "public-good.trusted_root.json"),
			identity:    cols[4],
			issuer:      cols[5],
		}
		if cols[2] != "DEFAULT" {
			c.trustedRoot = filepath.Join(conformanceDir, cols[2])
		}
		if cols[6] != "-" {
			c.key = filepath.Join(conformanceDir, cols[6])
		}
		if cols[3] == "key" && c.key == "" {
			t.Fatalf("%s: key mode without key", c.name)
		}
		cases = append(cases, c)
	}
	return cases
}

// artifactDigest returns the case's artifact sha256 digest.
func artifactDigest(t testing.TB, dir string) []byte {
	t.Helper()
	p := filepath.Join(dir, "artifact")
	if _, err := os.Stat(p); err != nil {
		p = filepath.Join(conformanceDir, "assets/bundle-verify/a.txt")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(data)
	return d[:]
}

func runCase(t testing.TB, c conformanceCase) error {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(c.trustedRoot)
	if err != nil {
		return err
	}
	var opts []verifier.Option
	id := verifier.Identity{SAN: c.identity, Issuer: c.issuer}
	if c.key != "" {
		pem, err := os.ReadFile(c.key)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(pem)
		if err != nil {
			return err
		}
		opts = append(opts, verifier.WithPublicKey(pub))
		id = verifier.Identity{}
	}
	v, err := verifier.New(tr, id, opts...)
	if err != nil {
		return err
	}
	b, err := v.LoadBundle(filepath.Join(c.dir, "bundle.sigstore.json"))
	if err != nil {
		return err
	}
	_, err = v.VerifyArtifact(b, artifactDigest(t, c.dir))
	return err
}

// sentinels names the verdicts reasons.tsv may cite.
var sentinels = map[string]error{
	"ErrMalformedBundle":   verifier.ErrMalformedBundle,
	"ErrUnsupportedBundle": verifier.ErrUnsupportedBundle,
	"ErrInvalidBundle":     verifier.ErrInvalidBundle,
	"ErrTransparencyLog":   verifier.ErrTransparencyLog,
	"ErrTimestamp":         verifier.ErrTimestamp,
	"ErrCertificate":       verifier.ErrCertificate,
	"ErrSCT":               verifier.ErrSCT,
	"ErrSignature":         verifier.ErrSignature,
	"ErrKeyMismatch":       verifier.ErrKeyMismatch,
	"ErrDigestMismatch":    verifier.ErrDigestMismatch,
	"ErrIdentityMismatch":  verifier.ErrIdentityMismatch,
}

type reason struct {
	sentinel  string
	substring string
}

// loadReasons reads reasons.tsv: for each _fail case, the verdict its README describes.
func loadReasons(t testing.TB) map[string]reason {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformanceDir, "reasons.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]reason{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			t.Fatalf("reasons.tsv: want 3 columns in %q", line)
		}
		out[cols[0]] = reason{cols[1], cols[2]}
	}
	return out
}

// TestConformanceVerdicts runs the 70 conformance cases through the verifier (digest mode: the CLI tests run
// file mode too) and checks each rejection is for the reason the case's README gives.
func TestConformanceVerdicts(t *testing.T) {
	t.Parallel()
	cases := loadConformanceCases(t)
	reasons := loadReasons(t)
	if len(cases) != 70 {
		t.Fatalf("cases.tsv lists %d cases, want 70", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := runCase(t, c)
			if !c.wantFail {
				if err != nil {
					t.Fatalf("rejected, want verified: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("verified, want rejection")
			}
			r, ok := reasons[c.name]
			if !ok {
				t.Fatalf("reasons.tsv has no row for %s", c.name)
			}
			if r.sentinel != "-" && !errors.Is(err, sentinels[r.sentinel]) {
				t.Errorf("error %q is not %s", err, r.sentinel)
			}
			if !strings.Contains(err.Error(), r.substring) {
				t.Errorf("error %q does not say %q", err, r.substring)
			}
		})
	}
}

func rootFromPath(path string) (*root.TrustedRoot, error) { return root.NewTrustedRootFromPath(path) }

// TestResultRekorV2 checks what a Rekor v2 verification reports: no integrated time, so the signing time and its
// source come from the RFC 3161 timestamp.
func TestResultRekorV2(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(conformanceDir, "assets/bundle-verify/rekor2-happy-path")
	tm, err := rootFromPath(filepath.Join(dir, "trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	const san = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	v, err := verifier.New(tm, verifier.Identity{SAN: san, Issuer: "https://token.actions.githubusercontent.com"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.LoadBundle(filepath.Join(dir, "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.VerifyArtifact(b, artifactDigest(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	want := verifier.Result{
		SAN: san, Issuer: "https://token.actions.githubusercontent.com",
		Repository: "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon", RepositoryID: "632596897", OwnerID: "131804563",
		Workflow: ".github/workflows/extremely-dangerous-oidc-beacon.yml", Ref: "refs/heads/main",
		Commit: "9739798945b2a848e911bcf1dddb97298cade0b1", RunnerEnvironment: "github-hosted", LogIndex: 735,
		LogTime:         time.Date(2025, 6, 12, 12, 2, 20, 0, time.UTC),
		TimestampSource: "timestamp authority (https://timestamp.sigstage.dev/api/v1/timestamp)",
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}
