package retry

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/remedy"
)

// fakeClock advances only when slept on, and records every wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Duration
	for _, d := range c.slept {
		t += d
	}
	return t
}

// script answers the n-th request with the n-th handler, repeating the last one.
type script struct {
	mu     sync.Mutex
	steps  []http.HandlerFunc
	n      int
	bodies []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := min(s.n, len(s.steps)-1)
	s.n++
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	s.steps[i](w, r)
}

func (s *script) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// scripted starts a server that answers with steps (see script) and returns it and its URL.
func scripted(t *testing.T, steps ...http.HandlerFunc) (*script, string) {
	t.Helper()
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func status(code int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// cut promises a longer body than it sends, then drops the connection.
func cut(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"logIndex\":")
	_ = buf.Flush()
	_ = conn.Close()
}

// hang never answers within the test's attempt timeout.
func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

const ok = `{"ok":true}`

func TestTransport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		svc       Service
		method    string
		wantCalls int
		wantSlept []time.Duration // exact waits, when deterministic
		wantErr   string          // substring of the final error; empty means success
		transient bool
		status    int
	}{
		{name: "503 then success", steps: []http.HandlerFunc{status(503, "busy"), status(200, ok)},
			wantCalls: 2, wantSlept: []time.Duration{time.Second}},
		{name: "429 JSON body with Retry-After seconds", steps: []http.HandlerFunc{
			status(429, `{"code":8,"message":"rate limited"}`, "Content-Type", "application/json", "Retry-After", "7"), status(200, ok)},
			wantCalls: 2, wantSlept: []time.Duration{7 * time.Second}},
		{name: "503 Retry-After HTTP-date", steps: []http.HandlerFunc{
			status(503, "", "Retry-After", time.Date(2026, 12, 2, 12, 1, 30, 0, time.UTC).Format(http.TimeFormat)), status(200, ok)},
			wantCalls: 2, wantSlept: []time.Duration{90 * time.Second}},
		{name: "408 is retried", steps: []http.HandlerFunc{status(408, ""), status(200, ok)}, wantCalls: 2},
		{name: "499 from a cancelled server-side call is retried", steps: []http.HandlerFunc{status(499, `{"code":1,"message":"add entry: await: context canceled"}`), status(201, ok)}, wantCalls: 2},
		{name: "HTML error page with 502", steps: []http.HandlerFunc{status(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"), status(200, ok)},
			wantCalls: 2},
		{name: "HTML page with 200 is unreadable", svc: Service{Valid: JSON},
			steps: []http.HandlerFunc{status(200, "<html>maintenance</html>"), status(200, ok)}, wantCalls: 2},
		{name: "cut answer is retried", steps: []http.HandlerFunc{cut, status(201, ok)}, method: http.MethodPost, wantCalls: 2},
		{name: "400 is final", steps: []http.HandlerFunc{status(400, `{"message":"bad request"}`)}, wantCalls: 1,
			wantErr: `answered 400 Bad Request: "{\"message\":\"bad request\"}"`, status: 400},
		{name: "401 is final", steps: []http.HandlerFunc{status(401, "no")}, wantCalls: 1, wantErr: "answered 401 Unauthorized", status: 401},
		{name: "501 is final", steps: []http.HandlerFunc{status(501, "")}, wantCalls: 1, wantErr: "501 Not Implemented", status: 501},
		{name: "409 passed to the client", svc: Service{Pass: func(c int) bool { return c == 409 }},
			steps: []http.HandlerFunc{status(409, `{"code":409}`)}, wantCalls: 1},
		{name: "outage longer than the budget", steps: []http.HandlerFunc{status(503, "down")},
			wantErr: "waxseal tried", transient: true, status: 503},
		{name: "Retry-After past the budget stops at once", steps: []http.HandlerFunc{status(429, "", "Retry-After", "3600")},
			wantCalls: 1, wantErr: "its retry budget is 5m0s", transient: true, status: 429},
		{name: "hung try times out and is retried", steps: []http.HandlerFunc{hang, status(200, ok)}, wantCalls: 2},
		{name: "hung every time names the limit", steps: []http.HandlerFunc{hang}, wantErr: "could not be reached: no answer within 200ms", transient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, base := scripted(t, tc.steps...)
			clock := newFakeClock()
			var waits []Wait
			var mu sync.Mutex
			svc := tc.svc
			svc.Name = "Fulcio"
			p := Policy{Clock: clock, AttemptTimeout: 200 * time.Millisecond, Log: func(w Wait) {
				mu.Lock()
				waits = append(waits, w)
				mu.Unlock()
			}}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(t.Context(), method, base+"/api/v2/signingCert?token=secret", strings.NewReader("payload"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := p.Client(nil, svc).Do(req)
			if tc.wantCalls > 0 && s.count() != tc.wantCalls {
				t.Errorf("server saw %d calls, want %d", s.count(), tc.wantCalls)
			}
			if tc.wantSlept != nil && !equalDurations(clock.slept, tc.wantSlept) {
				t.Errorf("slept %v, want %v", clock.slept, tc.wantSlept)
			}
			if len(waits) != len(clock.slept) {
				t.Errorf("logged %d waits, slept %d times", len(waits), len(clock.slept))
			}
			for _, b := range s.sent() {
				if b != "payload" {
					t.Errorf("a try sent body %q, want the same payload every time", b)
				}
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				defer func() { _ = resp.Body.Close() }()
				if b, _ := io.ReadAll(resp.Body); resp.StatusCode/100 == 2 && string(b) != ok {
					t.Errorf("body = %q, want %q", b, ok)
				}
				return
			}
			if err == nil {
				_ = resp.Body.Close()
				t.Fatalf("succeeded with %d, want error containing %q", resp.StatusCode, tc.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v, want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || e.Transient != tc.transient || e.Status != tc.status {
				t.Errorf("err = %q (transient %v, status %d), want %q (transient %v, status %d)", err, e.Transient, e.Status, tc.wantErr, tc.transient, tc.status)
			}
			if !strings.HasPrefix(e.Error(), "Fulcio (") || strings.Contains(Cause(err).Error(), "secret") {
				t.Errorf("err = %q: must name the service first and never the URL's query", err)
			}
			if clock.total() > p.withDefaults().For {
				t.Errorf("waited %v, more than the %v budget", clock.total(), p.withDefaults().For)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBackoffGrowsWithJitterAndIsBounded(t *testing.T) {
	t.Parallel()
	s := &script{steps: []http.HandlerFunc{status(503, "")}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	p := Policy{Clock: clock, For: 10 * time.Minute}
	resp, err := p.Client(nil, Service{Name: "Rekor"}).Get(srv.URL)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("want failure")
	}
	if len(clock.slept) < 20 {
		t.Fatalf("slept %d times over 10m, want the budget used by many capped waits", len(clock.slept))
	}
	for i, d := range clock.slept {
		ceil := 30 * time.Second
		if i < 5 {
			ceil = time.Second << i
		}
		if d < time.Second || d > ceil {
			t.Errorf("wait %d = %v, want within [1s, %v]", i, d, ceil)
		}
	}
	if total := clock.total(); total > 10*time.Minute || total < 9*time.Minute {
		t.Errorf("total wait %v, want close to and within the 10m budget", total)
	}
}

func TestConnectionRefusedIsRetriedThenNamed(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	clock := newFakeClock()
	p := Policy{Clock: clock, For: time.Minute}
	resp, err := p.Client(nil, Service{Name: "the timestamp authority", Hint: "check https://status.sigstore.dev"}).Get("http://" + addr + "/api/v1/timestamp")
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("want failure")
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || !e.Transient || e.Tries < 3 {
		t.Fatalf("err = %v, want a transient *Error after several tries", err)
	}
	for _, want := range []string{"the timestamp authority (GET http://" + addr + "/api/v1/timestamp) could not be reached", "connection refused",
		"check https://status.sigstore.dev, then re-run, or give it longer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	// The front ends name the setting: --retry-for, or the retry-for input.
	if got := remedy.Explain(err, remedy.Flag).Error(); !strings.HasSuffix(got, "give it longer (--retry-for)") {
		t.Errorf("explained for the command line: %q, want it to end with the --retry-for remedy", got)
	}
}

func TestCancelStopsAtOnce(t *testing.T) {
	t.Parallel()
	s := &script{steps: []http.HandlerFunc{status(503, "")}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	// The real clock: a cancel during a real wait must end it.
	p := Policy{WaitMin: time.Hour, WaitMax: time.Hour, For: 24 * time.Hour, Log: func(Wait) { cancel() }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	resp, err := p.Client(nil, Service{Name: "Rekor"}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v after cancel", d)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a cancelled request must not be reported as the service's failure: %v", err)
	}
}

func TestDeadlineBeforeNextTryStops(t *testing.T) {
	t.Parallel()
	s := &script{steps: []http.HandlerFunc{status(503, "", "Retry-After", "120")}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(time.Minute))
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := Policy{Clock: clock}.Client(nil, Service{Name: "Rekor"}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	var e *Error
	if !errors.As(err, &e) || s.count() != 1 || len(clock.slept) != 0 || e.Budget == 0 {
		t.Errorf("err = %v after %d calls and waits %v, want one call and a budget error", err, s.count(), clock.slept)
	}
}

func TestNonReplayableBodyIsNotRetried(t *testing.T) {
	t.Parallel()
	s := &script{steps: []http.HandlerFunc{status(503, ""), status(200, ok)}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, io.NopCloser(strings.NewReader("x")))
	req.GetBody = nil
	resp, err := Policy{Clock: newFakeClock()}.Client(nil, Service{Name: "GitHub"}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if s.count() != 1 || err == nil {
		t.Errorf("calls = %d, err = %v: a body that cannot be re-sent must not be retried", s.count(), err)
	}
}

func TestTokensNeverInMessages(t *testing.T) {
	t.Parallel()
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vciJ9.c2lnbmF0dXJl"
	s := &script{steps: []http.HandlerFunc{status(401, `{"error":"token `+jwt+` expired, ghs_abcdefghijklmnopqrstuvwxyz0123"}`)}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := Policy{Clock: newFakeClock()}.Client(nil, Service{Name: "Fulcio"}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("want failure")
	}
	if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "ghs_") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %q, want tokens redacted", err)
	}
}

func TestStreamLeavesBodyUnread(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	s := &script{steps: []http.HandlerFunc{status(500, ""), status(200, big)}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	resp, err := Policy{Clock: newFakeClock()}.Client(nil, Service{Name: "GitHub", Stream: true}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if _, ok := resp.Body.(*cancelOnClose); !ok {
		t.Errorf("body is %T, want the stream itself", resp.Body)
	}
	n, err := io.Copy(io.Discard, bufio.NewReader(resp.Body))
	if err != nil || n != int64(len(big)) {
		t.Errorf("read %d, %v", n, err)
	}
}

func TestConcurrentRequestsKeepTheirOwnState(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every odd call fails: each request sees at most a failure or two before it gets through.
		if calls.Add(1)%2 == 1 {
			w.WriteHeader(503)
			return
		}
		_, _ = io.WriteString(w, r.URL.Query().Get("n"))
	}))
	t.Cleanup(srv.Close)
	c := Policy{Clock: newFakeClock()}.Client(nil, Service{Name: "Rekor"})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			resp, err := c.Get(srv.URL + "/?n=" + string(rune('a'+i%26)))
			if err != nil {
				t.Error(err)
				return
			}
			defer func() { _ = resp.Body.Close() }()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != string(rune('a'+i%26)) {
				t.Errorf("request %d got %q", i, b)
			}
		})
	}
	wg.Wait()
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"12", 12 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"99999999999", 24 * time.Hour, true},
	} {
		got, ok := RetryAfter(http.Header{"Retry-After": {tc.v}}, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// TestOversizedAnswerIsFinal: an answer larger than the service's limit is not a failing service, and retrying it
// only burns the budget (the npm registry's 21 MB document for `next` used to be retried for five minutes). Each
// service sets its own limit.
func TestOversizedAnswerIsFinal(t *testing.T) {
	t.Parallel()
	jsonOf := func(n int) string { return `"` + strings.Repeat("x", n-2) + `"` }
	tests := []struct {
		name      string
		svc       Service
		steps     []http.HandlerFunc
		wantCalls int
		wantLen   int    // the body's length on success
		wantErr   string // empty: success
	}{
		{name: "past the default limit", svc: Service{Valid: JSON}, steps: []http.HandlerFunc{status(200, jsonOf(17<<20))},
			wantCalls: 1, wantErr: "answered 200 OK with more than 4 MiB, the most waxseal reads of one answer from the npm registry"},
		{name: "past the service's own limit", svc: Service{Valid: JSON, MaxBody: 1024}, steps: []http.HandlerFunc{status(200, jsonOf(1025))},
			wantCalls: 1, wantErr: "with more than 1024 bytes"},
		{name: "at the service's own limit", svc: Service{Valid: JSON, MaxBody: 1024}, steps: []http.HandlerFunc{status(200, jsonOf(1024))},
			wantCalls: 1, wantLen: 1024},
		{name: "a limit above the default", svc: Service{Valid: JSON, MaxBody: 32 << 20}, steps: []http.HandlerFunc{status(200, jsonOf(21<<20))},
			wantCalls: 1, wantLen: 21 << 20},
		{name: "never handed to a client that takes final statuses", svc: Service{MaxBody: 16, Pass: func(int) bool { return true }},
			steps: []http.HandlerFunc{status(200, jsonOf(17))}, wantCalls: 1, wantErr: "with more than 16 bytes"},
		{name: "a large error page is still judged by its status", svc: Service{MaxBody: 16},
			steps: []http.HandlerFunc{status(503, jsonOf(17)), status(200, ok)}, wantCalls: 2, wantLen: len(ok)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, base := scripted(t, tc.steps...)
			clock := newFakeClock()
			svc := tc.svc
			svc.Name = "the npm registry"
			resp, err := Policy{Clock: clock}.Client(nil, svc).Get(base + "/next")
			if s.count() != tc.wantCalls {
				t.Errorf("server saw %d calls, want %d", s.count(), tc.wantCalls)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				defer func() { _ = resp.Body.Close() }()
				if b, _ := io.ReadAll(resp.Body); len(b) != tc.wantLen {
					t.Errorf("body of %d bytes, want the whole answer of %d", len(b), tc.wantLen)
				}
				return
			}
			if err == nil {
				_ = resp.Body.Close()
				t.Fatal("want failure")
			}
			var e *Error
			if !errors.As(err, &e) || e.Transient || len(clock.slept) != 0 || e.Limit == 0 {
				t.Fatalf("err = %v after waits %v, want a final error naming the limit", err, clock.slept)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "failing or overloaded") || len(err.Error()) > 500 {
				t.Errorf("err = %q, want %q and no outage", err, tc.wantErr)
			}
			if remedy.Hints(err) != nil {
				t.Errorf("hints %v: giving it longer cannot help", remedy.Hints(err))
			}
		})
	}
}
