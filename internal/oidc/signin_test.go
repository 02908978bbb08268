package oidc

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/signin"
)

func newSignInServer(t *testing.T) *httptest.Server {
	t.Helper()
	is, err := signin.New(signin.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(is)
	t.Cleanup(srv.Close)
	return srv
}

// checkToken checks a sign-in's token is the test user's, for the client, and that the person was shown no token.
func checkToken(t *testing.T, tok string, p *signin.Screen) {
	t.Helper()
	c, err := ParseClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != signin.DefaultEmail || len(c.Audience) != 1 || c.Audience[0] != DefaultClientID || c.IsGitHubActions() {
		t.Errorf("token claims email %q audience %q, want %q for %q", c.Email, c.Audience, signin.DefaultEmail, DefaultClientID)
	}
	if strings.Contains(p.String(), "eyJ") || strings.Contains(p.String(), signin.DefaultEmail) {
		t.Errorf("the prompt shows a token or its claims:\n%s", p)
	}
}

func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	srv := newSignInServer(t)
	for _, tc := range []struct {
		name    string
		b       signin.Behaviour
		timeout time.Duration
		wantErr error
		want    string
	}{
		{name: "approved", b: signin.Follow},
		{name: "declined", b: signin.Refuse, wantErr: ErrSignInDeclined,
			want: `the sign-in was declined: the provider answered access_denied: "the test user denied the request"; run waxseal again and approve the request`},
		{name: "state forged", b: signin.ForgeState, timeout: 300 * time.Millisecond, wantErr: ErrSignInMismatch,
			want: "nobody finished signing in within 300ms (--oidc-timeout), and the browser came back 1 time(s) with another state than waxseal sent, which it ignored"},
		{name: "PKCE challenge forged", b: signin.ForgeChallenge, wantErr: ErrSignInMismatch,
			want: `(invalid_grant: "code_verifier does not match the code_challenge"): the code was issued for another PKCE verifier`},
		{name: "walked away", b: signin.WalkAway, timeout: 300 * time.Millisecond, wantErr: ErrSignInTimedOut,
			want: "nobody finished signing in within 300ms (--oidc-timeout): run waxseal again and use --oidc-device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := signin.NewScreen()
			src := &InteractiveSource{Issuer: srv.URL, Timeout: tc.timeout, Prompt: p, OpenBrowser: func(u string) error {
				_, err := signin.Browse(context.Background(), http.DefaultClient, u, tc.b)
				return err
			}}
			tok, err := src.Token(t.Context(), "sigstore")
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkToken(t, tok, p)
				if !strings.Contains(p.String(), "Signing in at "+srv.URL+": your browser opens now") {
					t.Errorf("prompt:\n%s", p)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || tok != "" || !strings.HasPrefix(err.Error(), "signing in at "+srv.URL+": ") ||
				!strings.Contains(err.Error(), tc.want) {
				t.Errorf("Token() = %q, %v\nwant %v containing %q", tok, err, tc.wantErr, tc.want)
			}
		})
	}
}

// TestBrowserSignInByHand: no browser opens, the person visits the printed URL.
func TestBrowserSignInByHand(t *testing.T) {
	t.Parallel()
	srv := newSignInServer(t)
	p := signin.NewScreen()
	src := &InteractiveSource{Issuer: srv.URL, Prompt: p, OpenBrowser: func(string) error { return errors.New("no display") }}
	go func() {
		m := p.WaitFor(t.Context(), regexp.MustCompile(`(?s)no display\).*visit:\n    (\S+)\n|visit:\n    (\S+)\n.*no display\)`))
		if m == nil {
			return
		}
		_, _ = signin.Browse(t.Context(), http.DefaultClient, m[1]+m[2], signin.Follow)
	}()
	tok, err := src.Token(t.Context(), "sigstore")
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, tok, p)
	if !strings.Contains(p.String(), "Could not open a browser (no display): visit the URL above yourself, or run again with --oidc-device.") {
		t.Errorf("prompt:\n%s", p)
	}
}

func TestBrowserSignInStopped(t *testing.T) {
	t.Parallel()
	srv := newSignInServer(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	src := &InteractiveSource{Issuer: srv.URL, OpenBrowser: func(string) error { cancel(errors.New("interrupt")); return nil }}
	if _, err := src.Token(ctx, "sigstore"); err == nil || !strings.Contains(err.Error(), "stopped while waiting for the sign-in: interrupt") {
		t.Errorf("Token() after an interrupt = %v", err)
	}
}

func TestBrowserCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, spec, wantOut, wantErr string }{
		{name: "URL appended", spec: "echo opened", wantOut: "opened http://x/?a=1&b=2\n"},
		{name: "URL placed", spec: "echo [%s]", wantOut: "[http://x/?a=1&b=2]\n"},
		{name: "first that starts", spec: "no-such-browser-waxseal:echo second", wantOut: "second http://x/?a=1&b=2\n"},
		{name: "fails", spec: "false", wantErr: "BROWSER command false: exit status 1"},
		{name: "none starts", spec: "no-such-browser-waxseal", wantErr: "starting the BROWSER command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := BrowserCommand(tc.spec, &out)("http://x/?a=1&b=2")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || out.String() != tc.wantOut {
				t.Errorf("output %q, %v; want %q", out.String(), err, tc.wantOut)
			}
		})
	}
}

// inMemory serves requests with h without a network, so device sign-ins run in a synctest bubble.
type inMemory struct{ h http.Handler }

func (m inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// flaky answers the first n token requests with 503.
func flaky(h http.Handler, n int) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := r.URL.Path == signin.TokenPath && n > 0
		if fail {
			n--
		}
		mu.Unlock()
		if fail {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

var userCodeLine = regexp.MustCompile(`To sign in, open http://signin\.test/device on any device and enter the code ([A-Z]{4}-[A-Z]{4}) within 5m0s\.\n` +
	`    \(or open http://signin\.test/device\?user_code=[A-Z-]+\)\nWaiting for the sign-in to be approved\.\.\.\n`)

func TestDeviceSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		decision signin.Decision // "" lets time pass
		failures int             // 503s from the token endpoint first
		timeout  time.Duration
		wantErr  error
		want     string
	}{
		{name: "approved", decision: signin.Approve},
		{name: "approved through a flaky token endpoint", decision: signin.Approve, failures: 2},
		{name: "declined", decision: signin.Deny, wantErr: ErrSignInDeclined,
			want: `the sign-in was declined: the provider answered access_denied: "the test user denied the request"`},
		{name: "expired at the provider", decision: signin.Expire, wantErr: ErrSignInTimedOut, want: "expired before anyone approved it: run waxseal again and enter the new code"},
		{name: "code lifetime over", timeout: 10 * time.Minute, wantErr: ErrSignInTimedOut, want: "expired before anyone approved it"},
		{name: "sign-in timeout", timeout: time.Minute, wantErr: ErrSignInTimedOut, want: "nobody finished signing in within 1m0s (--oidc-timeout): run waxseal again and enter the code sooner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				is, err := signin.New(signin.Config{Issuer: "http://signin.test"})
				if err != nil {
					t.Fatal(err)
				}
				client := &http.Client{Transport: inMemory{flaky(is, tc.failures)}}
				var waits []string
				var mu sync.Mutex
				p := signin.NewScreen()
				src := &InteractiveSource{Issuer: "http://signin.test", Device: true, Timeout: tc.timeout, Prompt: p, Transport: client.Transport,
					Retry: retry.Policy{Log: func(w retry.Wait) { mu.Lock(); waits = append(waits, w.String()); mu.Unlock() }}}
				go func() {
					m := p.WaitFor(t.Context(), userCodeLine)
					if m != nil && tc.decision != "" {
						time.Sleep(12 * time.Second) // the person takes a while (fake time): waxseal polls meanwhile
						_ = signin.Decide(t.Context(), &http.Client{Transport: inMemory{is}}, "http://signin.test", m[1], tc.decision)
					}
				}()
				tok, err := src.Token(t.Context(), "sigstore")
				if tc.wantErr == nil {
					if err != nil {
						t.Fatalf("%v\nprompt:\n%s", err, p)
					}
					checkToken(t, tok, p)
					if len(waits) != tc.failures || tc.failures > 0 && !strings.HasPrefix(waits[0], "the sign-in provider's token endpoint (POST http://signin.test/token) answered 503") {
						t.Errorf("retry waits %q, want %d naming the token endpoint", waits, tc.failures)
					}
					return
				}
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "signing in at http://signin.test: ") {
					t.Errorf("Token() = %v\nwant %v containing %q", err, tc.wantErr, tc.want)
				}
				if !userCodeLine.MatchString(p.String()) {
					t.Errorf("prompt:\n%s", p)
				}
			})
		})
	}
}

func TestSignInRefusesProviders(t *testing.T) {
	t.Parallel()
	discovery := func(extra string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issuer":"http://p.test","authorization_endpoint":"http://p.test/a","token_endpoint":"http://p.test/t",` +
				`"jwks_uri":"http://p.test/k"` + extra + `}`))
		})
	}
	for _, tc := range []struct {
		name   string
		h      http.Handler
		device bool
		want   string
	}{
		{name: "no PKCE", h: discovery(""), want: "does not offer PKCE with S256"},
		{name: "plain PKCE only", h: discovery(`,"code_challenge_methods_supported":["plain"]`), want: "does not offer PKCE with S256"},
		{name: "no device endpoint", h: discovery(`,"code_challenge_methods_supported":["S256"]`), device: true, want: "leave out --oidc-device"},
		{name: "no discovery", h: http.NotFoundHandler(), want: `reading the provider's discovery document: the sign-in provider (GET http://p.test/.well-known/openid-configuration) answered 404`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := &InteractiveSource{Issuer: "http://p.test", Device: tc.device, Transport: inMemory{tc.h},
				OpenBrowser: func(string) error { t.Error("a browser was opened"); return nil }}
			if _, err := src.Token(t.Context(), ""); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Token() = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := (&InteractiveSource{}).Token(t.Context(), ""); err == nil || !strings.Contains(err.Error(), "--oidc-issuer") {
		t.Errorf("Token() without an issuer = %v", err)
	}
}

// TestBrowserSignInIgnoresStrayRequests: a request to the redirect listener that is not the provider's answer (another
// state, none, another path) is answered and ignored, and the real redirect that follows still signs the person in.
func TestBrowserSignInIgnoresStrayRequests(t *testing.T) {
	t.Parallel()
	srv := newSignInServer(t)
	p := signin.NewScreen()
	var strays []int
	src := &InteractiveSource{Issuer: srv.URL, Prompt: p, OpenBrowser: func(authURL string) error {
		redirect := redirectOf(t, authURL)
		for _, q := range []string{"?state=forged&code=stolen", "?code=stolen", "?state=forged&error=access_denied", ""} {
			strays = append(strays, get(t, redirect+q))
		}
		strays = append(strays, get(t, strings.TrimSuffix(redirect, "/auth/callback")+"/favicon.ico"))
		_, err := signin.Browse(context.Background(), http.DefaultClient, authURL, signin.Follow)
		return err
	}}
	tok, err := src.Token(t.Context(), "sigstore")
	if err != nil {
		t.Fatalf("Token() after stray requests: %v", err)
	}
	checkToken(t, tok, p)
	if want := []int{400, 400, 400, 400, 404}; !slices.Equal(strays, want) {
		t.Errorf("stray requests answered %v, want %v", strays, want)
	}
}

// TestBrowserSignInHoldsEveryLoopbackAddress: the redirect names localhost, so the listener holds its port on every
// address localhost can be (127.0.0.1 and ::1): another user of the machine cannot listen on the other one and be
// sent the code.
func TestBrowserSignInHoldsEveryLoopbackAddress(t *testing.T) {
	t.Parallel()
	srv := newSignInServer(t)
	v6 := true
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		v6 = false // no IPv6 loopback here: nobody can listen on it, and no browser reach it
	} else {
		_ = l.Close()
	}
	src := &InteractiveSource{Issuer: srv.URL, Prompt: signin.NewScreen(), OpenBrowser: func(authURL string) error {
		u, err := url.Parse(redirectOf(t, authURL))
		if err != nil {
			return err
		}
		if u.Hostname() != "localhost" {
			t.Errorf("redirect %s, want it to name localhost", u)
		}
		addrs := []string{"127.0.0.1:" + u.Port()}
		if v6 {
			addrs = append(addrs, "[::1]:"+u.Port())
		}
		for _, a := range addrs {
			if l, err := net.Listen("tcp", a); err == nil {
				_ = l.Close()
				t.Errorf("another listener took %s, the redirect's port", a)
			}
		}
		_, err = signin.Browse(context.Background(), http.DefaultClient, authURL, signin.Follow)
		return err
	}}
	if _, err := src.Token(t.Context(), "sigstore"); err != nil {
		t.Fatal(err)
	}
}

func redirectOf(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri")
}

func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
