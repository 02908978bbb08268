package cli

import "context"

func (e *Env) runVerify(ctx context.Context, args []string) error {
	return usagef("verify: not yet")
}
