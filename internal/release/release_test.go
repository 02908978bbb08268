package release

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/githubtest"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

const testToken = githubtest.Token

var newTestClient = githubtest.New

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
			rel, err := Find(t.Context(), c, tc.tag, retrytest.Policy(clock))
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
