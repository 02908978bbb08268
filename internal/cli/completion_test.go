package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completionScript writes waxseal's completion script for shell into a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	env, stdout, _ := testEnv(nil, nil)
	if err := env.Run(t.Context(), []string{"completion", shell}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "waxseal."+shell)
	if err := os.WriteFile(p, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// requireShell returns the path of shell; make test installs bash, zsh and fish and requires them
// (WAXSEAL_REQUIRE_SHELLS=1), elsewhere a missing one skips the test.
func requireShell(t *testing.T, shell string) string {
	t.Helper()
	p, err := exec.LookPath(shell)
	if err != nil {
		if os.Getenv("WAXSEAL_REQUIRE_SHELLS") == "1" {
			t.Fatalf("%s is required (make test installs it): %v", shell, err)
		}
		t.Skipf("%s is not installed", shell)
	}
	return p
}

// TestCompletionBash asks real bash, with the script loaded, what it completes.
func TestCompletionBash(t *testing.T) {
	t.Parallel()
	bash := requireShell(t, "bash")
	script := completionScript(t, "bash")
	for _, tc := range []struct {
		words string
		want  []string
	}{
		{"waxseal ver", []string{"verify", "verify-bundle", "version"}},
		{"waxseal sign --art", []string{"--artifact"}},
		{"waxseal sign --che", []string{"--checksums"}},
		{"waxseal verify --rel", []string{"--release"}},
		{"waxseal trusted-root --tuf", []string{"--tuf-mirror", "--tuf-root"}},
	} {
		words := strings.Fields(tc.words)
		prog := "source " + script + "; COMP_WORDS=(" + tc.words + "); COMP_CWORD=" + itoa(len(words)-1) + `; _waxseal; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.CommandContext(t.Context(), bash, "-c", prog).Output()
		if err != nil {
			t.Fatalf("%s: %v", tc.words, err)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("bash completes %q to %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestCompletionFish asks real fish what it completes.
func TestCompletionFish(t *testing.T) {
	t.Parallel()
	fish := requireShell(t, "fish")
	script := completionScript(t, "fish")
	out, err := exec.CommandContext(t.Context(), fish, "--no-config", "-c", "source "+script+"; complete -C 'waxseal sign --art'; complete -C 'waxseal ver'").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--artifact\ta file", "verify\tverify files", "verify-bundle\tthe Sigstore"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("fish completions lack %q:\n%s", want, out)
		}
	}
}

// TestCompletionZsh checks zsh parses the script, and that every flag of every command is offered.
func TestCompletionZsh(t *testing.T) {
	t.Parallel()
	zsh := requireShell(t, "zsh")
	script := completionScript(t, "zsh")
	if out, err := exec.CommandContext(t.Context(), zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(script)
	for _, c := range completedCommands() {
		for _, f := range c.flags {
			if !strings.Contains(string(b), "'--"+f.name+"[") {
				t.Errorf("the zsh script does not offer %s --%s", c.name, f.name)
			}
		}
	}
	if env, _, _ := testEnv(nil, nil); env.Run(t.Context(), []string{"completion", "tcsh"}) == nil {
		t.Error("completion for an unknown shell was accepted")
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
