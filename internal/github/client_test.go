package github_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/githubtest"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

const testToken = githubtest.Token

var newTestClient = githubtest.New

func TestRetries(t *testing.T) {
	t.Parallel()
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	start := (&retrytest.Clock{}).Now() // every test clock starts here
	type span struct{ lo, hi time.Duration }
	exactly := func(d time.Duration) span { return span{d, d} }
	tests := []struct {
		name      string
		faults    []githubfake.Fault
		ctxWait   time.Duration // a deadline for the call; 0 for none
		wantSlept []span
		wantErr   bool
		wantSpent bool // the retry budget (or the deadline) ended it
		wantText  string
		wantIs    error
	}{
		{name: "5xx backs off", faults: []githubfake.Fault{{Status: 502, Times: 2}},
			wantSlept: []span{exactly(time.Second), {time.Second, 2 * time.Second}}},
		{name: "connection reset", faults: []githubfake.Fault{{Status: 0}}, wantSlept: []span{exactly(time.Second)}},
		{name: "secondary rate limit 403 Retry-After", wantSlept: []span{exactly(7 * time.Second)}, faults: []githubfake.Fault{{Status: 403,
			Header: http.Header{"Retry-After": {"7"}, "Content-Type": {"application/json"}}, Body: secondary}}},
		{name: "secondary rate limit 403 without headers waits a minute", wantSlept: []span{{time.Minute, 66 * time.Second}},
			faults: []githubfake.Fault{{Status: 403, Header: http.Header{"Content-Type": {"application/json"}}, Body: secondary}}},
		{name: "secondary rate limit twice waits longer", wantSlept: []span{{time.Minute, 66 * time.Second}, {2 * time.Minute, 132 * time.Second}},
			faults: []githubfake.Fault{{Status: 403, Times: 2, Header: http.Header{"Content-Type": {"application/json"}}, Body: secondary}}},
		{name: "429 Retry-After", faults: []githubfake.Fault{{Status: 429, Header: http.Header{"Retry-After": {"3"}}}}, wantSlept: []span{exactly(3 * time.Second)}},
		{name: "429 without headers waits a minute", faults: []githubfake.Fault{{Status: 429}}, wantSlept: []span{{time.Minute, 66 * time.Second}}},
		{name: "primary rate limit waits for x-ratelimit-reset", faults: []githubfake.Fault{{Status: 403, Header: http.Header{
			"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(start.Add(42*time.Second).Unix(), 10)}}, Body: `{"message":"API rate limit exceeded"}`}},
			wantSlept: []span{exactly(43 * time.Second)}},
		{name: "Retry-After past the budget fails at once", faults: []githubfake.Fault{{Status: 429, Header: http.Header{"Retry-After": {"3600"}}}},
			wantErr: true, wantSpent: true, wantText: "GitHub (GET "},
		{name: "Retry-After past the job's deadline fails at once", ctxWait: time.Minute,
			faults: []githubfake.Fault{{Status: 403, Header: http.Header{"Retry-After": {"120"}}}}, wantErr: true, wantSpent: true},
		{name: "plain 403 is not retried", faults: []githubfake.Fault{{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}}, wantErr: true,
			wantIs: github.ErrForbidden, wantText: "Resource not accessible by integration"},
		{name: "401 is the token's", faults: []githubfake.Fault{{Status: 401, Body: `{"message":"Bad credentials"}`}}, wantErr: true,
			wantIs: github.ErrUnauthorized, wantText: "Bad credentials"},
		{name: "404 is not retried", faults: []githubfake.Fault{{Status: 404, Body: `{"message":"Not Found"}`}}, wantErr: true, wantIs: github.ErrNotFound},
		{name: "an outage longer than the budget", faults: []githubfake.Fault{{Status: 500, Times: 1000}}, wantErr: true, wantSpent: true,
			wantText: "githubstatus.com, then re-run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := githubfake.New("octo", "pkg", testToken)
			t.Cleanup(fake.Close)
			clock := &retrytest.Clock{}
			var mu sync.Mutex
			var waits []string
			policy := retrytest.Policy(clock)
			policy.Log = func(w retry.Wait) { mu.Lock(); defer mu.Unlock(); waits = append(waits, w.String()) }
			c := githubtest.Repo(t, fake, policy, testToken)
			relID := fake.AddRelease("v1", true, false)
			for _, f := range tc.faults {
				f.Method, f.Host, f.PathPrefix = http.MethodGet, "api", "/repos/octo/pkg/releases/"
				fake.Inject(f)
			}
			ctx := t.Context()
			if tc.ctxWait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxWait)
				defer cancel()
			}
			_, err := c.ListAssets(ctx, relID)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ListAssets err = %v, want error: %v; requests %q, waits %q", err, tc.wantErr, fake.Requests(), waits)
			}
			var re *retry.Error
			if spent := errors.As(err, &re) && re.Budget > 0; spent != tc.wantSpent {
				t.Errorf("err = %v, want the retry budget to end it: %v", err, tc.wantSpent)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to be %v", err, tc.wantIs)
			}
			if tc.wantText != "" && (err == nil || !strings.Contains(err.Error(), tc.wantText)) {
				t.Errorf("err = %v, want it to say %q", err, tc.wantText)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
			got := clock.Slept()
			if tc.wantSpent {
				if clock.Total() > retry.DefaultFor {
					t.Errorf("waited %v, past the %v budget", clock.Total(), retry.DefaultFor)
				}
				return
			}
			if len(got) != len(tc.wantSlept) {
				t.Fatalf("waits = %v, want %d", got, len(tc.wantSlept))
			}
			for i, w := range tc.wantSlept {
				if got[i] < w.lo || got[i] > w.hi {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, got[i], w.lo, w.hi)
				}
			}
		})
	}
}

func TestNewRefusesBadInputs(t *testing.T) {
	t.Parallel()
	for _, cfg := range []github.Config{{APIURL: "not a url"}, {APIURL: "/relative"}, {ServerURL: "github.com"}} {
		if _, err := github.New(cfg); err == nil {
			t.Errorf("New(%+v): want an error", cfg)
		}
	}
	c, err := github.New(github.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"octo", "octo/", "/pkg", "a/b/c"} {
		if _, err := c.Repo(name); err == nil {
			t.Errorf("Repo(%q): want an error", name)
		}
	}
	if c.ServerURL() != github.DefaultServerURL || c.Authenticated() {
		t.Errorf("defaults: server %q, authenticated %v", c.ServerURL(), c.Authenticated())
	}
}
