//go:build e2e

package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseBuildIsStampedE2E builds waxseal as releases are built (.github/scripts/build-release.sh, whose flags
// the Dockerfile repeats) and checks `waxseal version` names the version and commit it was built from, not "devel".
func TestReleaseBuildIsStampedE2E(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "waxseal")
	build := exec.CommandContext(t.Context(), "bash", ".github/scripts/build-release.sh", bin)
	build.Dir = filepath.Join("..", "..")
	build.Env = append(build.Environ(), "VERSION=v9.8.7", "COMMIT=0123456789abcdef0123456789abcdef01234567", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-release.sh: %v\n%s", err, out)
	}
	for _, arg := range []string{"version", "--version", "-v"} {
		out, err := exec.CommandContext(t.Context(), bin, arg).Output()
		if err != nil {
			t.Fatalf("waxseal %s: %v", arg, err)
		}
		if got, want := strings.TrimSpace(string(out)), "waxseal v9.8.7 (commit 0123456789abcdef0123456789abcdef01234567)"; got != want {
			t.Errorf("waxseal %s = %q, want %q", arg, got, want)
		}
	}
}
