package release

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/waxseal/waxseal/internal/release/githubfake"
)

const testToken = "ghs_testtoken123"

// fakeClock never sleeps: it records each wait and moves its time forward.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

func newTestClient(t *testing.T) (*Client, *githubfake.Server, *fakeClock) {
	t.Helper()
	fake := githubfake.New("octo", "pkg", testToken)
	t.Cleanup(fake.Close)
	clock := &fakeClock{now: time.Now()}
	c, err := NewClient(&http.Client{Timeout: 10 * time.Second}, fake.API.URL, "octo/pkg", testToken, Retry{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake, clock
}

func TestFindRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     func(f *githubfake.Server)
		tag       string
		wantDraft bool
		wantErr   error
		wantReqs  int
	}{
		{name: "published by tag", tag: "v1.0.0", wantReqs: 1,
			setup: func(f *githubfake.Server) { f.AddRelease("v1.0.0", false, false) }},
		{name: "draft only by listing", tag: "v2.0.0", wantDraft: true, wantReqs: 2,
			setup: func(f *githubfake.Server) { f.AddRelease("v2.0.0", true, false) }},
		{name: "missing", tag: "v3.0.0", wantErr: ErrReleaseNotFound, wantReqs: 2,
			setup: func(f *githubfake.Server) { f.AddRelease("v1.0.0", false, false) }},
		{name: "draft on the second page", tag: "v0.0.0", wantDraft: true, wantReqs: 3,
			setup: func(f *githubfake.Server) {
				f.AddRelease("v0.0.0", true, false)
				for i := range 120 {
					f.AddRelease("v1."+strconv.Itoa(i), false, false)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fake, _ := newTestClient(t)
			tc.setup(fake)
			rel, err := c.FindRelease(t.Context(), tc.tag)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("FindRelease(%q) err = %v, want %v", tc.tag, err, tc.wantErr)
			}
			if got := len(fake.Requests()); got != tc.wantReqs {
				t.Errorf("requests = %d %q, want %d", got, fake.Requests(), tc.wantReqs)
			}
			if err != nil {
				return
			}
			if rel.TagName != tc.tag || rel.Draft != tc.wantDraft || !strings.HasPrefix(rel.UploadURL, fake.Uploads.URL+"/") {
				t.Errorf("release = %+v, want tag %q draft %v on the uploads host %s", rel, tc.tag, tc.wantDraft, fake.Uploads.URL)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	reset := time.Now().Add(42 * time.Second).Unix()
	tests := []struct {
		name      string
		faults    []githubfake.Fault
		ctxWait   time.Duration // a deadline for the call; 0 for none
		wantSlept []time.Duration
		wantErr   bool
		wantLimit bool
		wantText  string
	}{
		{name: "5xx backs off", faults: []githubfake.Fault{{Status: 502, Times: 2}}, wantSlept: []time.Duration{time.Second, 2 * time.Second}},
		{name: "connection reset", faults: []githubfake.Fault{{Status: 0}}, wantSlept: []time.Duration{time.Second}},
		{name: "secondary rate limit 403 Retry-After", wantSlept: []time.Duration{7 * time.Second}, faults: []githubfake.Fault{{Status: 403,
			Header: http.Header{"Retry-After": {"7"}, "Content-Type": {"application/json"}},
			Body:   `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}}},
		{name: "429 Retry-After", faults: []githubfake.Fault{{Status: 429, Header: http.Header{"Retry-After": {"3"}}}}, wantSlept: []time.Duration{3 * time.Second}},
		{name: "primary rate limit waits for x-ratelimit-reset", faults: []githubfake.Fault{{Status: 403, Header: http.Header{
			"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)}}, Body: `{"message":"API rate limit exceeded"}`}},
			wantSlept: []time.Duration{time.Until(time.Unix(reset, 0)).Round(time.Second) + time.Second}},
		{name: "Retry-After past the budget fails at once", faults: []githubfake.Fault{{Status: 429, Header: http.Header{"Retry-After": {"3600"}}}},
			wantErr: true, wantLimit: true},
		{name: "Retry-After past the job's deadline fails at once", ctxWait: time.Minute,
			faults: []githubfake.Fault{{Status: 403, Header: http.Header{"Retry-After": {"120"}}}}, wantErr: true, wantLimit: true},
		{name: "plain 403 is not retried", faults: []githubfake.Fault{{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}}, wantErr: true,
			wantText: "grant the job `permissions: contents: write`"},
		{name: "401 names the token input", faults: []githubfake.Fault{{Status: 401, Body: `{"message":"Bad credentials"}`}}, wantErr: true,
			wantText: "check the `github-token` input"},
		{name: "404 is not retried", faults: []githubfake.Fault{{Status: 404, Body: `{"message":"Not Found"}`}}, wantErr: true},
		{name: "gives up after the attempts", faults: []githubfake.Fault{{Status: 500, Times: 6}}, wantErr: true, wantText: "re-run the job",
			wantSlept: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fake, clock := newTestClient(t)
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
				t.Fatalf("ListAssets err = %v, want error: %v", err, tc.wantErr)
			}
			var rl *RateLimitError
			if errors.As(err, &rl) != tc.wantLimit {
				t.Errorf("err = %v, want a RateLimitError: %v", err, tc.wantLimit)
			}
			if tc.wantText != "" && (err == nil || !strings.Contains(err.Error(), tc.wantText)) {
				t.Errorf("err = %v, want it to say %q", err, tc.wantText)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
			got := clock.slept
			for i := range got {
				got[i] = got[i].Round(time.Second)
			}
			if diff := cmp.Diff(tc.wantSlept, got); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewClientRefusesMissingInputs(t *testing.T) {
	t.Parallel()
	if _, err := NewClient(http.DefaultClient, "", "octo/pkg", "", Retry{}); err == nil || !strings.Contains(err.Error(), "github-token") {
		t.Errorf("no token: err = %v, want one naming the github-token input", err)
	}
	if _, err := NewClient(http.DefaultClient, "", "octo", "t", Retry{}); err == nil {
		t.Error("repository without owner: want an error")
	}
}
