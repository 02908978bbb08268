// Package cli implements waxseal's command line: flags in, options to the library packages, results printed for
// people (and, on request, as JSON for machines).
package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/waxseal/waxseal/internal/printable"
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

// FormatError is err as main prints it: each of its lines safe to show in a terminal (an answer from a registry
// or GitHub cannot send escape sequences through an error), prefixed "waxseal: ".
func FormatError(err error) string {
	return "waxseal: " + printable.Lines(err.Error())
}

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

// command is one of waxseal's subcommands.
type command struct {
	name, synopsis, summary string
	// flags defines the command's flags on a flag set (for help and shell completion); nil for none.
	flags func(*flag.FlagSet)
}

// commands are waxseal's subcommands, in the order help lists them.
var commands = []command{
	{"sign", signSynopsis, "sign npm tarballs and any other release artifacts (bundles written beside them)",
		func(fs *flag.FlagSet) { registerSignFlags(fs) }},
	{"verify", verifySynopsis, "verify files, a directory, a GitHub release or npm packages against their bundles and a signer",
		func(fs *flag.FlagSet) { new(verifyFlags).register(fs) }},
	{"verify-bundle", verifyBundleSynopsis, "the Sigstore conformance-suite verification protocol",
		func(fs *flag.FlagSet) { registerVerifyBundleFlags(fs) }},
	{"trusted-root", trustedRootSynopsis, "print a Sigstore instance's trusted_root.json, for verifying offline",
		func(fs *flag.FlagSet) { registerTrustedRootFlags(fs) }},
	{"completion", completionSynopsis, "print a shell completion script (bash, zsh, fish)", nil},
	{"action", "action", "run as the GitHub Action (reads INPUT_* and GITHUB_*)", nil},
	{"version", "version", "print the version and the commit it was built from", nil},
}

// usage is waxseal's help.
func usage() string {
	var b strings.Builder
	b.WriteString("waxseal: keyless Sigstore signing of release artifacts (npm packages and any file), and verification of what was signed.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  waxseal %-15s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'waxseal COMMAND -h' for a command's flags.\n")
	return b.String()
}

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
		return usagef("no command given: run 'waxseal sign' or 'waxseal verify' ('waxseal --help' lists every command)")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "sign":
		return e.runSign(ctx, rest)
	case "verify":
		return e.runVerify(ctx, rest)
	case "verify-bundle":
		return e.runVerifyBundle(ctx, rest)
	case "trusted-root":
		return e.runTrustedRoot(ctx, rest)
	case "completion":
		return e.runCompletion(rest)
	case "action":
		return e.runAction(ctx, rest)
	case "version", "--version", "-v":
		if len(rest) == 1 && isHelp(rest[0]) {
			fmt.Fprint(e.Stdout, "Usage: waxseal version (or --version, -v)\n\nPrints waxseal's version and the commit it was built from.\n")
			return nil
		}
		fmt.Fprintln(e.Stdout, "waxseal", Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage())
		return nil
	default:
		names := make([]string, len(commands))
		for i, c := range commands {
			names[i] = c.name
		}
		return usagef("unknown command %q: the commands are %s ('waxseal --help' says what each does)", cmd, strings.Join(names, ", "))
	}
}

// version and commit are stamped into release builds (.github/scripts/build-release.sh, the Dockerfile):
// -ldflags "-X github.com/waxseal/waxseal/internal/cli.version=v1.2.3 -X github.com/waxseal/waxseal/internal/cli.commit=<sha>".
var version, commit string

// Version reports the version waxseal was built as and the commit it was built from: the stamped ones, else
// what the Go toolchain recorded (a module version for `go install ...@v1.2.3`, the VCS revision for a build in a
// checkout), else "devel".
func Version() string {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if c == "" && s.Key == "vcs.revision" {
				c = s.Value
			}
		}
	}
	v = cmp.Or(v, "devel")
	if c != "" {
		v += " (commit " + c + ")"
	}
	return v
}

// flagSet is a command's flags, and how to print its help.
type flagSet struct {
	*flag.FlagSet
	help func()
}

// newFlagSet returns a flag set that reports errors instead of exiting, and prints nothing itself: a bad flag is
// one line (parseInterspersed says where the flags are listed), -h prints the command's usage on stdout.
func (e *Env) newFlagSet(name, synopsis string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error too
	return &flagSet{FlagSet: fs, help: func() {
		fmt.Fprintf(e.Stdout, "Usage: waxseal %s\n\nFlags:\n", synopsis)
		fs.SetOutput(e.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}}
}

// parseInterspersed parses flags that may appear before, between or after positional arguments, the way users
// type them ("waxseal verify pkg.tgz --repository o/r"). Everything after "--" is positional.
func parseInterspersed(fs *flagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
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
