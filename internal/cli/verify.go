package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/trust"
	"github.com/waxseal/waxseal/internal/verifier"
	"github.com/waxseal/waxseal/internal/verifycmd"
)

const verifySynopsis = "verify [flags] (PKG.tgz... | npm:NAME@VERSION... | --release OWNER/REPO@TAG)"

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
	registryAttestations              bool
	retryFor                          *time.Duration
	net                               retry.Policy // the retry policy, from --retry-for
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	f.tf.register(fs, false)
	f.idf.register(fs)
	fs.StringVar(&f.repository, "repository", "", "OWNER/REPO whose GitHub Actions workflow must have signed (builds the certificate identity)")
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
	npmSpecPattern = regexp.MustCompile(`^npm:((?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*)@([0-9A-Za-z.+-]+)$`)
)

// target is one tarball to verify with its two bundles.
type target struct {
	display, tarball, bundle, provenance string
	// name and version, when set, are what the tarball must be (npm:NAME@VERSION): a registry or mirror that
	// serves another package, however validly signed, is refused.
	name, version string
	// registryProvenance, when set, is the provenance bundle the registry serves for the package, which must be
	// the release's own (--registry-attestations).
	registryProvenance string
}

// ErrRegistryProvenance means the registry serves other provenance than the one signed for the release.
var ErrRegistryProvenance = errors.New("the registry's provenance is not the one signed for the release")

// runVerify verifies tarballs (local, from a GitHub release, or from the npm registry) against their signature and
// provenance bundles and a signer identity.
func (e *Env) runVerify(ctx context.Context, args []string) error {
	fs := e.newFlagSet("verify", verifySynopsis)
	var f verifyFlags
	f.register(fs)
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
	if _, _, err := f.policy(); err != nil {
		return err // usage errors first, before any request
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
	id, ext, err := f.policy()
	if err != nil {
		return err
	}
	topts := f.tf.options(e, f.net)
	if err := topts.Validate(); err != nil {
		return usagef("verify: %v", remedy.Explain(err, remedy.Flag))
	}
	tr, err := trust.TrustedRoot(ctx, topts)
	if err != nil {
		return err
	}
	v, err := verifier.New(tr, id, verifier.WithCertificateExtensions(ext))
	if err != nil {
		return err
	}
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
		reps = append(reps, verifyTarget(ctx, v, t, !f.noSignature, !f.noProvenance))
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
		if f.repository == "" && f.idf.san == "" && f.idf.sanRegexp == "" {
			f.repository = r.owner + "/" + r.repo
		}
	}
	if len(pos) == 0 && rel == nil {
		return nil, usagef("verify: nothing to verify: pass PKG.tgz, npm:NAME@VERSION or --release OWNER/REPO@TAG")
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
		if strings.HasPrefix(p, "npm:") {
			if !npmSpecPattern.MatchString(p) {
				return nil, usagef("verify: %q is not npm:NAME@VERSION (an exact version, e.g. npm:@scope/pkg@1.2.3)", p)
			}
			hasSig := f.bundle != "" || f.noSignature
			hasProv := f.provenance != "" || f.noProvenance
			if rel == nil && (!hasSig || !hasProv) {
				return nil, usagef("verify: %s needs the bundles to check it against: pass --release OWNER/REPO@TAG (or --bundle and --provenance)", p)
			}
		}
	}
	return rel, nil
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

// targets resolves the command line to tarballs on disk and their bundles.
func (e *Env) targets(ctx context.Context, f *verifyFlags, rel *releaseRef, pos []string, dir string) ([]target, error) {
	var relAssets map[string]string // asset name -> downloaded path
	if rel != nil {
		var err error
		relAssets, err = e.downloadRelease(ctx, f.githubAPI, f.net, rel, dir)
		if err != nil {
			return nil, err
		}
	}
	var out []target
	if len(pos) == 0 {
		for name, path := range relAssets {
			if strings.HasSuffix(name, ".tgz") {
				out = append(out, target{display: name, tarball: path, bundle: bundlefile.SignatureOf(path), provenance: bundlefile.ProvenanceOf(path)})
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("release %s has no .tgz assets: sign the tarballs and upload them with their bundles", rel)
		}
		sortTargets(out)
		return out, nil
	}
	for _, p := range pos {
		t := target{display: p, tarball: p, bundle: bundlefile.SignatureOf(p), provenance: bundlefile.ProvenanceOf(p)}
		if m := npmSpecPattern.FindStringSubmatch(p); m != nil {
			var err error
			if t, err = e.fetchNPM(ctx, f, m[1], m[2], dir, relAssets); err != nil {
				return nil, err
			}
		} else if relAssets != nil {
			// With --release, a tarball argument names one of the release's assets.
			path, ok := relAssets[p]
			if !ok || !strings.HasSuffix(p, ".tgz") {
				return nil, fmt.Errorf("release %s has no tarball asset %q: name one of its .tgz assets, or leave the arguments out to verify them all", rel, p)
			}
			t = target{display: p, tarball: path, bundle: bundlefile.SignatureOf(path), provenance: bundlefile.ProvenanceOf(path)}
		}
		if f.bundle != "" {
			t.bundle = f.bundle
		}
		if f.provenance != "" {
			t.provenance = f.provenance
		}
		out = append(out, t)
	}
	return out, nil
}

// fetchNPM downloads name@version from the user's npm registry, checked against dist.integrity, and pairs it with
// the bundles of the same tarball in the release: the check that ties the registry to the release.
func (e *Env) fetchNPM(ctx context.Context, f *verifyFlags, name, version, dir string, relAssets map[string]string) (target, error) {
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
	// npm pack's file name: @scope/name@1.2.3 -> scope-name-1.2.3.tgz.
	packName := strings.ReplaceAll(strings.TrimPrefix(name, "@"), "/", "-") + "-" + version + ".tgz"
	path := filepath.Join(dir, "npm-"+packName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return target{}, fmt.Errorf("saving %s@%s: %w", name, version, err)
	}
	t := target{display: "npm:" + name + "@" + version, tarball: path, name: name, version: version}
	if f.registryAttestations {
		if t.registryProvenance, err = registryProvenance(ctx, rc, name, version, filepath.Join(dir, bundlefile.ProvenanceOf("registry-"+packName))); err != nil {
			return target{}, err
		}
	}
	// The release's bundles for the same tarball; one the release lacks is reported missing when needed.
	for _, b := range []struct {
		dst  *string
		name func(string) string
	}{{&t.bundle, bundlefile.SignatureOf}, {&t.provenance, bundlefile.ProvenanceOf}} {
		if p, ok := relAssets[b.name(packName)]; ok {
			*b.dst = p
		} else {
			*b.dst = filepath.Join(dir, b.name("release-lacks-"+packName))
		}
	}
	return t, nil
}

// verifyTarget verifies one tarball against its bundles.
func verifyTarget(ctx context.Context, v *verifier.Verifier, t target, signature, provenance bool) artifactReport {
	rep := artifactReport{Artifact: t.display}
	if signature {
		rep.Bundle = t.bundle
	}
	if provenance {
		rep.ProvenanceBundle = t.provenance
	}
	tb, err := npm.ReadTarball(ctx, t.tarball, npm.DefaultLimits())
	if err != nil {
		rep.setError(fmt.Errorf("reading tarball: %w", err))
		return rep
	}
	rep.Purl, rep.SHA512 = tb.Purl(), tb.SHA512Hex()
	if t.name != "" && (tb.Manifest.Name != t.name || tb.Manifest.Version != t.version) {
		rep.setError(fmt.Errorf("%w: the registry served %s@%s for %s@%s: do not install it, and report the registry or mirror that served it",
			verifier.ErrDigestMismatch, tb.Manifest.Name, tb.Manifest.Version, t.name, t.version))
		return rep
	}
	if signature {
		b, err := v.LoadBundle(t.bundle)
		if err == nil {
			rep.Signature, err = v.VerifyArtifact(b, tb.SHA256[:])
		}
		if err != nil {
			rep.setError(fmt.Errorf("signature bundle: %w", missingHint(err, t.bundle, "--no-signature")))
			return rep
		}
	}
	if provenance {
		pb, err := v.LoadBundle(t.provenance)
		if err == nil {
			rep.Provenance, err = v.VerifyProvenance(pb, tb.Purl(), tb.SHA512[:])
		}
		if err != nil {
			rep.setError(fmt.Errorf("provenance bundle: %w", missingHint(err, t.provenance, "--no-provenance")))
			return rep
		}
		if t.registryProvenance != "" {
			if err := sameProvenance(t.provenance, t.registryProvenance); err != nil {
				rep.setError(err)
				return rep
			}
			rep.RegistryProvenance = "the same as the release's"
		}
	}
	rep.setError(nil)
	return rep
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
