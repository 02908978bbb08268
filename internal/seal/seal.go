package seal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/waxseal/waxseal/internal/atomicfile"
	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/remedy"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/signer"
	"github.com/waxseal/waxseal/internal/trust"
)

// Options configure a signing run. Zero values take the documented defaults.
type Options struct {
	// Paths are tarball files or globs. Required unless Files is set.
	Paths []string
	// Files are tarball files taken exactly as named, never as patterns: for callers that resolved their own
	// patterns (the Action confines them to the workspace), so that a name holding glob characters cannot
	// select another file. Excludes Paths.
	Files []string
	// Provenance also signs SLSA v1 build provenance for each tarball (needs a GitHub Actions token).
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

// ErrPackagesFailed means at least one package was not signed; the report says which and why.
var ErrPackagesFailed = errors.New("some packages were not signed")

// Sign reads and checks every tarball, then signs them all with one certificate. Problems found before signing
// (unreadable tarballs, npm's registry checks) stop the run before anything is signed or logged, and are all
// reported together. A package that fails while signing does not stop the others. The returned error wraps
// ErrPackagesFailed when the report holds failures.
func Sign(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	files, err := o.tarballs()
	if err != nil {
		return nil, err
	}
	rep := &Report{Packages: make([]PackageResult, len(files))}
	tarballs := readAll(ctx, files, *o.Limits, rep)

	token, err := o.Tokens.Token(ctx, o.Audience)
	if err != nil {
		return nil, err
	}
	claims, err := oidc.ParseClaims(token)
	if err != nil {
		return nil, err
	}
	if err := claims.Check(o.Audience, o.Now()); err != nil {
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
		return nil, remedy.With(fmt.Errorf("provenance needs a CI identity, a GitHub Actions job's token (this one is from %s): run in a GitHub Actions job with `permissions: id-token: write`, or sign the tarballs without provenance", claims.Issuer),
			remedy.Set(remedy.Provenance, "false"))
	case o.Provenance:
		o.Provenance = false
		rep.skip(o.Progress, skippedProvenance)
	}
	if !o.SkipNPMChecksUnsafe {
		npmChecks(tarballs, rep, ci)
		if !ci {
			rep.skip(o.Progress, skippedNPMChecks)
		}
	}
	if o.RegistryPreflight {
		o.preflight(ctx, tarballs, rep, ci)
	}
	slices.Sort(rep.Warnings)
	for _, w := range rep.Warnings {
		fmt.Fprintf(o.Progress, "warning: %s\n", w)
	}
	if rep.Failed() {
		return rep, stopBeforeSigning(o.Progress, rep)
	}

	var statements [][]byte // each package's provenance statement, built once: the bytes checked are the bytes signed
	if o.Provenance {
		if statements = buildStatements(tarballs, rep.Source, rep); rep.Failed() {
			return rep, stopBeforeSigning(o.Progress, rep)
		}
	}
	s, tm, err := o.newSigner(ctx, token)
	if err != nil {
		return nil, err
	}
	if o.Provenance && !o.SkipNPMChecksUnsafe {
		if checkStatements(s, tarballs, statements, rep); rep.Failed() {
			return rep, stopBeforeSigning(o.Progress, rep)
		}
	}
	id := s.Identity()
	rep.CertificateIdentity, rep.CertificateIssuer = id.SAN, id.Issuer
	rep.RekorURL, rep.PublicGood = tm.rekorURL, o.Trust.Instance() == trust.PublicGood
	rep.RekorVersion, rep.SignedTimestamps, rep.ProvenanceRekorURL = tm.rekorVersion, tm.timestamped, tm.npmRekorURL

	var wg sync.WaitGroup
	var mu sync.Mutex // serialises progress lines
	for i, t := range tarballs {
		wg.Go(func() {
			p := &rep.Packages[i]
			var statement []byte
			if o.Provenance {
				statement = statements[i]
			}
			if err := signOne(ctx, s, t, statement, p); err != nil {
				p.Error = err.Error()
			} else {
				p.RekorEntryURL = entryURL(tm.rekorURL, tm.rekorVersion, p.RekorLogIndex, rep.PublicGood)
				if p.ProvenanceBundle != "" {
					p.ProvenanceRekorEntryURL = entryURL(tm.npmRekorURL, 1, p.ProvenanceRekorLogIndex, rep.PublicGood)
				}
			}
			mu.Lock()
			progress(o.Progress, p)
			mu.Unlock()
		})
	}
	wg.Wait()
	if rep.Failed() {
		return rep, ErrPackagesFailed
	}
	return rep, nil
}

// tarballs lists the files to sign, in order.
func (o Options) tarballs() ([]string, error) {
	switch {
	case len(o.Files) > 0 && len(o.Paths) > 0:
		return nil, errors.New("seal: set Paths or Files, not both")
	case len(o.Files) > 0:
		for _, f := range o.Files {
			if err := CheckPath(f); err != nil {
				return nil, err
			}
		}
		return o.Files, nil
	default:
		return expand(o.Paths)
	}
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

// readAll reads every tarball (digests and manifest), as many at a time as Go may run threads: a read keeps about
// one core busy (gunzip, then hashing and parsing on another goroutine), so more would only contend.
func readAll(ctx context.Context, files []string, lim npm.Limits, rep *Report) []*npm.Tarball {
	out := make([]*npm.Tarball, len(files))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, f := range files {
		rep.Packages[i].Tarball = f
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t, err := npm.ReadTarball(ctx, f, lim)
			if err != nil {
				rep.Packages[i].Error = err.Error()
				return
			}
			out[i] = t
			p := &rep.Packages[i]
			p.Name, p.Version, p.Purl = t.Manifest.Name, t.Manifest.Version, t.Purl()
			p.SHA512, p.Integrity = t.SHA512Hex(), t.Integrity()
		})
	}
	wg.Wait()
	return out
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

func signOne(ctx context.Context, s *signer.Signer, t *npm.Tarball, statement []byte, p *PackageResult) error {
	// The two signatures are independent Rekor submissions: make them at once, so a package costs one log
	// round trip rather than two.
	var prov *signer.Signed
	var provErr error
	var wg sync.WaitGroup
	if statement != nil {
		wg.Go(func() { prov, provErr = signProvenance(ctx, s, t, statement) })
	}
	art, err := s.SignArtifact(ctx, t.SHA256[:])
	wg.Wait()
	if err != nil {
		return fmt.Errorf("signing %s: %w", t.Path, err)
	}
	if provErr != nil {
		return provErr
	}
	// Both bundles are signed and verified before either is written, and a package's bundles are written
	// together or not at all: a run cancelled by then writes nothing for it.
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("signing %s: stopped before writing its bundles: %w", t.Path, err)
	}
	files := []struct {
		path string
		data []byte
	}{{bundlefile.SignatureOf(t.Path), art.JSON}}
	if prov != nil {
		line, err := bundlefile.Line(prov.JSON)
		if err != nil {
			return err
		}
		files = append(files, struct {
			path string
			data []byte
		}{bundlefile.ProvenanceOf(t.Path), prov.JSON}, struct {
			path string
			data []byte
		}{bundlefile.JSONLOf(t.Path), line})
	}
	for i, f := range files {
		if err := atomicfile.Write(f.path, f.data, 0o644); err != nil {
			for _, done := range files[:i] {
				_ = os.Remove(done.path) // best effort: keep a package's bundles whole
			}
			return err
		}
	}
	p.Bundle, p.RekorLogIndex = files[0].path, art.LogIndex
	if prov != nil {
		p.ProvenanceBundle, p.ProvenanceJSONL, p.ProvenanceRekorLogIndex = files[1].path, files[2].path, prov.LogIndex
	}
	return nil
}

func signProvenance(ctx context.Context, s *signer.Signer, t *npm.Tarball, statement []byte) (*signer.Signed, error) {
	prov, err := s.SignProvenance(ctx, provenance.PayloadType, statement, t.Purl(), t.SHA512[:])
	if err != nil {
		return nil, fmt.Errorf("signing provenance for %s: %w", t.Path, err)
	}
	return prov, nil
}

func entryURL(rekorURL string, version uint32, index int64, publicGood bool) string {
	switch {
	case publicGood && version == 1:
		return fmt.Sprintf("https://search.sigstore.dev/?logIndex=%d", index)
	case version == 1:
		return fmt.Sprintf("%s/api/v1/log/entries?logIndex=%d", strings.TrimSuffix(rekorURL, "/"), index)
	default:
		return "" // Rekor v2 serves tiles, not entries by index
	}
}

func progress(w io.Writer, p *PackageResult) {
	if p.Error != "" {
		if strings.Contains(p.Error, p.Tarball) { // the error names the file already
			fmt.Fprintf(w, "FAILED  %s\n", p.Error)
		} else {
			fmt.Fprintf(w, "FAILED  %s: %s\n", p.Tarball, p.Error)
		}
		return
	}
	line := fmt.Sprintf("signed  %s@%s  sha512:%s  rekor #%d", p.Name, p.Version, printable.Abbrev(p.SHA512, 16), p.RekorLogIndex)
	if p.ProvenanceBundle != "" {
		line += fmt.Sprintf("  provenance #%d", p.ProvenanceRekorLogIndex)
	}
	fmt.Fprintln(w, line)
}

// stopBeforeSigning reports every package that failed a check, and returns the run's error: nothing was signed.
func stopBeforeSigning(w io.Writer, rep *Report) error {
	for i := range rep.Packages {
		if rep.Packages[i].Error != "" {
			progress(w, &rep.Packages[i])
		}
	}
	return fmt.Errorf("%w: nothing was signed; fix the problems above and re-run", ErrPackagesFailed)
}
