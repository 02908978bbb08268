package ghactions

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// OutputFile appends name/value pairs to a runner file command file (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE) in
// heredoc form with a fresh random delimiter per value, the way @actions/core's prepareKeyValueMessage does.
type OutputFile struct {
	path string
	rand io.Reader
}

// NewOutputFile returns an OutputFile appending to path, which the runner names in GITHUB_OUTPUT.
func NewOutputFile(path string) (*OutputFile, error) {
	if path == "" {
		return nil, errors.New("GITHUB_OUTPUT is not set: run waxseal's action from a GitHub Actions step, or set GITHUB_OUTPUT to a file")
	}
	return &OutputFile{path: path, rand: rand.Reader}, nil
}

var outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// ErrDelimiterInValue is returned when a value contains the delimiter chosen for it, which would let the value
// end its own heredoc. With a random UUID delimiter this only happens to a value crafted to collide.
var ErrDelimiterInValue = errors.New("value contains its heredoc delimiter")

// Set appends name=value. It refuses names that are not identifiers and values containing their delimiter.
func (o *OutputFile) Set(name, value string) error {
	msg, err := o.format(name, value)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(o.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening output file %q: %w", o.path, err)
	}
	if _, err := f.WriteString(msg); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("writing output %q: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing output file %q: %w", o.path, err)
	}
	return nil
}

func (o *OutputFile) format(name, value string) (string, error) {
	if !outputName.MatchString(name) {
		return "", fmt.Errorf("output name %q is not an identifier (letters, digits, '_' and '-')", name)
	}
	id, err := uuid.NewRandomFromReader(o.rand)
	if err != nil {
		return "", fmt.Errorf("generating output delimiter: %w", err)
	}
	delim := "ghadelimiter_" + id.String()
	if strings.Contains(value, delim) {
		return "", fmt.Errorf("writing output %q: %w", name, ErrDelimiterInValue)
	}
	return name + "<<" + delim + "\n" + value + "\n" + delim + "\n", nil
}
