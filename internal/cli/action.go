package cli

import (
	"context"
	"fmt"

	"github.com/waxseal/waxseal/internal/action"
)

// runAction runs waxseal as the GitHub Action (the container's entrypoint passes "action"). Inputs come from the
// runner's INPUT_* and GITHUB_* environment, not flags.
func (e *Env) runAction(ctx context.Context, args []string) error {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprint(e.Stdout, "Usage: waxseal action\n\nRuns waxseal as its GitHub Action, as the Action's container does: the step's inputs come from\n"+
			"INPUT_* variables and the job from GITHUB_* ones, not from flags (inputs: action.yml; docs/action.md).\n"+
			"Outside a workflow, use 'waxseal sign' and 'waxseal verify'.\n")
		return nil
	}
	if len(args) > 0 {
		return usagef("waxseal action takes no arguments: it reads the step's inputs from INPUT_* variables (see action.yml)")
	}
	r := &action.Runner{Getenv: e.Getenv, Stdout: e.Stdout, Transport: e.Transport, Retry: e.Retry}
	if err := r.Run(ctx); err != nil {
		// The runner has already shown it as an ::error:: annotation; printing it again only doubles the log.
		return &ReportedError{Err: err}
	}
	return nil
}
