package npm

import (
	"errors"
	"strconv"
	"strings"

	"github.com/waxseal/waxseal/internal/printable"
)

// Sentinel errors classify why a tarball was refused; test them with errors.Is.
var (
	// ErrNotGzip means the file does not start with a gzip header.
	ErrNotGzip = errors.New("not a gzip file")
	// ErrCorrupt means the gzip stream or the tar archive inside it is damaged or truncated.
	ErrCorrupt = errors.New("corrupt archive")
	// ErrBomb means the archive exceeds a Limits cap: decompressed size, compression ratio or entry count.
	ErrBomb = errors.New("archive exceeds limits")
	// ErrTraversal means an entry name is absolute or climbs out of the package directory.
	ErrTraversal = errors.New("unsafe entry path")
	// ErrLink means the archive holds a symlink or hardlink entry, which no packer writes.
	ErrLink = errors.New("link entry")
	// ErrEntryType means the archive holds a device, FIFO or other entry no packer writes.
	ErrEntryType = errors.New("unsupported entry type")
	// ErrNoManifest means the archive has no package/package.json.
	ErrNoManifest = errors.New("no package/package.json")
	// ErrManifest means package/package.json is over the size cap, not valid JSON, or has an invalid
	// or missing name or version.
	ErrManifest = errors.New("invalid package.json")
	// ErrNotRegular means the path is a directory, device or other non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrNotCanonical means the archive is not in a form every npm reads the same way (one gzip
	// member; ustar headers in a layout npm pack, pnpm, yarn or bun writes, with PAX records or GNU
	// long names only for paths; every entry under package/ with a name no other entry shares, even
	// ignoring case and Unicode normalization), so two npms, or npm and another reader, could see
	// different files in it.
	ErrNotCanonical = errors.New("not a tarball form every npm reads the same way")
)

// repack is the fix for a tarball no packer would write: what to do, for whichever packer made it.
// (It does not suggest npm pack: for a pnpm or yarn workspace that makes a different tarball, as npm
// does not rewrite workspace: ranges.)
const repack = "pack the package again with the tool that made it (npm pack, pnpm pack, yarn pack or " +
	"bun pm pack); if that tool wrote this, report it to the tool's maintainers"

// TarballError explains, in one line, why a tarball was refused and how to fix it.
// Err holds the class (one of the sentinels above, or an I/O error) for errors.Is.
type TarballError struct {
	Path    string // the tarball's path as given
	Entry   string // archive entry, if the problem is in one
	Field   string // package.json field, if the problem is in one
	Problem string // what is wrong
	Fix     string // what to do about it
	Err     error
}

func (e *TarballError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(quote(e.Path))
		b.WriteString(": ")
	}
	if e.Entry != "" {
		b.WriteString(quote(e.Entry))
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(quote(e.Field))
		b.WriteString(" ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return printable.Line(b.String())
}

// Unwrap returns the class of the error.
func (e *TarballError) Unwrap() error { return e.Err }

// CheckError is one npm registry rule a package would fail at publish time.
type CheckError struct {
	Path    string // tarball path, when known
	Field   string // package.json field or environment setting at fault
	Problem string // what the registry would say
	Fix     string // the exact change that makes the registry accept it
}

func (e *CheckError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(quote(e.Path))
		b.WriteString(": ")
	}
	b.WriteString(e.Field)
	b.WriteString(" ")
	b.WriteString(e.Problem)
	b.WriteString("; ")
	b.WriteString(e.Fix)
	return printable.Line(b.String())
}

// DuplicateError refuses two tarballs of the same name@version.
type DuplicateError struct {
	Purl         string
	First, Again string // the two tarball paths
}

func (e *DuplicateError) Error() string {
	return printable.Line(quote(e.Again) + ": " + e.Purl + " is also in " + quote(e.First) +
		"; the registry accepts one tarball per name@version: drop one or bump its version")
}

// quote quotes s the way %q would, which also keeps messages on one line whatever s holds.
func quote(s string) string { return strconv.Quote(s) }
