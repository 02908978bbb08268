package seal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/waxseal/waxseal/internal/printable"
)

// Expand resolves each argument as a literal file or a glob into absolute paths, keeping first-seen order and
// dropping repeats. A pattern that matches nothing is an error: it is almost always a missing build step
// (`npm pack`) or a wrong path.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		matches, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("reading the pattern %q: %w (fix the glob syntax)", a, err)
		}
		if len(matches) == 0 {
			if _, statErr := os.Stat(a); statErr == nil {
				matches = []string{a}
			} else {
				return nil, fmt.Errorf("no file matches %q: build it first (`npm pack` for a tarball), or fix the path", a)
			}
		}
		slices.Sort(matches)
		for _, m := range matches {
			abs, err := filepath.Abs(m)
			if err != nil {
				return nil, fmt.Errorf("resolving %q: %w", m, err)
			}
			if !slices.Contains(out, abs) {
				out = append(out, abs)
			}
		}
	}
	for _, p := range out {
		if err := CheckPath(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CheckPath refuses a path (or a name in a checksums file) that holds control characters (a newline, an escape), Unicode line
// separators, bidirectional overrides or invalid UTF-8: such a name would reach log lines, the step summary and
// release asset names, where it could forge lines, close a code block or show a different name than the file's.
func CheckPath(p string) error {
	if !utf8.ValidString(p) {
		return fmt.Errorf("the path %q is not valid UTF-8: rename the file", p)
	}
	for _, r := range p {
		if printable.Unsafe(r) {
			return fmt.Errorf("the path %q holds the control character %U, which could forge log lines or the job summary: rename the file", p, r)
		}
	}
	return nil
}
