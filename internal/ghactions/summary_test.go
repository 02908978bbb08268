package ghactions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendSummary(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := AppendSummary(path, "# one\n"); err != nil {
		t.Fatal(err)
	}
	if err := AppendSummary(path, "two\n"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "# one\ntwo\n"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	big := strings.Repeat("x", MaxSummaryBytes)
	if err := AppendSummary(path, big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("appending past the runner's limit: err = %v, want a limit error", err)
	}
	if b2, _ := os.ReadFile(path); len(b2) != len(b) {
		t.Errorf("a refused append changed the file from %d to %d bytes", len(b), len(b2))
	}
	if err := AppendSummary("", "x"); err == nil {
		t.Error("AppendSummary with no path: want an error naming GITHUB_STEP_SUMMARY")
	}
}
