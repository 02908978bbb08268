package cli

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/verifier"
)

// The predicate type of the npm registry's own attestation that it published a version.
const npmPublishPredicate = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"

// ErrRegistryAttestation means the registry's own attestations for a version do not hold up, or there are none.
var ErrRegistryAttestation = errors.New("the registry's attestations do not vouch for this version")

// registryMode reports whether npm:NAME@VERSION targets are checked against the registry's own attestations: no
// release and no bundles were named, so the provenance the registry keeps (and its publish attestation) is what
// there is to verify.
func (f *verifyFlags) registryMode(pos []string, rel *releaseRef) bool {
	if rel != nil || f.bundle != "" || f.provenance != "" || len(pos) == 0 {
		return false
	}
	for _, p := range pos {
		if !strings.HasPrefix(p, "npm:") {
			return false
		}
	}
	return true
}

// registryAttestations saves the registry's attestations for name@version beside the tarball: the provenance (the
// target's provenance bundle) and the registry's publish attestation, with the keys that sign the latter.
func registryAttestations(ctx context.Context, rc *registry.Client, t *target, packName, dir string) error {
	atts, err := rc.Attestations(ctx, t.name, t.version)
	if err != nil {
		return fmt.Errorf("%w: %w (a version published without provenance has none: nothing ties it to a source repository)", ErrRegistryAttestation, err)
	}
	t.registry = &registrySource{}
	found := false
	for _, a := range atts {
		switch {
		case strings.HasPrefix(a.PredicateType, "https://slsa.dev/provenance/"):
			found = true
			t.provenance = filepath.Join(dir, bundlefile.ProvenanceOf("registry-"+packName))
			if err := os.WriteFile(t.provenance, a.Bundle, 0o600); err != nil {
				return fmt.Errorf("saving the registry's provenance: %w", err)
			}
		case a.PredicateType == npmPublishPredicate:
			t.registry.publish = filepath.Join(dir, "registry-"+packName+".publish.sigstore.json")
			if err := os.WriteFile(t.registry.publish, a.Bundle, 0o600); err != nil {
				return fmt.Errorf("saving the registry's publish attestation: %w", err)
			}
		}
	}
	if !found {
		return fmt.Errorf("%w: the registry holds no SLSA provenance for %s@%s: it was published without provenance, so nothing ties it to a source repository",
			ErrRegistryAttestation, t.name, t.version)
	}
	if t.registry.publish != "" {
		if t.registry.keys, err = rc.Keys(ctx); err != nil {
			return err
		}
	}
	return nil
}

// registrySource is what the registry vouches for a version with, beyond the provenance it was given.
type registrySource struct {
	publish string         // the registry's publish attestation, when it made one (registry.npmjs.org does)
	keys    []registry.Key // the registry's signing keys
}

// verifiers hands out the verifier for a target: the command line's policy, or, for a package checked against
// the registry with no repository named, the policy pinned to the repository its package.json names.
type verifiers struct {
	tr     root.TrustedMaterial
	f      *verifyFlags
	mu     sync.Mutex
	byRepo map[string]*verifier.Verifier
}

// forTarget returns t's verifier, and where its repository pin came from when the command line named none.
func (vs *verifiers) forTarget(tb *npm.Tarball) (*verifier.Verifier, string, error) {
	p, from := vs.f.policyValue(), ""
	if p.Repository == "" && p.SAN == "" && p.SANRegexp == "" && tb != nil {
		repo, ok := npm.GitHubRepository(tb.Manifest.Repository.URL)
		if !ok {
			return nil, "", fmt.Errorf("%w: package.json names no GitHub repository (repository.url is %s) to hold the provenance to: pass --repository OWNER/REPO",
				verifier.ErrIdentityMismatch, printable.Quote(tb.Manifest.Repository.URL))
		}
		p.Repository, from = repo, "package.json's repository.url"
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if v := vs.byRepo[p.Repository]; v != nil {
		return v, from, nil
	}
	id, ext, err := p.Identity()
	if err != nil {
		return nil, "", usagef("verify: %v", err)
	}
	v, err := verifier.New(vs.tr, id, verifier.WithCertificateExtensions(ext))
	if err != nil {
		return nil, "", err
	}
	vs.byRepo[p.Repository] = v
	return v, from, nil
}

// verifyPublish verifies the registry's publish attestation: signed with one of the registry's keys, logged,
// and naming this package's purl and sha512.
func verifyPublish(tr root.TrustedMaterial, src *registrySource, tb *npm.Tarball) (*verifier.Result, error) {
	b, err := verifier.LoadBundle(src.publish)
	if err != nil {
		return nil, err
	}
	hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
	var key *registry.Key
	for i := range src.keys {
		if src.keys[i].KeyID == hint {
			key = &src.keys[i]
		}
	}
	if key == nil {
		return nil, fmt.Errorf("%w: its publish attestation is signed with key %s, which the registry does not list", ErrRegistryAttestation, printable.Quote(hint))
	}
	der, err := base64.StdEncoding.DecodeString(key.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: the registry's key %s is not base64: %w", ErrRegistryAttestation, key.KeyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the registry's key %s: %w", ErrRegistryAttestation, key.KeyID, err)
	}
	v, err := verifier.New(tr, verifier.Identity{}, verifier.WithPublicKey(pub))
	if err != nil {
		return nil, err
	}
	res, err := v.VerifyArtifactDigests(b, map[string][]byte{"sha512": tb.SHA512[:]})
	if err != nil {
		return nil, err
	}
	if key.Expires != nil && res.LogTime.After(*key.Expires) {
		return nil, fmt.Errorf("%w: signed at %s with key %s, which expired at %s", ErrRegistryAttestation, res.LogTime, key.KeyID, *key.Expires)
	}
	if err := publishNames(b, tb.Purl()); err != nil {
		return nil, err
	}
	return res, nil
}

// publishNames checks the publish attestation is one, and names purl (its signature already holds it to the
// tarball's sha512).
func publishNames(b *bundle.Bundle, purl string) error {
	sc, err := b.SignatureContent()
	if err != nil || sc.EnvelopeContent() == nil {
		return fmt.Errorf("%w: the publish attestation is not a DSSE envelope", ErrRegistryAttestation)
	}
	st, err := sc.EnvelopeContent().Statement()
	if err != nil {
		return fmt.Errorf("%w: the publish attestation holds no statement: %w", ErrRegistryAttestation, err)
	}
	if st.GetPredicateType() != npmPublishPredicate {
		return fmt.Errorf("%w: the publish attestation's predicate type is %s", ErrRegistryAttestation, printable.Quote(st.GetPredicateType()))
	}
	for _, s := range st.GetSubject() {
		if s.GetName() == purl {
			return nil
		}
	}
	return fmt.Errorf("%w: the publish attestation does not name %s", ErrRegistryAttestation, purl)
}
