package npm

import (
	"fmt"
	"hash/maphash"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Two entries whose names differ only in case or Unicode normalization are one file on the default
// file systems of macOS and Windows (APFS and HFS+ fold case and normalize to NFD, NTFS folds case
// and Windows drops trailing dots and spaces, HFS+ ignores some format characters), and the later one
// overwrites the earlier: a "package/PACKAGE.JSON" or "package/pac\u212Aage.json" (Kelvin sign)
// replaces package.json there. node-tar itself treats such names as the same path (its
// path-reservations normalize to NFD and fold case). So names are compared by a fold key, and a
// name that is also a directory of another entry is a conflict too.

// foldKey maps a name to the key under which case-insensitive, normalization-insensitive file
// systems store it: NFD, format characters dropped, each rune replaced by the smallest rune of its
// simple case-folding orbit, and trailing dots and spaces dropped from every path segment.
func foldKey(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	ascii := isASCII(p)
	if ascii {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
		}
	} else {
		for _, r := range norm.NFD.String(p) {
			if unicode.Is(unicode.Cf, r) {
				continue
			}
			b.WriteRune(foldRune(r))
		}
	}
	s := b.String()
	if !ascii {
		s = norm.NFD.String(s)
	}
	if !strings.Contains(s, ". ") && !strings.Contains(s, "./") && !strings.Contains(s, " /") &&
		!strings.HasSuffix(s, ".") && !strings.HasSuffix(s, " ") {
		return s
	}
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		segs[i] = strings.TrimRight(seg, ". ")
	}
	return strings.Join(segs, "/")
}

// foldRune returns the smallest rune that simple case folding makes equal to r.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// nameKind is what a fold key names so far.
type nameKind uint8

const (
	kindParent nameKind = iota + 1 // a directory implied by a deeper entry
	kindDir                        // a directory entry
	kindFile                       // a file entry
)

// nameSet holds the fold keys of the entries seen so far, hashed so memory stays proportional to
// the number of names (capped by Limits.MaxEntryCount for entries and for directories), not to
// their length. A hash collision can only cause a refusal, never an acceptance.
type nameSet struct {
	seed    maphash.Seed
	keys    map[uint64]nameEntry
	maxDirs int
	dirs    int
	budget  int // bytes left for remembering first names, to name both sides of a collision
	short   shortNames
}

type nameEntry struct {
	kind  nameKind
	exact uint64 // hash of the exact name, to tell a repeated name from a folded collision
	first string
}

func newNameSet(maxDirs int) *nameSet {
	seed := maphash.MakeSeed()
	return &nameSet{seed: seed, keys: make(map[uint64]nameEntry), maxDirs: maxDirs, budget: 1 << 20,
		short: shortNames{aliasable: map[shortKey]string{}}}
}

// add records a checked entry name, refusing a name that an earlier entry already uses (exactly or
// after folding), a file where another entry needs a directory, and the reverse.
func (s *nameSet) add(p string, dir bool) *TarballError {
	name := strings.TrimSuffix(p, "/")
	key := foldKey(name)
	fail := func(problem string) *TarballError {
		return &TarballError{Entry: p, Problem: problem, Fix: "keep one of them: rename or remove the other file in the " +
			"package and pack it again", Err: ErrNotCanonical}
	}
	// Parents: "package", "package/a" for "package/a/b.js". One running hash gives every prefix's
	// hash in a single pass (maphash.Hash.Sum64 does not reset), so a deep path costs linear time.
	// A directory new to the set has its name checked for Windows short names once, here; so does the entry's own
	// last segment below. parent is the hash of the directory holding the segment (the root's is the empty key's),
	// and seg, walking name beside key (folding neither drops nor makes a "/": TestFoldKeepsSlashes), where the
	// segment starts as the tarball spells it.
	var hash maphash.Hash
	hash.SetSeed(s.seed)
	parent, seg := hash.Sum64(), 0
	start := 0
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		_, _ = hash.WriteString(key[start:i]) // never fails
		start = i
		h := hash.Sum64()
		end := seg + strings.IndexByte(name[seg:], '/')
		switch prev, ok := s.keys[h]; {
		case ok && prev.kind == kindFile:
			return fail(fmt.Sprintf("is inside a directory that %s is a file", s.describe(prev)))
		case !ok:
			if s.dirs++; s.dirs > s.maxDirs {
				return &TarballError{Entry: p, Problem: fmt.Sprintf("has more than %d directories", s.maxDirs),
					Fix: "raise the entry limit only if the package really has that many directories", Err: ErrBomb}
			}
			s.keys[h] = nameEntry{kind: kindParent}
			if err := s.short.add(parent, name[:end], name[seg:end]); err != nil {
				return err
			}
		}
		parent, seg = h, end+1
	}
	_, _ = hash.WriteString(key[start:])
	h, exact := hash.Sum64(), maphash.String(s.seed, name)
	prev, ok := s.keys[h]
	switch {
	case ok && prev.kind == kindParent && dir:
	case ok && prev.exact == exact && prev.kind != kindParent:
		return fail("appears twice in the archive (npm keeps the last copy)")
	case ok && prev.kind == kindParent:
		return fail("is a file, but an earlier entry is inside a directory of that name")
	case ok:
		return fail(fmt.Sprintf("has the same name as %s once case and Unicode normalization are ignored, as they are "+
			"on macOS and Windows, where one overwrites the other", s.describe(prev)))
	}
	e := nameEntry{kind: kindFile, exact: exact}
	if dir {
		e.kind = kindDir
	}
	if s.budget >= len(p) {
		e.first, s.budget = p, s.budget-len(p)
	}
	if !ok { // a directory entry for a known parent was checked as that parent
		if err := s.short.add(parent, name, name[seg:]); err != nil {
			return err
		}
	}
	s.keys[h] = e
	return nil
}

func (s *nameSet) describe(e nameEntry) string {
	if e.first == "" {
		return "an earlier entry"
	}
	return "the earlier entry " + quote(e.first)
}
