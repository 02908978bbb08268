package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/seal"
)

func TestWorkspaceGlob(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	ws := filepath.Join(root, "ws")
	for _, p := range []string{"ws/a-1.0.0.tgz", "ws/dist/b-2.0.0.tgz", "ws/dist/c-3.0.0.tgz", "secret.tgz"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "x.tgz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "x.tgz"), filepath.Join(ws, "link.tgz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside), filepath.Join(ws, "linkdir")); err != nil {
		t.Fatal(err)
	}
	w, err := NewWorkspace(ws)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		patterns []string
		want     []string
		wantErr  string
	}{
		{name: "relative glob", patterns: []string{"dist/*.tgz"}, want: []string{"dist/b-2.0.0.tgz", "dist/c-3.0.0.tgz"}},
		{name: "order kept, repeats dropped", patterns: []string{"a-1.0.0.tgz", "dist/c-3.0.0.tgz", "*.tgz"},
			want: []string{"a-1.0.0.tgz", "dist/c-3.0.0.tgz"}, wantErr: "outside the workspace"},
		{name: "absolute inside", patterns: []string{filepath.Join(w.Root(), "a-1.0.0.tgz")}, want: []string{"a-1.0.0.tgz"}},
		{name: "dot-dot escape", patterns: []string{"../secret.tgz"}, wantErr: "outside the workspace"},
		{name: "absolute outside", patterns: []string{filepath.Join(outside, "x.tgz")}, wantErr: "outside the workspace"},
		{name: "symlinked file escape", patterns: []string{"link.tgz"}, wantErr: "outside the workspace"},
		{name: "symlinked directory escape", patterns: []string{"linkdir/*.tgz"}, wantErr: "outside the workspace"},
		{name: "no match", patterns: []string{"*.zip"}, wantErr: "run `npm pack` before waxseal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := w.Glob("paths", tc.patterns)
			if tc.wantErr != "" && tc.name != "order kept, repeats dropped" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Glob(%q) err = %v, want %q", tc.patterns, err, tc.wantErr)
				}
				return
			}
			if tc.name == "order kept, repeats dropped" {
				// "*.tgz" also matches link.tgz, which points outside: the whole run is refused.
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Glob err = %v, want %q", err, tc.wantErr)
				}
				got, err = w.Glob("paths", tc.patterns[:2])
			}
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, g := range got {
				rel = append(rel, w.Rel(g))
			}
			if diff := cmp.Diff(tc.want, rel); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssetBasesRefusesTwins(t *testing.T) {
	t.Parallel()
	if _, err := assetBases([]seal.Input{{Path: "/w/a/p-1.tgz", Kind: seal.NPM}, {Path: "/w/b/p-1.tgz", Kind: seal.NPM}}); err == nil || !strings.Contains(err.Error(), "rename one") {
		t.Errorf("err = %v, want a refusal of two tarballs named p-1.tgz", err)
	}
	// GitHub stores "app v1.zip" as "app.v1.zip": the two would be one asset.
	if _, err := assetBases([]seal.Input{{Path: "/w/app v1.zip", Kind: seal.File}, {Path: "/w/app.v1.zip", Kind: seal.File}}); err == nil || !strings.Contains(err.Error(), `"app.v1.zip"`) {
		t.Errorf("err = %v, want a refusal of two files GitHub would store alike", err)
	}
}

// TestGlobRefusesControlCharacters: a tarball named with a newline and backticks would close the summary's code
// block and render markdown of the attacker's choosing; such names are refused before anything else.
func TestGlobRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	for _, name := range []string{"pkg-1.0.0.tgz\n```\n# pwned [click](www.evil.example)\n```.tgz", "pkg\x1b[31m-1.0.0.tgz", "pkg\u202e-1.0.0.tgz"} {
		if err := os.WriteFile(filepath.Join(ws, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := NewWorkspace(ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"*.tgz", "pkg*", "pkg\u202e-1.0.0.tgz"} {
		if _, err := w.Glob("paths", []string{pattern}); err == nil || !strings.Contains(err.Error(), "control character") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Glob(%q) = %v, want a one-line refusal naming the control character", pattern, err)
		}
	}
}

// TestResultsStayInTheWorkspace: a `.waxseal` directory (or a results.json) committed as a symbolic link that
// leaves the workspace must not redirect the results file.
func TestResultsStayInTheWorkspace(t *testing.T) {
	t.Parallel()
	for _, link := range []string{".waxseal", ".waxseal/results.json"} {
		t.Run(link, func(t *testing.T) {
			t.Parallel()
			ws, outside := t.TempDir(), t.TempDir()
			if err := os.MkdirAll(filepath.Join(ws, filepath.Dir(link)), 0o755); err != nil {
				t.Fatal(err)
			}
			target := outside
			if filepath.Base(link) == "results.json" {
				target = filepath.Join(outside, "victim")
			}
			if err := os.Symlink(target, filepath.Join(ws, link)); err != nil {
				t.Fatal(err)
			}
			w, err := NewWorkspace(ws)
			if err != nil {
				t.Fatal(err)
			}
			_, err = writeResults(w, &seal.Report{}, nil, nil)
			entries, _ := os.ReadDir(outside)
			if len(entries) != 0 {
				t.Errorf("wrote %d file(s) outside the workspace through %s", len(entries), link)
			}
			if link == ".waxseal" && err == nil {
				t.Error("writing through a link out of the workspace succeeded")
			}
		})
	}
}
