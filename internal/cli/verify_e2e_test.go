//go:build e2e

package cli

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/verifier"
)

// signedCopy signs the unscoped e2e package on the stack and returns its tarball path (bundles beside it).
func signedCopy(t *testing.T, p profile) string {
	t.Helper()
	tarball := copyPackages(t)[1]
	_, stderr, err := runCLI(t, stackGetenv(t, nil), "sign", "--trusted-root", stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"),
		"--signing-config", p.signingConfig, tarball)
	if err != nil {
		t.Fatalf("waxseal sign: %v\n%s", err, stderr)
	}
	return tarball
}

// editJSON rewrites a bundle through f.
func editJSON(t *testing.T, path string, f func(b map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	f(b)
	raw, _ = json.Marshal(b)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipBase64(s string, at int) string {
	raw, _ := base64.StdEncoding.DecodeString(s)
	raw[at%len(raw)] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}

func material(b map[string]any) map[string]any { return b["verificationMaterial"].(map[string]any) }

func firstEntry(b map[string]any) map[string]any {
	return material(b)["tlogEntries"].([]any)[0].(map[string]any)
}

// TestVerifyE2E signs on the local stack (Rekor v1 and v2), verifies, then tampers with each part of the result
// and checks verify refuses it for that reason.
func TestVerifyE2E(t *testing.T) {
	root := stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	issuer := stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER")
	for _, p := range profiles(t) {
		t.Run(p.name, func(t *testing.T) {
			signed := signedCopy(t, p)
			other := signedCopy(t, p) // a second run: another certificate
			verify := func(t *testing.T, tarball string, extra ...string) (string, error) {
				args := append([]string{"verify", tarball, "--trusted-root", root, "--repository", "waxseal/waxseal",
					"--certificate-oidc-issuer", issuer}, extra...)
				out, _, err := runCLI(t, func(string) string { return "" }, args...)
				return out, err
			}
			if out, err := verify(t, signed, "--workflow", "release.yml", "--ref", "refs/heads/main"); err != nil {
				t.Fatalf("verify: %v\n%s", err, out)
			} else if !strings.Contains(out, "verified:      signature and SLSA provenance") {
				t.Errorf("verdict does not name both bundles:\n%s", out)
			}
			if _, err := verify(t, signed, "--ref", "refs/tags/v9"); !errors.Is(err, verifier.ErrIdentityMismatch) {
				t.Errorf("another ref: got %v, want ErrIdentityMismatch", err)
			}

			tests := []struct {
				name    string
				tamper  func(t *testing.T, tarball string)
				wantErr error
			}{
				{"payload", func(t *testing.T, tgz string) {
					editJSON(t, tgz+".provenance.sigstore.json", func(b map[string]any) {
						env := b["dsseEnvelope"].(map[string]any)
						env["payload"] = flipBase64(env["payload"].(string), 200)
					})
				}, verifier.ErrSignature},
				{"subject name", func(t *testing.T, tgz string) {
					editJSON(t, tgz+".provenance.sigstore.json", func(b map[string]any) {
						env := b["dsseEnvelope"].(map[string]any)
						payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
						env["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(payload), "waxseal-e2e-unscoped", "waxseal-e2e-evil", 1)))
					})
				}, verifier.ErrSignature},
				{"signature", func(t *testing.T, tgz string) {
					editJSON(t, tgz+".sigstore.json", func(b map[string]any) {
						ms := b["messageSignature"].(map[string]any)
						ms["signature"] = flipBase64(ms["signature"].(string), 40)
					})
				}, verifier.ErrSignature},
				{"certificate", func(t *testing.T, tgz string) {
					raw, _ := os.ReadFile(other + ".sigstore.json")
					var ob map[string]any
					json.Unmarshal(raw, &ob)
					editJSON(t, tgz+".sigstore.json", func(b map[string]any) {
						material(b)["certificate"] = material(ob)["certificate"]
					})
				}, verifier.ErrSignature},
				{"log entry", func(t *testing.T, tgz string) {
					editJSON(t, tgz+".sigstore.json", func(b map[string]any) {
						e := firstEntry(b)
						e["canonicalizedBody"] = flipBase64(e["canonicalizedBody"].(string), 30)
					})
				}, verifier.ErrTransparencyLog},
				{"inclusion proof", func(t *testing.T, tgz string) {
					editJSON(t, tgz+".provenance.sigstore.json", func(b map[string]any) {
						ip := firstEntry(b)["inclusionProof"].(map[string]any)
						ip["rootHash"] = flipBase64(ip["rootHash"].(string), 3)
					})
				}, verifier.ErrTransparencyLog},
				{"tarball byte", func(t *testing.T, tgz string) {
					raw, _ := os.ReadFile(tgz)
					raw[4] ^= 0x01 // the gzip header's MTIME: still a valid tarball, another digest
					os.WriteFile(tgz, raw, 0o644)
				}, verifier.ErrDigestMismatch},
				{"another package's provenance", func(t *testing.T, tgz string) {
					raw, err := os.ReadFile(signedScoped(t, p) + ".provenance.sigstore.json")
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(tgz+".provenance.sigstore.json", raw, 0o644)
				}, verifier.ErrDigestMismatch},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := t.TempDir()
					tgz := filepath.Join(dir, filepath.Base(signed))
					for _, suffix := range []string{"", ".sigstore.json", ".provenance.sigstore.json"} {
						raw, err := os.ReadFile(signed + suffix)
						if err != nil {
							t.Fatal(err)
						}
						os.WriteFile(tgz+suffix, raw, 0o644)
					}
					tt.tamper(t, tgz)
					out, err := verify(t, tgz)
					if !errors.Is(err, tt.wantErr) || ExitCode(err) != 1 {
						t.Fatalf("got %v (exit %d), want %v (exit 1)\n%s", err, ExitCode(err), tt.wantErr, out)
					}
					if !strings.Contains(out, "REJECTED") {
						t.Errorf("output does not say REJECTED:\n%s", out)
					}
				})
			}
		})
	}
}

// signedScoped signs the scoped e2e package and returns its tarball path.
func signedScoped(t *testing.T, p profile) string {
	t.Helper()
	tarball := copyPackages(t)[0]
	if _, stderr, err := runCLI(t, stackGetenv(t, nil), "sign", "--trusted-root", stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"),
		"--signing-config", p.signingConfig, tarball); err != nil {
		t.Fatalf("waxseal sign: %v\n%s", err, stderr)
	}
	return tarball
}

// stackToken fetches an ID token from the stack's issuer the way a GitHub job does.
func stackToken(t *testing.T) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL")+"&audience=sigstore", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Value == "" {
		t.Fatalf("reading the ID token: %v", err)
	}
	return body.Value
}

// TestVerifyBundleCosignE2E: bundles another Sigstore client (cosign) made on the stack verify with verify-bundle,
// in file and digest mode, and a changed artifact is refused as another artifact.
func TestVerifyBundleCosignE2E(t *testing.T) {
	root := stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte(stackToken(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	artifact := filepath.Join(dir, "a.txt")
	os.WriteFile(artifact, []byte("signed by cosign\n"), 0o644)
	other := filepath.Join(dir, "b.txt")
	os.WriteFile(other, []byte("not signed\n"), 0o644)
	sum := sha256.Sum256([]byte("signed by cosign\n"))
	for _, p := range profiles(t) {
		t.Run(p.name, func(t *testing.T) {
			b := filepath.Join(dir, p.name+".sigstore.json")
			cmd := exec.Command(stackVar(t, "WAXSEAL_STACK_COSIGN"), "sign-blob", "--yes", "--new-bundle-format", "--bundle", b,
				"--trusted-root", root, "--signing-config", p.signingConfig, "--identity-token", token, artifact)
			cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("cosign sign-blob: %v\n%s", err, out)
			}
			args := []string{"verify-bundle", "--bundle", b, "--certificate-identity", "https://github.com/waxseal/waxseal/.github/workflows/release.yml@refs/heads/main",
				"--certificate-oidc-issuer", stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER"), "--trusted-root", root}
			for _, target := range []string{artifact, "sha256:" + hex.EncodeToString(sum[:])} {
				if out, _, err := runCLI(t, func(string) string { return "" }, append(args, target)...); err != nil {
					t.Errorf("verify-bundle %s: %v\n%s", target, err, out)
				}
			}
			if _, _, err := runCLI(t, func(string) string { return "" }, append(args, other)...); !errors.Is(err, verifier.ErrDigestMismatch) {
				t.Errorf("another artifact: got %v, want ErrDigestMismatch", err)
			}
		})
	}
}
