package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
)

func writeFiles(t *testing.T, contents map[string]string) []File {
	t.Helper()
	dir := t.TempDir()
	var out []File
	names := []string{"a.tgz.sigstore.json", "a.tgz.provenance.sigstore.json"}
	for _, n := range slices.Sorted(maps.Keys(contents)) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		if c, ok := contents[name]; ok {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, File{Name: name, Path: p})
		}
	}
	return out
}

func TestPublish(t *testing.T) {
	t.Parallel()
	local := map[string]string{"a.tgz.sigstore.json": "bundle", "a.tgz.provenance.sigstore.json": "provenance"}
	tests := []struct {
		name          string
		draft         bool
		immutable     bool
		tellImmutable bool // what the caller's Release says (the fake knows the truth)
		existing      map[string]string
		starter       bool
		startedAgo    time.Duration // when the existing assets' uploads began
		fault         *githubfake.Fault
		overwrite     bool
		wantOutcomes  []Outcome
		wantErr       error
		wantErrText   string
		wantAssets    map[string]string
	}{
		{name: "first run uploads", wantOutcomes: []Outcome{Uploaded, Uploaded}, wantAssets: local},
		{name: "re-run with the same bytes keeps", existing: local, wantOutcomes: []Outcome{Kept, Kept}, wantAssets: local},
		{name: "half a re-run uploads the rest", existing: map[string]string{"a.tgz.sigstore.json": "bundle"},
			wantOutcomes: []Outcome{Kept, Uploaded}, wantAssets: local},
		{name: "different bytes fail before anything changes", existing: map[string]string{"a.tgz.provenance.sigstore.json": "older"},
			wantErr: ErrAssetConflict, wantErrText: "nothing on the release was changed",
			wantAssets: map[string]string{"a.tgz.provenance.sigstore.json": "older"}},
		{name: "same size but different bytes fail", existing: map[string]string{"a.tgz.sigstore.json": "bundlX"},
			wantErr: ErrAssetConflict, wantErrText: "nothing on the release was changed",
			wantAssets: map[string]string{"a.tgz.sigstore.json": "bundlX"}},
		{name: "different bytes with overwrite replace", existing: map[string]string{"a.tgz.sigstore.json": "older"}, overwrite: true,
			wantOutcomes: []Outcome{Replaced, Uploaded}, wantAssets: local},
		{name: "a broken earlier upload is cleared", existing: map[string]string{"a.tgz.sigstore.json": "bun"}, starter: true, startedAgo: time.Hour,
			wantOutcomes: []Outcome{Uploaded, Uploaded}, wantAssets: local},
		{name: "an upload another job has in flight is not taken over", existing: map[string]string{"a.tgz.sigstore.json": "bun"}, starter: true,
			startedAgo: time.Minute, wantErr: ErrBusy, wantErrText: "nothing on the release was changed",
			wantAssets: map[string]string{"a.tgz.sigstore.json": "bun"}},
		{name: "published immutable release refused before any upload", immutable: true, tellImmutable: true,
			wantErr: github.ErrImmutableRelease, wantAssets: map[string]string{}},
		{name: "immutable refusal from GitHub is recognised", immutable: true,
			wantErr: github.ErrImmutableRelease, wantAssets: map[string]string{}},
		{name: "immutable draft takes uploads", draft: true, immutable: true, tellImmutable: true,
			wantOutcomes: []Outcome{Uploaded, Uploaded}, wantAssets: local},
		{name: "an upload retried after a 503 replays its body",
			fault:        &githubfake.Fault{Method: http.MethodPost, Host: "uploads", Status: 503, PathPrefix: "/repos/"},
			wantOutcomes: []Outcome{Uploaded, Uploaded}, wantAssets: local},
		{name: "a failing upload rolls back the others",
			fault: &githubfake.Fault{Method: http.MethodPost, Host: "uploads", Status: 400, Body: `{"message":"Bad Content-Length"}`, PathPrefix: "/repos/",
				Name: "a.tgz.provenance.sigstore.json"},
			wantErrText: "undid this run: deleted a.tgz.sigstore.json; the release is as it was before the run", wantAssets: map[string]string{}},
		{name: "a failing journal upload changes nothing",
			fault:       &githubfake.Fault{Method: http.MethodPost, Host: "uploads", Status: 400, Body: `{"message":"Bad Content-Length"}`, PathPrefix: "/repos/"},
			wantErrText: "nothing on the release was changed", wantAssets: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fake, _ := newTestClient(t)
			relID := fake.AddRelease("v1.0.0", tc.draft, tc.immutable)
			for name, data := range tc.existing {
				state := ""
				if tc.starter {
					state = "starter"
				}
				fake.AddAssetAt(relID, name, []byte(data), state, time.Now().Add(-tc.startedAgo))
			}
			if tc.fault != nil {
				fake.Inject(*tc.fault)
			}
			rel, err := c.FindRelease(t.Context(), "v1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			rel.Immutable = tc.tellImmutable
			res, err := Publish(t.Context(), c, rel, writeFiles(t, local), PublishOptions{Overwrite: tc.overwrite})
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Publish err = %v, want %v", err, tc.wantErr)
			}
			if (err != nil) != (tc.wantErr != nil || tc.wantErrText != "") {
				t.Fatalf("Publish err = %v, want error: %v", err, tc.wantErr != nil || tc.wantErrText != "")
			}
			if tc.wantErrText != "" && !strings.Contains(err.Error(), tc.wantErrText) {
				t.Errorf("error %q does not say %q", err, tc.wantErrText)
			}
			var outcomes []Outcome
			for _, r := range res {
				outcomes = append(outcomes, r.Outcome)
				if r.Asset.DownloadURL == "" {
					t.Errorf("%s: no download URL", r.Name)
				}
			}
			if diff := cmp.Diff(tc.wantOutcomes, outcomes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			got := map[string]string{}
			for n, d := range fake.Assets(relID) {
				got[n] = string(d)
			}
			if diff := cmp.Diff(tc.wantAssets, got); diff != "" {
				t.Errorf("assets on the release (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPublishComparesByDownloadWithoutDigest(t *testing.T) {
	t.Parallel()
	c, fake, _ := newTestClient(t)
	relID := fake.AddRelease("v1", false, false)
	id := fake.AddAsset(relID, "a.tgz.sigstore.json", []byte("bundle"), "")
	svc := noDigest{c}
	rel, err := c.FindRelease(t.Context(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Publish(t.Context(), svc, rel, writeFiles(t, map[string]string{"a.tgz.sigstore.json": "bundle"}), PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != Kept || res[0].Asset.ID != id {
		t.Errorf("result = %+v, want the existing asset %d kept", res[0], id)
	}
	var downloaded bool
	for _, r := range fake.Requests() {
		downloaded = downloaded || strings.HasPrefix(r, "GET download /download/")
	}
	if !downloaded {
		t.Errorf("the asset was not downloaded to compare: %q", fake.Requests())
	}
	// Same size, different bytes: found by hashing the download.
	_, err = Publish(t.Context(), svc, rel, writeFiles(t, map[string]string{"a.tgz.sigstore.json": "bundlX"}), PublishOptions{})
	if !errors.Is(err, ErrAssetConflict) {
		t.Errorf("same-size different bytes without a digest: err = %v, want ErrAssetConflict", err)
	}
}

// noDigest hides GitHub's digest, as older GitHub Enterprise Server versions do.
type noDigest struct{ *github.Repo }

func (n noDigest) ListAssets(ctx context.Context, id int64) ([]github.Asset, error) {
	as, err := n.Repo.ListAssets(ctx, id)
	for i := range as {
		as[i].Digest = ""
	}
	return as, err
}

// lostAnswer uploads for real but reports the upload of lose as a duplicate, as a retried upload does when the
// first try's answer was lost after GitHub had stored the asset.
type lostAnswer struct {
	*github.Repo
	lose string
}

func (l *lostAnswer) UploadAsset(ctx context.Context, rel *github.Release, name, path string) (*github.Asset, error) {
	a, err := l.Repo.UploadAsset(ctx, rel, name, path)
	if err == nil && name == l.lose {
		return nil, fmt.Errorf("uploading %q: %w", name, github.ErrAssetExists)
	}
	return a, err
}

// TestLostAnswerIsNeverDeletedButARerunUndoesIt: an upload GitHub answers with already_exists and that holds this
// run's bytes is most likely this run's own, whose answer was lost, but it may be another job's: the rollback never
// deletes an asset it did not create (it may be another job's), so it stays with the run's journal; the re-run of
// the same workflow run then undoes it, checking its bytes, and finishes.
func TestLostAnswerIsNeverDeletedButARerunUndoesIt(t *testing.T) {
	t.Parallel()
	c, fake, _ := newTestClient(t)
	relID := fake.AddRelease("v1", true, false)
	fake.Inject(githubfake.Fault{Method: http.MethodPost, Host: "uploads", PathPrefix: "/repos/", Name: "a.tgz.provenance.sigstore.json",
		Status: 400, Body: `{"message":"Bad Content-Length"}`})
	rel, err := c.FindRelease(t.Context(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	files := writeFiles(t, map[string]string{"a.tgz.sigstore.json": "bundle", "a.tgz.provenance.sigstore.json": "provenance"})
	run := func(attempt int) RunInfo { return RunInfo{ID: "77", Attempt: attempt, Job: "publish"} }
	_, err = Publish(t.Context(), &lostAnswer{Repo: c, lose: "a.tgz.sigstore.json"}, rel, files, PublishOptions{Run: run(1)})
	if err == nil || !strings.Contains(err.Error(), "a.tgz.sigstore.json: found on the release with this run's bytes") ||
		!strings.Contains(err.Error(), "stays on the release") {
		t.Fatalf("err = %v, want a failure that leaves the found asset and keeps the journal", err)
	}
	got := fake.Assets(relID)
	if _, ok := got["a.tgz.sigstore.json"]; !ok || len(got) != 2 {
		t.Fatalf("after the failed run: %v, want the found asset and the journal", slices.Sorted(maps.Keys(got)))
	}
	res, err := Publish(t.Context(), c, rel, files, PublishOptions{Run: run(2)})
	if err != nil || len(res) != 2 || res[0].Outcome != Uploaded {
		t.Fatalf("the re-run: %+v, %v", res, err)
	}
	if got := fake.Assets(relID); len(got) != 2 || string(got["a.tgz.sigstore.json"]) != "bundle" {
		t.Errorf("after the re-run: %v, want the two files and no journal", slices.Sorted(maps.Keys(got)))
	}
}

// TestConcurrentRunsKeepOffEachOther: another workflow run's journal is left alone while it may still be
// uploading: its files are not undone, the names it is placing are refused, and other files go ahead. Once stale,
// it is undone, deleting only the bytes it uploaded.
func TestConcurrentRunsKeepOffEachOther(t *testing.T) {
	t.Parallel()
	c, fake, _ := newTestClient(t)
	relID := fake.AddRelease("v1", true, false)
	rel, err := c.FindRelease(t.Context(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	// Job A (another workflow run) is uploading b.tgz.sigstore.json: its journal and first file are on the release.
	jA := journal{Kind: journalKind, Run: "aaaaaaaaaaaaaaaa", Owner: RunInfo{ID: "100", Attempt: 1, Job: "a"}, Started: time.Now().UTC(),
		Release: "v1", Uploads: []string{"b.tgz.sigstore.json"}, Digests: map[string]string{"b.tgz.sigstore.json": sha256Hex("bundle-b")}, Replaces: []journalEntry{}}
	raw, _ := json.Marshal(jA)
	fake.AddAsset(relID, journalFile(jA.Run), raw, "")
	fake.AddAsset(relID, "b.tgz.sigstore.json", []byte("bundle-b"), "")

	// Job B places a.tgz: it goes ahead and leaves A alone.
	if _, err := Publish(t.Context(), c, rel, writeFiles(t, map[string]string{"a.tgz.sigstore.json": "bundle-a"}), PublishOptions{Run: RunInfo{ID: "200", Attempt: 1}}); err != nil {
		t.Fatalf("a run placing other files: %v", err)
	}
	// Job C wants b.tgz's name too: refused, nothing changed.
	_, err = Publish(t.Context(), c, rel, writeFiles(t, map[string]string{"b.tgz.sigstore.json": "other"}), PublishOptions{Run: RunInfo{ID: "300", Attempt: 1}})
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "workflow run 100, attempt 1, job a") {
		t.Fatalf("a run placing a file another run is uploading: %v, want ErrBusy naming that run", err)
	}
	if got := fake.Assets(relID); len(got) != 3 || string(got["b.tgz.sigstore.json"]) != "bundle-b" {
		t.Fatalf("assets %v: another run's files were touched", slices.Sorted(maps.Keys(got)))
	}

	// A was killed long ago: a later run undoes it. Its name was since taken by other bytes: those stay.
	as, _ := c.ListAssets(t.Context(), relID)
	for _, a := range as {
		if a.Name == "b.tgz.sigstore.json" {
			if err := c.DeleteAsset(t.Context(), a.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	fake.AddAsset(relID, "b.tgz.sigstore.json", []byte("someone else's"), "")
	_, err = Publish(t.Context(), c, rel, writeFiles(t, map[string]string{"c.tgz.sigstore.json": "bundle-c"}),
		PublishOptions{Run: RunInfo{ID: "400", Attempt: 1}, Policy: retry.Policy{Clock: staleClock{}}})
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Assets(relID)
	if _, ok := got[journalFile(jA.Run)]; ok || string(got["b.tgz.sigstore.json"]) != "someone else's" {
		t.Errorf("after undoing the stale run: %v (b = %q), want its journal gone and the other bytes kept", slices.Sorted(maps.Keys(got)), got["b.tgz.sigstore.json"])
	}
}

// staleClock is a clock StaleJournal and an hour ahead of the wall clock.
type staleClock struct{}

func (staleClock) Now() time.Time { return time.Now().Add(StaleJournal + time.Hour) }

func (staleClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
