package release

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/github"

	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

const testToken = "ghs_testtoken123"

func newTestClient(t *testing.T) (*github.Repo, *githubfake.Server, *retrytest.Clock) {
	t.Helper()
	fake := githubfake.New("octo", "pkg", testToken)
	t.Cleanup(fake.Close)
	clock := &retrytest.Clock{}
	return newRepo(t, testPolicy(clock), fake), fake, clock
}

// newRepo is fake's repository through the real client, as a job reaches GitHub.
func newRepo(t *testing.T, policy retry.Policy, fake *githubfake.Server) *github.Repo {
	t.Helper()
	c, err := github.New(github.Config{APIURL: fake.API.URL, Token: testToken, Transport: testTransport(t), Retry: policy})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Repo("octo/pkg")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testPolicy waits on clock, which never sleeps. The per-try timeout is the one wall-clock bound left (it must
// bound real I/O), so tests set it far beyond any test's run time: on a loaded machine a 30-second try timeout
// could otherwise fire, and turn a scripted answer into a retry.
func testPolicy(clock *retrytest.Clock) retry.Policy {
	return retry.Policy{Clock: clock, AttemptTimeout: 10 * time.Minute}
}

// testTransport is a connection pool of the test's own: http.DefaultTransport is shared by every parallel test,
// and each fake's Close closes its idle connections, which lets one test's teardown reach into another's request.
func testTransport(t *testing.T) http.RoundTripper {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
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
		{name: "missing, after looking again for a while", tag: "v3.0.0", wantErr: ErrReleaseNotFound, wantReqs: 2*6 + 1,
			setup: func(f *githubfake.Server) { f.AddRelease("v1.0.0", false, false) }},
		{name: "a draft a read-only token cannot see", tag: "v2.0.0", wantErr: ErrReleaseHidden, wantReqs: 2*6 + 1,
			setup: func(f *githubfake.Server) {
				f.AddRelease("v2.0.0", true, false)
				f.SetModes(githubfake.Modes{ReadOnly: true})
			}},
		{name: "a draft listed only after a while", tag: "v2.0.0", wantDraft: true, wantReqs: 2 * 3,
			setup: func(f *githubfake.Server) {
				f.SetModes(githubfake.Modes{ReleaseLag: 3 * time.Second})
				f.AddRelease("v2.0.0", true, false)
			}},
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
			c, fake, clock := newTestClient(t)
			fake.SetClock(clock.Now)
			tc.setup(fake)
			rel, err := Find(t.Context(), c, tc.tag, testPolicy(clock))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("FindRelease(%q) err = %v, want %v", tc.tag, err, tc.wantErr)
			}
			if got := len(fake.Requests()); got != tc.wantReqs {
				t.Errorf("requests = %d %q, want %d", got, fake.Requests(), tc.wantReqs)
			}
			if err != nil {
				return
			}
			if wantBase := "https://github.com/octo/pkg/releases/download/" + tc.tag + "/"; rel.DownloadBase != wantBase {
				t.Errorf("download base = %q, want %q", rel.DownloadBase, wantBase)
			}
			if rel.TagName != tc.tag || rel.Draft != tc.wantDraft || !strings.HasPrefix(rel.UploadURL, fake.Uploads.URL+"/") {
				t.Errorf("release = %+v, want tag %q draft %v on the uploads host %s", rel, tc.tag, tc.wantDraft, fake.Uploads.URL)
			}
		})
	}
}
