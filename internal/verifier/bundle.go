package verifier

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/semver"
	"google.golang.org/protobuf/encoding/protojson"
)

// MaxBundleBytes bounds how much of a bundle file is read. Real bundles are a few KiB; a provenance bundle with a
// large certificate chain stays well under 1 MiB.
const MaxBundleBytes = 16 << 20

// ParseBundle parses Sigstore bundle JSON (media types v0.1 to v0.3) and checks its structure in the order the
// Sigstore client specification verifies it, so that a bad bundle is refused for its first real defect:
// ErrMalformedBundle (not bundle JSON), ErrUnsupportedBundle (unknown media type), ErrInvalidBundle (parts missing),
// ErrCertificate (a root certificate shipped in the bundle), ErrTransparencyLog (an entry that cannot be right).
// Everything cryptographic against a trusted root is left to Verifier.
func ParseBundle(data []byte) (*bundle.Bundle, error) {
	return parseBundle(data, nil)
}

// parseBundle is ParseBundle; with isAnchor, a root certificate in the chain is refused unless isAnchor accepts it.
func parseBundle(data []byte, isAnchor func(*x509.Certificate) bool) (*bundle.Bundle, error) {
	// Spec (bundle): a bundle is the JSON encoding of dev.sigstore.bundle.v1.Bundle.
	if !json.Valid(data) {
		return nil, verdict(ErrMalformedBundle, errors.New("the file is not well-formed JSON (truncated download?)"))
	}
	pb, err := unmarshalProto(data)
	if err != nil {
		return nil, verdict(ErrMalformedBundle, err)
	}
	version, err := (&bundle.Bundle{Bundle: pb}).Version()
	if err != nil || semver.Compare(version, "v0.1") < 0 || semver.Compare(version, "v0.4") >= 0 {
		return nil, verdict(ErrUnsupportedBundle, fmt.Errorf("media type %q (known: application/vnd.dev.sigstore.bundle+json;version=0.1 to 0.3, application/vnd.dev.sigstore.bundle.v0.3+json): upgrade waxseal or re-create the bundle", pb.GetMediaType()))
	}
	if err := checkCertificates(pb.GetVerificationMaterial(), isAnchor); err != nil {
		return nil, err
	}
	for i, e := range pb.GetVerificationMaterial().GetTlogEntries() {
		if err := checkTlogEntry(e, version); err != nil {
			return nil, fmt.Errorf("transparency log entry %d: %w", i, err)
		}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		if errors.Is(err, bundle.ErrUnsupportedMediaType) {
			return nil, verdict(ErrUnsupportedBundle, err)
		}
		return nil, verdict(ErrInvalidBundle, err)
	}
	return b, nil
}

// checkCertificates checks the shape of the bundle's certificate chain.
func checkCertificates(vm *protobundle.VerificationMaterial, isAnchor func(*x509.Certificate) bool) error {
	chain := vm.GetX509CertificateChain()
	if chain == nil {
		return nil
	}
	// Spec (bundle): the chain holds the signing certificate first; it cannot be empty.
	if len(chain.GetCertificates()) == 0 {
		return verdict(ErrInvalidBundle, errors.New("the certificate chain is empty"))
	}
	for i, c := range chain.GetCertificates() {
		cert, err := x509.ParseCertificate(c.GetRawBytes())
		if err != nil {
			return verdict(ErrInvalidBundle, fmt.Errorf("certificate %d: %w", i, err))
		}
		if isAnchor != nil && isSelfSigned(cert) && !isAnchor(cert) {
			return errRootInChain(cert)
		}
	}
	return nil
}

func isSelfSigned(cert *x509.Certificate) bool {
	return cert.IsCA && bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignatureFrom(cert) == nil
}

// errRootInChain: spec (bundle): the chain MUST NOT contain the root; trust anchors come from the trusted root.
func errRootInChain(cert *x509.Certificate) error {
	return verdict(ErrCertificate, fmt.Errorf("the bundle's certificate chain includes a root certificate (%s) that the trusted root does not: roots come only from the trusted root", cert.Subject))
}

// checkTlogEntry checks what can be checked of a log entry without the log's key: its index, the Merkle inclusion
// proof against the proof's own root, the presence of the checkpoint and promise the bundle version requires.
func checkTlogEntry(e *protorekor.TransparencyLogEntry, version string) error {
	if e.GetLogIndex() < 0 {
		return verdict(ErrTransparencyLog, fmt.Errorf("negative log index %d", e.GetLogIndex()))
	}
	ip := e.GetInclusionProof()
	switch {
	// Spec (bundle v0.1): an entry MUST carry an inclusion promise (signed entry timestamp).
	case version == "v0.1" && e.GetInclusionPromise() == nil:
		return verdict(ErrTransparencyLog, errors.New("no inclusion promise (required for bundle v0.1)"))
	// Spec (bundle v0.2+): an entry MUST carry an inclusion proof; a verifier does not go online to find one.
	case semver.Compare(version, "v0.2") >= 0 && ip == nil:
		return verdict(ErrTransparencyLog, fmt.Errorf("no inclusion proof (required for bundle %s); the verifier does not query the log for one", version))
	}
	if ip != nil {
		if ip.GetLogIndex() < 0 || ip.GetTreeSize() <= 0 {
			return verdict(ErrTransparencyLog, fmt.Errorf("inclusion proof has index %d in a tree of size %d", ip.GetLogIndex(), ip.GetTreeSize()))
		}
		// RFC 6962 §2.1.1: the proof's hashes lead from the entry's leaf hash to the root hash.
		leaf := rfc6962.DefaultHasher.HashLeaf(e.GetCanonicalizedBody())
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(ip.GetLogIndex()), uint64(ip.GetTreeSize()), leaf, ip.GetHashes(), ip.GetRootHash()); err != nil {
			return verdict(ErrTransparencyLog, fmt.Errorf("inclusion proof does not verify (the entry or proof is not what the log holds): %w", err))
		}
		// Spec (client): the inclusion proof is verified against a checkpoint signed by the log.
		if ip.GetCheckpoint().GetEnvelope() == "" {
			return verdict(ErrTransparencyLog, errors.New("inclusion proof has no signed checkpoint"))
		}
	}
	// The entry body must be a known Rekor type describing a signature that verifies with its own key.
	if _, err := tlog.ParseTransparencyLogEntry(e); err != nil {
		return verdict(ErrTransparencyLog, err)
	}
	return nil
}

// LoadBundle reads and parses the bundle file at path.
func LoadBundle(path string) (*bundle.Bundle, error) {
	return loadBundle(path, nil)
}

// LoadBundle reads and parses the bundle file at path, refusing up front a chain whose root is not a trust anchor
// of v's trusted root (before the transparency log checks that would otherwise report a later defect).
func (v *Verifier) LoadBundle(path string) (*bundle.Bundle, error) {
	return loadBundle(path, v.isTrustAnchor)
}

// ParseBundle is the package's ParseBundle with v's trust anchors (see LoadBundle).
func (v *Verifier) ParseBundle(data []byte) (*bundle.Bundle, error) {
	return parseBundle(data, v.isTrustAnchor)
}

func loadBundle(path string, isAnchor func(*x509.Certificate) bool) (*bundle.Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading bundle %q: no such file: download the bundle beside the artifact or name it explicitly", path)
		}
		return nil, fmt.Errorf("reading bundle %q: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	data, err := io.ReadAll(io.LimitReader(f, MaxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading bundle %q: %w", path, err)
	}
	if len(data) > MaxBundleBytes {
		return nil, fmt.Errorf("reading bundle %q: %w", path, verdict(ErrMalformedBundle, fmt.Errorf("larger than %d bytes", MaxBundleBytes)))
	}
	b, err := parseBundle(data, isAnchor)
	if err != nil {
		return nil, fmt.Errorf("parsing bundle %q: %w", path, err)
	}
	return b, nil
}

// unmarshalProto decodes the bundle's protobuf JSON. Some clients line-wrap base64 (RFC 2045 style, as
// `base64` does by default); the line breaks carry no data, so a bundle that fails only on them is decoded again
// with them removed from its byte fields. Nothing else is relaxed.
func unmarshalProto(data []byte) (*protobundle.Bundle, error) {
	pb := new(protobundle.Bundle)
	err := protojson.Unmarshal(data, pb)
	if err == nil || !strings.Contains(err.Error(), "invalid value for bytes field") {
		return pb, err
	}
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return nil, err
	}
	unwrapBase64(doc)
	again, mErr := json.Marshal(doc)
	if mErr != nil {
		return nil, err
	}
	pb = new(protobundle.Bundle)
	if err2 := protojson.Unmarshal(again, pb); err2 != nil {
		return nil, err
	}
	return pb, nil
}

// bytesFields are the bundle's protobuf bytes fields that hold base64 in JSON.
var bytesFields = map[string]bool{
	"signedTimestamp": true, "rawBytes": true, "signature": true, "sig": true, "digest": true, "payload": true,
	"canonicalizedBody": true, "keyId": true, "rootHash": true, "hashes": true, "signedEntryTimestamp": true,
}

func unwrapBase64(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && bytesFields[k] {
				x[k] = strings.NewReplacer("\n", "", "\r", "").Replace(s)
				continue
			}
			if list, ok := val.([]any); ok && bytesFields[k] {
				for i, item := range list {
					if s, ok := item.(string); ok {
						list[i] = strings.NewReplacer("\n", "", "\r", "").Replace(s)
					}
				}
				continue
			}
			unwrapBase64(val)
		}
	case []any:
		for _, item := range x {
			unwrapBase64(item)
		}
	}
}
