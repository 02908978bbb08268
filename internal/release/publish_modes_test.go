package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/githubtest"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

const secondaryLimitBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

var errKilled = errors.New("the runner killed the job")

// killable is a Service that stops answering once killed, as a job the runner kills (SIGKILL, a cancelled
// workflow past its grace period) does: nothing after the kill reaches GitHub, rollback included.
type killable struct {
	Service
	killed *atomic.Bool
}

func (k killable) check(err error) error {
	if k.killed.Load() {
		return errKilled
	}
	return err
}

func (k killable) FindRelease(ctx context.Context, tag string) (*github.Release, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	r, err := k.Service.FindRelease(ctx, tag)
	return r, k.check(err)
}

func (k killable) ListAssets(ctx context.Context, id int64) ([]github.Asset, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	as, err := k.Service.ListAssets(ctx, id)
	return as, k.check(err)
}

func (k killable) UploadAsset(ctx context.Context, rel *github.Release, name, path string) (*github.Asset, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	a, err := k.Service.UploadAsset(ctx, rel, name, path)
	return a, k.check(err)
}

func (k killable) DeleteAsset(ctx context.Context, id int64) error {
	if k.killed.Load() {
		return errKilled
	}
	return k.check(k.Service.DeleteAsset(ctx, id))
}

func (k killable) RenameAsset(ctx context.Context, id int64, name string) (*github.Asset, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	a, err := k.Service.RenameAsset(ctx, id, name)
	return a, k.check(err)
}

func (k killable) OpenAsset(ctx context.Context, id int64) (io.ReadCloser, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	rc, err := k.Service.OpenAsset(ctx, id)
	if err == nil && k.killed.Load() {
		_ = rc.Close() // read-only
	}
	return rc, k.check(err)
}

// modeRun is one run of Publish in a row: its options, and when the runner kills it.
type modeRun struct {
	overwrite bool
	// killOn kills the run right after GitHub stores an upload whose name contains it.
	killOn string
	// sameBytes uploads the same bytes as the run before (a tarball), not freshly signed ones (a bundle).
	sameBytes bool
	wantOK    bool
	wantErr   error
	wantText  []string
	// frozen: the release was published immutable mid-run, so it can end neither complete nor as it started.
	frozen bool
}

type modeRow struct {
	name      string
	modes     githubfake.Modes
	faults    []githubfake.Fault
	draft     bool
	immutable bool
	before    map[string]string
	files     []string // default the two bundles of a.tgz
	runs      []modeRun
	check     func(t *testing.T, fake *githubfake.Server, relID int64, res []Result)
}

func twoBundles() []string { return []string{"a.tgz.sigstore.json", "a.tgz.provenance.sigstore.json"} }

func manyBundles(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("pkg-%03d.tgz.sigstore.json", i))
	}
	return out
}

// TestPublishAgainstGitHubsMisbehaviour runs Publish against each of the fake's GitHub misbehaviours, alone and
// with a killed run followed by a re-run. Every row asserts that the release ends complete (every file, with the
// last run's bytes) or exactly as it started, and that a failed run's message names every asset it touched.
func TestPublishAgainstGitHubsMisbehaviour(t *testing.T) {
	t.Parallel()
	ok := modeRun{wantOK: true}
	rows := []modeRow{
		{name: "a 502 leaves an unlisted starter asset the retry collides with",
			modes:  githubfake.Modes{StarterLag: 20 * time.Second},
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Name: "a.tgz.sigstore.json", Status: 502, Store: "starter"}},
			runs:   []modeRun{ok}},
		{name: "a lost answer after GitHub stored the asset, listed late",
			modes:  githubfake.Modes{AssetLag: 20 * time.Second},
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Name: "a.tgz.sigstore.json", Status: 502, Store: "uploaded"}},
			runs:   []modeRun{ok}},
		{name: "every try fails but the first one stored the asset",
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Name: "a.tgz.provenance.sigstore.json", Status: 502, Store: "uploaded", Times: 1000}},
			runs:   []modeRun{{wantText: []string{"a.tgz.sigstore.json", "a.tgz.provenance.sigstore.json"}}}},
		{name: "a draft created a moment ago is not listed yet", draft: true,
			modes: githubfake.Modes{ReleaseLag: 10 * time.Second}, runs: []modeRun{ok}},
		{name: "a read-only token cannot see the draft", draft: true, modes: githubfake.Modes{ReadOnly: true},
			runs:  []modeRun{{wantErr: ErrReleaseHidden, wantText: []string{"cannot see drafts"}}},
			check: func(t *testing.T, _ *githubfake.Server, _ int64, _ []Result) {}},
		{name: "secondary limit 403 without Retry-After",
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Status: 403, Body: secondaryLimitBody,
				Header: http.Header{"Content-Type": {"application/json"}}}},
			runs: []modeRun{ok}},
		{name: "secondary limit 429 with Retry-After",
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Status: 429, Body: secondaryLimitBody,
				Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"90"}}}},
			runs: []modeRun{ok}},
		{name: "a hundred uploads stay under GitHub's content-creation limits",
			modes: githubfake.Modes{ContentPerMinute: 80, ContentPerHour: 500}, files: manyBundles(100), runs: []modeRun{ok},
			check: func(t *testing.T, fake *githubfake.Server, _ int64, _ []Result) {
				if c := fake.Counts(); c.Limited > 0 || c.PeakPerMinute > 60 {
					t.Errorf("counts = %+v: GitHub's secondary limit was hit, or more than 60 content-creating requests went in a minute", c)
				}
			}},
		{name: "the rollback is throttled for longer than two minutes",
			faults: []githubfake.Fault{
				{Method: http.MethodPost, Host: "uploads", Name: "a.tgz.provenance.sigstore.json", Status: 400, Body: `{"message":"Bad Content-Length"}`},
				{Method: http.MethodDelete, Host: "api", PathPrefix: "/repos/", Status: 429, Body: secondaryLimitBody,
					Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"150"}}}},
			runs: []modeRun{{wantText: []string{"a.tgz.sigstore.json", "a.tgz.provenance.sigstore.json"}}}},
		{name: "overwrite whose new upload fails keeps the old asset",
			before: map[string]string{"a.tgz.sigstore.json": "earlier run"},
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Name: "a.tgz.sigstore.json", Status: 400, Body: `{"message":"Bad Content-Length"}`}},
			runs:   []modeRun{{overwrite: true, wantText: []string{"a.tgz.sigstore.json"}}}},
		{name: "GitHub rewrites the name; a re-run with the same bytes keeps it",
			files: []string{"pkg (beta) 1.0.tgz"}, runs: []modeRun{ok, {sameBytes: true, wantOK: true}}},
		{name: "download URLs survive publishing the draft", draft: true, runs: []modeRun{ok},
			check: func(t *testing.T, fake *githubfake.Server, relID int64, res []Result) {
				fake.Publish(relID)
				for _, r := range res {
					if want := fake.BrowserDownloadURL(relID, r.Asset.Name); r.Asset.DownloadURL != want {
						t.Errorf("%s: download URL %q, but once published GitHub serves it at %q", r.Name, r.Asset.DownloadURL, want)
					}
				}
			}},
		{name: "published mid-run on an immutable repository", draft: true, immutable: true,
			modes: githubfake.Modes{PublishAfterUploads: 2}, files: append([]string{"a.tgz"}, twoBundles()...),
			runs: []modeRun{{frozen: true, wantErr: github.ErrImmutableRelease,
				wantText: []string{"immutable", "a.tgz", "a.tgz.sigstore.json", "a.tgz.provenance.sigstore.json"}}}},
		{name: "killed after the first bundle, then re-run", draft: true,
			runs: []modeRun{{killOn: "a.tgz.sigstore.json"}, ok}},
		{name: "killed after a 502 left a starter asset, then re-run", draft: true, modes: githubfake.Modes{StarterLag: 20 * time.Second},
			faults: []githubfake.Fault{{Method: http.MethodPost, Host: "uploads", Name: "a.tgz.provenance.sigstore.json", Status: 502, Store: "starter"}},
			runs:   []modeRun{{killOn: "a.tgz.provenance.sigstore.json"}, ok}},
		{name: "killed with a rewritten name, then re-run", files: []string{"pkg (beta) 1.0.tgz.sigstore.json", "pkg (beta) 1.0.tgz.provenance.sigstore.json"},
			runs: []modeRun{{killOn: "provenance"}, ok}},
		{name: "killed mid-overwrite, then re-run with overwrite",
			before: map[string]string{"a.tgz.sigstore.json": "earlier run", "a.tgz.provenance.sigstore.json": "earlier run"},
			runs:   []modeRun{{overwrite: true, killOn: "a.tgz.provenance.sigstore.json"}, {overwrite: true, wantOK: true}}},
		{name: "killed mid-overwrite, then re-run without overwrite keeps the earlier bundles",
			before: map[string]string{"a.tgz.sigstore.json": "earlier run", "a.tgz.provenance.sigstore.json": "earlier run"},
			runs: []modeRun{{overwrite: true, killOn: "a.tgz.provenance.sigstore.json"},
				{wantErr: ErrAssetConflict, wantText: []string{"a.tgz.sigstore.json"}}}},
		{name: "killed while listings lag, then re-run", draft: true,
			modes: githubfake.Modes{ReleaseLag: 5 * time.Second, AssetLag: 20 * time.Second},
			runs:  []modeRun{{killOn: "a.tgz.sigstore.json"}, ok}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			runModeRow(t, row)
		})
	}
}

func runModeRow(t *testing.T, row modeRow) {
	t.Helper()
	fake := githubfake.New("octo", "pkg", testToken)
	t.Cleanup(fake.Close)
	clock := &retrytest.Clock{}
	fake.SetClock(clock.Now)
	fake.SetModes(row.modes)
	relID := fake.AddRelease("v1.0.0", row.draft, row.immutable)
	for name, data := range row.before {
		fake.AddAsset(relID, name, []byte(data), "")
	}
	for _, f := range row.faults {
		if f.PathPrefix == "" {
			f.PathPrefix = "/repos/"
		}
		fake.Inject(f)
	}
	names := row.files
	if names == nil {
		names = twoBundles()
	}
	start := snapshot(fake, relID)
	var res []Result
	var files []File
	for i, run := range row.runs {
		if !run.sameBytes || files == nil {
			files = writeRunFiles(t, names, i+1)
		}
		before := len(fake.Requests())
		var err error
		res, err = runOnce(t, fake, clock, run, files, i+1)
		if run.wantOK {
			if err != nil {
				t.Fatalf("run %d: %v", i+1, err)
			}
			continue
		}
		if run.killOn != "" {
			if !errors.Is(err, errKilled) {
				t.Fatalf("run %d: err = %v, want it killed", i+1, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("run %d succeeded, want a failure", i+1)
		}
		t.Logf("run %d: %v", i+1, err)
		if run.wantErr != nil && !errors.Is(err, run.wantErr) {
			t.Errorf("run %d: err = %v, want %v", i+1, err, run.wantErr)
		}
		checkMessage(t, err, run, touched(fake.Requests()[before:], names))
	}
	last := row.runs[len(row.runs)-1]
	end := snapshot(fake, relID)
	switch {
	case last.frozen:
	case last.wantOK:
		want := maps.Clone(start)
		for _, f := range files {
			b, _ := os.ReadFile(f.Path)
			want[githubfake.StoredName(f.Name)] = "uploaded " + string(b)
		}
		if diff := cmp.Diff(want, end); diff != "" {
			t.Errorf("the release is not complete (-want +got):\n%s", diff)
		}
	default:
		if diff := cmp.Diff(start, end); diff != "" {
			t.Errorf("the release did not end as it started (-start +end):\n%s", diff)
		}
	}
	if row.check != nil {
		row.check(t, fake, relID, res)
	}
}

// runOnce finds the release and publishes files to it with a fresh client, as one job does.
// attempt is the attempt of one workflow run: each run of a row is a re-run of the one before.
func runOnce(t *testing.T, fake *githubfake.Server, clock *retrytest.Clock, run modeRun, files []File, attempt int) ([]Result, error) {
	t.Helper()
	policy := retrytest.Policy(clock)
	c := githubtest.Repo(t, fake, policy, testToken)
	killed := &atomic.Bool{}
	fake.AfterUpload(func(_ int, name string) {
		if run.killOn != "" && strings.Contains(name, githubfake.StoredName(run.killOn)) {
			killed.Store(true)
		}
	})
	svc := killable{Service: c, killed: killed}
	rel, err := Find(t.Context(), svc, "v1.0.0", policy)
	if err != nil {
		return nil, err
	}
	return Publish(t.Context(), svc, rel, files, PublishOptions{Overwrite: run.overwrite, Policy: policy,
		Run: RunInfo{ID: "4242", Attempt: attempt, Job: "publish"}})
}

// snapshot is every asset of the release, whatever its state or whether listings show it: name -> state and
// bytes.
func snapshot(fake *githubfake.Server, relID int64) map[string]string {
	out := map[string]string{}
	states := fake.AssetStates(relID)
	for name, data := range fake.Assets(relID) {
		out[name] = states[name] + " " + string(data)
	}
	return out
}

func writeRunFiles(t *testing.T, names []string, run int) []File {
	t.Helper()
	dir := t.TempDir()
	var out []File
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("%s signed by run %d", name, run)), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, File{Name: name, Path: p})
	}
	return out
}

// touched returns the files a run sent an upload for (under its own name, a name GitHub rewrote, or a
// temporary name that starts with it).
func touched(requests []string, names []string) []string {
	var out []string
	for _, n := range names {
		stored := githubfake.StoredName(n)
		for _, r := range requests {
			_, q, _ := strings.Cut(r, "?")
			v, _ := url.ParseQuery(q)
			if up := v.Get("name"); strings.HasPrefix(r, "POST uploads ") && (up == n || strings.HasPrefix(githubfake.StoredName(up), stored)) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

func checkMessage(t *testing.T, err error, run modeRun, touched []string) {
	t.Helper()
	msg := err.Error()
	for _, want := range slices.Concat(run.wantText, touched) {
		if !strings.Contains(msg, want) && !strings.Contains(msg, githubfake.StoredName(want)) {
			t.Errorf("the message does not name %q:\n%s", want, msg)
		}
	}
	if run.frozen && strings.Contains(msg, "delete them by hand") {
		t.Errorf("the message advises deleting assets GitHub refuses to delete:\n%s", msg)
	}
}
