package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upstream counts what reaches the real service and answers with a fixed JSON body.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`","body":"`+string(b)+`","padding":"0123456789"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		fault        Fault
		wantStatus   int    // 0: the request fails
		wantBody     string // substring
		wantUpstream int32
	}{
		{name: "forwarded untouched", fault: Fault{Kind: Answer, Status: 503}, wantStatus: 201, wantBody: `"body":"hello"`, wantUpstream: 1},
		{name: "answer", fault: Fault{Kind: Answer, Status: 429, Header: http.Header{"Retry-After": {"3"}}, Body: `{"code":8}`},
			wantStatus: 429, wantBody: `{"code":8}`},
		{name: "reset", fault: Fault{Kind: Reset}},
		{name: "hang", fault: Fault{Kind: Hang}},
		{name: "slow", fault: Fault{Kind: Slow, Delay: 50 * time.Millisecond}, wantStatus: 201, wantUpstream: 1},
		{name: "cut after the work", fault: Fault{Kind: Cut}, wantUpstream: 1},
		{name: "garbage after the work", fault: Fault{Kind: Garbage, Body: "<html>oops</html>"}, wantStatus: 201, wantBody: "<html>oops</html>", wantUpstream: 1},
		{name: "lost after the work", fault: Fault{Kind: Lost}, wantUpstream: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up, n := upstream(t)
			p, err := Start(up.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			path := "/api/v1/x"
			if tc.name == "forwarded untouched" {
				path = "/other" // the rule below does not match
			}
			p.Add(Rule{Method: http.MethodPost, Path: "/api/", Times: 1, Fault: tc.fault})
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+path, strings.NewReader("hello"))
			resp, err := http.DefaultClient.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
			}
			if tc.wantStatus == 0 {
				if err == nil {
					t.Fatalf("got %d %q, want the request to fail", resp.StatusCode, body)
				}
				if tc.fault.Kind == Hang && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("hang: err = %v, want the client's deadline", err)
				}
			} else if err != nil || resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("got %v %q, want %d with %q", err, body, tc.wantStatus, tc.wantBody)
			}
			if got := n.Load(); got != tc.wantUpstream {
				t.Errorf("upstream saw %d requests, want %d", got, tc.wantUpstream)
			}
		})
	}
}

func TestTimesAndOutage(t *testing.T) {
	t.Parallel()
	up, n := upstream(t)
	p, err := Start(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	status := func() int {
		resp, err := http.Post(p.URL()+"/x", "text/plain", strings.NewReader("b"))
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	p.Add(Rule{Times: 2, Fault: Fault{Kind: Answer, Status: 502}})
	if got := []int{status(), status(), status()}; got[0] != 502 || got[1] != 502 || got[2] != 201 {
		t.Errorf("Times 2: statuses %v, want 502 502 201", got)
	}
	p.Clear()
	p.Add(Rule{For: 200 * time.Millisecond, Fault: Fault{Kind: Answer, Status: 503}})
	start := time.Now()
	for status() == 503 {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the outage never ended")
		}
		time.Sleep(20 * time.Millisecond) // polling the outage's end, not waiting for a fixed time
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("the outage ended after %v, want 200ms", d)
	}
	if p.Faults() < 1 || n.Load() < 2 {
		t.Errorf("faults %d, upstream %d", p.Faults(), n.Load())
	}
}
