// Package cli implements waxseal's command line: flags in, options to the library packages, results printed for
// people (and, on request, as JSON for machines).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
)

// Env is what a subcommand may touch of the outside world. Tests build their own.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Transport carries every network call a subcommand makes (TUF, Fulcio, Rekor, GitHub, npm); nil means
	// http.DefaultTransport. The retry policy bounds each try and each request.
	Transport http.RoundTripper
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Interactive reports whether a person is at a terminal (for the browser sign-in); nil means no.
	Interactive func() bool
	// Retry is the base of every command's retry policy: tests set its Clock. --retry-for sets For, and a nil Log
	// means one line on Stderr per wait.
	Retry retry.Policy
}

// retryPolicy is the policy of one command: the base with --retry-for, logging each wait on Stderr.
func (e *Env) retryPolicy(retryFor time.Duration) retry.Policy {
	p := e.Retry
	p.For = retryFor
	if p.Log == nil {
		var mu sync.Mutex // requests wait concurrently; keep their lines whole
		p.Log = func(w retry.Wait) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.Stderr, "waxseal: %s\n", w)
		}
	}
	return p
}

// transport is the base transport every request goes over.
func (e *Env) transport() http.RoundTripper { return e.Transport }

// registerRetryFor registers --retry-for on fs.
func registerRetryFor(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("retry-for", retry.DefaultFor, "how long to keep retrying a request to a failing service (Sigstore, GitHub, the npm registry) before giving up, e.g. 10m")
}

func checkRetryFor(cmd string, d time.Duration) error {
	if d <= 0 {
		return usagef("%s: --retry-for must be positive, e.g. 5m", cmd)
	}
	return nil
}

// UsageError is an error in how waxseal was called; it exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// ReportedError is a failure the subcommand has already shown to the user; main exits non-zero without
// printing it again.
type ReportedError struct{ Err error }

func (e *ReportedError) Error() string { return e.Err.Error() }

func (e *ReportedError) Unwrap() error { return e.Err }

// ShouldPrint reports whether main still has to print err.
func ShouldPrint(err error) bool {
	var re *ReportedError
	return !errors.As(err, &re)
}

// ExitCode maps an error returned by Run to the process exit code: 2 for usage errors, 1 for the rest.
func ExitCode(err error) int {
	var ue *UsageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const usage = `waxseal: keyless Sigstore signing of npm tarballs, and verification of what was signed.

Usage:
  waxseal sign [flags] PATH_OR_GLOB...      sign npm tarballs (bundles written beside them)
  waxseal verify [flags] PKG.tgz...         verify a tarball against its bundles and a signer identity
  waxseal verify-bundle [flags] FILE|DIGEST the Sigstore conformance-suite verification protocol
  waxseal action                            run as the GitHub Action (reads INPUT_* and GITHUB_*)
  waxseal version                           print the version

Run 'waxseal COMMAND -h' for a command's flags.
`

// Run runs waxseal with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := &Env{
		Stdout:      stdout,
		Stderr:      stderr,
		Getenv:      getenv,
		Interactive: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
	}
	return env.Run(ctx, args)
}

// Run dispatches to a subcommand. An error that names a setting to change (package remedy) says it as a flag.
func (e *Env) Run(ctx context.Context, args []string) error {
	return remedy.Explain(e.dispatch(ctx, args), remedy.Flag)
}

func (e *Env) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.Stderr, usage)
		return usagef("no command given: run 'waxseal sign' or 'waxseal verify'")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "sign":
		return e.runSign(ctx, rest)
	case "verify":
		return e.runVerify(ctx, rest)
	case "verify-bundle":
		return e.runVerifyBundle(ctx, rest)
	case "action":
		return e.runAction(ctx, rest)
	case "version", "--version":
		fmt.Fprintln(e.Stdout, "waxseal", Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage)
		return nil
	default:
		fmt.Fprint(e.Stderr, usage)
		return usagef("unknown command %q: the commands are sign, verify, verify-bundle and version", cmd)
	}
}

// Version reports the module version waxseal was built from ("devel" for a local build).
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// newFlagSet returns a flag set that reports errors instead of exiting and prints its usage to stderr.
func (e *Env) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: waxseal %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that may appear before, between or after positional arguments, the way users
// type them ("waxseal verify pkg.tgz --repository o/r"). Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v (run 'waxseal %s -h' for the flags)", fs.Name(), err, fs.Name())
		}
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
