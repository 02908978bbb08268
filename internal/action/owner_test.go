package action

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func owner(t *testing.T, p string) int {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Sys().(*syscall.Stat_t).Uid)
}

// TestHandOver: run as root (as GitHub runs a container action) in a workspace another user owns, waxseal gives
// that user what it wrote and the directories it made, and nothing else. Not root, it changes nothing (what it
// wrote is its user's already); .ci/run runs the tests as root, and TestContainerE2E runs the Action as root.
func TestHandOver(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		f := filepath.Join(dir, "a.tgz.sigstore.json")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ws, err := NewWorkspace(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := handOver(ws, []string{f}); err != nil || owner(t, f) != os.Getuid() {
			t.Errorf("not root: handOver = %v, owner %d; want nothing done", err, owner(t, f))
		}
		return
	}
	const user = 1001
	for _, tc := range []struct {
		name      string
		wsOwner   int
		wantOwner int // of what waxseal wrote
	}{
		{"workspace of the runner's user", user, user},
		{"workspace of root", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			outside := filepath.Join(dir, "outside")
			wsDir := filepath.Join(dir, "ws")
			for _, d := range []string{filepath.Join(wsDir, ".waxseal"), filepath.Join(wsDir, "dist"), filepath.Join(wsDir, "rootdir"), outside} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{".waxseal/results.json", "dist/a.tgz.sigstore.json", "rootdir/other"} {
				if err := os.WriteFile(filepath.Join(wsDir, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(wsDir, "dist", "b.tgz.sigstore.json")); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{wsDir, filepath.Join(wsDir, "dist")} { // what the user's own steps made
				if err := os.Chown(p, tc.wsOwner, tc.wsOwner); err != nil {
					t.Fatal(err)
				}
			}
			ws, err := NewWorkspace(wsDir)
			if err != nil {
				t.Fatal(err)
			}
			err = handOver(ws, []string{filepath.Join(wsDir, ".waxseal/results.json"), filepath.Join(wsDir, "dist/a.tgz.sigstore.json"),
				filepath.Join(wsDir, "dist/b.tgz.sigstore.json"), filepath.Join(wsDir, "dist/missing.intoto.jsonl"), filepath.Join(outside, "secret")})
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range map[string]int{".waxseal": tc.wantOwner, ".waxseal/results.json": tc.wantOwner,
				"dist/a.tgz.sigstore.json": tc.wantOwner, "dist/b.tgz.sigstore.json": tc.wantOwner, "rootdir": 0, "rootdir/other": 0} {
				if got := owner(t, filepath.Join(wsDir, p)); got != want {
					t.Errorf("%s is owned by %d, want %d", p, got, want)
				}
			}
			if got := owner(t, filepath.Join(outside, "secret")); got != 0 {
				t.Errorf("a file outside the workspace (and a link's target) was handed over: owner %d", got)
			}
		})
	}
}
