//go:build e2e

package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
)

// mintToken asks the stack's issuer for a token with overrides (its test-only endpoint).
func mintToken(t *testing.T, req ghoidc.MintRequest) string {
	t.Helper()
	body, _ := json.Marshal(req)
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER")+ghoidc.TestTokenPath, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Value string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Value == "" {
		t.Fatalf("minting a test token: status %d", resp.StatusCode)
	}
	return out.Value
}

// TestSignRefusesE2E drives bad tokens, broken services and packages npm would refuse through the real stack.
// Each must fail with one line naming the problem and the fix, and write no bundle.
func TestSignRefusesE2E(t *testing.T) {
	trustedRoot := stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	sc := stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V2")
	unreachable := filepath.Join(t.TempDir(), "unreachable.json")
	raw, _ := os.ReadFile(sc)
	os.WriteFile(unreachable, []byte(strings.Replace(string(raw), stackVar(t, "WAXSEAL_STACK_FULCIO_URL"), "http://127.0.0.1:1", 1)), 0o600)
	noRekor := filepath.Join(t.TempDir(), "no-rekor.json")
	os.WriteFile(noRekor, []byte(strings.Replace(string(raw), stackVar(t, "WAXSEAL_STACK_REKOR_V2_URL"), "http://127.0.0.1:2", 1)), 0o600)

	published := npmregistry.New("t")
	t.Cleanup(published.Close)
	published.AddVersion("@waxseal-e2e/scoped", "1.2.3", []byte("the published tarball"))
	for _, tc := range []struct {
		name   string
		token  ghoidc.MintRequest
		env    map[string]string
		config string
		want   string
	}{
		{name: "expired token", token: ghoidc.MintRequest{Audience: "sigstore", LifetimeSeconds: -60}, want: "identity token has expired"},
		{name: "wrong audience", token: ghoidc.MintRequest{Audience: "npm"}, want: `request the token with audience "sigstore"`},
		{name: "other repository", token: ghoidc.MintRequest{Audience: "sigstore", Claims: ghoidc.Claims{"repository": "mallory/fork"}}, want: "https://github.com/mallory/fork"},
		{name: "version already on the registry", token: ghoidc.MintRequest{Audience: "sigstore"}, env: map[string]string{"npm_config_registry": published.URL},
			want: "@waxseal-e2e/scoped@1.2.3 is already published"},
		{name: "private repository", token: ghoidc.MintRequest{Audience: "sigstore", Claims: ghoidc.Claims{"repository_visibility": "private"}},
			want: "Unsupported GitHub Actions source repository visibility: private"},
		{name: "self-hosted runner", token: ghoidc.MintRequest{Audience: "sigstore", Claims: ghoidc.Claims{"runner_environment": "self-hosted"}}, want: "GitHub-hosted runner"},
		{name: "environment contradicts token", token: ghoidc.MintRequest{Audience: "sigstore"}, env: map[string]string{"GITHUB_SHA": "0000"}, want: "GITHUB_SHA"},
		{name: "fulcio unreachable", token: ghoidc.MintRequest{Audience: "sigstore"}, config: unreachable,
			want: "Fulcio (POST http://127.0.0.1:1/api/v2/signingCert) could not be reached"},
		{name: "rekor unreachable", token: ghoidc.MintRequest{Audience: "sigstore"}, config: noRekor,
			want: "Rekor v2 (POST http://127.0.0.1:2/api/v2/log/entries) could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tarballs := copyPackages(t)[:2]
			config := sc
			if tc.config != "" {
				config = tc.config
			}
			env := map[string]string{"SIGSTORE_ID_TOKEN": mintToken(t, tc.token), "npm_config_registry": testRegistry()}
			for k, v := range tc.env {
				env[k] = v
			}
			_, stderr, err := runCLI(t, func(k string) string { return env[k] }, append([]string{"sign", "--retry-for", "2s", "--trusted-root", trustedRoot, "--signing-config", config}, tarballs...)...)
			if err == nil {
				t.Fatalf("waxseal sign succeeded, want a refusal containing %q", tc.want)
			}
			// The error, or the per-package lines on stderr, say what is wrong.
			if said := err.Error() + "\n" + stderr; !strings.Contains(said, tc.want) {
				t.Fatalf("waxseal sign = %v\nstderr:\n%s\nwant %q in either", err, stderr, tc.want)
			}
			if strings.Contains(err.Error()+stderr, env["SIGSTORE_ID_TOKEN"]) {
				t.Fatal("the output repeats the identity token")
			}
			for _, tb := range tarballs {
				for _, suffix := range []string{".sigstore.json", ".provenance.sigstore.json"} {
					if _, err := os.Stat(tb + suffix); !os.IsNotExist(err) {
						t.Errorf("%s exists after a refused run", tb+suffix)
					}
				}
			}
		})
	}
}
