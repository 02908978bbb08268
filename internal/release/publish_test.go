package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/waxseal/waxseal/internal/release/githubfake"
)

func writeFiles(t *testing.T, contents map[string]string) []File {
	t.Helper()
	dir := t.TempDir()
	var out []File
	for _, name := range []string{"a.tgz.sigstore.json", "a.tgz.provenance.sigstore.json"} {
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
		{name: "a broken earlier upload is cleared", existing: map[string]string{"a.tgz.sigstore.json": "bun"}, starter: true,
			wantOutcomes: []Outcome{Uploaded, Uploaded}, wantAssets: local},
		{name: "published immutable release refused before any upload", immutable: true, tellImmutable: true,
			wantErr: ErrImmutableRelease, wantAssets: map[string]string{}},
		{name: "immutable refusal from GitHub is recognised", immutable: true,
			wantErr: ErrImmutableRelease, wantAssets: map[string]string{}},
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
				fake.AddAsset(relID, name, []byte(data), state)
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
type noDigest struct{ *Client }

func (n noDigest) ListAssets(ctx context.Context, id int64) ([]Asset, error) {
	as, err := n.Client.ListAssets(ctx, id)
	for i := range as {
		as[i].Digest = ""
	}
	return as, err
}

// lostAnswer uploads for real but reports the upload of lose as a duplicate, as a retried upload does when the
// first try's answer was lost after GitHub had stored the asset.
type lostAnswer struct {
	*Client
	lose string
}

func (l *lostAnswer) UploadAsset(ctx context.Context, rel *Release, name, path string) (*Asset, error) {
	a, err := l.Client.UploadAsset(ctx, rel, name, path)
	if err == nil && name == l.lose {
		return nil, fmt.Errorf("uploading %q: %w", name, ErrAssetExists)
	}
	return a, err
}

func TestPublishTakesBackAnUploadWhoseAnswerWasLost(t *testing.T) {
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
	_, err = Publish(t.Context(), &lostAnswer{Client: c, lose: "a.tgz.sigstore.json"}, rel, files, PublishOptions{})
	if err == nil || !strings.Contains(err.Error(), "undid this run: deleted a.tgz.sigstore.json") {
		t.Fatalf("err = %v, want a failure that took back the first upload", err)
	}
	if got := fake.Assets(relID); len(got) != 0 {
		t.Errorf("assets left on the release: %v", got)
	}
}
