package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/verifier"
)

// identityFlags are cosign's certificate identity flags, shared by verify and verify-bundle.
type identityFlags struct {
	san, sanRegexp, issuer, issuerRegexp string
}

func (f *identityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.san, "certificate-identity", "", "exact certificate SAN the signer must have (for GitHub Actions: the workflow URI at a ref)")
	fs.StringVar(&f.sanRegexp, "certificate-identity-regexp", "", "regular expression the certificate SAN must match")
	fs.StringVar(&f.issuer, "certificate-oidc-issuer", "", "exact OIDC issuer of the certificate")
	fs.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "regular expression the OIDC issuer must match")
}

func (f *identityFlags) identity() verifier.Identity {
	return verifier.Identity{SAN: f.san, SANRegexp: f.sanRegexp, Issuer: f.issuer, IssuerRegexp: f.issuerRegexp}
}

// verdicts are the reasons a bundle is rejected, in the words printed for people and machines.
var verdicts = []error{
	verifier.ErrMalformedBundle, verifier.ErrUnsupportedBundle, verifier.ErrInvalidBundle,
	verifier.ErrTransparencyLog, verifier.ErrTimestamp, verifier.ErrCertificate, verifier.ErrSCT,
	verifier.ErrSignature, verifier.ErrKeyMismatch, verifier.ErrDigestMismatch, verifier.ErrIdentityMismatch,
	verifier.ErrSubjectMismatch, verifier.ErrPredicateType, verifier.ErrProvenanceMismatch, registry.ErrIntegrity,
	ErrRegistryProvenance, ErrUnsigned, ErrRegistryAttestation,
}

// artifactReport is the verdict on one artifact.
type artifactReport struct {
	Artifact string `json:"artifact"`
	Purl     string `json:"purl,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	SHA512   string `json:"sha512,omitempty"`
	// Subject is how the provenance names an artifact that is not an npm package: the file name it was signed
	// as, which may differ from the name it was downloaded as.
	Subject          string `json:"subject,omitempty"`
	Bundle           string `json:"bundle,omitempty"`
	ProvenanceBundle string `json:"provenanceBundle,omitempty"`
	// PinnedFrom says where the repository pin came from when the command line named none (an npm package's
	// package.json).
	PinnedFrom string `json:"pinnedFrom,omitempty"`
	// Publish is the npm registry's own attestation that it published the version, when it made one.
	Publish *verifier.Result `json:"publishAttestation,omitempty"`
	// RegistryProvenance says what the registry's provenance was found to be (--registry-attestations).
	RegistryProvenance string           `json:"registryProvenance,omitempty"`
	Verified           bool             `json:"verified"`
	Signature          *verifier.Result `json:"signature,omitempty"`
	Provenance         *verifier.Result `json:"provenance,omitempty"`
	// Reason is the class of rejection (one of the verifier's verdicts); Error says it in full, and Next what to
	// do about it.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	Next   string `json:"next,omitempty"`

	err error
}

func (r *artifactReport) setError(err error) {
	r.err = err
	if err == nil {
		r.Verified = r.Signature != nil || r.Provenance != nil || r.Publish != nil
		return
	}
	r.Verified = false
	r.Error = err.Error()
	for _, v := range verdicts {
		if errors.Is(err, v) {
			r.Reason = v.Error()
			break
		}
	}
	r.Next = nextStep(err)
	var ne *nextStepError
	if errors.As(err, &ne) {
		r.Next = ne.next
	}
}

// nextStep says what a person should do about a rejection.
func nextStep(err error) string {
	var te *npm.TarballError
	switch {
	case errors.Is(err, verifier.ErrIdentityMismatch):
		return "someone else signed it (the reason names who): if you trust that signer, verify with its identity; otherwise do not install or run it"
	case errors.Is(err, verifier.ErrDigestMismatch), errors.Is(err, verifier.ErrSubjectMismatch):
		return "the bundle is for another file: download the file and its bundles again from the same release; if it persists, do not install or run it, and tell the maintainers"
	case errors.Is(err, ErrRegistryProvenance):
		return "the registry does not serve the provenance the release signed: republish (a new version) with npm >= 11.20.0 or >= 12.1.0 and --provenance-file, and tell your users"
	case errors.Is(err, registry.ErrIntegrity):
		return "the registry served bytes its own metadata does not vouch for: do not install it, and report the registry or mirror"
	case errors.Is(err, verifier.ErrMalformedBundle), errors.Is(err, verifier.ErrUnsupportedBundle), errors.Is(err, verifier.ErrPredicateType):
		return "check you passed the right file: the .sigstore.json bundle for --bundle, the .provenance.sigstore.json one for --provenance"
	case errors.Is(err, verifier.ErrKeyMismatch):
		return "verify with the key or certificate identity the bundle was made with"
	case errors.Is(err, ErrUnsigned):
		return "do not trust it as signed: ask the maintainers to sign it, or leave it out by naming the assets to verify"
	case errors.Is(err, os.ErrNotExist):
		return "download the bundle next to the tarball, or pass --no-signature / --no-provenance if the release has none"
	case errors.As(err, &te):
		return "it is not a tarball `npm pack` makes, so npm may install something else than what was checked: do not install it"
	case errors.Is(err, verifier.ErrTransparencyLog), errors.Is(err, verifier.ErrTimestamp), errors.Is(err, verifier.ErrCertificate),
		errors.Is(err, verifier.ErrSCT), errors.Is(err, verifier.ErrSignature), errors.Is(err, verifier.ErrInvalidBundle),
		errors.Is(err, verifier.ErrProvenanceMismatch):
		return "the bundle does not hold up: do not install or run it, and tell its maintainers (with --trusted-root, check it is the signing instance's)"
	}
	return "fix the problem the reason names and run verify again"
}

// printReports prints the verdicts and returns an error unless every artifact verified.
func (e *Env) printReports(reps []artifactReport, asJSON bool) error {
	var failed []error
	for _, r := range reps {
		if !r.Verified {
			err := r.err
			if err == nil {
				err = errors.New("nothing was verified")
			}
			failed = append(failed, fmt.Errorf("%s: %w", r.Artifact, err))
		}
	}
	if asJSON {
		out := struct {
			Verified  bool             `json:"verified"`
			Artifacts []artifactReport `json:"artifacts"`
		}{len(failed) == 0 && len(reps) > 0, reps}
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("writing JSON: %w", err)
		}
	} else {
		for _, r := range reps {
			writeHuman(e.Stdout, r)
		}
	}
	// Each verdict was printed above, once: the error only carries the exit status and the verdicts for errors.Is.
	switch {
	case len(reps) == 0:
		return errors.New("verify: nothing to verify")
	case len(failed) == 1:
		return &ReportedError{Err: failed[0]}
	case len(failed) > 1:
		return &ReportedError{Err: fmt.Errorf("%d of %d artifacts were rejected:\n%w", len(failed), len(reps), errors.Join(failed...))}
	}
	return nil
}

func writeHuman(w io.Writer, r artifactReport) {
	name := printable.Line(r.Artifact)
	switch {
	case r.Purl != "":
		name += " (" + printable.Line(r.Purl) + ")"
	case r.Subject != "" && r.Subject != filepath.Base(r.Artifact):
		name += " (signed as " + printable.Quote(r.Subject) + ")"
	}
	if !r.Verified {
		fmt.Fprintf(w, "REJECTED %s\n  reason: %s; what to do: %s\n", name, printable.Line(r.Error), r.Next)
		return
	}
	fmt.Fprintf(w, "VERIFIED %s\n", name)
	res := cmp.Or(r.Signature, r.Provenance, r.Publish)
	var what []string
	if r.Signature != nil {
		what = append(what, "signature")
	}
	if r.Provenance != nil {
		what = append(what, "SLSA provenance")
	}
	if r.Publish != nil {
		what = append(what, "the registry's publish attestation")
	}
	fmt.Fprintf(w, "  verified:      %s\n", strings.Join(what, " and "))
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-14s %s\n", label+":", printable.Line(v))
		}
	}
	line("signer", res.SAN)
	line("issuer", res.Issuer)
	line("repository", res.Repository)
	if r.PinnedFrom != "" {
		line("pinned from", r.PinnedFrom+" (pass --repository to pin another)")
	}
	if res.RepositoryID != "" {
		line("repository id", res.RepositoryID+" (owner id "+cmp.Or(res.OwnerID, "unknown")+")")
	}
	line("workflow", res.Workflow)
	line("ref", res.Ref)
	line("commit", res.Commit)
	line("runner", res.RunnerEnvironment)
	line("registry", map[bool]string{true: "its provenance is the release's (same signature and log entry)"}[r.RegistryProvenance != ""])
	for _, x := range []struct {
		label string
		res   *verifier.Result
	}{{"signature", r.Signature}, {"provenance", r.Provenance}, {"publish", r.Publish}} {
		if x.res != nil {
			line(x.label, fmt.Sprintf("Rekor entry %d at %s, time from %s", x.res.LogIndex, x.res.LogTime.UTC().Format(time.RFC3339), x.res.TimestampSource))
		}
	}
}
