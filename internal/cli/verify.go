package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/trust"
	"github.com/waxseal/waxseal/internal/verifier"
	"github.com/waxseal/waxseal/internal/verifycmd"
)

const verifySynopsis = "verify [flags] (FILE... | DIR | npm:NAME@VERSION... | --release OWNER/REPO@TAG [ASSET...])"

// verifyFlags are verify's flags.
type verifyFlags struct {
	tf                                trustFlags
	idf                               identityFlags
	repository, workflow, ref, commit string
	repositoryID, ownerID             string // GitHub's numeric IDs, which survive renames
	bundle, provenance                string
	noProvenance, noSignature         bool
	release                           string
	githubAPI, registryURL            string
	asJSON                            bool
	refFromRelease                    bool // --ref was not given: the release's tag is pinned
	registryAttestations              bool
	retryFor                          *time.Duration
	net                               retry.Policy // the retry policy, from --retry-for
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	f.tf.register(fs, false)
	f.idf.register(fs)
	fs.Func("repository", "OWNER/REPO (or its https://github.com/OWNER/REPO URL) whose GitHub Actions workflow must have signed (builds the certificate identity)",
		func(v string) error { f.repository = normalizeRepository(v); return nil })
	fs.StringVar(&f.workflow, "workflow", "", "workflow file that must have signed, e.g. .github/workflows/release.yml (default: any in the repository)")
	fs.StringVar(&f.ref, "ref", "", "git ref the workflow must have run at, e.g. refs/tags/v1.2.3 (default: any)")
	fs.StringVar(&f.commit, "source-commit", "", "git commit SHA the workflow must have run at (default: any)")
	fs.StringVar(&f.repositoryID, "repository-id", "", "GitHub's numeric ID of the repository (survives renames; --release looks it up; default: not pinned)")
	fs.StringVar(&f.ownerID, "repository-owner-id", "", "GitHub's numeric ID of the repository's owner (--release looks it up; default: not pinned)")
	fs.StringVar(&f.bundle, "bundle", "", "signature bundle (default: PKG.tgz.sigstore.json beside the tarball)")
	fs.StringVar(&f.provenance, "provenance", "", "provenance bundle (default: PKG.tgz.provenance.sigstore.json beside the tarball)")
	fs.BoolVar(&f.noProvenance, "no-provenance", false, "verify the signature bundle only; without it a missing provenance bundle is a failure")
	fs.BoolVar(&f.noSignature, "no-signature", false, "verify the provenance bundle only (as for provenance npm itself made with 'npm publish --provenance')")
	fs.StringVar(&f.release, "release", "", "download the tarballs and bundles of this GitHub release, OWNER/REPO@TAG, and verify them")
	fs.StringVar(&f.githubAPI, "github-api-url", "", "GitHub REST API base URL (default: $GITHUB_API_URL or https://api.github.com)")
	fs.StringVar(&f.registryURL, "registry", "", "npm registry for npm:NAME@VERSION (default: npm's setting: npm_config_registry, .npmrc, then registry.npmjs.org)")
	fs.BoolVar(&f.asJSON, "json", false, "print the verdicts as JSON")
	fs.BoolVar(&f.registryAttestations, "registry-attestations", false, "with npm:NAME@VERSION: also check the provenance the registry serves is the one in the release (same signature, same log entry), so a bundle npm replaced at publish is caught")
	f.retryFor = registerRetryFor(fs)
}

var (
	// npmSpecPattern is npm:NAME@VERSION; NAME may have capitals (packages published before npm refused them).
	npmSpecPattern = regexp.MustCompile(`^npm:((?:@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*)@([^@/\s]+)$`)
)

// target is one artifact to verify with its two bundles.
type target struct {
	display, file, bundle, provenance string
	// name and version, when set, are what the artifact must be (npm:NAME@VERSION): a registry or mirror that
	// serves another package, however validly signed, is refused.
	name, version string
	// registryProvenance, when set, is the provenance bundle the registry serves for the package, which must be
	// the release's own (--registry-attestations).
	registryProvenance string
	// unsigned marks a release asset that no bundle on the release signs.
	unsigned bool
	// registry, for npm:NAME@VERSION checked against the registry's own attestations, is what else the registry
	// vouches for the version with; the provenance is the one it keeps.
	registry *registrySource
}

// ErrUnsigned means an artifact has no bundle at all.
var ErrUnsigned = errors.New("not signed")

// ErrRegistryProvenance means the registry serves other provenance than the one signed for the release.
var ErrRegistryProvenance = errors.New("the registry's provenance is not the one signed for the release")

// localTarget is a file on disk with the bundles beside it: FILE.sigstore.json, and FILE.provenance.sigstore.json
// or else FILE.intoto.jsonl (the same bundle, as a release may carry it).
func localTarget(display, file string) target {
	t := target{display: display, file: file, bundle: bundlefile.SignatureOf(file), provenance: bundlefile.ProvenanceOf(file)}
	if _, err := os.Stat(t.provenance); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(bundlefile.JSONLOf(file)); err == nil {
			t.provenance = bundlefile.JSONLOf(file)
		}
	}
	return t
}

// runVerify verifies artifacts (local files, a directory of downloaded release assets, a GitHub release, or npm
// packages from the registry) against their signature and provenance bundles and a signer identity.
func (e *Env) runVerify(ctx context.Context, args []string) error {
	err := e.verify(ctx, args)
	if err == nil || !ShouldPrint(err) || !jsonRequested(args) {
		return err
	}
	// --json: a failure before any verdict (a usage error, a network error) is JSON on stdout too, so a machine
	// never has to parse stderr.
	var out struct {
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
		Usage    bool   `json:"usageError,omitempty"`
		ExitCode int    `json:"exitCode"`
	}
	out.Error, out.ExitCode = remedy.Explain(err, remedy.Flag).Error(), ExitCode(err)
	out.Usage = out.ExitCode == 2
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	if jerr := enc.Encode(out); jerr != nil {
		return errors.Join(err, jerr)
	}
	return &ReportedError{Err: err}
}

// jsonRequested reports whether args ask for --json in any form the flag package accepts (-json, --json,
// --json=BOOL), even when parsing them failed before reaching it; flags may follow the arguments, up to "--".
func jsonRequested(args []string) bool {
	want := false
	for _, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			continue
		}
		if !hasVal {
			want = true
		} else if b, err := strconv.ParseBool(val); err == nil {
			want = b
		}
	}
	return want
}

func (e *Env) verify(ctx context.Context, args []string) error {
	fs := e.newFlagSet("verify", verifySynopsis)
	var f verifyFlags
	f.register(fs.FlagSet)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	rel, err := f.checkArgs(pos)
	if err != nil {
		return err
	}
	// Usage errors come first, before any request. npm packages checked against the registry may leave the
	// identity to the repository their package.json names, so only a ref or commit pin is allowed there.
	onlyRegistryPins := f.registryMode(pos, rel) && f.policyValue() == (verifycmd.Policy{Ref: f.ref, Commit: f.commit})
	if _, _, err := f.policy(); err != nil && !onlyRegistryPins {
		return err
	}
	if err := checkRetryFor("verify", *f.retryFor); err != nil {
		return err
	}
	f.net = e.retryPolicy(*f.retryFor)
	if rel != nil {
		if err := e.learnRepositoryIDs(ctx, &f, rel); err != nil {
			return err
		}
	}
	topts := f.tf.options(e, f.net)
	if err := topts.Validate(); err != nil {
		return usagef("verify: %v", remedy.Explain(err, remedy.Flag))
	}
	tr, err := trust.TrustedRoot(ctx, topts)
	if err != nil {
		return err
	}
	vs := &verifiers{tr: tr, f: &f, byRepo: map[string]*verifier.Verifier{}}
	dir, err := os.MkdirTemp("", "waxseal-verify-")
	if err != nil {
		return fmt.Errorf("creating a download directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // best-effort cleanup of a temporary directory
	targets, err := e.targets(ctx, &f, rel, pos, dir)
	if err != nil {
		return err
	}
	reps := make([]artifactReport, 0, len(targets))
	for _, t := range targets {
		reps = append(reps, verifyTarget(ctx, vs, &f, t))
	}
	e.warnUnpinned(&f, reps)
	return e.printReports(reps, f.asJSON)
}

// warnUnpinned warns when a GitHub Actions certificate was accepted on its SAN alone: a reusable workflow signs
// with the same SAN for every repository that calls it, so only --repository (and its IDs) tell them apart.
func (e *Env) warnUnpinned(f *verifyFlags, reps []artifactReport) {
	if f.repository != "" {
		return
	}
	for _, r := range reps {
		for _, res := range []*verifier.Result{r.Signature, r.Provenance} {
			if res != nil && res.Repository != "" {
				fmt.Fprintf(e.Stderr, "waxseal: warning: only the signing workflow (the certificate identity) was pinned, not the source "+
					"repository: a reusable workflow signs with that identity for every repository that calls it. These bundles came from %s "+
					"(repository id %s): if that is the one you trust, add --repository %s --repository-id %s\n",
					res.Repository, cmp.Or(res.RepositoryID, "unknown"), strings.TrimPrefix(res.Repository, github.DefaultServerURL+"/"), cmp.Or(res.RepositoryID, "unknown"))
				return
			}
		}
	}
}

// checkArgs validates the combination of targets and flags; it returns the parsed --release.
func (f *verifyFlags) checkArgs(pos []string) (*releaseRef, error) {
	var rel *releaseRef
	if f.release != "" {
		r, err := parseReleaseRef(f.release)
		if err != nil {
			return nil, err
		}
		rel = r
		// The release's repository is the one that must have signed, whatever identity is given: a reusable
		// workflow's SAN alone would accept any repository that calls it. --repository names another.
		if f.repository == "" {
			f.repository = r.owner + "/" + r.repo
		}
		// The release's tag is the natural ref: a tag push or a release event runs at refs/tags/TAG. --ref names
		// another (a workflow_dispatch on a branch, say).
		if f.ref == "" {
			f.ref, f.refFromRelease = "refs/tags/"+r.tag, true
		}
	}
	if len(pos) == 0 && rel == nil {
		return nil, usagef("verify: nothing to verify: pass FILE (or a directory of downloaded assets), npm:NAME@VERSION or --release OWNER/REPO@TAG")
	}
	if (f.bundle != "" || f.provenance != "") && len(pos) != 1 {
		return nil, usagef("verify: --bundle and --provenance name the bundles of one tarball: pass exactly one")
	}
	if f.noProvenance && f.provenance != "" || f.noSignature && f.bundle != "" {
		return nil, usagef("verify: --no-provenance/--no-signature contradict --provenance/--bundle")
	}
	if f.noProvenance && f.noSignature {
		return nil, usagef("verify: --no-provenance and --no-signature leave nothing to verify")
	}
	if f.registryAttestations && (f.noProvenance || !slices.ContainsFunc(pos, func(p string) bool { return strings.HasPrefix(p, "npm:") })) {
		return nil, usagef("verify: --registry-attestations checks the provenance the registry serves for npm:NAME@VERSION: pass npm:NAME@VERSION, and not --no-provenance")
	}
	for _, p := range pos {
		if err := checkNPMSpec(p, f, rel); err != nil {
			return nil, err
		}
	}
	return rel, nil
}

// normalizeRepository takes the forms people paste for a repository: OWNER/REPO, or its URL on github.com
// (https://github.com/OWNER/REPO, with .git or a trailing slash). Anything else is kept for the policy to refuse.
func normalizeRepository(v string) string {
	s := strings.TrimSpace(v)
	for _, p := range []string{"https://github.com/", "http://github.com/", "github.com/", "git+https://github.com/"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".git")
			if verifycmd.ValidRepository(s) {
				return s
			}
			return v
		}
	}
	return v
}

// checkNPMSpec checks an npm:NAME@VERSION argument: an exact version, and bundles from one place (the release, both
// of --bundle and --provenance, or, with neither, the registry's own attestations).
func checkNPMSpec(p string, f *verifyFlags, rel *releaseRef) error {
	if !strings.HasPrefix(p, "npm:") {
		return nil
	}
	m := npmSpecPattern.FindStringSubmatch(p)
	if m == nil {
		return usagef("verify: %q is not npm:NAME@VERSION (an exact version, e.g. npm:@scope/pkg@1.2.3)", p)
	}
	if err := npm.ValidateVersion(m[2]); err != nil {
		return usagef("verify: %s: %q is not an exact version: a dist-tag or a range moves from version to version; find the one you mean "+
			"(npm view %s@%s version) and pass npm:%s@THAT_VERSION", p, m[2], m[1], m[2], m[1])
	}
	if rel == nil && (f.bundle != "") != (f.provenance != "") && !f.noSignature && !f.noProvenance {
		return usagef("verify: %s: pass both --bundle and --provenance, --release OWNER/REPO@TAG, or neither to check the registry's own attestations", p)
	}
	return nil
}

// policy builds the identity the certificate must carry. No identity, no verification.
func (f *verifyFlags) policy() (verifier.Identity, certificate.Extensions, error) {
	id, ext, err := f.policyValue().Identity()
	if err != nil {
		return id, ext, usagef("verify: %v", err)
	}
	return id, ext, nil
}

// policyValue is the flags' identity policy.
func (f *verifyFlags) policyValue() verifycmd.Policy {
	return verifycmd.Policy{Repository: f.repository, Workflow: f.workflow, Ref: f.ref, Commit: f.commit,
		RepositoryID: f.repositoryID, OwnerID: f.ownerID,
		SAN: f.idf.san, SANRegexp: f.idf.sanRegexp, Issuer: f.idf.issuer, IssuerRegexp: f.idf.issuerRegexp}
}

// targets resolves the command line to artifacts on disk and their bundles: files, the files of a directory,
// npm:NAME@VERSION from the registry, or a release's assets (downloading only what the verdicts need).
func (e *Env) targets(ctx context.Context, f *verifyFlags, rel *releaseRef, pos []string, dir string) ([]target, error) {
	var dl *releaseDownloads
	if rel != nil {
		var err error
		if dl, err = e.openRelease(ctx, f, rel, dir); err != nil {
			return nil, err
		}
		if len(pos) == 0 {
			return dl.all(ctx)
		}
	}
	var out []target
	for _, p := range pos {
		switch m := npmSpecPattern.FindStringSubmatch(p); {
		case m != nil:
			t, err := e.fetchNPM(ctx, f, m[1], m[2], dir, dl)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		case dl != nil:
			// With --release, an argument names one of the release's assets.
			t, err := dl.artifact(ctx, p)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		default:
			ts, err := localTargets(p)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
		}
	}
	if f.bundle != "" || f.provenance != "" {
		for i := range out {
			out[i].bundle, out[i].provenance = cmp.Or(f.bundle, out[i].bundle), cmp.Or(f.provenance, out[i].provenance)
		}
	}
	return out, nil
}

// localTargets is a file, or every artifact in a directory: each regular file that is not itself a bundle. A
// file in the directory with no bundle beside it is a target too, and fails as unsigned: a directory of
// downloaded release assets verifies only when everything in it does.
func localTargets(p string) ([]target, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w (download the artifact, or check the path)", p, describeOpenErr(err))
	}
	if !st.IsDir() {
		return []target{localTarget(p, p)}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("reading the directory %s: %w", p, err)
	}
	var out []target
	for _, e := range entries {
		if _, _, bundle := bundlefile.Split(e.Name()); bundle || !e.Type().IsRegular() {
			continue
		}
		file := filepath.Join(p, e.Name())
		out = append(out, localTarget(file, file))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the directory %s holds no artifacts to verify (only bundles, or nothing): download the release's files into it", p)
	}
	return out, nil
}

// fetchNPM downloads name@version from the user's npm registry, checked against dist.integrity, and pairs it with
// the bundles of the same tarball in the release (only those two are downloaded from it): the check that ties the
// registry to the release.
func (e *Env) fetchNPM(ctx context.Context, f *verifyFlags, name, version, dir string, dl *releaseDownloads) (target, error) {
	base := f.registryURL
	if base == "" {
		var err error
		if base, err = e.registryFor(name); err != nil {
			return target{}, err
		}
	}
	rc, err := registry.New(e.transport(), f.net, base)
	if err != nil {
		return target{}, err
	}
	meta, err := rc.Version(ctx, name, version)
	if err != nil {
		return target{}, err
	}
	data, err := rc.Tarball(ctx, meta)
	if err != nil {
		return target{}, err
	}
	packName := npm.PackFileName(name, version)
	path := filepath.Join(dir, "npm-"+packName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return target{}, fmt.Errorf("saving %s@%s: %w", name, version, err)
	}
	t := target{display: "npm:" + name + "@" + version, file: path, name: name, version: version}
	if f.registryAttestations {
		if t.registryProvenance, err = registryProvenance(ctx, rc, name, version, filepath.Join(dir, bundlefile.ProvenanceOf("registry-"+packName))); err != nil {
			return target{}, err
		}
	}
	t.bundle, t.provenance = filepath.Join(dir, bundlefile.SignatureOf("release-lacks-"+packName)), filepath.Join(dir, bundlefile.ProvenanceOf("release-lacks-"+packName))
	if dl == nil && f.bundle == "" && f.provenance == "" {
		// No release and no bundles named: the registry's own attestations are what there is to check.
		return t, registryAttestations(ctx, rc, &t, packName, dir)
	}
	if dl != nil {
		if t.bundle, t.provenance, err = dl.bundlesOf(ctx, packName, t.bundle, t.provenance); err != nil {
			return target{}, err
		}
	}
	return t, nil
}

// verifyTarget verifies one artifact against its bundles. The provenance decides how the artifact is read: one
// whose provenance names an npm package (pkg:npm/...) is read as npm reads it and held to the package it names;
// any other is checked as its bytes, its provenance naming it by digest.
func verifyTarget(ctx context.Context, vs *verifiers, f *verifyFlags, t target) artifactReport {
	// npm keeps no message signature: a package checked against the registry has its provenance and the
	// registry's publish attestation.
	signature, provenance := !f.noSignature && t.registry == nil, !f.noProvenance
	rep := artifactReport{Artifact: t.display}
	if t.unsigned {
		rep.setError(fmt.Errorf("%w: the release has no bundle for it (%s, %s or %s): it was not downloaded; verify the assets you need by name",
			ErrUnsigned, bundlefile.SignatureOf(t.display), bundlefile.ProvenanceOf(t.display), bundlefile.JSONLOf(t.display)))
		return rep
	}
	if signature {
		rep.Bundle = t.bundle
	}
	if provenance {
		rep.ProvenanceBundle = t.provenance
	}
	digests, err := artifactDigests(t.file)
	if err != nil {
		rep.setError(err)
		return rep
	}
	rep.SHA256 = hex.EncodeToString(digests["sha256"])
	var pb *bundle.Bundle
	if provenance {
		if pb, err = verifier.LoadBundle(t.provenance); err != nil {
			rep.setError(fmt.Errorf("provenance bundle: %w", missingHint(err, t.provenance, "--no-provenance")))
			return rep
		}
	}
	var tb *npm.Tarball
	if t.name != "" || namesNPMPackage(pb) {
		if tb, err = readNPM(ctx, t, &rep); err != nil {
			rep.setError(err)
			return rep
		}
	}
	v, from, err := vs.forTarget(tb)
	if err != nil {
		rep.setError(err)
		return rep
	}
	rep.PinnedFrom = from
	if err := verifyBundles(v, f, t, tb, pb, digests, signature, provenance, &rep); err != nil {
		rep.setError(err)
		return rep
	}
	if t.registry != nil && t.registry.publish != "" {
		if rep.Publish, err = verifyPublish(vs.tr, t.registry, tb); err != nil {
			rep.setError(fmt.Errorf("the registry's publish attestation: %w", err))
			return rep
		}
	}
	rep.setError(nil)
	return rep
}

// verifyBundles verifies the signature and provenance bundles a verdict needs.
func verifyBundles(v *verifier.Verifier, f *verifyFlags, t target, tb *npm.Tarball, pb *bundle.Bundle, digests map[string][]byte,
	signature, provenance bool, rep *artifactReport) error {
	if signature {
		b, err := v.LoadBundle(t.bundle)
		if err == nil {
			rep.Signature, err = v.VerifyArtifactDigests(b, digests)
		}
		if err != nil {
			return fmt.Errorf("signature bundle: %w", explainIdentity(missingHint(err, t.bundle, "--no-signature"), t.bundle, f))
		}
	}
	if provenance {
		if err := verifyProvenance(v, t, pb, tb, digests, rep); err != nil {
			return explainIdentity(err, t.provenance, f)
		}
	}
	return nil
}

// namesNPMPackage reports whether a provenance bundle's statement names an npm package (read before verification
// only to choose how to read the artifact: the verification then holds it to what the statement names).
func namesNPMPackage(b *bundle.Bundle) bool {
	if b == nil {
		return false
	}
	sc, err := b.SignatureContent()
	if err != nil || sc.EnvelopeContent() == nil {
		return false
	}
	st, err := sc.EnvelopeContent().Statement()
	if err != nil {
		return false
	}
	for _, s := range st.GetSubject() {
		if strings.HasPrefix(s.GetName(), "pkg:npm/") {
			return true
		}
	}
	return false
}

// readNPM reads the artifact as npm reads it, and holds it to npm:NAME@VERSION when that was asked for.
func readNPM(ctx context.Context, t target, rep *artifactReport) (*npm.Tarball, error) {
	tb, err := npm.ReadTarball(ctx, t.file, npm.DefaultLimits())
	if err != nil {
		return nil, fmt.Errorf("reading tarball: %w", err)
	}
	rep.Purl, rep.SHA512 = tb.Purl(), tb.SHA512Hex()
	if t.name != "" && (tb.Manifest.Name != t.name || tb.Manifest.Version != t.version) {
		return nil, fmt.Errorf("%w: the registry served %s@%s for %s@%s: do not install it, and report the registry or mirror that served it",
			verifier.ErrDigestMismatch, printable.Line(tb.Manifest.Name), printable.Line(tb.Manifest.Version), t.name, t.version)
	}
	return tb, nil
}

// verifyProvenance verifies the provenance bundle: an npm package's by its purl and sha512, any other artifact's
// by the digest its statement names it by.
func verifyProvenance(v *verifier.Verifier, t target, pb *bundle.Bundle, tb *npm.Tarball, digests map[string][]byte, rep *artifactReport) error {
	var err error
	if tb != nil {
		rep.Provenance, err = v.VerifyProvenance(pb, tb.Purl(), tb.SHA512[:])
	} else {
		rep.Provenance, rep.Subject, err = v.VerifyProvenanceOf(pb, "", digests)
	}
	if err != nil {
		return fmt.Errorf("provenance bundle: %w", err)
	}
	if t.registryProvenance != "" {
		if err := sameProvenance(t.provenance, t.registryProvenance); err != nil {
			return err
		}
		rep.RegistryProvenance = "the same as the release's"
	}
	return nil
}

// registryProvenance fetches the SLSA provenance the registry keeps for name@version into path.
func registryProvenance(ctx context.Context, rc *registry.Client, name, version, path string) (string, error) {
	atts, err := rc.Attestations(ctx, name, version)
	if err != nil {
		return "", err
	}
	for _, a := range atts {
		if a.PredicateType == provenance.PredicateType {
			if err := os.WriteFile(path, a.Bundle, 0o600); err != nil {
				return "", fmt.Errorf("saving the registry's provenance: %w", err)
			}
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: the registry holds no SLSA provenance for %s@%s: it was published without --provenance-file; do not trust it as signed", ErrRegistryProvenance, name, version)
}

// sameProvenance checks the registry's provenance bundle is the release's: the same DSSE envelope (payload and
// signature) and the same transparency log entry. Under trusted publishing, npm before 11.20.0 (and 12.0.x)
// replaced a --provenance-file bundle with one it made itself (npm/cli#9879).
func sameProvenance(release, fromRegistry string) error {
	a, err := verifier.LoadBundle(release)
	if err != nil {
		return fmt.Errorf("provenance bundle: %w", err)
	}
	b, err := verifier.LoadBundle(fromRegistry)
	if err != nil {
		return fmt.Errorf("%w: the registry's provenance cannot be read: %w", ErrRegistryProvenance, err)
	}
	entry := func(x *bundle.Bundle) string {
		es := x.GetVerificationMaterial().GetTlogEntries()
		if len(es) == 0 {
			return "no log entry"
		}
		return fmt.Sprintf("Rekor entry %d of log %x", es[0].GetLogIndex(), es[0].GetLogId().GetKeyId())
	}
	ea, eb := a.GetDsseEnvelope(), b.GetDsseEnvelope()
	if ea == nil || eb == nil || !bytes.Equal(ea.GetPayload(), eb.GetPayload()) || len(ea.GetSignatures()) == 0 ||
		len(eb.GetSignatures()) == 0 || !bytes.Equal(ea.GetSignatures()[0].GetSig(), eb.GetSignatures()[0].GetSig()) || entry(a) != entry(b) {
		return fmt.Errorf("%w: the registry serves provenance logged as %s, the release's is %s; npm replaced the bundle at publish "+
			"(npm before 11.20.0 and 12.0.x do under trusted publishing, npm/cli#9879): publish with npm >= 11.20.0 or >= 12.1.0",
			ErrRegistryProvenance, entry(b), entry(a))
	}
	return nil
}

// missingHint adds, when the bundle file does not exist, how to verify without it.
func missingHint(err error, path, flag string) error {
	if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
		return fmt.Errorf("%w (if the tarball was published without this bundle, pass %s)", err, flag)
	}
	return err
}
