//go:build e2e

package action

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestWorkflowsActionlintE2E: the workflows waxseal ships, and the example workflow people copy, pass actionlint.
func TestWorkflowsActionlintE2E(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", ".github", "*", "*.yml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("workflow files: %v, %v", files, err)
	}
	var workflows []string
	for _, f := range files {
		if filepath.Base(filepath.Dir(f)) != "." && filepath.Base(f) != "dependabot.yml" {
			workflows = append(workflows, f)
		}
	}
	cmd := exec.CommandContext(t.Context(), stackVar(t, "WAXSEAL_STACK_ACTIONLINT"), append([]string{"-no-color"}, workflows...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint %v: %v\n%s", workflows, err, out)
	}
}
