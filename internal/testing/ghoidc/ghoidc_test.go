package ghoidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/waxseal/waxseal/internal/testing/ghoidc"
)

const requestToken = "test-request-token"

var fixedNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// testKey shares one RSA key: generating one per test is slow.
func testKey() *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return key
}

func newServer(t *testing.T, cfg ghoidc.Config) *httptest.Server {
	t.Helper()
	if cfg.Key == nil {
		cfg.Key = testKey()
	}
	if cfg.RequestToken == "" {
		cfg.RequestToken = requestToken
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	h, err := ghoidc.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// verifier checks tokens the way Fulcio does: go-oidc discovery + JWKS.
func verifier(t *testing.T, issuer, audience string, now time.Time) *oidc.IDTokenVerifier {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%q): %v", issuer, err)
	}
	return p.Verifier(&oidc.Config{ClientID: audience, Now: func() time.Time { return now }})
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decoding %s %s response: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, body
}

func getToken(t *testing.T, srv *httptest.Server, query, auth string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+ghoidc.TokenPath+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req)
}

func mint(t *testing.T, srv *httptest.Server, body, auth string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+ghoidc.TestTokenPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req)
}

func claimsOf(t *testing.T, v *oidc.IDTokenVerifier, raw string) map[string]any {
	t.Helper()
	tok, err := v.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verifying token: %v", err)
	}
	var c map[string]any
	if err := tok.Claims(&c); err != nil {
		t.Fatalf("decoding claims: %v", err)
	}
	return c
}

// wantClaims is DefaultClaims plus the computed claims for srv at fixedNow.
func wantClaims(srv *httptest.Server, aud string) map[string]any {
	c := map[string]any{}
	for k, v := range ghoidc.DefaultClaims() {
		c[k] = v
	}
	c["iss"] = srv.URL
	c["aud"] = aud
	c["sub"] = "repo:waxseal/waxseal:ref:refs/heads/main"
	c["iat"] = float64(fixedNow.Unix())
	c["nbf"] = float64(fixedNow.Unix())
	c["exp"] = float64(fixedNow.Add(ghoidc.DefaultLifetime).Unix())
	return c
}

var ignoreJTI = cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "jti" })

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ghoidc.Config{})
	tests := []struct {
		name       string
		query      string
		auth       string
		wantStatus int
		wantAud    string
	}{
		{name: "no authorization", wantStatus: http.StatusUnauthorized},
		{name: "wrong bearer", auth: "Bearer nope", wantStatus: http.StatusUnauthorized},
		{name: "basic scheme", auth: "Basic " + requestToken, wantStatus: http.StatusUnauthorized},
		{name: "token as prefix", auth: "Bearer " + requestToken + "x", wantStatus: http.StatusUnauthorized},
		{name: "audience sigstore", query: "?api-version=2.0&audience=sigstore", auth: "Bearer " + requestToken,
			wantStatus: http.StatusOK, wantAud: "sigstore"},
		{name: "default audience is the owner URL", query: "?api-version=2.0", auth: "Bearer " + requestToken,
			wantStatus: http.StatusOK, wantAud: "https://github.com/waxseal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := getToken(t, srv, tt.query, tt.auth)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %v)", status, tt.wantStatus, body)
			}
			if tt.wantStatus != http.StatusOK {
				if _, ok := body["value"]; ok {
					t.Errorf("refused request got a token: %v", body)
				}
				return
			}
			if len(body) != 1 {
				t.Errorf("body has keys %v, want only value", body)
			}
			raw, _ := body["value"].(string)
			got := claimsOf(t, verifier(t, srv.URL, tt.wantAud, fixedNow), raw)
			if diff := cmp.Diff(wantClaims(srv, tt.wantAud), got, ignoreJTI); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if jti, _ := got["jti"].(string); len(jti) != 36 {
				t.Errorf("jti = %q, want a UUID", jti)
			}
		})
	}
}

func TestTokensAreUnique(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ghoidc.Config{})
	v := verifier(t, srv.URL, "sigstore", fixedNow)
	seen := map[string]bool{}
	for range 3 {
		_, body := getToken(t, srv, "?audience=sigstore", "Bearer "+requestToken)
		jti := claimsOf(t, v, body["value"].(string))["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %q repeated", jti)
		}
		seen[jti] = true
	}
}

func TestTestTokenEndpoint(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ghoidc.Config{})
	auth := "Bearer " + requestToken
	tests := []struct {
		name       string
		body       string
		auth       string
		wantStatus int
		audience   string    // verifier's client id
		verifyAt   time.Time // verifier's clock
		wantErr    bool      // verification must fail
		check      func(t *testing.T, c map[string]any)
	}{
		{name: "no authorization", body: `{}`, wantStatus: http.StatusUnauthorized},
		{name: "bad json", body: `{`, auth: auth, wantStatus: http.StatusBadRequest},
		{name: "unknown field", body: `{"claim": {}}`, auth: auth, wantStatus: http.StatusBadRequest},
		{
			name: "other repository changes sub", auth: auth, wantStatus: http.StatusOK, audience: "sigstore",
			body: `{"audience":"sigstore","claims":{"repository":"evil/fork","ref":"refs/tags/v1.0.0"}}`,
			check: func(t *testing.T, c map[string]any) {
				if c["sub"] != "repo:evil/fork:ref:refs/tags/v1.0.0" || c["repository"] != "evil/fork" {
					t.Errorf("sub, repository = %v, %v", c["sub"], c["repository"])
				}
			},
		},
		{
			name: "environment subject", auth: auth, wantStatus: http.StatusOK, audience: "sigstore",
			body: `{"audience":"sigstore","claims":{"environment":"npm"}}`,
			check: func(t *testing.T, c map[string]any) {
				if c["sub"] != "repo:waxseal/waxseal:environment:npm" {
					t.Errorf("sub = %v", c["sub"])
				}
			},
		},
		{
			name: "null removes a claim", auth: auth, wantStatus: http.StatusOK, audience: "sigstore",
			body: `{"audience":"sigstore","claims":{"runner_environment":null}}`,
			check: func(t *testing.T, c map[string]any) {
				if v, ok := c["runner_environment"]; ok {
					t.Errorf("runner_environment = %v, want absent", v)
				}
			},
		},
		{
			name: "self-hosted runner", auth: auth, wantStatus: http.StatusOK, audience: "sigstore",
			body: `{"audience":"sigstore","claims":{"runner_environment":"self-hosted"}}`,
			check: func(t *testing.T, c map[string]any) {
				if c["runner_environment"] != "self-hosted" {
					t.Errorf("runner_environment = %v", c["runner_environment"])
				}
			},
		},
		{
			name: "long lifetime", auth: auth, wantStatus: http.StatusOK, audience: "sigstore",
			body:     `{"audience":"sigstore","lifetime_seconds":3600}`,
			verifyAt: fixedNow.Add(59 * time.Minute),
			check: func(t *testing.T, c map[string]any) {
				if c["exp"] != float64(fixedNow.Unix()+3600) {
					t.Errorf("exp = %v", c["exp"])
				}
			},
		},
		{name: "expired", auth: auth, wantStatus: http.StatusOK, audience: "sigstore", wantErr: true,
			body: `{"audience":"sigstore","lifetime_seconds":-60}`},
		{name: "default lifetime passed", auth: auth, wantStatus: http.StatusOK, audience: "sigstore", wantErr: true,
			body: `{"audience":"sigstore"}`, verifyAt: fixedNow.Add(ghoidc.DefaultLifetime + time.Minute)},
		{name: "wrong audience", auth: auth, wantStatus: http.StatusOK, audience: "sigstore", wantErr: true,
			body: `{"audience":"not-sigstore"}`},
		{name: "overridden issuer", auth: auth, wantStatus: http.StatusOK, audience: "sigstore", wantErr: true,
			body: `{"audience":"sigstore","claims":{"iss":"https://token.actions.githubusercontent.com"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := mint(t, srv, tt.body, tt.auth)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %v)", status, tt.wantStatus, body)
			}
			if status != http.StatusOK {
				return
			}
			at := tt.verifyAt
			if at.IsZero() {
				at = fixedNow
			}
			raw, _ := body["value"].(string)
			tok, err := verifier(t, srv.URL, tt.audience, at).Verify(t.Context(), raw)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("token verified, want a verification error")
				}
				return
			}
			if err != nil {
				t.Fatalf("verifying: %v", err)
			}
			var c map[string]any
			if err := tok.Claims(&c); err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestExpiredTokenError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ghoidc.Config{})
	_, body := mint(t, srv, `{"audience":"sigstore","lifetime_seconds":-1}`, "Bearer "+requestToken)
	_, err := verifier(t, srv.URL, "sigstore", fixedNow).Verify(t.Context(), body["value"].(string))
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("Verify error = %v, want *oidc.TokenExpiredError", err)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ghoidc.Config{Issuer: "http://issuer.example:8088/"})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+ghoidc.DiscoveryPath, nil)
	status, body := do(t, req)
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	got := map[string]any{"issuer": body["issuer"], "jwks_uri": body["jwks_uri"], "algs": body["id_token_signing_alg_values_supported"]}
	want := map[string]any{"issuer": "http://issuer.example:8088", "jwks_uri": "http://issuer.example:8088/.well-known/jwks",
		"algs": []any{"RS256"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  ghoidc.Config
		want string
	}{
		{name: "no key", cfg: ghoidc.Config{RequestToken: "x"}, want: "Key"},
		{name: "no request token", cfg: ghoidc.Config{Key: testKey()}, want: "RequestToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ghoidc.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// TestStateSurvivesRestart proves a token minted before a restart verifies
// against the restarted issuer, and the request token is kept.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	st1, err := ghoidc.LoadState(dir)
	if err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	srv1 := newServer(t, ghoidc.Config{Key: st1.Key, RequestToken: st1.RequestToken, Issuer: "http://issuer.test"})
	_, body := getToken(t, srv1, "?audience=sigstore", "Bearer "+st1.RequestToken)
	srv1.Close()

	st2, err := ghoidc.LoadState(dir)
	if err != nil {
		t.Fatalf("second LoadState: %v", err)
	}
	if st2.RequestToken != st1.RequestToken || len(st1.RequestToken) != 64 {
		t.Errorf("request token %q then %q, want the same 64 hex digits", st1.RequestToken, st2.RequestToken)
	}
	if !st2.Key.Equal(st1.Key) {
		t.Errorf("key changed across LoadState")
	}
	for _, f := range []string{ghoidc.KeyFile, ghoidc.RequestTokenFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, err %v; want 0600", f, fi.Mode(), err)
		}
	}
	srv2 := newServer(t, ghoidc.Config{Key: st2.Key, RequestToken: st2.RequestToken, Issuer: "http://issuer.test"})
	ctx := oidc.InsecureIssuerURLContext(t.Context(), "http://issuer.test")
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, rewriteClient(srv2.URL)), "http://issuer.test")
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	v := p.Verifier(&oidc.Config{ClientID: "sigstore", Now: func() time.Time { return fixedNow }})
	if _, err := v.Verify(oidc.ClientContext(t.Context(), rewriteClient(srv2.URL)), body["value"].(string)); err != nil {
		t.Errorf("token from before the restart: %v", err)
	}
}

// rewriteClient sends every request to base, whatever its host.
func rewriteClient(base string) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme = "http"
		r.URL.Host = strings.TrimPrefix(base, "http://")
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestLoadStateRejectsBadKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
	}{
		{name: "not PEM", key: "garbage"},
		{name: "wrong block", key: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
		{name: "bad DER", key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ghoidc.KeyFile), []byte(tt.key), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ghoidc.LoadState(dir)
			if err == nil || !strings.Contains(err.Error(), "delete the file") {
				t.Errorf("LoadState error = %v, want one saying to delete the file", err)
			}
		})
	}
}

// FuzzTestToken: whatever the body, the test endpoint answers 200 with a
// token that verifies or 400, never a 5xx.
func FuzzTestToken(f *testing.F) {
	f.Add(`{}`)
	f.Add(`{"audience":"sigstore","lifetime_seconds":60,"claims":{"repository":null}}`)
	f.Add(`{"claims":{"sub":1,"aud":["a","b"]}}`)
	f.Add(`[`)
	h, err := ghoidc.New(ghoidc.Config{Key: testKey(), RequestToken: requestToken,
		Now: func() time.Time { return fixedNow }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, ghoidc.TestTokenPath, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+requestToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var v struct{ Value string }
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || strings.Count(v.Value, ".") != 2 {
				t.Errorf("200 body %q is not {\"value\": <jwt>}", rec.Body.String())
			}
		case http.StatusBadRequest:
		default:
			b, _ := io.ReadAll(rec.Body)
			t.Errorf("status %d for body %q: %s", rec.Code, body, b)
		}
	})
}
