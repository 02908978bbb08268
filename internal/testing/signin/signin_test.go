package signin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
)

// RFC 7636 appendix B: a verifier and its S256 challenge.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	redirectURI  = "http://127.0.0.1:43123/auth/callback"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newIssuer(t *testing.T) (*httptest.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	is, err := New(Config{Now: clk.now, DeviceInterval: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(is)
	t.Cleanup(srv.Close)
	return srv, clk
}

// noRedirects is a client that shows the issuer's redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorizeQuery(over map[string]string) url.Values {
	q := url.Values{"client_id": {"sigstore"}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"st4te"}, "nonce": {"n0nce"}, "code_challenge": {rfcChallenge},
		"code_challenge_method": {"S256"}}
	for k, v := range over {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return q
}

// authorize sends an authorization request and returns the status and the redirect's query.
func authorize(t *testing.T, srv *httptest.Server, q url.Values) (int, url.Values) {
	t.Helper()
	resp, err := noRedirects.Get(srv.URL + AuthorizePath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		t.Fatalf("redirect to %q, want %s?...", resp.Header.Get("Location"), redirectURI)
	}
	return resp.StatusCode, loc.Query()
}

// tokenRequest posts form to the token endpoint and decodes the JSON answer.
func tokenRequest(t *testing.T, srv *httptest.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("token endpoint answered %s with no JSON: %v", resp.Status, err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token endpoint answer lacks Cache-Control: no-store (RFC 6749 5.1)")
	}
	return resp.StatusCode, out
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	srv, _ := newIssuer(t)
	for _, tc := range []struct {
		name       string
		over       map[string]string
		wantStatus int    // 400: shown to the person, no redirect
		wantError  string // the redirect's error
	}{
		{name: "unknown client", over: map[string]string{"client_id": "other"}, wantStatus: http.StatusBadRequest},
		{name: "no redirect", over: map[string]string{"redirect_uri": ""}, wantStatus: http.StatusBadRequest},
		{name: "remote redirect", over: map[string]string{"redirect_uri": "http://evil.example/cb"}, wantStatus: http.StatusBadRequest},
		{name: "https loopback", over: map[string]string{"redirect_uri": "https://127.0.0.1:1/cb"}, wantStatus: http.StatusBadRequest},
		{name: "implicit flow", over: map[string]string{"response_type": "token"}, wantError: "unsupported_response_type"},
		{name: "no openid scope", over: map[string]string{"scope": "email"}, wantError: "invalid_scope"},
		{name: "no PKCE", over: map[string]string{"code_challenge": "", "code_challenge_method": ""}, wantError: "invalid_request"},
		{name: "plain PKCE", over: map[string]string{"code_challenge_method": "plain"}, wantError: "invalid_request"},
		{name: "short challenge", over: map[string]string{"code_challenge": "abc"}, wantError: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, q := authorize(t, srv, authorizeQuery(tc.over))
			if tc.wantStatus != 0 {
				if status != tc.wantStatus {
					t.Fatalf("status %d, want %d without a redirect", status, tc.wantStatus)
				}
				return
			}
			if got := q.Get("error"); got != tc.wantError || q.Get("state") != "st4te" || q.Get("code") != "" {
				t.Errorf("redirect query %v, want error=%s with the state and no code", q, tc.wantError)
			}
		})
	}
}

func TestAuthorizationCodeGrant(t *testing.T) {
	t.Parallel()
	srv, clk := newIssuer(t)
	redeem := func(code string, over map[string]string) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"client_id": {"sigstore"}, "code_verifier": {rfcVerifier}}
		for k, v := range over {
			form.Set(k, v)
		}
		return tokenRequest(t, srv, form)
	}
	newCode := func() string {
		_, q := authorize(t, srv, authorizeQuery(nil))
		if q.Get("code") == "" || q.Get("state") != "st4te" {
			t.Fatalf("approval redirect %v, want a code and the state", q)
		}
		return q.Get("code")
	}
	for _, tc := range []struct {
		name       string
		over       map[string]string
		wait       time.Duration
		wantStatus int
		wantError  string
	}{
		{name: "wrong verifier", over: map[string]string{"code_verifier": strings.Repeat("x", 43)}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "no verifier", over: map[string]string{"code_verifier": ""}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "other redirect", over: map[string]string{"redirect_uri": "http://127.0.0.1:1/auth/callback"}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "unknown client", over: map[string]string{"client_id": "x"}, wantStatus: 401, wantError: "invalid_client"},
		{name: "other grant", over: map[string]string{"grant_type": "password"}, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "expired code", wait: DefaultCodeLifetime, wantStatus: 400, wantError: "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := newCode()
			clk.add(tc.wait)
			status, out := redeem(code, tc.over)
			if status != tc.wantStatus || out["error"] != tc.wantError || out["id_token"] != nil {
				t.Errorf("answer %d %v, want %d error=%s and no token", status, out, tc.wantStatus, tc.wantError)
			}
		})
	}

	code := newCode()
	status, out := redeem(code, nil)
	if status != http.StatusOK {
		t.Fatalf("redeeming with the RFC 7636 verifier: %d %v", status, out)
	}
	claims := verifyIDToken(t, srv, out["id_token"].(string))
	want := map[string]any{"iss": srv.URL, "aud": "sigstore", "sub": DefaultSubject, "email": DefaultEmail, "email_verified": true, "nonce": "n0nce"}
	for k := range claims {
		if _, ok := want[k]; !ok {
			delete(claims, k)
		}
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("ID token claims (-want +got):\n%s", diff)
	}
	if status, out := redeem(code, nil); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("a code redeemed twice: %d %v, want invalid_grant", status, out)
	}
}

// verifyIDToken checks the token's signature against the issuer's JWKS and returns its claims.
func verifyIDToken(t *testing.T, srv *httptest.Server, raw string) map[string]any {
	t.Helper()
	resp, err := http.Get(srv.URL + JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %v, %d keys", err, len(set.Keys))
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := tok.Claims(set.Keys[0].Key, &claims); err != nil {
		t.Fatalf("the ID token does not verify with the JWKS: %v", err)
	}
	return claims
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	srv, _ := newIssuer(t)
	resp, err := http.Get(srv.URL + DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"issuer": d["issuer"], "authorization_endpoint": d["authorization_endpoint"], "token_endpoint": d["token_endpoint"],
		"device_authorization_endpoint": d["device_authorization_endpoint"], "code_challenge_methods_supported": d["code_challenge_methods_supported"]}
	want := map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + AuthorizePath, "token_endpoint": srv.URL + TokenPath,
		"device_authorization_endpoint": srv.URL + DeviceCodePath, "code_challenge_methods_supported": []any{"S256"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}

// deviceAuth starts a device authorization with the RFC 7636 challenge and returns the device and user codes.
func deviceAuth(t *testing.T, srv *httptest.Server) (device, user string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+DeviceCodePath, url.Values{"client_id": {"sigstore"}, "scope": {"openid email"},
		"code_challenge": {rfcChallenge}, "code_challenge_method": {"S256"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int    `json:"expires_in"`
		Interval                int    `json:"interval"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("device authorization: %s %v", resp.Status, err)
	}
	if len(out.UserCode) != 9 || strings.Trim(out.UserCode, userCodeAlphabet+"-") != "" || out.Interval != 2 ||
		out.ExpiresIn != int(DefaultDeviceLifetime/time.Second) || out.VerificationURI != srv.URL+DeviceVerifyPath ||
		out.VerificationURIComplete != srv.URL+DeviceVerifyPath+"?user_code="+out.UserCode {
		t.Fatalf("device authorization answer %+v", out)
	}
	return out.DeviceCode, out.UserCode
}

func TestDeviceGrant(t *testing.T) {
	t.Parallel()
	srv, clk := newIssuer(t)
	poll := func(device, verifier string) (int, string) {
		status, out := tokenRequest(t, srv, url.Values{"grant_type": {deviceCodeGrant}, "device_code": {device},
			"client_id": {"sigstore"}, "code_verifier": {verifier}})
		if status == 200 {
			if out["id_token"] == nil {
				t.Fatalf("200 without an id_token: %v", out)
			}
			return status, ""
		}
		return status, out["error"].(string)
	}
	decide := func(user string, d Decision) {
		t.Helper()
		if err := Decide(t.Context(), http.DefaultClient, srv.URL, user, d); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		wait     time.Duration
		decide   Decision
		verifier string
		want     string // "" is a token
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{name: "approved after pending", steps: []step{{want: "authorization_pending"}, {wait: 2 * time.Second, want: "authorization_pending"},
			{wait: 2 * time.Second, decide: Approve, want: ""}, {wait: 2 * time.Second, want: "invalid_grant"}}},
		{name: "too fast", steps: []step{{want: "authorization_pending"}, {wait: time.Second, want: "slow_down"},
			{wait: 2 * time.Second, want: "slow_down"}, {wait: 12 * time.Second, want: "authorization_pending"}}}, // 2 s, then +5 s per slow_down
		{name: "denied", steps: []step{{want: "authorization_pending"}, {wait: 2 * time.Second, decide: Deny, want: "access_denied"}}},
		{name: "expired by the person", steps: []step{{decide: Expire, want: "expired_token"}}},
		{name: "expired by time", steps: []step{{want: "authorization_pending"}, {wait: DefaultDeviceLifetime, want: "expired_token"}}},
		{name: "approved, wrong verifier", steps: []step{{decide: Approve, verifier: strings.Repeat("y", 43), want: "invalid_grant"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			device, user := deviceAuth(t, srv)
			for i, s := range tc.steps {
				clk.add(s.wait)
				if s.decide != "" {
					decide(strings.ToLower(strings.ReplaceAll(user, "-", "")), s.decide) // RFC 8628 6.1: case and punctuation ignored
				}
				v := s.verifier
				if v == "" {
					v = rfcVerifier
				}
				if _, got := poll(device, v); got != s.want {
					t.Fatalf("poll %d answered %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

func TestDeviceVerificationPageApproves(t *testing.T) {
	t.Parallel()
	srv, _ := newIssuer(t)
	_, user := deviceAuth(t, srv)
	resp, err := http.Get(srv.URL + DeviceVerifyPath + "?user_code=" + user)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("visiting the verification URI: %s", resp.Status)
	}
	if err := Decide(t.Context(), http.DefaultClient, srv.URL, "BCDF-GHJK", Deny); err == nil {
		t.Error("deciding on a code never issued succeeded")
	}
}

func TestBrowse(t *testing.T) {
	t.Parallel()
	srv, _ := newIssuer(t)
	var mu sync.Mutex
	var got url.Values
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.URL.Query()
		mu.Unlock()
	}))
	t.Cleanup(client.Close)
	for _, tc := range []struct {
		b        Behaviour
		check    func(q url.Values) bool
		wantSeen bool
	}{
		{Follow, func(q url.Values) bool { return q.Get("code") != "" && q.Get("state") == "st4te" }, true},
		{Refuse, func(q url.Values) bool { return q.Get("error") == "access_denied" && q.Get("state") == "st4te" }, true},
		{ForgeState, func(q url.Values) bool { return q.Get("code") != "" && strings.HasPrefix(q.Get("state"), "forged-") }, true},
		{ForgeChallenge, func(q url.Values) bool { return q.Get("code") != "" && q.Get("state") == "st4te" }, true},
		{WalkAway, nil, false},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		q := authorizeQuery(map[string]string{"redirect_uri": client.URL + "/auth/callback"})
		status, err := Browse(context.Background(), http.DefaultClient, srv.URL+AuthorizePath+"?"+q.Encode(), tc.b)
		mu.Lock()
		seen := got
		mu.Unlock()
		if err != nil || (seen != nil) != tc.wantSeen || tc.check != nil && !tc.check(seen) || tc.wantSeen != (status == 200) {
			t.Errorf("%s: status %d, err %v, the client saw %v", tc.b, status, err, seen)
		}
	}
}
