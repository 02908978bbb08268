package cli

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/verifier"
	"github.com/waxseal/waxseal/internal/verifycmd"
)

const (
	npmRealDir     = "../../testdata/npm-real"
	publicGoodRoot = conformanceDir + "/public-good.trusted_root.json"
	stagingRoot    = conformanceDir + "/staging.trusted_root.json"
)

// copyTestdata copies npm-real files into a fresh directory under the names given (src -> dst).
func copyTestdata(t *testing.T, names map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range names {
		data, err := os.ReadFile(filepath.Join(npmRealDir, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestVerifyUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"no identity", []string{"verify", "x.tgz"}, "no identity, no verification"},
		{"issuer alone is no identity", []string{"verify", "x.tgz", "--certificate-oidc-issuer", oidc.GitHubIssuer}, "no identity, no verification"},
		{"nothing to verify", []string{"verify", "--repository", "o/r"}, "nothing to verify"},
		{"bad repository", []string{"verify", "x.tgz", "--repository", "o"}, "is not OWNER/REPO"},
		{"short ref", []string{"verify", "x.tgz", "--repository", "o/r", "--ref", "v1"}, "refs/tags/v1"},
		{"workflow without repository", []string{"verify", "x.tgz", "--workflow", "release.yml"}, "pass --repository"},
		{"workflow with an identity", []string{"verify", "x.tgz", "--certificate-identity", "https://github.com/o/r/.github/workflows/a.yml@refs/heads/main",
			"--certificate-oidc-issuer", oidc.GitHubIssuer, "--workflow", "b.yml"}, "--workflow narrows the identity --repository builds"},
		{"workflow with an identity regexp", []string{"verify", "x.tgz", "--certificate-identity-regexp", "^https://github.com/o/r/",
			"--certificate-oidc-issuer", oidc.GitHubIssuer, "--repository", "o/r", "--workflow", "b.yml"}, "drop --workflow"},
		{"bundle for two tarballs", []string{"verify", "a.tgz", "b.tgz", "--repository", "o/r", "--bundle", "a.json"}, "exactly one"},
		{"nothing left", []string{"verify", "a.tgz", "--repository", "o/r", "--no-signature", "--no-provenance"}, "nothing to verify"},
		{"npm with half the bundles", []string{"verify", "npm:left-pad@1.3.0", "--repository", "o/r", "--bundle", "b.json"}, "pass both --bundle and --provenance"},
		{"npm dist-tag", []string{"verify", "npm:sigstore@latest"}, `"latest" is not an exact version`},
		{"npm with one bundle", []string{"verify", "npm:left-pad@1.3.0", "--repository", "o/r", "--bundle", "b.json"}, "--release OWNER/REPO@TAG"},
		{"npm range", []string{"verify", "npm:left-pad@^1", "--repository", "o/r", "--release", "o/r@v1"}, "is not an exact version"},
		{"registry attestations of a file", []string{"verify", "x.tgz", "--repository", "o/r", "--registry-attestations"}, "pass npm:NAME@VERSION"},
		{"bad release", []string{"verify", "--release", "o/r"}, "not OWNER/REPO@TAG"},
		{"staging and root", []string{"verify", "x.tgz", "--repository", "o/r", "--staging", "--trusted-root", "x.json"}, "contradict"},
		{"bundle: no identity", []string{"verify-bundle", "--bundle", "b.json", "a.txt"}, "no identity, no verification"},
		{"bundle: key and identity", []string{"verify-bundle", "--bundle", "b.json", "--key", "k.pub", "--certificate-identity", "x", "--certificate-oidc-issuer", "y", "a.txt"}, "contradict"},
		{"bundle: bad digest", []string{"verify-bundle", "--bundle", "b.json", "--key", "k.pub", "sha256:abc"}, "64 hex"},
		{"bundle: bad sha512 digest", []string{"verify-bundle", "--bundle", "b.json", "--key", "k.pub", "sha512:abc"}, "128 hex"},
		{"bundle: two artifacts", []string{"verify-bundle", "--bundle", "b.json", "--key", "k.pub", "a", "b"}, "want one FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			net := &offlineTransport{}
			env, _, _ := testEnv(net, nil)
			err := env.Run(t.Context(), tt.args)
			var ue *UsageError
			if !errors.As(err, &ue) || ExitCode(err) != 2 {
				t.Fatalf("got %v (exit %d), want a usage error (exit 2)", err, ExitCode(err))
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if net.calls.Load() != 0 {
				t.Errorf("a usage error made %d requests", net.calls.Load())
			}
		})
	}
}

// TestVerifyRealNPMProvenanceOffline verifies provenance npm made in 2023 with a transport that fails every
// request: with --trusted-root nothing touches the network.
func TestVerifyRealNPMProvenanceOffline(t *testing.T) {
	t.Parallel()
	dir := copyTestdata(t, map[string]string{
		"sigstore-2.0.0.tgz": "sigstore-2.0.0.tgz", "sigstore-2.0.0.tgz.provenance.sigstore.json": "sigstore-2.0.0.tgz.provenance.sigstore.json",
		"sigstore-1.3.0.tgz": "sigstore-1.3.0.tgz", "sigstore-1.3.0.tgz.provenance.sigstore.json": "sigstore-1.3.0.tgz.provenance.sigstore.json",
		"playwright-cli-0.1.1.tgz": "playwright-cli-0.1.1.tgz", "playwright-cli-0.1.1.tgz.provenance.sigstore.json": "playwright-cli-0.1.1.tgz.provenance.sigstore.json",
	})
	playwright := filepath.Join(dir, "playwright-cli-0.1.1.tgz")
	tgz := func(v string) string { return filepath.Join(dir, "sigstore-"+v+".tgz") }
	common := []string{"--no-signature", "--trusted-root", publicGoodRoot}
	tests := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"repository", []string{"--repository", "sigstore/sigstore-js", tgz("2.0.0"), tgz("1.3.0")}, nil},
		{"repository, workflow, ref and commit", []string{"--repository", "sigstore/sigstore-js", "--workflow", "release.yml", "--ref", "refs/heads/main", "--source-commit", "f0b49a04e5a62250e0f60fb128004a73110fe311", tgz("2.0.0")}, nil},
		{"cosign flags", []string{"--certificate-identity", "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main", "--certificate-oidc-issuer", oidc.GitHubIssuer, tgz("2.0.0")}, nil},
		{"cosign regexp flags", []string{"--certificate-identity-regexp", `^https://github\.com/sigstore/`, "--certificate-oidc-issuer-regexp", `^https://token\.actions\.`, tgz("1.3.0")}, nil},
		{"scoped package, bundle v0.3, Rekor dsse", []string{"--repository", "microsoft/playwright-cli", "--workflow", ".github/workflows/publish.yml", "--ref", "refs/tags/v0.1.1", playwright}, nil},
		{"two repositories' packages under one identity", []string{"--repository", "sigstore/sigstore-js", tgz("2.0.0"), playwright}, verifier.ErrIdentityMismatch},
		{"other repository", []string{"--repository", "sigstore/sigstore-go", tgz("2.0.0")}, verifier.ErrIdentityMismatch},
		{"other workflow", []string{"--repository", "sigstore/sigstore-js", "--workflow", "ci.yml", tgz("2.0.0")}, verifier.ErrIdentityMismatch},
		{"other ref", []string{"--repository", "sigstore/sigstore-js", "--ref", "refs/tags/v2.0.0", tgz("2.0.0")}, verifier.ErrIdentityMismatch},
		{"other commit", []string{"--repository", "sigstore/sigstore-js", "--source-commit", "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1", tgz("2.0.0")}, verifier.ErrIdentityMismatch},
		{"other issuer", []string{"--repository", "sigstore/sigstore-js", "--certificate-oidc-issuer", "https://accounts.google.com", tgz("2.0.0")}, verifier.ErrIdentityMismatch},
		{"another package's provenance", []string{"--repository", "sigstore/sigstore-js", "--provenance", tgz("1.3.0") + ".provenance.sigstore.json", tgz("2.0.0")}, verifier.ErrDigestMismatch},
		{"wrong trusted root", []string{"--repository", "sigstore/sigstore-js", "--trusted-root", stagingRoot, tgz("2.0.0")}, verifier.ErrTransparencyLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			net := &offlineTransport{}
			env, out, _ := testEnv(net, nil)
			err := env.Run(t.Context(), append(append([]string{"verify"}, common...), tt.args...))
			if net.calls.Load() != 0 {
				t.Errorf("made %d network requests with --trusted-root", net.calls.Load())
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if !strings.HasPrefix(out.String(), "VERIFIED ") || strings.Contains(out.String(), "REJECTED") {
					t.Errorf("output does not say VERIFIED:\n%s", out)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || ExitCode(err) != 1 {
				t.Fatalf("got %v (exit %d), want %v (exit 1)", err, ExitCode(err), tt.wantErr)
			}
			if !strings.Contains(out.String(), "REJECTED ") {
				t.Errorf("output does not say REJECTED:\n%s", out)
			}
		})
	}
}

func TestVerifyHumanAndJSONVerdicts(t *testing.T) {
	t.Parallel()
	dir := copyTestdata(t, map[string]string{"sigstore-2.0.0.tgz": "pkg.tgz", "sigstore-2.0.0.tgz.provenance.sigstore.json": "pkg.tgz.provenance.sigstore.json"})
	args := []string{"verify", filepath.Join(dir, "pkg.tgz"), "--repository", "sigstore/sigstore-js", "--no-signature", "--trusted-root", publicGoodRoot}

	env, out, _ := testEnv(&offlineTransport{}, nil)
	if err := env.Run(t.Context(), args); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"VERIFIED " + filepath.Join(dir, "pkg.tgz") + " (pkg:npm/sigstore@2.0.0)",
		"verified:      SLSA provenance",
		"repository:    https://github.com/sigstore/sigstore-js",
		"repository id: 495574555 (owner id 71096353)",
		"workflow:      .github/workflows/release.yml",
		"ref:           refs/heads/main",
		"commit:        f0b49a04e5a62250e0f60fb128004a73110fe311",
		"runner:        github-hosted",
		"entry 31821305 at 2023-08-18T16:05:35Z, time from transparency log integrated time (https://rekor.sigstore.dev)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("human output lacks %q:\n%s", want, out)
		}
	}

	env, out, _ = testEnv(&offlineTransport{}, nil)
	if err := env.Run(t.Context(), append(args, "--json")); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Verified  bool
		Artifacts []artifactReport
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	want := []artifactReport{{
		Artifact: filepath.Join(dir, "pkg.tgz"), Purl: "pkg:npm/sigstore@2.0.0",
		SHA256:           "b30fd8960310982103abb4e2be9ab9051e61c7db02efc02c3e413d57f60c3268",
		SHA512:           "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
		ProvenanceBundle: filepath.Join(dir, "pkg.tgz.provenance.sigstore.json"), Verified: true,
		Provenance: &verifier.Result{
			SAN: "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main", Issuer: oidc.GitHubIssuer,
			Repository: "https://github.com/sigstore/sigstore-js", RepositoryID: "495574555", OwnerID: "71096353",
			Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main",
			Commit: "f0b49a04e5a62250e0f60fb128004a73110fe311", RunnerEnvironment: "github-hosted", LogIndex: 31821305,
			LogTime: time.Unix(1692374735, 0).UTC(), TimestampSource: "transparency log integrated time (https://rekor.sigstore.dev)",
		},
	}}
	if !got.Verified {
		t.Error(`"verified" is false`)
	}
	if diff := cmp.Diff(want, got.Artifacts, cmp.AllowUnexported(artifactReport{})); diff != "" {
		t.Errorf("JSON artifacts (-want +got):\n%s", diff)
	}
}

// tamperJSON rewrites one bundle file through f.
func tamperJSON(t *testing.T, path string, f func(b map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	f(b)
	if data, err = json.Marshal(b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyBadInput checks each kind of bad input gets its own plain error and a non-zero exit.
func TestVerifyBadInput(t *testing.T) {
	t.Parallel()
	const prov = "pkg.tgz.provenance.sigstore.json"
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr error
		says    string
	}{
		{"malformed bundle JSON", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, prov), []byte(`{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1", "verif`), 0o644)
		}, verifier.ErrMalformedBundle, "not well-formed JSON"},
		{"unknown media type", func(t *testing.T, dir string) {
			tamperJSON(t, filepath.Join(dir, prov), func(b map[string]any) { b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.9+json" })
		}, verifier.ErrUnsupportedBundle, "v0.9"},
		{"bundle for another artifact", func(t *testing.T, dir string) {
			data, _ := os.ReadFile(filepath.Join(npmRealDir, "sigstore-1.3.0.tgz.provenance.sigstore.json"))
			os.WriteFile(filepath.Join(dir, prov), data, 0o644)
		}, verifier.ErrDigestMismatch, "no statement subject has sha512"},
		{"tampered DSSE payload", func(t *testing.T, dir string) {
			tamperJSON(t, filepath.Join(dir, prov), func(b map[string]any) {
				env := b["dsseEnvelope"].(map[string]any)
				payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
				env["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(payload), "refs/heads/main", "refs/heads/evil", 1)))
			})
		}, verifier.ErrSignature, "could not verify envelope"},
		{"tampered signature", func(t *testing.T, dir string) {
			tamperJSON(t, filepath.Join(dir, prov), func(b map[string]any) {
				sig := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
				raw, _ := base64.StdEncoding.DecodeString(sig["sig"].(string))
				raw[len(raw)-1] ^= 1
				sig["sig"] = base64.StdEncoding.EncodeToString(raw)
			})
		}, verifier.ErrSignature, "could not verify envelope"},
		{"tampered log entry time", func(t *testing.T, dir string) {
			tamperJSON(t, filepath.Join(dir, prov), func(b map[string]any) {
				e := b["verificationMaterial"].(map[string]any)["tlogEntries"].([]any)[0].(map[string]any)
				e["integratedTime"] = "1692374736"
			})
		}, verifier.ErrTransparencyLog, "signed entry timestamp"},
		{"expired certificate without a timestamp", func(t *testing.T, dir string) {
			tamperJSON(t, filepath.Join(dir, prov), func(b map[string]any) {
				b["verificationMaterial"].(map[string]any)["tlogEntries"] = []any{}
			})
		}, verifier.ErrTimestamp, "nothing vouches for when the short-lived certificate was used"},
		{"missing bundle", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, prov)) }, nil, "no such file"},
		{"missing tarball", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "pkg.tgz")) }, nil, "no such file (download the artifact, or check the path)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := copyTestdata(t, map[string]string{"sigstore-2.0.0.tgz": "pkg.tgz", "sigstore-2.0.0.tgz.provenance.sigstore.json": prov})
			tt.prepare(t, dir)
			env, out, _ := testEnv(&offlineTransport{}, nil)
			err := env.Run(t.Context(), []string{"verify", filepath.Join(dir, "pkg.tgz"), "--repository", "sigstore/sigstore-js", "--no-signature", "--trusted-root", publicGoodRoot})
			if err == nil || ExitCode(err) == 0 {
				t.Fatalf("verified, want rejection; output:\n%s", out)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

// TestVerifyRelease downloads a release's tarballs and bundles from a fake of GitHub's REST API.
func TestVerifyRelease(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(npmRealDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	gh := githubfake.New("sigstore", "sigstore-js", "ghs_test")
	gh.SetIDs(sigstoreJSIDs)
	t.Cleanup(gh.Close)
	good := gh.AddRelease("v2.0.0", false, true)
	gh.AddAsset(good, "sigstore-2.0.0.tgz", read("sigstore-2.0.0.tgz"), "uploaded")
	gh.AddAsset(good, "sigstore-2.0.0.tgz.provenance.sigstore.json", read("sigstore-2.0.0.tgz.provenance.sigstore.json"), "uploaded")
	gh.AddAsset(good, "notes.txt", []byte("not downloaded"), "uploaded")
	swapped := gh.AddRelease("v1.3.0", false, true)
	gh.AddAsset(swapped, "sigstore-1.3.0.tgz", read("sigstore-1.3.0.tgz"), "uploaded")
	gh.AddAsset(swapped, "sigstore-1.3.0.tgz.provenance.sigstore.json", read("sigstore-2.0.0.tgz.provenance.sigstore.json"), "uploaded")

	envVars := map[string]string{"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": gh.API.URL}
	run := func(tag string) (string, error) {
		env, out, _ := testEnv(http.DefaultTransport, envVars)
		err := env.Run(t.Context(), []string{"verify", "--release", "sigstore/sigstore-js@" + tag, "--ref", "refs/heads/main", "--no-signature", "--trusted-root", publicGoodRoot})
		return out.String(), err
	}

	// Every asset must verify: notes.txt has no bundle, so the release does not, though the tarball does.
	if out, err := run("v2.0.0"); !errors.Is(err, ErrUnsigned) || !strings.Contains(out, "VERIFIED sigstore-2.0.0.tgz (pkg:npm/sigstore@2.0.0)") ||
		!strings.Contains(out, "REJECTED notes.txt\n  reason: not signed: the release has no bundle for it") {
		t.Fatalf("release v2.0.0: %v\n%s", err, out)
	}
	var downloads []string
	for _, r := range gh.Requests() {
		if strings.HasPrefix(r, "GET download ") {
			downloads = append(downloads, r)
		}
	}
	if !strings.Contains(strings.Join(gh.Requests(), "\n"), "GET api /repos/sigstore/sigstore-js/releases/tags/v2.0.0") {
		t.Errorf("no release lookup by tag in %q", gh.Requests())
	}
	if len(downloads) != 2 {
		t.Errorf("downloaded %q, want the tarball and its provenance only", downloads)
	}
	if out, err := run("v1.3.0"); !errors.Is(err, verifier.ErrDigestMismatch) || !strings.Contains(out, "REJECTED sigstore-1.3.0.tgz") {
		t.Errorf("release with another version's provenance: %v\n%s", err, out)
	}
	env, _, _ := testEnv(http.DefaultTransport, envVars)
	err := env.Run(t.Context(), []string{"verify", "--release", "sigstore/sigstore-js@v2.0.0", "sigstore-2.0.0.tgz", "--ref", "refs/heads/main", "--no-signature", "--trusted-root", publicGoodRoot})
	if err != nil {
		t.Errorf("release asset named: %v", err)
	}
	// Without --ref, --release pins the release's tag; sigstore-js was built from main, and the verdict says so.
	env, out, _ := testEnv(http.DefaultTransport, envVars)
	err = env.Run(t.Context(), []string{"verify", "--release", "sigstore/sigstore-js@v2.0.0", "sigstore-2.0.0.tgz", "--no-signature", "--trusted-root", publicGoodRoot})
	if !errors.Is(err, verifier.ErrIdentityMismatch) || !strings.Contains(out.String(),
		"what to do: it was signed by sigstore/sigstore-js at refs/heads/main, and --release pins the release's tag, refs/tags/v2.0.0: if the release was built from refs/heads/main, pass --ref refs/heads/main") {
		t.Errorf("the tag pinned by default: %v\n%s", err, out)
	}
	env, _, _ = testEnv(http.DefaultTransport, envVars)
	err = env.Run(t.Context(), []string{"verify", "--release", "sigstore/sigstore-js@v2.0.0", "other-1.0.0.tgz", "--no-signature", "--trusted-root", publicGoodRoot})
	if err == nil || !strings.Contains(err.Error(), `has no asset "other-1.0.0.tgz"`) {
		t.Errorf("asset the release lacks: got %v", err)
	}
	if _, err := run("v9.9.9"); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "check OWNER/REPO and the tag") {
		t.Errorf("missing release: got %v, want a 404 that says what to check", err)
	}
}

// sigstoreJSIDs are sigstore/sigstore-js's real repository and owner IDs, as its certificates record them.
var sigstoreJSIDs = githubfake.IDs{Repository: 495574555, Owner: 71096353}

// fakeRegistry serves one package version the way registry.npmjs.org does (GET /NAME/VERSION, then the tarball).
func fakeRegistry(t *testing.T, name, version string, tarball []byte, integrityOf []byte) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("registry got %s %s", r.Method, r.URL)
		}
		switch r.URL.EscapedPath() {
		case "/" + strings.Replace(name, "/", "%2F", 1) + "/" + version:
			sum := sha512.Sum512(integrityOf)
			json.NewEncoder(w).Encode(map[string]any{"name": name, "version": version, "dist": map[string]string{
				"tarball":   srv.URL + "/" + name + "/-/tarball.tgz",
				"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
			}})
		case "/" + name + "/-/tarball.tgz":
			w.Write(tarball)
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"Not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sigstoreJSRelease returns the real sigstore@version tarball and a fake GitHub whose sigstore/sigstore-js
// release v2.0.0 carries that version's real provenance under the name of 2.0.0's.
func sigstoreJSRelease(t *testing.T, version string) (tgz []byte, gh *githubfake.Server) {
	t.Helper()
	tgz, err := os.ReadFile(filepath.Join(npmRealDir, "sigstore-"+version+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	prov, err := os.ReadFile(filepath.Join(npmRealDir, "sigstore-"+version+".tgz.provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	gh = githubfake.New("sigstore", "sigstore-js", "ghs_test")
	gh.SetIDs(sigstoreJSIDs)
	t.Cleanup(gh.Close)
	rel := gh.AddRelease("v2.0.0", false, true)
	gh.AddAsset(rel, "sigstore-2.0.0.tgz.provenance.sigstore.json", prov, "uploaded")
	return tgz, gh
}

// TestVerifyNPMAgainstRelease fetches the tarball from the user's registry (npm_config_registry), checks it against
// dist.integrity and verifies it with the release's bundles.
func TestVerifyNPMAgainstRelease(t *testing.T) {
	t.Parallel()
	tgz, gh := sigstoreJSRelease(t, "2.0.0")

	tampered := append([]byte{}, tgz...)
	tampered[len(tampered)/2] ^= 0xff
	tests := []struct {
		name        string
		serve, sri  []byte
		wantErr     error
		wantVerdict string
	}{
		{"registry serves what the release signed", tgz, tgz, nil, "VERIFIED npm:sigstore@2.0.0 (pkg:npm/sigstore@2.0.0)"},
		{"registry serves a tarball that is not its dist.integrity", tampered, tgz, registry.ErrIntegrity, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := fakeRegistry(t, "sigstore", "2.0.0", tt.serve, tt.sri)
			env, out, _ := testEnv(http.DefaultTransport, map[string]string{
				"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": gh.API.URL, "npm_config_registry": reg.URL + "/",
			})
			err := env.Run(t.Context(), []string{"verify", "npm:sigstore@2.0.0", "--release", "sigstore/sigstore-js@v2.0.0", "--ref", "refs/heads/main", "--no-signature", "--trusted-root", publicGoodRoot})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tt.wantVerdict) {
				t.Fatalf("got %v\n%s", err, out)
			}
		})
	}
}

// TestVerifyNPMRefusesAnotherVersion: a registry or mirror that serves another, validly signed version under the
// requested name@version (here sigstore@1.3.0 for sigstore@2.0.0, with that version's own provenance) is refused:
// the verdict must name what npm would install.
func TestVerifyNPMRefusesAnotherVersion(t *testing.T) {
	t.Parallel()
	old, gh := sigstoreJSRelease(t, "1.3.0")
	reg := fakeRegistry(t, "sigstore", "2.0.0", old, old)
	env, out, _ := testEnv(http.DefaultTransport, map[string]string{
		"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": gh.API.URL, "npm_config_registry": reg.URL + "/",
	})
	err := env.Run(t.Context(), []string{"verify", "npm:sigstore@2.0.0", "--release", "sigstore/sigstore-js@v2.0.0", "--ref", "refs/heads/main", "--no-signature", "--trusted-root", publicGoodRoot})
	if !errors.Is(err, verifier.ErrDigestMismatch) || !strings.Contains(out.String(), "the registry served sigstore@1.3.0 for sigstore@2.0.0") {
		t.Fatalf("got %v\n%s\nwant a refusal naming the version served", err, out)
	}
}

// TestVerifyPinsRepositoryIDs: GitHub's numeric IDs survive renames and cannot be taken over with a freed name.
// Given as flags they must match the certificate's; --release learns them from the API; a SAN-only identity for a
// GitHub Actions certificate is warned about, naming what is not pinned.
func TestVerifyPinsRepositoryIDs(t *testing.T) {
	t.Parallel()
	dir := copyTestdata(t, map[string]string{"sigstore-2.0.0.tgz": "pkg.tgz", "sigstore-2.0.0.tgz.provenance.sigstore.json": "pkg.tgz.provenance.sigstore.json"})
	base := []string{"verify", filepath.Join(dir, "pkg.tgz"), "--no-signature", "--trusted-root", publicGoodRoot}
	san := "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	for _, tc := range []struct {
		name     string
		args     []string
		wantErr  error
		wantWarn bool
	}{
		{name: "right IDs", args: []string{"--repository", "sigstore/sigstore-js", "--repository-id", "495574555", "--repository-owner-id", "71096353"}},
		{name: "a repository that took over the name", args: []string{"--repository", "sigstore/sigstore-js", "--repository-id", "1"}, wantErr: verifier.ErrIdentityMismatch},
		{name: "another owner", args: []string{"--repository", "sigstore/sigstore-js", "--repository-owner-id", "2"}, wantErr: verifier.ErrIdentityMismatch},
		{name: "SAN only warns", args: []string{"--certificate-identity", san, "--certificate-oidc-issuer", oidc.GitHubIssuer}, wantWarn: true},
		{name: "SAN and repository does not", args: []string{"--certificate-identity", san, "--certificate-oidc-issuer", oidc.GitHubIssuer, "--repository", "sigstore/sigstore-js"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, out, errOut := testEnv(&offlineTransport{}, nil)
			err := env.Run(t.Context(), append(append([]string{}, base...), tc.args...))
			if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("err = %v, want %v\n%s", err, tc.wantErr, out)
			}
			warned := strings.Contains(errOut.String(), "warning: only the signing workflow")
			if warned != tc.wantWarn {
				t.Errorf("warning printed: %v, want %v:\n%s", warned, tc.wantWarn, errOut)
			}
			if tc.wantWarn && !strings.Contains(errOut.String(), "add --repository sigstore/sigstore-js --repository-id 495574555") {
				t.Errorf("the warning must say what to add:\n%s", errOut)
			}
		})
	}

	// --release looks the IDs up: a fake GitHub that gives the repository another ID (a takeover) is refused.
	gh := githubfake.New("sigstore", "sigstore-js", "ghs_test")
	t.Cleanup(gh.Close)
	gh.SetIDs(githubfake.IDs{Repository: 999, Owner: 71096353})
	prov, _ := os.ReadFile(filepath.Join(npmRealDir, "sigstore-2.0.0.tgz.provenance.sigstore.json"))
	tgz, _ := os.ReadFile(filepath.Join(npmRealDir, "sigstore-2.0.0.tgz"))
	rel := gh.AddRelease("v2.0.0", false, true)
	gh.AddAsset(rel, "sigstore-2.0.0.tgz", tgz, "uploaded")
	gh.AddAsset(rel, "sigstore-2.0.0.tgz.provenance.sigstore.json", prov, "uploaded")
	env, out, _ := testEnv(http.DefaultTransport, map[string]string{"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": gh.API.URL})
	err := env.Run(t.Context(), []string{"verify", "--release", "sigstore/sigstore-js@v2.0.0", "sigstore-2.0.0.tgz", "--ref", "refs/heads/main", "--no-signature", "--trusted-root", publicGoodRoot})
	if !errors.Is(err, verifier.ErrIdentityMismatch) || !strings.Contains(out.String(), `SourceRepositoryIdentifier to be "999"`) {
		t.Errorf("--release with a repository of another ID: %v\n%s", err, out)
	}
	env, _, _ = testEnv(http.DefaultTransport, map[string]string{"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": gh.API.URL})
	err = env.Run(t.Context(), []string{"verify", "--release", "sigstore/sigstore-js@v2.0.0", "sigstore-2.0.0.tgz", "--ref", "refs/heads/main", "--repository-id", "495574555", "--no-signature", "--trusted-root", publicGoodRoot})
	if err == nil || !strings.Contains(err.Error(), "contradicts GitHub") {
		t.Errorf("--repository-id against GitHub's: %v", err)
	}
}

// TestVerifyVerdictOnce: a rejection is printed once, with what to do; main has nothing left to print.
func TestVerifyVerdictOnce(t *testing.T) {
	t.Parallel()
	env, out, errOut := testEnv(&offlineTransport{}, nil)
	err := env.Run(t.Context(), []string{"verify", "--no-signature", "--trusted-root", publicGoodRoot, "--repository", "mallory/evil",
		filepath.Join(npmRealDir, "sigstore-2.0.0.tgz")})
	if err == nil || ShouldPrint(err) || ExitCode(err) != 1 {
		t.Fatalf("err = %v (print again: %v), want a reported failure with exit 1", err, err != nil && ShouldPrint(err))
	}
	if n := strings.Count(out.String()+errOut.String(), "does not match"); n != 1 {
		t.Errorf("the reason appears %d times, want once:\n%s%s", n, out, errOut)
	}
	if !strings.Contains(out.String(), "what to do: someone else signed it") {
		t.Errorf("no next step:\n%s", out)
	}
}

// TestVerifyRegistryAttestations: after publishing, the registry must serve the provenance the release signed. A
// registry that serves another bundle (npm replaced it at publish, npm/cli#9879) or none is refused.
func TestVerifyRegistryAttestations(t *testing.T) {
	t.Parallel()
	tgz, _ := os.ReadFile(filepath.Join(npmRealDir, "sigstore-2.0.0.tgz"))
	prov, _ := os.ReadFile(filepath.Join(npmRealDir, "sigstore-2.0.0.tgz.provenance.sigstore.json"))
	other, _ := os.ReadFile(filepath.Join(npmRealDir, "sigstore-1.3.0.tgz.provenance.sigstore.json"))
	gh := githubfake.New("sigstore", "sigstore-js", "ghs_test")
	t.Cleanup(gh.Close)
	gh.SetIDs(sigstoreJSIDs)
	rel := gh.AddRelease("v2.0.0", false, true)
	gh.AddAsset(rel, "sigstore-2.0.0.tgz.provenance.sigstore.json", prov, "uploaded")
	for _, tc := range []struct {
		name    string
		atts    []npmregistry.Attestation
		wantErr error
		want    string
	}{
		{name: "the registry keeps the release's bundle", atts: []npmregistry.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", Bundle: prov}},
			want: "its provenance is the release's"},
		{name: "npm replaced it", atts: []npmregistry.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", Bundle: other}},
			wantErr: ErrRegistryProvenance, want: "npm >= 11.20.0 or >= 12.1.0"},
		{name: "published without provenance", atts: []npmregistry.Attestation{{PredicateType: "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", Bundle: []byte("{}")}},
			wantErr: ErrRegistryProvenance, want: "published without --provenance-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := npmregistry.New("t")
			t.Cleanup(reg.Close)
			reg.AddVersion("sigstore", "2.0.0", tgz, tc.atts...)
			env, out, _ := testEnv(http.DefaultTransport, map[string]string{"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": gh.API.URL, "npm_config_registry": reg.URL + "/"})
			err := env.Run(t.Context(), []string{"verify", "npm:sigstore@2.0.0", "--release", "sigstore/sigstore-js@v2.0.0", "--ref", "refs/heads/main", "--no-signature",
				"--registry-attestations", "--trusted-root", publicGoodRoot})
			if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(out.String()+fmt.Sprint(err), tc.want) {
				t.Fatalf("err = %v, want %v; output:\n%s\nwant %q in it", err, tc.wantErr, out, tc.want)
			}
		})
	}
}

// TestVerifyReleaseKeepsTheTokenOnTheAPIHost: an API answer that redirects to another host (a renamed repository's
// 301, a hostile API URL) must not carry GITHUB_TOKEN there. go-github's WithAuthToken adds it to every request,
// redirects included; waxseal adds it only for the API's own host.
func TestVerifyReleaseKeepsTheTokenOnTheAPIHost(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	t.Cleanup(api.Close)
	env, _, _ := testEnv(http.DefaultTransport, map[string]string{"GITHUB_TOKEN": "ghs_secret0123456789", "GITHUB_API_URL": api.URL})
	_ = env.Run(t.Context(), []string{"verify", "--release", "o/r@v1", "--no-signature", "--trusted-root", publicGoodRoot, "--retry-for", "1s"})
	if n := leaked.Load(); n != 0 {
		t.Errorf("the token reached the redirect's host %d time(s)", n)
	}
}

// The command a summary prints for a signer is the policy the command line then checks: parsing the printed flags
// gives back the very Policy value whose Identity the verifier enforces.
func TestPrintedPolicyIsTheCheckedPolicy(t *testing.T) {
	t.Parallel()
	src := provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", RepositoryID: "11", RepositoryOwnerID: "22", Ref: "refs/tags/v1"}
	for _, san := range []string{
		"https://github.com/octo/pkg/.github/workflows/release.yml@refs/tags/v1",
		"https://github.com/org/shared/.github/workflows/sign.yml@refs/heads/main",
	} {
		want := verifycmd.ForSigner(san, oidc.GitHubIssuer, src)
		var f verifyFlags
		fs := flag.NewFlagSet("verify", flag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(want.Args()); err != nil {
			t.Fatalf("parsing %q: %v", want.Args(), err)
		}
		if diff := cmp.Diff(want, f.policyValue()); diff != "" {
			t.Errorf("%s: the printed flags parse into another policy (-want +got):\n%s", san, diff)
		}
	}
}

// TestVerifyMachineAndPastedForms: --json covers failures before any verdict, and --repository takes the URL people
// paste.
func TestVerifyMachineAndPastedForms(t *testing.T) {
	t.Parallel()
	env, out, errOut := testEnv(nil, nil)
	err := env.Run(t.Context(), []string{"verify", "--json", "npm:sigstore@latest"})
	var doc struct {
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
		Usage    bool   `json:"usageError"`
		ExitCode int    `json:"exitCode"`
	}
	if jerr := json.Unmarshal(out.Bytes(), &doc); jerr != nil || doc.Verified || !doc.Usage || doc.ExitCode != 2 ||
		!strings.Contains(doc.Error, "not an exact version") || ExitCode(err) != 2 || ShouldPrint(err) {
		t.Errorf("--json usage error: %v; stdout %s; stderr %s", err, out, errOut)
	}
	for _, args := range [][]string{
		{"verify", "npm:sigstore@latest", "-json"},
		{"verify", "--json=1", "npm:sigstore@latest"},
		{"verify", "--json=true", "--bogus-flag", "npm:sigstore@1.0.0"},
		{"verify", "npm:sigstore@1.0.0", "--json", "--json=T", "--bogus-flag"},
	} {
		env, out, errOut := testEnv(nil, nil)
		err := env.Run(t.Context(), args)
		if json.Unmarshal(out.Bytes(), &doc) != nil || ExitCode(err) != 2 || ShouldPrint(err) {
			t.Errorf("%q: a usage error not as JSON: %v; stdout %s; stderr %s", args, err, out, errOut)
		}
	}
	for _, args := range [][]string{
		{"verify", "npm:sigstore@latest"},
		{"verify", "--json=false", "npm:sigstore@latest"},
		{"verify", "--json", "--json=0", "npm:sigstore@latest"},
		{"verify", "npm:sigstore@latest", "--", "--json"},
	} {
		env, out, _ := testEnv(nil, nil)
		if err := env.Run(t.Context(), args); out.Len() != 0 || ExitCode(err) != 2 || !ShouldPrint(err) {
			t.Errorf("%q: %v with stdout %q, want a usage error for stderr and nothing on stdout", args, err, out)
		}
	}
	tgz := filepath.Join(npmRealDir, "sigstore-2.0.0.tgz")
	for _, repo := range []string{"sigstore/sigstore-js", "https://github.com/sigstore/sigstore-js", "https://github.com/sigstore/sigstore-js.git", "github.com/sigstore/sigstore-js/"} {
		env, out, _ := testEnv(nil, nil)
		if err := env.Run(t.Context(), []string{"verify", tgz, "--provenance", tgz + ".provenance.sigstore.json", "--no-signature",
			"--repository", repo, "--trusted-root", publicGoodRoot}); err != nil {
			t.Errorf("--repository %s: %v\n%s", repo, err, out)
		}
	}
	env, _, _ = testEnv(nil, nil)
	if err := env.Run(t.Context(), []string{"verify", tgz, "--repository", "https://gitlab.com/sigstore/sigstore-js"}); ExitCode(err) != 2 {
		t.Errorf("a repository on another host: %v, want a usage error", err)
	}
}
