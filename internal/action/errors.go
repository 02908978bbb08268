package action

import (
	"errors"
	"fmt"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/remedy"
)

// A token's refusals, in the workflow's words: which permission or input to change. The first that matches is
// said (a refused attestation is also a 403).
var githubFixes = []struct {
	err error
	fix string
}{
	{github.ErrAttestationsForbidden, "grant the job `permissions: attestations: write` (artifact attestations need a public repository, or GitHub Enterprise Cloud for a private one)"},
	{github.ErrUnauthorized, "GitHub refused the token: check the `github-token` input"},
	{github.ErrForbidden, "the token may not change releases: grant the job `permissions: contents: write`, or give `github-token` a token that has it"},
	{release.ErrReleaseHidden, "grant the job `permissions: contents: write`, or give `github-token` a token that has it"},
	{release.ErrAssetConflict, "set `overwrite: true` to replace it, or delete it from the release"},
}

// explain adds to err what to change in the workflow: the inputs a library error points at (package remedy), and
// what GitHub's refusal of the job's token means.
func explain(err error) error {
	if err == nil {
		return nil
	}
	for _, f := range githubFixes {
		if errors.Is(err, f.err) {
			err = fmt.Errorf("%w (%s)", err, f.fix)
			break
		}
	}
	return remedy.Explain(err, remedy.Input)
}
