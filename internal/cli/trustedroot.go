package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/waxseal/waxseal/internal/atomicfile"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/trust"
)

const trustedRootSynopsis = "trusted-root [--staging | --tuf-mirror URL --tuf-root FILE] [--output FILE]"

// trustedRootFlags are trusted-root's flags.
type trustedRootFlags struct {
	tf       *trustFlags
	output   *string
	retryFor *time.Duration
}

func registerTrustedRootFlags(fs *flag.FlagSet) *trustedRootFlags {
	f := &trustedRootFlags{tf: &trustFlags{}}
	f.output = fs.String("output", "", "write it to this file instead of stdout")
	f.retryFor = registerRetryFor(fs)
	fs.BoolVar(&f.tf.staging, "staging", false, "Sigstore's staging instance instead of public-good")
	fs.StringVar(&f.tf.tufMirror, "tuf-mirror", "", "a private instance's TUF repository (its base URL); with --tuf-root")
	fs.StringVar(&f.tf.tufRootPath, "tuf-root", "", "the root.json to trust --tuf-mirror from")
	return f
}

// runTrustedRoot prints the trusted_root.json of public-good (or staging, or a private instance's TUF
// repository), fetched and checked through TUF, as `gh attestation trusted-root` does: keep it, and verify with
// --trusted-root FILE where there is no network.
func (e *Env) runTrustedRoot(ctx context.Context, args []string) error {
	fs := e.newFlagSet("trusted-root", trustedRootSynopsis)
	f := registerTrustedRootFlags(fs.FlagSet)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("trusted-root takes no arguments (got %q): waxseal %s", pos[0], trustedRootSynopsis)
	}
	if err := checkRetryFor("trusted-root", *f.retryFor); err != nil {
		return err
	}
	topts := f.tf.options(e, e.retryPolicy(*f.retryFor))
	if err := topts.Validate(); err != nil {
		return usagef("trusted-root: %v", remedy.Explain(err, remedy.Flag))
	}
	b, err := trust.TrustedRootJSON(ctx, topts)
	if err != nil {
		// --trusted-root names the file this command makes: of the remedies, only more time (--retry-for) applies.
		return remedy.Drop(err, remedy.TrustedRoot)
	}
	if *f.output == "" {
		_, err := e.Stdout.Write(b)
		return err
	}
	if err := atomicfile.Write(*f.output, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "waxseal: wrote the %s trusted root to %s: verify offline with --trusted-root %s\n", topts.Instance(), *f.output, *f.output)
	return nil
}
