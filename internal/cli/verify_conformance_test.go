package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waxseal/waxseal/internal/verifier"
)

const conformanceDir = "../../testdata/conformance"

// offlineTransport fails every request and counts them: with --trusted-root, nothing may touch the network.
type offlineTransport struct{ calls atomic.Int64 }

func (o *offlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	o.calls.Add(1)
	return nil, fmt.Errorf("offline test: refused %s %s", r.Method, r.URL)
}

// testEnv is an Env whose network is the given transport and whose environment is env.
func testEnv(rt http.RoundTripper, env map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &Env{
		Stdout: &out, Stderr: &errOut,
		Getenv:    func(k string) string { return env[k] },
		Transport: rt,
	}, &out, &errOut
}

var conformanceVerdicts = map[string]error{
	"ErrMalformedBundle": verifier.ErrMalformedBundle, "ErrUnsupportedBundle": verifier.ErrUnsupportedBundle,
	"ErrInvalidBundle": verifier.ErrInvalidBundle, "ErrTransparencyLog": verifier.ErrTransparencyLog,
	"ErrTimestamp": verifier.ErrTimestamp, "ErrCertificate": verifier.ErrCertificate, "ErrSCT": verifier.ErrSCT,
	"ErrSignature": verifier.ErrSignature, "ErrKeyMismatch": verifier.ErrKeyMismatch,
	"ErrDigestMismatch": verifier.ErrDigestMismatch, "ErrIdentityMismatch": verifier.ErrIdentityMismatch,
}

// conformanceRun is one invocation of the conformance protocol, as the suite's harness makes it.
type conformanceRun struct {
	name     string
	args     []string
	wantFail bool
	verdict  string // sentinel name, "-" for a refusal before verification
	says     string
}

// conformanceRuns reads cases.tsv and reasons.tsv into the 140 runs: each case in file mode and digest mode.
func conformanceRuns(t *testing.T) []conformanceRun {
	t.Helper()
	reasons := map[string][2]string{}
	data, err := os.ReadFile(filepath.Join(conformanceDir, "reasons.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if cols := strings.Split(line, "\t"); len(cols) == 3 && !strings.HasPrefix(line, "#") {
			reasons[cols[0]] = [2]string{cols[1], cols[2]}
		}
	}
	f, err := os.Open(filepath.Join(conformanceDir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var runs []conformanceRun
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		dir := filepath.Join(conformanceDir, c[0])
		name := filepath.Base(c[0])
		args := []string{"verify-bundle", "--bundle", filepath.Join(dir, "bundle.sigstore.json")}
		if c[6] != "-" {
			args = append(args, "--key", filepath.Join(conformanceDir, c[6]))
		} else {
			args = append(args, "--certificate-identity", c[4], "--certificate-oidc-issuer", c[5])
		}
		root := filepath.Join(conformanceDir, "public-good.trusted_root.json")
		if c[2] != "DEFAULT" {
			root = filepath.Join(conformanceDir, c[2])
		}
		args = append(args, "--trusted-root", root)
		artifact := filepath.Join(dir, "artifact")
		if _, err := os.Stat(artifact); err != nil {
			artifact = filepath.Join(conformanceDir, "assets/bundle-verify/a.txt")
		}
		content, err := os.ReadFile(artifact)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		r := reasons[name]
		base := conformanceRun{wantFail: c[1] == "fail", verdict: r[0], says: r[1]}
		if base.wantFail && r[0] == "" {
			t.Fatalf("reasons.tsv has no row for %s", name)
		}
		file, digest := base, base
		file.name, file.args = name+"/file", append(append([]string{}, args...), artifact)
		digest.name, digest.args = name+"/digest", append(append([]string{}, args...), "sha256:"+hex.EncodeToString(sum[:]))
		runs = append(runs, file, digest)
	}
	return runs
}

// TestVerifyBundleConformance runs the 70 conformance cases in file and digest mode through the verify-bundle
// command, offline, and checks every verdict, and every rejection's reason against the case's README.
func TestVerifyBundleConformance(t *testing.T) {
	t.Parallel()
	runs := conformanceRuns(t)
	if len(runs) != 140 {
		t.Fatalf("got %d runs, want 140", len(runs))
	}
	var right atomic.Int64
	t.Cleanup(func() { t.Logf("%d of %d conformance runs right", right.Load(), len(runs)) })
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			net := &offlineTransport{}
			env, _, _ := testEnv(net, nil)
			err := env.Run(t.Context(), r.args)
			if net.calls.Load() != 0 {
				t.Errorf("made %d network requests with --trusted-root", net.calls.Load())
			}
			switch {
			case !r.wantFail && err != nil:
				t.Fatalf("rejected, want verified: %v", err)
			case r.wantFail && err == nil:
				t.Fatal("verified, want rejected")
			case r.wantFail:
				if r.verdict != "-" && !errors.Is(err, conformanceVerdicts[r.verdict]) {
					t.Errorf("error %q is not %s", err, r.verdict)
				}
				if !strings.Contains(err.Error(), r.says) {
					t.Errorf("error %q does not say %q", err, r.says)
				}
				if ExitCode(err) != 1 {
					t.Errorf("exit code %d, want 1", ExitCode(err))
				}
			}
			if !t.Failed() {
				right.Add(1)
			}
		})
	}
}

// TestVerifyBundleNPMDigests runs real npm provenance and npm's publish attestations (keyed with the registry's
// key) through verify-bundle in file mode and in digest mode. npm names its subjects by sha512 only.
func TestVerifyBundleNPMDigests(t *testing.T) {
	t.Parallel()
	const dir = "../../testdata/npm-real"
	trustedRoot := filepath.Join(conformanceDir, "public-good.trusted_root.json")
	sha512Of := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha512.Sum512(data)
		return "sha512:" + hex.EncodeToString(sum[:])
	}
	sha256Of := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		sum := sha256.Sum256(data)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	sigstoreJS := []string{"--certificate-identity", "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
		"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}
	playwright := []string{"--certificate-identity", "https://github.com/microsoft/playwright-cli/.github/workflows/publish.yml@refs/tags/v0.1.1",
		"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}
	registryKey := []string{"--key", filepath.Join(dir, "npm-registry-attestations-key.pub")}
	for _, tc := range []struct {
		name, tarball, bundle string
		id                    []string
		wantFail              bool
	}{
		{name: "sigstore 1.3.0 provenance", tarball: "sigstore-1.3.0.tgz", bundle: "sigstore-1.3.0.tgz.provenance.sigstore.json", id: sigstoreJS},
		{name: "sigstore 2.0.0 provenance", tarball: "sigstore-2.0.0.tgz", bundle: "sigstore-2.0.0.tgz.provenance.sigstore.json", id: sigstoreJS},
		{name: "playwright-cli provenance", tarball: "playwright-cli-0.1.1.tgz", bundle: "playwright-cli-0.1.1.tgz.provenance.sigstore.json", id: playwright},
		{name: "playwright-cli publish attestation", tarball: "playwright-cli-0.1.1.tgz", bundle: "playwright-cli-0.1.1.tgz.publish.sigstore.json", id: registryKey},
		{name: "provenance of another tarball", tarball: "sigstore-2.0.0.tgz", bundle: "sigstore-1.3.0.tgz.provenance.sigstore.json", id: sigstoreJS, wantFail: true},
		{name: "publish attestation of another tarball", tarball: "sigstore-2.0.0.tgz", bundle: "playwright-cli-0.1.1.tgz.publish.sigstore.json", id: registryKey, wantFail: true},
	} {
		for _, mode := range []string{"file", "sha512", "sha256"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				artifact := map[string]string{"file": filepath.Join(dir, tc.tarball), "sha512": sha512Of(tc.tarball), "sha256": sha256Of(tc.tarball)}[mode]
				e, out, _ := testEnv(&offlineTransport{}, nil)
				args := append([]string{"verify-bundle", "--trusted-root", trustedRoot, "--bundle", filepath.Join(dir, tc.bundle)}, tc.id...)
				err := e.Run(t.Context(), append(args, artifact))
				// npm's subjects carry sha512 only: a sha256 digest cannot match them, and says so.
				wantFail := tc.wantFail || mode == "sha256"
				if (err != nil) != wantFail {
					t.Fatalf("verify-bundle %s: err = %v, want failure: %v\n%s", mode, err, wantFail, out)
				}
				if err != nil && !errors.Is(err, verifier.ErrDigestMismatch) {
					t.Errorf("err = %v, want ErrDigestMismatch", err)
				}
			})
		}
	}
}
