package npm

import (
	"fmt"
	"strings"
)

// Windows gives a long name a second, 8.3 "short" name (package.json is also PACKAG~1.JSO), and opening
// the short name opens the long one. A tarball holding package.json and PACKAG~1.JSO would have npm on
// Windows write the second over the first. But a name shaped like a short name is harmless on its own,
// and real packages hold them (file~1.js), so one is refused only when the same directory also holds
// a name whose short name it could be: Windows builds a short name from the long name's first
// characters and the first three of its extension, so a shaped name conflicts with any long name that
// starts with the same character and has the same extension prefix (a deliberately wide test: the
// numbers after "~" and the hashed forms Windows uses after four collisions are not modelled).

// shortNames records, per directory, the short-name signatures of the long names that get a short
// name, and the names shaped like a short name, to compare them once every entry has been seen. nameSet.add
// feeds it each name once: an entry's own last segment, and a directory the first time a path goes through it.
type shortNames struct {
	aliasable map[shortKey]string // a long name with the signature ("" once the budget is spent)
	shaped    []shapedName
	budget    int
}

// shortKey is a signature in a directory, the directory known by the hash of its fold key (nameSet's).
type shortKey struct {
	dir uint64
	sig string
}

type shapedName struct {
	key  shortKey
	name string
}

// maxShaped bounds the names shaped like short names that are remembered; a tarball with more is refused rather
// than checked in part.
const maxShaped = 4096

// add records one path segment seg of name, in the directory whose fold key hashes to dir.
func (s *shortNames) add(dir uint64, name, seg string) *TarballError {
	sig, shaped, aliasable := shortSignature(seg)
	key := shortKey{dir, sig}
	switch {
	case shaped && len(s.shaped) == maxShaped:
		return &TarballError{Entry: name, Problem: fmt.Sprintf("is the name shaped like a Windows 8.3 short name (a \"~\" and digits) "+
			"past the %d waxseal checks for names that npm on Windows would write over each other", maxShaped),
			Fix: "rename the files named BASE~N.EXT in the package and pack it again", Err: ErrBomb}
	case shaped:
		s.shaped = append(s.shaped, shapedName{key, strings.Clone(name)})
	case aliasable:
		if _, ok := s.aliasable[key]; !ok {
			long := ""
			if s.budget < 1<<20 {
				long, s.budget = strings.Clone(name), s.budget+len(name)
			}
			s.aliasable[key] = long
		}
	}
	return nil
}

// conflict returns the first name shaped like a short name that another name in its directory could
// have as its short name.
func (s *nameSet) shortNameConflict() *TarballError {
	for _, sh := range s.short.shaped {
		long, ok := s.short.aliasable[sh.key]
		if !ok {
			continue
		}
		other := "another entry"
		if long != "" {
			other = quote(long)
		}
		return &TarballError{Entry: sh.name, Problem: fmt.Sprintf("is named like a Windows 8.3 short name, and the "+
			"same directory holds %s, whose short name it could be: npm on Windows would write one file over the "+
			"other", other), Fix: "rename one of them in the package (a \"~\" followed by digits is the pattern) and pack it again",
			Err: ErrNotCanonical}
	}
	return nil
}

// shortSignature returns the part of a short name a path segment determines: its first character and
// extension (letters and digits upper-cased, anything else as "_"). shaped reports a segment that looks
// like a short name (BASE~N.EXT, BASE at most 6 characters before the "~"); aliasable one that Windows
// would give a short name because it is not a plain 8.3 name itself.
func shortSignature(seg string) (sig string, shaped, aliasable bool) {
	if isShortName(seg) {
		base, ext, _ := strings.Cut(seg, ".")
		return shortChars(base[:1]) + "." + shortChars(ext), true, false
	}
	n := strings.TrimLeft(strings.ReplaceAll(seg, " ", ""), ".")
	base, ext := n, ""
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		base, ext = n[:i], n[i+1:]
	}
	if base == "" {
		return "", false, false
	}
	plain := len(seg) == len(n) && len(base) <= 8 && len(ext) <= 3 && !strings.Contains(base, ".") &&
		shortChars(n) == strings.ToUpper(n)
	return shortChars(base[:1]) + "." + shortChars(ext[:min(3, len(ext))]), false, !plain
}

// shortChars upper-cases ASCII letters and digits and turns anything else into "_", as Windows does for
// characters a short name cannot hold (the few punctuation marks it keeps are folded too, which only
// widens the test).
func shortChars(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.':
			return r
		}
		return '_'
	}, s)
}

// isShortName reports a name shaped like a Windows 8.3 alias ("ABCDEF~1.TXT"): at most 8
// characters, a "~" and digits before an extension of at most 3.
func isShortName(seg string) bool {
	base, ext, _ := strings.Cut(seg, ".")
	tilde := strings.LastIndexByte(base, '~')
	return len(base) <= 8 && len(ext) <= 3 && !strings.Contains(ext, ".") && tilde > 0 &&
		allDigits([]byte(base[tilde+1:]))
}
