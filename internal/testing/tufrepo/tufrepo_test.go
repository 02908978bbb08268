package tufrepo

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// TestGoTUFClientTrustsIt: go-tuf's own updater, seeded with the repository's root, refreshes and downloads the
// target, and refuses a target whose bytes were changed.
func TestGoTUFClientTrustsIt(t *testing.T) {
	t.Parallel()
	want := []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)
	repo, err := New(map[string][]byte{"trusted_root.json": want})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(repo)
	t.Cleanup(srv.Close)
	fetch := func(t *testing.T) ([]byte, error) {
		dir := t.TempDir()
		cfg, err := config.New(srv.URL, repo.Root)
		if err != nil {
			t.Fatal(err)
		}
		cfg.LocalMetadataDir, cfg.LocalTargetsDir, cfg.RemoteTargetsURL = dir, filepath.Join(dir, "targets"), srv.URL+"/targets"
		if err := os.MkdirAll(cfg.LocalTargetsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		up, err := updater.New(cfg)
		if err != nil {
			return nil, err
		}
		if err := up.Refresh(); err != nil {
			return nil, err
		}
		ti, err := up.GetTargetInfo("trusted_root.json")
		if err != nil {
			return nil, err
		}
		_, data, err := up.DownloadTarget(ti, "", "")
		return data, err
	}
	got, err := fetch(t)
	if err != nil || string(got) != string(want) {
		t.Fatalf("download = %q, %v; want %q", got, err, want)
	}
	for path := range repo.Files {
		if filepath.Dir(path) == "targets" {
			repo.Files[path] = []byte(`{"tampered":true}`)
		}
	}
	if _, err := fetch(t); err == nil {
		t.Error("a changed target was accepted")
	}
}
