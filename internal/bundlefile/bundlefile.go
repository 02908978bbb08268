// Package bundlefile names the files waxseal writes beside an artifact, and reads those names back:
//
//   - ARTIFACT.sigstore.json, the message signature over the artifact's bytes (what `cosign sign-blob --bundle`
//     makes);
//   - ARTIFACT.provenance.sigstore.json, the SLSA provenance bundle (for an npm tarball, the file
//     `npm publish --provenance-file` takes);
//   - ARTIFACT.intoto.jsonl, the same provenance bundle as one line of JSON Lines, the name OpenSSF Scorecard's
//     Signed-Releases check looks for on a release.
//
// It is the one place these names are spelled.
package bundlefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The suffixes, after the artifact's own name.
const (
	SignatureSuffix  = ".sigstore.json"
	ProvenanceSuffix = ".provenance.sigstore.json"
	JSONLSuffix      = ".intoto.jsonl"
)

// Kind is which of an artifact's bundle files a name is.
type Kind int

// The kinds of bundle file.
const (
	Signature Kind = iota + 1
	Provenance
	JSONL
)

// SignatureOf names the message-signature bundle of artifact (a path or a release asset name).
func SignatureOf(artifact string) string { return artifact + SignatureSuffix }

// ProvenanceOf names the provenance bundle of artifact.
func ProvenanceOf(artifact string) string { return artifact + ProvenanceSuffix }

// JSONLOf names the one-line provenance bundle of artifact.
func JSONLOf(artifact string) string { return artifact + JSONLSuffix }

// Names are the bundle files of artifact: the signature, and with provenance the provenance bundle and its
// one-line form.
func Names(artifact string, provenance bool) []string {
	if !provenance {
		return []string{SignatureOf(artifact)}
	}
	return []string{SignatureOf(artifact), ProvenanceOf(artifact), JSONLOf(artifact)}
}

// Split reports which artifact the bundle file name belongs to and which of its bundles it is; ok is false for a
// name that is no bundle file's.
func Split(name string) (artifact string, kind Kind, ok bool) {
	for _, k := range []struct {
		suffix string
		kind   Kind
	}{{ProvenanceSuffix, Provenance}, {JSONLSuffix, JSONL}, {SignatureSuffix, Signature}} {
		if a, found := strings.CutSuffix(name, k.suffix); found && a != "" {
			return a, k.kind, true
		}
	}
	return "", 0, false
}

// Line is a bundle as the content of a .intoto.jsonl file: the JSON compacted onto one line (no newline inside),
// ending with exactly one newline. JSON Lines separates values with "\n" and allows a trailing one; it makes the
// file a POSIX text file that line readers (`while read`, slsa-verifier's scanner, `cat` into another .jsonl)
// take whole; actions/attest writes its bundle file the same way (JSON.stringify(bundle) + EOL).
func Line(bundle []byte) ([]byte, error) {
	var line bytes.Buffer
	if err := json.Compact(&line, bundle); err != nil {
		return nil, fmt.Errorf("compacting the bundle onto one line: %w", err)
	}
	line.WriteByte('\n')
	return line.Bytes(), nil
}
