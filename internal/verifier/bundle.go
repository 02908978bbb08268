package verifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// MaxBundleBytes bounds how much of a bundle file is read. Real bundles are a few KiB; a provenance bundle with a
// large certificate chain stays well under 1 MiB.
const MaxBundleBytes = 16 << 20

// ParseBundle parses Sigstore bundle JSON (any of media types v0.1, v0.2, v0.3). It tells malformed JSON
// (ErrMalformedBundle) from an unknown media type (ErrUnsupportedBundle) from a bundle missing its parts
// (ErrInvalidBundle).
func ParseBundle(data []byte) (*bundle.Bundle, error) {
	// Spec (bundle): a bundle is the JSON encoding of dev.sigstore.bundle.v1.Bundle.
	if !json.Valid(data) {
		return nil, verdict(ErrMalformedBundle, errors.New("the file is not well-formed JSON (truncated download?)"))
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		switch {
		case errors.Is(err, bundle.ErrUnsupportedMediaType):
			return nil, verdict(ErrUnsupportedBundle, fmt.Errorf("%w (known: application/vnd.dev.sigstore.bundle+json;version=0.1 to 0.3, application/vnd.dev.sigstore.bundle.v0.3+json)", err))
		case errors.Is(err, bundle.ErrValidation):
			return nil, verdict(ErrInvalidBundle, err)
		default:
			return nil, verdict(ErrMalformedBundle, err)
		}
	}
	return &b, nil
}

// LoadBundle reads and parses the bundle file at path.
func LoadBundle(path string) (*bundle.Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading bundle %q: no such file: download the bundle beside the artifact or name it explicitly", path)
		}
		return nil, fmt.Errorf("reading bundle %q: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading bundle %q: %w", path, err)
	}
	if len(data) > MaxBundleBytes {
		return nil, fmt.Errorf("reading bundle %q: %w", path, verdict(ErrMalformedBundle, fmt.Errorf("larger than %d bytes", MaxBundleBytes)))
	}
	b, err := ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("parsing bundle %q: %w", path, err)
	}
	return b, nil
}
