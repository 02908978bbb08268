// Package seal orchestrates a signing run: read and check every tarball, obtain one certificate, sign each
// tarball and its SLSA provenance, verify what was signed, and write the bundles beside the tarballs.
package seal

import "github.com/waxseal/waxseal/internal/provenance"

// Report is the outcome of one signing run, in input order.
type Report struct {
	// CertificateIdentity is the signing certificate's subject alternative name (the workflow identity).
	CertificateIdentity string `json:"certificateIdentity"`
	// CertificateIssuer is the OIDC issuer recorded in the certificate.
	CertificateIssuer string `json:"certificateIssuer"`
	// Source is the GitHub context the provenance was built from.
	Source provenance.GitHub `json:"source"`
	// RekorURL is the base URL of the transparency log the signature bundles' entries were written to (the
	// signing config's preference), and RekorVersion its API version (1 or 2).
	RekorURL     string `json:"rekorUrl"`
	RekorVersion uint32 `json:"rekorVersion"`
	// SignedTimestamps is true when the signature bundles carry an RFC 3161 timestamp (the config names a TSA).
	SignedTimestamps bool `json:"signedTimestamps"`
	// ProvenanceRekorURL is the Rekor v1 log the provenance bundles went to, as npm accepts; empty without
	// provenance. Provenance bundles carry no RFC 3161 timestamp (npm's own shape).
	ProvenanceRekorURL string `json:"provenanceRekorUrl,omitempty"`
	// PublicGood is true when signing went to Sigstore's public-good instance (so search.sigstore.dev finds entries).
	PublicGood bool `json:"publicGood"`
	// Skipped says what the run left out because the identity was not a CI one (provenance, npm's checks that
	// compare the package with the CI identity), one line each.
	Skipped []string `json:"skipped,omitempty"`
	// Warnings are things a person should know that did not stop the run (a package the registry does not have
	// yet, an opt-in that publishes more than usual).
	Warnings []string `json:"warnings,omitempty"`
	// Packages has one result per tarball, in the order the tarballs were given.
	Packages []PackageResult `json:"packages"`
}

// PackageResult is what happened to one tarball.
type PackageResult struct {
	Tarball   string `json:"tarball"`
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Purl      string `json:"purl,omitempty"`
	SHA512    string `json:"sha512,omitempty"`    // hex
	Integrity string `json:"integrity,omitempty"` // npm's "sha512-<base64>"
	// Bundle is the path of <tarball>.sigstore.json, the message signature over the tarball.
	Bundle string `json:"bundle,omitempty"`
	// ProvenanceBundle is the path of <tarball>.provenance.sigstore.json; empty when provenance was off.
	ProvenanceBundle string `json:"provenanceBundle,omitempty"`
	// ProvenanceJSONL is the path of <tarball>.intoto.jsonl, the provenance bundle on one line (the name
	// Scorecard's Signed-Releases check looks for); empty when provenance was off.
	ProvenanceJSONL         string `json:"provenanceJsonl,omitempty"`
	RekorLogIndex           int64  `json:"rekorLogIndex"`
	ProvenanceRekorLogIndex int64  `json:"provenanceRekorLogIndex,omitempty"`
	// RekorEntryURL is where a person can look at the tarball signature's log entry (empty for Rekor v2, which
	// serves tiles, not entries); ProvenanceRekorEntryURL the same for the provenance entry.
	RekorEntryURL           string `json:"rekorEntryUrl,omitempty"`
	ProvenanceRekorEntryURL string `json:"provenanceRekorEntryUrl,omitempty"`
	// Error says why this package was not signed; empty on success.
	Error string `json:"error,omitempty"`
}

// Failed reports whether any package failed.
func (r *Report) Failed() bool {
	for _, p := range r.Packages {
		if p.Error != "" {
			return true
		}
	}
	return false
}
