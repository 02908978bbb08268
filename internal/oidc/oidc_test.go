package oidc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

// mint signs a token with a throwaway key; ParseClaims does not verify signatures (Fulcio does).
func mint(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func githubClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": GitHubIssuer, "sub": "repo:octo/pkg:ref:refs/heads/main", "aud": "sigstore",
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"repository": "octo/pkg", "repository_id": "123", "repository_owner": "octo", "repository_owner_id": 456,
		"workflow_ref":     "octo/pkg/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/heads/main",
		"sha":              "abc", "ref": "refs/heads/main", "event_name": "push", "run_id": "7", "run_attempt": "1",
		"runner_environment": "github-hosted",
	}
}

func TestParseClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	got, err := ParseClaims(mint(t, githubClaims(now)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Claims{
		Issuer: GitHubIssuer, Subject: "repo:octo/pkg:ref:refs/heads/main", Audience: []string{"sigstore"},
		Expiry: now.Add(5 * time.Minute), IssuedAt: now,
		Repository: "octo/pkg", RepositoryID: "123", RepositoryOwner: "octo", RepositoryOwnerID: "456",
		WorkflowRef: "octo/pkg/.github/workflows/release.yml@refs/heads/main", JobWorkflowRef: "octo/pkg/.github/workflows/release.yml@refs/heads/main",
		SHA: "abc", Ref: "refs/heads/main", EventName: "push", RunID: "7", RunAttempt: "1", RunnerEnvironment: "github-hosted",
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Second)); diff != "" {
		t.Errorf("ParseClaims (-want +got):\n%s", diff)
	}
	if !got.IsGitHubActions() {
		t.Error("IsGitHubActions = false for a workflow token")
	}
}

func TestParseClaimsMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"not a jwt", "hello"},
		{"two parts", "a.b"},
		{"garbage parts", "a.b.c"},
		{"no subject", mint(t, map[string]any{"iss": "x"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseClaims(tc.token)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseClaims(%q) error = %v, want ErrMalformed", tc.token, err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name     string
		edit     func(map[string]any)
		audience string
		want     error
	}{
		{name: "good", edit: func(map[string]any) {}},
		{name: "expired", edit: func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }, want: ErrExpired},
		{name: "expires now", edit: func(c map[string]any) { c["exp"] = now.Unix() }, want: ErrExpired},
		{name: "wrong audience", edit: func(c map[string]any) { c["aud"] = "npm" }, want: ErrWrongAudience},
		{name: "custom audience", edit: func(c map[string]any) { c["aud"] = "other" }, audience: "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := githubClaims(now)
			tc.edit(c)
			claims, err := ParseClaims(mint(t, c))
			if err != nil {
				t.Fatal(err)
			}
			err = claims.Check(tc.audience, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check() = %v, want %v", err, tc.want)
			}
		})
	}
}

// fakeRuntime answers like GitHub's ACTIONS_ID_TOKEN_REQUEST_URL: bearer request token, audience query, {"value"}.
func fakeRuntime(t *testing.T, requestToken, idToken string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, `{"message":"unexpected audience"}`, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"value": idToken})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestActionsSource(t *testing.T) {
	t.Parallel()
	srv := fakeRuntime(t, "request-secret", "the.id.token")
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-secret"}
	src := &ActionsSource{Getenv: func(k string) string { return env[k] }, Transport: srv.Client().Transport}
	got, err := src.Token(t.Context(), "sigstore")
	if err != nil || got != "the.id.token" {
		t.Fatalf("Token() = %q, %v; want the.id.token", got, err)
	}

	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong"
	_, err = src.Token(t.Context(), "sigstore")
	if err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("Token() with a refused request token = %v; want an error that does not echo the request token", err)
	}
}

func TestActionsSourceRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	ok := fakeRuntime(t, "request-secret", "the.id.token")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			http.Error(w, "<html>503 Service Unavailable</html>", http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"value":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.cut`)) // cut short: not JSON
		default:
			ok.Config.Handler.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-secret"}
	var waits []string
	src := &ActionsSource{Getenv: func(k string) string { return env[k] },
		Retry: retry.Policy{Clock: &retrytest.Clock{}, Log: func(w retry.Wait) { waits = append(waits, w.String()) }}}
	got, err := src.Token(t.Context(), "sigstore")
	if err != nil || got != "the.id.token" || calls.Load() != 3 {
		t.Fatalf("Token() = %q, %v after %d calls; want the.id.token after 3", got, err, calls.Load())
	}
	if len(waits) != 2 || !strings.HasPrefix(waits[0], "the GitHub Actions token endpoint (GET http://") ||
		!strings.Contains(waits[0], "503 Service Unavailable") || !strings.Contains(waits[1], "unreadable answer") {
		t.Errorf("waits = %q, want one line per wait naming the endpoint and the answer", waits)
	}
	for _, w := range waits {
		if strings.Contains(w, "eyJ") || strings.Contains(w, "request-secret") || strings.Contains(w, "audience=") {
			t.Errorf("a wait line shows a secret or the query: %q", w)
		}
	}
}

func TestActionsSourceGivesUpNamingTheEndpoint(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"value":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig`)) // always cut
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-secret"}
	src := &ActionsSource{Getenv: func(k string) string { return env[k] }, Retry: retry.Policy{Clock: &retrytest.Clock{}, For: time.Minute}}
	_, err := src.Token(t.Context(), "sigstore")
	if err == nil || !strings.Contains(err.Error(), "the GitHub Actions token endpoint (GET ") || !slices.Contains(remedy.Hints(err), remedy.Give(remedy.RetryFor)) ||
		strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "sig") && strings.Contains(err.Error(), "value") {
		t.Fatalf("err = %v, want the endpoint named, the retry hint, and no token", err)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		env      map[string]string
		explicit string
		terminal bool
		want     any
		wantErr  error
	}{
		{name: "explicit wins", env: map[string]string{"SIGSTORE_ID_TOKEN": "x.y.z"}, explicit: "a.b.c", want: &StaticSource{}},
		{name: "env token", env: map[string]string{"SIGSTORE_ID_TOKEN": "x.y.z", "GITHUB_ACTIONS": "true"}, want: &StaticSource{}},
		{name: "actions", env: map[string]string{"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": "http://x"}, want: &ActionsSource{}},
		{name: "actions without permission", env: map[string]string{"GITHUB_ACTIONS": "true"}, wantErr: ErrNoIDTokenPermission},
		{name: "terminal", env: map[string]string{}, terminal: true, want: &InteractiveSource{}},
		{name: "nothing", env: map[string]string{}, wantErr: ErrNoToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var signIn *InteractiveSource
			if tc.terminal {
				signIn = &InteractiveSource{Issuer: "https://issuer"}
			}
			got, err := Select(func(k string) string { return tc.env[k] }, tc.explicit, signIn, nil, retry.Policy{})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Select() error = %v, want %v", err, tc.wantErr)
			}
			if tc.want != nil && (got == nil || typeName(got) != typeName(tc.want)) {
				t.Fatalf("Select() = %T, want %T", got, tc.want)
			}
		})
	}
	if !strings.Contains(ErrNoIDTokenPermission.Error(), "permissions: id-token: write") {
		t.Errorf("the missing-permission error must say the fix, got %q", ErrNoIDTokenPermission)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *StaticSource:
		return "static"
	case *ActionsSource:
		return "actions"
	case *InteractiveSource:
		return "interactive"
	}
	return "other"
}

func TestStaticSourceFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("a.b.c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"literal", "x.y.z", "x.y.z"},
		{"file", path, "a.b.c"},
	} {
		got, err := (&StaticSource{Value: tc.value}).Token(t.Context(), "")
		if err != nil || got != tc.want {
			t.Errorf("%s: Token() = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestStaticSourceNeverPrintsTheValue: whatever was given as the token, no error shows it (a value that is neither a
// file nor a JWT may well be a token in another shape, and CI logs keep it); a path to a file that does not exist
// says so.
func TestStaticSourceNeverPrintsTheValue(t *testing.T) {
	t.Parallel()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"0123456789abcdef0123456789abcdef"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://token.actions.githubusercontent.com","sub":"repo:octo/pkg:ref:refs/heads/main",` +
		`"aud":"sigstore","repository":"octo/pkg","workflow_ref":"octo/pkg/.github/workflows/release.yml@refs/heads/main",` + strings.Repeat(`"x":"padding",`, 20) + `"sha":"abc"}`))
	sig := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 86))
	jwt := header + "." + payload + "." + sig
	dir := t.TempDir()
	tests := []struct {
		name, value string
		env         string
		want        []string
	}{
		{name: "Bearer and a JWT", value: "Bearer " + jwt, want: []string{"identity token"}},
		{name: "Bearer and a JWT with a dot after it", value: "Bearer " + jwt + ".", want: []string{"is neither a file nor a JWT", "three base64url parts"}},
		{name: "a JWT with a standard-base64 signature", value: header + "." + payload + "." + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 86)),
			want: []string{"is neither a file nor a JWT"}},
		{name: "a multi-line blob", value: "-----BEGIN ID TOKEN-----\n" + jwt[:60] + "\n" + jwt[60:] + "\n-----END ID TOKEN-----", want: []string{"is neither a file nor a JWT"}},
		{name: "the Actions endpoint's answer", value: `{"count":1,"value":"` + jwt + `"}`, want: []string{"is neither a file nor a JWT"}},
		{name: "from SIGSTORE_ID_TOKEN", env: "SIGSTORE_ID_TOKEN", value: "Bearer " + jwt + ".", want: []string{"SIGSTORE_ID_TOKEN is neither a file nor a JWT"}},
		{name: "a file that does not exist", value: filepath.Join(dir, "gone", "id-token.jwt"), want: []string{"identity token file does not exist"}},
		{name: "a relative file name that does not exist", value: "id-token.jwt", want: []string{"identity token file does not exist"}},
		{name: "a file that holds something else", value: writeFile(t, dir, "not-a-token", "Bearer "+jwt+"\n"), want: []string{"does not hold a JWT"}},
		{name: "a directory", value: dir, want: []string{"identity token file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := (&StaticSource{Value: tc.value, Env: tc.env}).Token(t.Context(), "")
			if err == nil {
				_, err = ParseClaims(tok)
			}
			if err == nil {
				t.Fatal("want an error")
			}
			msg := remedy.Text(err, remedy.Flag)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("err = %q, want it to say %q", msg, w)
				}
			}
			for _, secret := range []string{tc.value, jwt} {
				for i := 0; i+8 <= len(secret); i++ {
					if strings.Contains(msg, secret[i:i+8]) {
						t.Fatalf("err = %q shows %q of the value", msg, secret[i:i+8])
					}
				}
			}
			if tc.env == "" && strings.Contains(msg, "is neither") && !strings.HasSuffix(msg, "(--identity-token)") {
				t.Errorf("err = %q, want the setting to change named", msg)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
