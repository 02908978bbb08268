//go:build e2e

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/faultproxy"
)

// faultStack is the local stack with a fault proxy in front of each service waxseal calls while signing.
type faultStack struct {
	fulcio, rekor1, rekor2, tsa, token *faultproxy.Proxy
	configV1, configV2, configV2Only   string // signing configs naming the proxies
	tokenURL                           string // ACTIONS_ID_TOKEN_REQUEST_URL through the proxy
}

func newFaultStack(t *testing.T) *faultStack {
	t.Helper()
	start := func(upstream string) *faultproxy.Proxy {
		p, err := faultproxy.Start(upstream)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	tokenURL, err := url.Parse(stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL"))
	if err != nil {
		t.Fatal(err)
	}
	fs := &faultStack{
		fulcio: start(stackVar(t, "WAXSEAL_STACK_FULCIO_URL")),
		rekor1: start(stackVar(t, "WAXSEAL_STACK_REKOR_V1_URL")),
		rekor2: start(stackVar(t, "WAXSEAL_STACK_REKOR_V2_URL")),
		tsa:    start(stackVar(t, "WAXSEAL_STACK_TSA_URL")),
		token:  start(tokenURL.Scheme + "://" + tokenURL.Host),
	}
	proxied := *tokenURL
	proxied.Host = strings.TrimPrefix(fs.token.URL(), "http://")
	fs.tokenURL = proxied.String()
	replace := strings.NewReplacer(
		stackVar(t, "WAXSEAL_STACK_FULCIO_URL"), fs.fulcio.URL(),
		stackVar(t, "WAXSEAL_STACK_REKOR_V1_URL"), fs.rekor1.URL(),
		stackVar(t, "WAXSEAL_STACK_REKOR_V2_URL"), fs.rekor2.URL(),
		stackVar(t, "WAXSEAL_STACK_TSA_URL"), fs.tsa.URL(),
	)
	dir := t.TempDir()
	for _, c := range []struct {
		dst *string
		src string
	}{
		{&fs.configV1, stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V1")},
		{&fs.configV2, stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V2")},
		{&fs.configV2Only, stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V2_ONLY")},
	} {
		raw, err := os.ReadFile(c.src)
		if err != nil {
			t.Fatal(err)
		}
		*c.dst = filepath.Join(dir, filepath.Base(c.src))
		if err := os.WriteFile(*c.dst, []byte(replace.Replace(string(raw))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

func (fs *faultStack) all() []*faultproxy.Proxy {
	return []*faultproxy.Proxy{fs.fulcio, fs.rekor1, fs.rekor2, fs.tsa, fs.token}
}

func jsonErr(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg})
	return string(b)
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

const htmlErrorPage = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"

// TestFaultsE2E signs one package with provenance through a fault proxy in front of each real service of the local
// stack, and checks each row either survives with bundles that verify, or fails clean: an error naming the service,
// nothing written, and the token nowhere in the output. Waits are shortened (tries after 50-500 ms instead of 1-30
// s, a 5 s limit per try) and budgets set per row with --retry-for, so outages last seconds, not minutes.
func TestFaultsE2E(t *testing.T) {
	trustedRoot := stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	fs := newFaultStack(t)
	type row struct {
		service  string
		fault    string
		proxy    *faultproxy.Proxy
		rules    []faultproxy.Rule
		v1       bool          // sign with the Rekor v1 profile (default: Rekor v2, then Rekor v1 for provenance)
		v2Only   bool          // sign with a config that lists no Rekor v1 log
		retryFor time.Duration // default 60s
		// wantFail is a substring of the final error; empty means the run must survive.
		wantFail string
		// wantWait is a substring of a wait line the run must log.
		wantWait string
		// minHits is how many requests the proxy must have seen (to prove a retry or a re-sign happened).
		minHits int
	}
	post := func(path string, n int, f faultproxy.Fault) []faultproxy.Rule {
		return []faultproxy.Rule{{Method: http.MethodPost, Path: path, Times: n, Fault: f}}
	}
	outage := func(path string, d time.Duration, f faultproxy.Fault) []faultproxy.Rule {
		return []faultproxy.Rule{{Path: path, For: d, Fault: f}}
	}
	const rekor2Path, rekor1Path, fulcioPath, tsaPath = "/api/v2/log/entries", "/api/v1/log/entries", "/api/v2/signingCert", "/api/v1/timestamp"
	rows := []row{
		{service: "Rekor v2", fault: "one 503, JSON body (as rekor-tiles sends)", proxy: fs.rekor2,
			rules:    post(rekor2Path, 1, faultproxy.Fault{Kind: faultproxy.Answer, Status: 503, Header: jsonHeader, Body: jsonErr(14, "service unavailable")}),
			wantWait: "Rekor v2 (POST http://", minHits: 2},
		{service: "Rekor v2", fault: "one 429, JSON body, Retry-After: 1", proxy: fs.rekor2,
			rules: post(rekor2Path, 1, faultproxy.Fault{Kind: faultproxy.Answer, Status: 429, Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}},
				Body: jsonErr(8, "too many requests")}), wantWait: "answered 429 Too Many Requests", minHits: 2},
		{service: "Rekor v2", fault: "one 503, plain text", proxy: fs.rekor2,
			rules: post(rekor2Path, 1, faultproxy.Fault{Kind: faultproxy.Answer, Status: 503, Body: "upstream connect error"}), minHits: 2},
		{service: "Rekor v2", fault: "answer cut short after the entry was logged", proxy: fs.rekor2,
			rules: post(rekor2Path, 1, faultproxy.Fault{Kind: faultproxy.Cut}), wantWait: "an answer cut short", minHits: 3},
		{service: "Rekor v2", fault: "connection reset", proxy: fs.rekor2,
			rules: post(rekor2Path, 1, faultproxy.Fault{Kind: faultproxy.Reset}), minHits: 2},
		{service: "Rekor", fault: "answer cut short after the entry was logged (409 on the retry)", proxy: fs.rekor1, v1: true,
			rules: post(rekor1Path, 1, faultproxy.Fault{Kind: faultproxy.Cut}), wantWait: "Rekor (POST http://", minHits: 3},
		{service: "Rekor", fault: "answer lost after the entry was logged", proxy: fs.rekor1, v1: true,
			rules: post(rekor1Path, 1, faultproxy.Fault{Kind: faultproxy.Lost}), minHits: 3},
		{service: "Rekor", fault: "outage of 8 s (connection resets)", proxy: fs.rekor1, v1: true,
			rules: outage(rekor1Path, 8*time.Second, faultproxy.Fault{Kind: faultproxy.Reset}), minHits: 3},
		{service: "Rekor", fault: "outage longer than a 4 s --retry-for", proxy: fs.rekor1, v1: true, retryFor: 4 * time.Second,
			rules:    outage(rekor1Path, time.Hour, faultproxy.Fault{Kind: faultproxy.Answer, Status: 503, Body: "down for maintenance"}),
			wantFail: `Rekor (POST http://`},
		{service: "Fulcio", fault: "20 answers of 503", proxy: fs.fulcio,
			rules: post(fulcioPath, 20, faultproxy.Fault{Kind: faultproxy.Answer, Status: 503, Body: "busy"}), minHits: 21},
		{service: "Fulcio", fault: "an HTML error page (502)", proxy: fs.fulcio,
			rules:    post(fulcioPath, 1, faultproxy.Fault{Kind: faultproxy.Answer, Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: htmlErrorPage}),
			wantWait: "Fulcio (POST http://", minHits: 2},
		{service: "Fulcio", fault: "an HTML page with 200", proxy: fs.fulcio,
			rules: post(fulcioPath, 1, faultproxy.Fault{Kind: faultproxy.Garbage, Body: htmlErrorPage}), wantWait: "unreadable answer", minHits: 2},
		{service: "Fulcio", fault: "HTML error pages past a 3 s --retry-for", proxy: fs.fulcio, retryFor: 3 * time.Second,
			rules:    post(fulcioPath, 0, faultproxy.Fault{Kind: faultproxy.Answer, Status: 502, Body: htmlErrorPage}),
			wantFail: `Fulcio (POST http://`},
		{service: "Fulcio", fault: "401: the request is wrong, not retried", proxy: fs.fulcio,
			rules:    post(fulcioPath, 0, faultproxy.Fault{Kind: faultproxy.Answer, Status: 401, Header: jsonHeader, Body: `{"code":16,"message":"There was an error processing the identity token"}`}),
			wantFail: "Fulcio refused the identity token"},
		{service: "timestamp authority", fault: "an HTML page with 200", proxy: fs.tsa,
			rules: post(tsaPath, 1, faultproxy.Fault{Kind: faultproxy.Garbage, Body: htmlErrorPage}), wantWait: "the timestamp authority (POST http://", minHits: 2},
		{service: "timestamp authority", fault: "answer cut short", proxy: fs.tsa,
			rules: post(tsaPath, 1, faultproxy.Fault{Kind: faultproxy.Cut}), wantWait: "an answer cut short", minHits: 2},
		{service: "timestamp authority", fault: "garbage past a 3 s --retry-for", proxy: fs.tsa, retryFor: 3 * time.Second,
			rules: post(tsaPath, 0, faultproxy.Fault{Kind: faultproxy.Garbage, Body: htmlErrorPage}), wantFail: "the timestamp authority (POST http://"},
		{service: "Actions token endpoint", fault: "one 503", proxy: fs.token,
			rules:    []faultproxy.Rule{{Method: http.MethodGet, Times: 1, Fault: faultproxy.Fault{Kind: faultproxy.Answer, Status: 503}}},
			wantWait: "the GitHub Actions token endpoint (GET http://", minHits: 2},
		{service: "Actions token endpoint", fault: "token answers cut short past a 3 s --retry-for", proxy: fs.token, retryFor: 3 * time.Second,
			rules:    []faultproxy.Rule{{Method: http.MethodGet, Fault: faultproxy.Fault{Kind: faultproxy.Cut}}},
			wantFail: "the GitHub Actions token endpoint (GET http://"},
		{service: "Fulcio", fault: "a hung connection (5 s per try)", proxy: fs.fulcio,
			rules: post(fulcioPath, 1, faultproxy.Fault{Kind: faultproxy.Hang}), wantWait: "failed: no answer within 5s", minHits: 2},
		{service: "signing config", fault: "lists no Rekor v1 log: refused before anything is logged", proxy: fs.rekor2, v2Only: true,
			wantFail: "lists no Rekor v1 log"},
		{service: "Rekor v2", fault: "a slow answer (2 s)", proxy: fs.rekor2,
			rules: post(rekor2Path, 1, faultproxy.Fault{Kind: faultproxy.Slow, Delay: 2 * time.Second}), minHits: 1},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| service | fault | outcome | time | requests the proxy saw |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		t.Run(r.service+"/"+r.fault, func(t *testing.T) {
			for _, p := range fs.all() {
				p.Clear()
			}
			r.proxy.Add(r.rules...)
			config := fs.configV2
			switch {
			case r.v1:
				config = fs.configV1
			case r.v2Only:
				config = fs.configV2Only
			}
			retryFor := r.retryFor
			if retryFor == 0 {
				retryFor = time.Minute
			}
			tarball := copyPackages(t)[0]
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": fs.tokenURL, "npm_config_registry": testRegistry(),
				"ACTIONS_ID_TOKEN_REQUEST_TOKEN": stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
			}
			var stdout, stderr bytes.Buffer
			e := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] },
				Retry: retry.Policy{WaitMin: 50 * time.Millisecond, WaitMax: 500 * time.Millisecond, AttemptTimeout: 5 * time.Second}}
			began := time.Now()
			err := e.Run(t.Context(), []string{"sign", "--trusted-root", trustedRoot, "--signing-config", config,
				"--retry-for", retryFor.String(), tarball})
			took := time.Since(began)
			said := fmt.Sprint(err) + "\n" + stdout.String() + stderr.String()
			if tok := fetchToken(t); strings.Contains(said, tok) || strings.Contains(said, env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]) {
				t.Error("the output shows a token")
			}
			hits := len(r.proxy.Log())
			outcome := "survived, bundles verify"
			if r.wantFail == "" {
				if err != nil {
					t.Fatalf("sign failed: %v\n%s", err, stderr.String())
				}
				if out, verr := verifyCLI(t, tarball); verr != nil {
					t.Fatalf("the written bundles do not verify: %v\n%s", verr, out)
				}
			} else {
				if err == nil {
					t.Fatalf("sign survived, want a failure naming %q", r.wantFail)
				}
				// The final error, not one of the wait lines before it, must name the service.
				final := finalLine(said, r.wantFail)
				if final == "" {
					t.Fatalf("sign failed with %v\nstderr:\n%s\nwant its final error to name %q", err, stderr.String(), r.wantFail)
				}
				for _, suffix := range []string{".sigstore.json", ".provenance.sigstore.json"} {
					if _, serr := os.Stat(tarball + suffix); !os.IsNotExist(serr) {
						t.Errorf("%s was written by a failed run", filepath.Base(tarball+suffix))
					}
				}
				outcome = "failed clean: " + firstLine(final, 300)
			}
			if r.wantWait != "" && !strings.Contains(stderr.String(), r.wantWait) {
				t.Errorf("stderr has no wait line with %q:\n%s", r.wantWait, stderr.String())
			}
			if hits < r.minHits {
				t.Errorf("the proxy saw %d requests, want at least %d", hits, r.minHits)
			}
			if r.v2Only {
				for _, p := range []*faultproxy.Proxy{fs.fulcio, fs.rekor1, fs.rekor2, fs.tsa} {
					if n := len(p.Log()); n != 0 {
						t.Errorf("a refused run sent %d request(s) to %s", n, p.URL())
					}
				}
			}
			fmt.Fprintf(&table, "| %s | %s | %s | %.1f s | %d |\n", r.service, r.fault, strings.ReplaceAll(outcome, "|", `\|`), took.Seconds(), hits)
		})
	}
	t.Logf("fault table as measured:\n%s", table.String())
	if p := os.Getenv("WAXSEAL_FAULT_TABLE"); p != "" {
		_ = os.WriteFile(p, []byte(table.String()), 0o644)
	}
}

// verifyCLI verifies a tarball signed on the stack with the stack's identity.
func verifyCLI(t *testing.T, tarball string) (string, error) {
	t.Helper()
	out, _, err := runCLI(t, func(string) string { return "" }, "verify", tarball, "--trusted-root", stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"),
		"--repository", "waxseal/waxseal", "--certificate-oidc-issuer", stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER"))
	return out, err
}

// fetchToken returns the header segment of the tokens the stack's issuer mints, to check outputs never show one.
func fetchToken(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL")+"&audience=sigstore", nil)
	req.Header.Set("Authorization", "Bearer "+stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var v struct{ Value string }
	if json.Unmarshal(b, &v) != nil || v.Value == "" {
		t.Fatalf("minting a token: %s", b)
	}
	// Every token the stack mints starts with the same header segment: a leak of any of them would show it.
	return v.Value[:strings.Index(v.Value, ".")+1]
}

// finalLine returns the last line of s that contains sub and is not a retry's wait line.
func finalLine(s, sub string) string {
	lines := strings.Split(s, "\n")
	for _, l := range slices.Backward(lines) {
		if strings.Contains(l, sub) && !strings.Contains(l, "trying again in") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// TestCancelDuringAnOutageE2E: the waxseal binary, waiting out a Rekor outage, stops at once on SIGINT (as a
// cancelled job's runner sends) and writes no bundle.
func TestCancelDuringAnOutageE2E(t *testing.T) {
	fs := newFaultStack(t)
	fs.rekor1.Add(faultproxy.Rule{Path: "/api/v1/log/entries", For: time.Hour, Fault: faultproxy.Fault{Kind: faultproxy.Answer, Status: 503}})
	bin := filepath.Join(t.TempDir(), "waxseal")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/waxseal")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tarball := copyPackages(t)[0]
	cmd := exec.CommandContext(t.Context(), bin, "sign", "--trusted-root", stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"),
		"--signing-config", fs.configV1, "--retry-for", "10m", tarball)
	cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL="+fs.tokenURL, "npm_config_registry="+testRegistry())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer // written by the reader until done is closed; read by the test after that, or under mu
	var mu sync.Mutex
	waiting, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		signalled := false
		for {
			n, err := stderr.Read(buf)
			mu.Lock()
			log.Write(buf[:n])
			seen := strings.Contains(log.String(), "trying again in")
			mu.Unlock()
			if !signalled && seen {
				signalled = true
				close(waiting)
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-waiting:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("no wait line within a minute:\n%s", log.String())
	}
	sent := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	took := time.Since(sent)
	if err == nil {
		t.Fatalf("waxseal sign succeeded after SIGINT:\n%s", log.String())
	}
	if took > 5*time.Second {
		t.Errorf("waxseal took %v to stop after SIGINT", took)
	}
	for _, suffix := range []string{".sigstore.json", ".provenance.sigstore.json"} {
		if _, serr := os.Stat(tarball + suffix); !os.IsNotExist(serr) {
			t.Errorf("%s was written by a cancelled run", filepath.Base(tarball+suffix))
		}
	}
	t.Logf("stopped %v after SIGINT:\n%s", took.Round(time.Millisecond), lastLines(log.String(), 3))
}
