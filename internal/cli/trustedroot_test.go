package cli

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/testing/tufrepo"
)

// TestTrustedRootCommand fetches a trusted root through a real TUF repository (a private instance's mirror), as
// `waxseal trusted-root` does public-good's, and writes the very bytes the repository signed.
func TestTrustedRootCommand(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "trust", "public-good.trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := tufrepo.New(map[string][]byte{"trusted_root.json": want})
	if err != nil {
		t.Fatal(err)
	}
	mirror := httptest.NewServer(repo)
	t.Cleanup(mirror.Close)
	dir := t.TempDir()
	anchor := filepath.Join(dir, "root.json")
	if err := os.WriteFile(anchor, repo.Root, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"TUF_ROOT": filepath.Join(dir, "tuf")}
	env, stdout, _ := testEnv(nil, vars)
	if err := env.Run(t.Context(), []string{"trusted-root", "--tuf-mirror", mirror.URL, "--tuf-root", anchor}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("stdout is not the repository's trusted_root.json (%d bytes, want %d)", stdout.Len(), len(want))
	}
	out := filepath.Join(dir, "trusted_root.json")
	env, _, stderr := testEnv(nil, vars)
	if err := env.Run(t.Context(), []string{"trusted-root", "--tuf-mirror", mirror.URL, "--tuf-root", anchor, "--output", out}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) || !strings.Contains(stderr.String(), "--trusted-root "+out) {
		t.Errorf("--output wrote %d bytes; stderr %q", len(got), stderr)
	}
	// A root the mirror did not sign with is refused: the bytes are trusted only through TUF.
	other, _ := tufrepo.New(map[string][]byte{"trusted_root.json": want})
	if err := os.WriteFile(anchor, other.Root, 0o600); err != nil {
		t.Fatal(err)
	}
	vars["TUF_ROOT"] = filepath.Join(dir, "tuf-fresh")
	env, _, _ = testEnv(nil, vars)
	if err := env.Run(t.Context(), []string{"trusted-root", "--tuf-mirror", mirror.URL, "--tuf-root", anchor, "--retry-for", "1s"}); err == nil {
		t.Error("a trusted root fetched from a mirror that the given root.json does not vouch for was accepted")
	}
	// A mirror out of reach: the message says so, and does not send the user to --trusted-root, the file this
	// command exists to make.
	down := httptest.NewServer(nil)
	down.Close()
	env, _, _ = testEnv(nil, map[string]string{"TUF_ROOT": filepath.Join(dir, "tuf-down")})
	err = env.Run(t.Context(), []string{"trusted-root", "--tuf-mirror", down.URL, "--tuf-root", anchor, "--retry-for", "1s"})
	if err == nil || !strings.Contains(err.Error(), "network access") || !strings.HasSuffix(err.Error(), " (--retry-for)") {
		t.Errorf("an unreachable mirror: %v", err)
	}
	for _, args := range [][]string{{"trusted-root", "--tuf-mirror", mirror.URL}, {"trusted-root", "--staging", "--tuf-mirror", mirror.URL, "--tuf-root", anchor}, {"trusted-root", "extra"}} {
		env, _, _ := testEnv(nil, vars)
		if err := env.Run(t.Context(), args); err == nil || ExitCode(err) != 2 {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}
