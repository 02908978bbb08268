package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/waxseal/waxseal/internal/action"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/signer"
	"github.com/waxseal/waxseal/internal/trust"
)

const signSynopsis = "sign [flags] [TARBALL_OR_GLOB...] [--artifact FILE_OR_GLOB]... [--checksums FILE_OR_GLOB]..."

// trustFlags are the flags that choose a Sigstore instance, shared by sign and verify.
type trustFlags struct {
	staging                bool
	trustedRoot            string
	signingConfig          string
	tufMirror, tufRootPath string
}

func (t *trustFlags) register(fs *flag.FlagSet, signing bool) {
	fs.BoolVar(&t.staging, "staging", false, "use Sigstore's staging instance instead of public-good")
	fs.StringVar(&t.trustedRoot, "trusted-root", "", "trusted_root.json of a private Sigstore instance (no TUF, works offline)")
	if signing {
		fs.StringVar(&t.signingConfig, "signing-config", "", "signing_config.v0.2.json naming the private instance's Fulcio, Rekor and TSA")
	}
	fs.StringVar(&t.tufMirror, "tuf-mirror", "", "a private instance's TUF repository (its base URL), instead of public-good's; with --tuf-root")
	fs.StringVar(&t.tufRootPath, "tuf-root", "", "the root.json to trust --tuf-mirror from")
}

func (t *trustFlags) options(e *Env, policy retry.Policy) trust.Options {
	return trust.Options{TrustedRootPath: t.trustedRoot, SigningConfigPath: t.signingConfig, Staging: t.staging,
		TUFMirror: t.tufMirror, TUFRootPath: t.tufRootPath, CachePath: e.Getenv("TUF_ROOT"), Transport: e.transport(), Retry: policy}
}

func (e *Env) runSign(ctx context.Context, args []string) error {
	// A run writes to Stderr from several goroutines (progress lines, retry waits, a browser command's output),
	// each guarded by its own writer's lock if any: one lock for them all keeps a non-concurrent writer whole.
	locked := *e
	locked.Stderr = &lockedWriter{w: e.Stderr}
	e = &locked
	fs := e.newFlagSet("sign", signSynopsis)
	f := registerSignFlags(fs.FlagSet)
	paths, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(paths)+len(*f.artifacts)+len(*f.checksums) == 0 {
		return usagef("sign: nothing to sign: pass the .tgz files `npm pack` wrote (waxseal sign '*.tgz'), other files with --artifact, checksums files with --checksums")
	}
	if *f.concurrency < 1 {
		return usagef("sign: --concurrency must be at least 1")
	}
	if err := checkRetryFor("sign", *f.retryFor); err != nil {
		return err
	}
	policy := e.retryPolicy(*f.retryFor)
	topts := f.tf.options(e, policy)
	if err := topts.Validate(); err != nil {
		return usagef("sign: %v", remedy.Explain(err, remedy.Flag))
	}
	// A private instance is two files, and signing needs both: the services come from one, the trust in them
	// from the other. Said before any sign-in.
	if (topts.TrustedRootPath == "") != (topts.SigningConfigPath == "") {
		return usagef("sign: a private Sigstore instance is its trusted_root.json and its signing_config.v0.2.json: pass --trusted-root and --signing-config together")
	}
	if *f.oidcTimeout <= 0 {
		return usagef("sign: --oidc-timeout must be positive, e.g. 5m")
	}
	// Everything local before any sign-in or request: the files must be there.
	inputs, err := signInputs(paths, *f.artifacts, *f.checksums)
	if err != nil {
		return err
	}
	var signIn *oidc.InteractiveSource
	if *f.oidcDevice || e.Interactive != nil && e.Interactive() {
		signIn = &oidc.InteractiveSource{Issuer: *f.oidcIssuer, ClientID: *f.oidcClient, Device: *f.oidcDevice, Timeout: *f.oidcTimeout,
			OpenBrowser: e.browser(), Prompt: e.Stderr, Transport: e.transport(), Retry: policy}
	}
	tokens, err := oidc.Select(e.Getenv, *f.token, signIn, e.transport(), policy)
	if err != nil {
		// No token to be had: still read and check the files first, so their problems come out in the same run
		// (seal asks for the token only after its local checks).
		tokens = oidc.Unavailable{Err: err}
	}
	if in, ok := tokens.(*oidc.InteractiveSource); ok && in.Issuer == "" {
		if in.Issuer, err = trust.SignInProvider(ctx, topts, e.now()); err != nil {
			return err
		}
	}
	rep, signErr := seal.Sign(ctx, seal.Options{
		Artifacts: inputs, Provenance: *f.provenance, ProvenanceOptional: !flagGiven(fs.FlagSet, "provenance"), SkipNPMChecksUnsafe: *f.skipChecks, Concurrency: *f.concurrency,
		Trust: topts, Tokens: tokens, Audience: *f.audience, Getenv: e.Getenv, Transport: e.Transport, Retry: policy,
		RegistryPreflight: *f.preflight, RegistryFor: e.registryFor, AllowPrivateRepository: *f.allowPriv,
		Progress: e.Stderr, Now: e.Now, Words: remedy.Flag,
	})
	if rep != nil && *f.outputJSON != "" {
		if err := writeJSON(*f.outputJSON, rep.Document()); err != nil {
			return errors.Join(signErr, err)
		}
	}
	if signErr != nil {
		return signErr
	}
	fmt.Fprintf(e.Stderr, "signed %d artifact(s) as %s (issuer %s)\n", len(rep.Artifacts), rep.CertificateIdentity, rep.CertificateIssuer)
	if !*f.provenance || len(rep.Skipped) > 0 {
		fmt.Fprintf(e.Stderr, "verify with: %s\n", signatureVerifyCommand(rep, f.tf))
	}
	return nil
}

// signatureVerifyCommand is the command that verifies what sign wrote without provenance, as pasted in the same
// directory: every file (a directory could hold files that were not signed), the signer, and the instance it was
// signed on, when that is not public-good.
func signatureVerifyCommand(rep *seal.Report, tf *trustFlags) string {
	args := []string{"waxseal", "verify"}
	for _, a := range rep.Artifacts {
		args = append(args, action.ShellQuote(a.Path))
	}
	args = append(args, "--no-provenance", "--certificate-identity", action.ShellQuote(rep.CertificateIdentity),
		"--certificate-oidc-issuer", action.ShellQuote(rep.CertificateIssuer))
	switch {
	case tf.staging:
		args = append(args, "--staging")
	case tf.trustedRoot != "":
		args = append(args, "--trusted-root", action.ShellQuote(tf.trustedRoot))
	case tf.tufMirror != "":
		args = append(args, "--tuf-mirror", action.ShellQuote(tf.tufMirror), "--tuf-root", action.ShellQuote(tf.tufRootPath))
	}
	return strings.Join(args, " ")
}

// signFlags are sign's flags.
type signFlags struct {
	tf                                 *trustFlags
	token, audience, outputJSON        *string
	oidcIssuer, oidcClient             *string
	provenance, skipChecks, oidcDevice *bool
	allowPriv, preflight               *bool
	concurrency                        *int
	oidcTimeout, retryFor              *time.Duration
	artifacts, checksums               *[]string
}

// registerSignFlags defines sign's flags on fs.
func registerSignFlags(fs *flag.FlagSet) *signFlags {
	f := &signFlags{tf: &trustFlags{}, artifacts: &[]string{}, checksums: &[]string{}}
	f.token = fs.String("identity-token", "", "OIDC identity token, or a file holding it (default: $SIGSTORE_ID_TOKEN, the GitHub Actions runtime, or a browser sign-in on a terminal)")
	f.audience = fs.String("audience", oidc.DefaultAudience, "audience to request the identity token for")
	f.provenance = fs.Bool("provenance", true, "also sign SLSA v1 build provenance for each artifact; it needs a CI identity (a GitHub Actions token): without one it is skipped, unless given explicitly")
	f.skipChecks = fs.Bool("skip-npm-checks", false, "UNSAFE for npm: skip the checks npm's registry applies to provenance (only for tarballs never published to npm with it)")
	f.concurrency = fs.Int("concurrency", signer.DefaultConcurrency, "Rekor submissions in flight at once")
	f.outputJSON = fs.String("output-json", "", "write the machine-readable result to this file")
	f.oidcIssuer = fs.String("oidc-issuer", "", "OIDC provider to sign in at when there is no token (default: the one the instance's signing config names, https://oauth2.sigstore.dev/auth for public-good)")
	f.oidcClient = fs.String("oidc-client-id", oidc.DefaultClientID, "OAuth client id for the sign-in")
	f.oidcDevice = fs.Bool("oidc-device", false, "sign in with a code entered on another device (OAuth device flow) instead of a browser on this machine")
	f.oidcTimeout = fs.Duration("oidc-timeout", oidc.DefaultSignInTimeout, "how long to wait for the sign-in to be finished")
	f.retryFor = registerRetryFor(fs)
	f.allowPriv = fs.Bool("allow-private-repository", false, "let a private repository sign into Sigstore's public log, which then shows its name, workflow and commit to anyone (npm provenance from a private repository is refused either way)")
	f.preflight = fs.Bool("registry-preflight", true, "before signing, ask each package's npm registry (npm's setting: npm_config_registry, .npmrc) whether the version is already published or the package is new; false for runners that cannot reach it")
	fs.Func("artifact", "a file (or glob) to sign as its bytes, with SLSA provenance naming it by file name and sha256: binaries, archives, wheels, SBOMs; never read as an npm tarball, whatever its name (repeat for more)",
		func(v string) error { *f.artifacts = append(*f.artifacts, v); return nil })
	fs.Func("checksums", "a checksums file (or glob), sha256sum's or sha512sum's output or goreleaser's checksums.txt: signed as its bytes, and its provenance also names every file it lists, each of which must be signed in the same run with the digest listed (repeat for more)",
		func(v string) error { *f.checksums = append(*f.checksums, v); return nil })
	f.tf.register(fs, true)
	return f
}

// signInputs expands the command line's tarballs, --artifact and --checksums patterns into the files to sign,
// each with its kind. A file matched by two of them is refused by seal.Sign, so none silently gets or loses npm's
// treatment.
func signInputs(tarballs, artifacts, checksums []string) ([]seal.Input, error) {
	var out []seal.Input
	for _, g := range []struct {
		patterns []string
		kind     seal.Kind
	}{{tarballs, seal.NPM}, {artifacts, seal.File}, {checksums, seal.Checksums}} {
		if len(g.patterns) == 0 {
			continue
		}
		files, err := seal.Expand(g.patterns)
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		for _, f := range files {
			out = append(out, seal.Input{Path: f, Kind: g.kind})
		}
	}
	return out, nil
}

// flagGiven reports whether the flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// browser opens the sign-in page: the BROWSER command when the environment names one, else the desktop's browser.
func (e *Env) browser() func(url string) error {
	if b := e.Getenv("BROWSER"); b != "" {
		return oidc.BrowserCommand(b, e.Stderr)
	}
	return oidc.SystemBrowser
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w (check the directory exists and is writable)", path, err)
	}
	return nil
}

// registryFor is the registry npm would publish name to from the working directory.
func (e *Env) registryFor(name string) (string, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the npm registry: %w", err)
	}
	return registry.URLFor(name, cwd, e.Getenv)
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
