package seal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/signer"
	"github.com/waxseal/waxseal/internal/trust"
)

// Options configure a signing run. Zero values take the documented defaults.
type Options struct {
	// Artifacts are the files to sign, each with its kind, taken exactly as named, never as patterns (callers
	// resolve their own: Expand for the command line; the Action confines them to the workspace). Required.
	Artifacts []Input
	// Provenance also signs SLSA v1 build provenance for each artifact (needs a GitHub Actions token).
	Provenance bool
	// ProvenanceOptional makes Provenance a wish rather than a demand: when the identity token is not a CI identity
	// (a person's sign-in), the tarballs are signed without provenance and the run says so in one line, instead of
	// failing. The command line sets it unless --provenance was given explicitly.
	ProvenanceOptional bool
	// SkipNPMChecksUnsafe turns off the checks npm's registry applies to provenance (repository.url, runner,
	// "private", duplicates). Only for artifacts that will never be published to npm with this provenance.
	SkipNPMChecksUnsafe bool
	// Concurrency bounds Rekor submissions in flight; default signer.DefaultConcurrency.
	Concurrency int
	// Trust selects the Sigstore instance.
	Trust trust.Options
	// Tokens supplies the identity token. Required.
	Tokens oidc.Source
	// Audience of the identity token; default "sigstore".
	Audience string
	// Getenv reads the job's environment (GITHUB_*); default: an empty environment.
	Getenv func(string) string
	// Transport carries TUF, Fulcio, Rekor, TSA and npm registry requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is the retry policy of every request the run makes; its zero value means the defaults (retry.DefaultFor).
	Retry retry.Policy
	// Progress receives one line per package; default io.Discard.
	Progress io.Writer
	// AllowPrivateRepository lets a private (or internal) repository sign into a public Sigstore instance, whose
	// log then publishes its name, workflow and commit for good. Off by default; npm provenance from a private
	// repository is refused either way, since the registry refuses it.
	AllowPrivateRepository bool
	// RegistryPreflight asks each package's registry, before anything is signed, whether the version is already
	// published (npm would refuse to publish over it after waxseal logged its signatures) and whether the package
	// exists at all (trusted publishing cannot create a package). Off for runners that cannot reach the registry.
	RegistryPreflight bool
	// RegistryFor names the registry npm would publish a package to; default: registry.DefaultURL for every name.
	RegistryFor func(name string) (string, error)
	// Limits bound what is read from each tarball; default npm.DefaultLimits().
	Limits *npm.Limits
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Words renders a remedy (a setting to change) in the caller's words where the report keeps an error as text:
	// remedy.Flag on the command line, remedy.Input in the Action; nil leaves remedies out.
	Words remedy.Words
}

// ErrPackagesFailed means at least one artifact was not signed; the report says which and why.
var ErrPackagesFailed = errors.New("some artifacts were not signed")

// Sign reads and checks every artifact, then signs them all with one certificate. Problems found before signing
// (unreadable files, npm's registry checks, checksums that disagree with the files) stop the run before anything
// is signed or logged, and are all reported together. An artifact that fails while signing does not stop the
// others. The returned error wraps ErrPackagesFailed when the report holds failures.
func Sign(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := checkInputs(o.Artifacts); err != nil {
		return nil, err
	}
	rep := &Report{Artifacts: make([]Artifact, len(o.Artifacts))}
	arts := readAll(ctx, o.Artifacts, *o.Limits, rep)
	// Everything that needs no identity first: a file that cannot be read, a package npm would refuse whoever
	// signs it, a checksums file that disagrees with the files, stops the run before any sign-in or request.
	if !o.SkipNPMChecksUnsafe {
		npmChecks(arts, rep, false)
	}
	if checkChecksums(arts, rep); rep.Failed() {
		return rep, stopBeforeSigning(o.Progress, rep)
	}

	token, claims, err := o.identity(ctx)
	if err != nil {
		return nil, err
	}
	warning, err := o.checkIdentity(claims)
	if err != nil {
		return nil, fmt.Errorf("nothing was signed: %w", err)
	}
	if warning != "" {
		rep.Warnings = append(rep.Warnings, warning)
	}
	ci := claims.IsGitHubActions()
	switch {
	case ci:
		if rep.Source, err = githubContext(claims, o.Getenv); err != nil {
			return nil, err
		}
	case o.Provenance && !o.ProvenanceOptional:
		return nil, remedy.With(fmt.Errorf("provenance needs a CI identity, a GitHub Actions job's token (this one is from %s): run in a GitHub Actions job with `permissions: id-token: write`, or sign without provenance", claims.Issuer),
			remedy.Set(remedy.Provenance, "false"))
	case o.Provenance:
		o.Provenance = false
		rep.skip(o.Progress, skippedProvenance)
	}
	if err := o.checkAll(ctx, arts, rep, ci); err != nil {
		return rep, err
	}
	var statements [][]byte // each artifact's provenance statement, built once: the bytes checked are the bytes signed
	if o.Provenance {
		if statements = buildStatements(arts, rep.Source, rep); rep.Failed() {
			return rep, stopBeforeSigning(o.Progress, rep)
		}
	}
	s, tm, err := o.newSigner(ctx, token)
	if err != nil {
		return nil, err
	}
	if o.Provenance && !o.SkipNPMChecksUnsafe {
		if checkStatements(s, arts, statements, rep); rep.Failed() {
			return rep, stopBeforeSigning(o.Progress, rep)
		}
	}
	id := s.Identity()
	rep.CertificateIdentity, rep.CertificateIssuer = id.SAN, id.Issuer
	rep.RekorURL, rep.PublicGood = tm.rekorURL, o.Trust.Instance() == trust.PublicGood
	rep.RekorVersion, rep.SignedTimestamps, rep.ProvenanceRekorURL = tm.rekorVersion, tm.timestamped, tm.npmRekorURL
	signAll(ctx, s, tm, arts, statements, rep, o.Progress)
	if rep.Failed() {
		return rep, ErrPackagesFailed
	}
	return rep, nil
}

// identity reads the run's identity token and its claims, and checks them for this audience now.
func (o Options) identity(ctx context.Context) (string, *oidc.Claims, error) {
	token, err := o.Tokens.Token(ctx, o.Audience)
	if err != nil {
		return "", nil, err
	}
	claims, err := oidc.ParseClaims(token)
	if err != nil {
		return "", nil, err
	}
	if err := claims.Check(o.Audience, o.Now()); err != nil {
		return "", nil, err
	}
	return token, claims, nil
}

// checkAll runs the checks that need the identity but no certificate: npm's that compare a package with the CI
// identity, and the registry preflight. It reports warnings, and stops the run when anything failed.
func (o Options) checkAll(ctx context.Context, arts []*artifact, rep *Report, ci bool) error {
	if !o.SkipNPMChecksUnsafe {
		if ci {
			npmChecks(arts, rep, true) // now with the identity to compare the packages with
		} else if hasKind(arts, NPM) {
			rep.skip(o.Progress, skippedNPMChecks)
		}
	}
	if o.RegistryPreflight {
		o.preflight(ctx, arts, rep, ci)
	}
	slices.Sort(rep.Warnings)
	for _, w := range rep.Warnings {
		fmt.Fprintf(o.Progress, "warning: %s\n", w)
	}
	if rep.Failed() {
		return stopBeforeSigning(o.Progress, rep)
	}
	return nil
}

func hasKind(arts []*artifact, k Kind) bool {
	return slices.ContainsFunc(arts, func(a *artifact) bool { return a != nil && a.Kind == k })
}

// checkInputs refuses a run with nothing to sign, an unknown kind, or a file named twice.
func checkInputs(in []Input) error {
	if len(in) == 0 {
		return errors.New("nothing to sign: name the npm tarballs, files or checksums files to sign")
	}
	kinds := map[string]Kind{}
	for _, a := range in {
		if a.Kind != NPM && a.Kind != File && a.Kind != Checksums {
			return fmt.Errorf("%s: unknown kind %q", a.Path, a.Kind)
		}
		if err := CheckPath(a.Path); err != nil {
			return err
		}
		key := filepath.Clean(a.Path)
		if k, dup := kinds[key]; dup && k != a.Kind {
			return fmt.Errorf("%s is named both as %s and as %s: a file is signed one way; name it once", a.Path, describeKind(k), describeKind(a.Kind))
		} else if dup {
			return fmt.Errorf("%s is named twice: name it once", a.Path)
		}
		kinds[key] = a.Kind
	}
	return nil
}

func describeKind(k Kind) string {
	switch k {
	case NPM:
		return "an npm tarball"
	case Checksums:
		return "a checksums file"
	}
	return "a file signed as bytes"
}

func (o Options) withDefaults() Options {
	if o.Audience == "" {
		o.Audience = oidc.DefaultAudience
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Limits == nil {
		l := npm.DefaultLimits()
		o.Limits = &l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RegistryFor == nil {
		o.RegistryFor = func(string) (string, error) { return registry.DefaultURL, nil }
	}
	if o.Trust.Transport == nil {
		o.Trust.Transport = o.Transport
	}
	o.Trust.Retry = o.Retry
	return o
}

type trustInfo struct {
	rekorURL     string
	rekorVersion uint32
	timestamped  bool   // signatures carry RFC 3161 timestamps
	npmRekorURL  string // where provenance went (Rekor v1)
}

func (o Options) newSigner(ctx context.Context, token string) (*signer.Signer, *trustInfo, error) {
	tr, err := trust.TrustedRoot(ctx, o.Trust)
	if err != nil {
		return nil, nil, err
	}
	svcs, err := trust.SigningServices(ctx, o.Trust, o.Now())
	if err != nil {
		return nil, nil, err
	}
	if o.Provenance && svcs.NPMRekor == nil {
		return nil, nil, fmt.Errorf("nothing was signed: %w", signer.ErrNoNPMLog)
	}
	s, err := signer.New(ctx, signer.Config{
		Services:        svcs,
		TrustedMaterial: tr,
		Tokens:          &reusingSource{first: token, next: o.Tokens},
		Audience:        o.Audience,
		Transport:       o.Transport,
		Retry:           o.Retry,
		OutageHint:      outageHint(o.Trust.Instance()),
		Concurrency:     o.Concurrency,
		Now:             o.Now,
	})
	if err != nil {
		return nil, nil, err
	}
	ti := &trustInfo{rekorURL: svcs.Rekor[0].URL, rekorVersion: svcs.Rekor[0].MajorAPIVersion, timestamped: len(svcs.TSA) > 0}
	if o.Provenance {
		ti.npmRekorURL = svcs.NPMRekor.URL
	}
	return s, ti, nil
}

// outageHint is where to look when a Sigstore service keeps failing.
func outageHint(i trust.Instance) string {
	if i == trust.Custom {
		return "check that the services your signing config names are up"
	}
	return "check https://status.sigstore.dev"
}

// reusingSource hands out the token already read for the first certificate, and asks the source again for
// renewals (GitHub's tokens live minutes; a renewal needs a fresh one).
type reusingSource struct {
	mu    sync.Mutex
	first string
	next  oidc.Source
}

func (r *reusingSource) Token(ctx context.Context, audience string) (string, error) {
	r.mu.Lock()
	t := r.first
	r.first = ""
	r.mu.Unlock()
	if t != "" {
		return t, nil
	}
	return r.next.Token(ctx, audience)
}
