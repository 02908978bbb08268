package npm

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry name limits. npm pack reads the files it packs from a file system, so no entry it writes
// can exceed them; refusing longer names also bounds the work done per entry.
const (
	maxNameBytes    = 4096 // PATH_MAX on Linux
	maxSegmentBytes = 255  // NAME_MAX on ext4 and APFS
	maxDepth        = 1024 // node-tar's default maxDepth: it silently skips deeper entries
)

// packageDir is the one top-level directory npm pack writes; every entry lives under it.
const packageDir = "package/"

// checkEntryPath applies the rules for a canonical entry name: under package/, plain UTF-8 path
// segments, nothing that node-tar (strip: 1, then path.resolve) would extract somewhere other
// than where its name says. dir reports a directory entry, whose name ends in "/".
func checkEntryPath(p string, dir bool) *TarballError {
	fail := func(problem, fix string, err error) *TarballError {
		return &TarballError{Entry: p, Problem: problem, Fix: fix, Err: err}
	}
	const rewrite = "packers write only package/... paths: " + repack
	const rename = "rename the file in the package and pack it again"
	switch {
	case p == "":
		return fail("has an empty name", rewrite, ErrNotCanonical)
	case !utf8.ValidString(p):
		return fail("has a name that is not valid UTF-8 (npm reads such bytes as U+FFFD)", rewrite, ErrNotCanonical)
	case len(p) > maxNameBytes:
		return fail(fmt.Sprintf("has a name longer than %d bytes", maxNameBytes), rename, ErrNotCanonical)
	}
	if i := strings.IndexFunc(p, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(p[i:])
		return fail(fmt.Sprintf("has the control character U+%04X in its name", r), rename, ErrNotCanonical)
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || hasDrive(p) {
		return fail("entry name is an absolute path", rewrite, ErrTraversal)
	}
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return fail("entry name climbs out of the package directory", rewrite, ErrTraversal)
		}
	}
	if strings.ContainsRune(p, '\\') {
		return fail(`has a backslash in its name, which npm on Windows reads as a directory separator`, rename, ErrNotCanonical)
	}
	rest, ok := strings.CutPrefix(p, packageDir)
	if !ok {
		return fail(outsidePackage(p), rewrite, ErrNotCanonical)
	}
	if dir {
		rest = strings.TrimSuffix(rest, "/")
	} else if strings.HasSuffix(p, "/") {
		return fail(`is a file whose name ends in "/", which node-tar (npm) reads as a directory and its body as `+
			"more entries", rewrite, ErrNotCanonical)
	}
	if rest == "" {
		return nil // the package/ directory itself
	}
	segs := strings.Split(rest, "/")
	if len(segs) > maxDepth {
		return fail(fmt.Sprintf("is nested more than %d directories deep, which node-tar (npm) skips when it extracts",
			maxDepth), rename, ErrNotCanonical)
	}
	for _, seg := range segs {
		switch {
		case seg == "" || seg == ".":
			return fail(fmt.Sprintf(`has an empty or "." path segment, so npm would install it as %q`,
				strings.TrimLeft(path.Clean(rest), "/")), rewrite, ErrNotCanonical)
		case len(seg) > maxSegmentBytes:
			return fail(fmt.Sprintf("has a %d-byte path segment; file systems allow %d", len(seg), maxSegmentBytes),
				rename, ErrNotCanonical)
		}
	}
	return nil
}

// outsidePackage explains an entry outside package/: npm extracts with node-tar's strip: 1, which
// drops the first path component whatever it is.
func outsidePackage(p string) string {
	first, rest, ok := strings.Cut(p, "/")
	switch {
	case !ok || rest == "":
		return "is not under package/: npm strips the first path component of every entry, so it skips this one"
	case first == "package":
		return "is not a canonical path under package/"
	}
	return fmt.Sprintf("is under %q, not package/: npm strips the first path component of every entry whatever "+
		"it is, so it would install this as %q", first+"/", path.Clean(rest))
}

// hasDrive reports a Windows drive prefix such as C: (node-tar strips these as absolute).
func hasDrive(name string) bool {
	return len(name) >= 2 && name[1] == ':' &&
		(('a' <= name[0] && name[0] <= 'z') || ('A' <= name[0] && name[0] <= 'Z'))
}
