// Package seal is a signing run: read and check every artifact by its kind (an npm tarball, any file, a checksums
// file), obtain one certificate, sign each artifact and its SLSA provenance, verify what was signed, and write the
// bundles beside the artifacts. Kinds differ only in how an artifact is read, checked and named in its provenance;
// every one goes through the same pipeline.
package seal

import (
	"encoding/hex"

	"github.com/waxseal/waxseal/internal/provenance"
)

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
	// Artifacts has one result per artifact, in the order they were given.
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact is what happened to one artifact.
type Artifact struct {
	// Path is the artifact's file, and Kind how it was read and named.
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Tarball repeats Path for an npm tarball (results.json named it so before other kinds were signed).
	Tarball string `json:"tarball,omitempty"`
	// Name, Version, Purl and Integrity (npm's "sha512-<base64>") are an npm package's.
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Purl      string `json:"purl,omitempty"`
	Integrity string `json:"integrity,omitempty"`
	// SHA256 and SHA512 are the hex digests of the file's bytes.
	SHA256 string `json:"sha256,omitempty"`
	SHA512 string `json:"sha512,omitempty"`
	// Subjects are what its provenance names: the artifact (by purl, or by file name), and for a checksums file
	// every file it lists.
	Subjects []provenance.Subject `json:"subjects,omitempty"`
	// Bundle is the path of ARTIFACT.sigstore.json, the message signature over the artifact's bytes.
	Bundle string `json:"bundle,omitempty"`
	// ProvenanceBundle is the path of ARTIFACT.provenance.sigstore.json, and ProvenanceJSONL of
	// ARTIFACT.intoto.jsonl (the same bundle on one line, the name Scorecard's Signed-Releases check looks for);
	// both empty when provenance was off.
	ProvenanceBundle        string `json:"provenanceBundle,omitempty"`
	ProvenanceJSONL         string `json:"provenanceJsonl,omitempty"`
	RekorLogIndex           int64  `json:"rekorLogIndex"`
	ProvenanceRekorLogIndex int64  `json:"provenanceRekorLogIndex,omitempty"`
	// RekorEntryURL is where a person can look at the signature's log entry (empty for Rekor v2, which serves
	// tiles, not entries); ProvenanceRekorEntryURL the same for the provenance entry.
	RekorEntryURL           string `json:"rekorEntryUrl,omitempty"`
	ProvenanceRekorEntryURL string `json:"provenanceRekorEntryUrl,omitempty"`
	// Error says why this artifact was not signed; empty on success.
	Error string `json:"error,omitempty"`
}

// describe records what reading the artifact found.
func (r *Artifact) describe(a *artifact) {
	r.SHA256, r.SHA512 = hex.EncodeToString(a.sha256), hex.EncodeToString(a.sha512)
	if t := a.tarball; t != nil {
		r.Tarball, r.Name, r.Version, r.Purl, r.Integrity = a.Path, t.Manifest.Name, t.Manifest.Version, t.Purl(), t.Integrity()
	}
}

// Label is how messages name the artifact: NAME@VERSION for an npm package that was read, else file (its path or
// name as the message's reader knows it).
func (r *Artifact) Label(file string) string {
	if r.Kind == NPM && r.Name != "" {
		return r.Name + "@" + r.Version
	}
	return file
}

// Failed reports whether any artifact failed.
func (r *Report) Failed() bool {
	for _, a := range r.Artifacts {
		if a.Error != "" {
			return true
		}
	}
	return false
}

// Packages are the npm packages among the artifacts, in order.
func (r *Report) Packages() []Artifact {
	var out []Artifact
	for _, a := range r.Artifacts {
		if a.Kind == NPM {
			out = append(out, a)
		}
	}
	return out
}

// Document is the report as results.json and --output-json write it.
type Document struct {
	*Report
	// Packages are the npm packages among the artifacts, as these files listed them before other kinds of
	// artifact were signed.
	Packages []Artifact `json:"packages"`
}

// Document is r as a document to write.
func (r *Report) Document() Document {
	pkgs := r.Packages()
	if pkgs == nil {
		pkgs = []Artifact{}
	}
	return Document{Report: r, Packages: pkgs}
}
