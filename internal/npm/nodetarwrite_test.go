package npm

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reproduces how node-tar (lib/header.js encode and splitPrefix, the same in node-tar 6 and
// 7) stores an entry's path in a ustar header, so tests can write tarballs byte for byte as npm pack
// does (the reader accepts other packers' layouts too). JavaScript strings are UTF-16, so "length"
// and slice() count UTF-16 code units while Buffer.byteLength and Buffer.write count UTF-8 bytes;
// both are reproduced.

const (
	ustarNameSize   = 100
	ustarPrefixSize = 155 // npm pack is "portable": no atime/ctime, so node-tar uses all 155 bytes
)

// nodeTarNameFields returns the ustar name and prefix fields node-tar writes for path p (as the
// bytes before their NUL padding), and whether node-tar also writes p in a PAX "path" record
// because the fields cannot hold it (too long, or not ASCII).
func nodeTarNameFields(p string) (name, prefix string, needPax bool) {
	name, prefix, split := splitPrefix(p)
	name, nameLong := encString(name, ustarNameSize)
	prefix, prefixLong := encString(prefix, ustarPrefixSize)
	return name, prefix, split || nameLong || prefixLong
}

// splitPrefix is node-tar's splitPrefix(p, 155): the base name goes in the 100-byte name field and
// as much of the directory as fits in the prefix field; the third result reports truncation.
// node-tar moves one path component at a time from the prefix to the name until both fit or the
// name alone is too long; this walks the same split points (slashes, right to left) without
// building the strings, so a deep path costs linear time.
func splitPrefix(p string) (name, prefix string, truncated bool) {
	if len(p) < ustarNameSize {
		return p, "", false
	}
	q := strings.TrimRight(p, "/") // path.posix.basename and dirname ignore trailing slashes
	k := strings.LastIndexByte(q, '/')
	for {
		pp, prefix := q[k+1:], "." // with no slash left, dirname is "."
		if k >= 0 {
			prefix = q[:k]
		}
		switch {
		case len(pp) <= ustarNameSize && len(prefix) <= ustarPrefixSize:
			return pp, prefix, false
		case len(pp) > ustarNameSize && len(prefix) <= ustarPrefixSize:
			return jsSlice(pp, ustarNameSize-1), prefix, true
		}
		// Move one component into the name; the loop ends when the prefix would be "." (the root of
		// a relative path).
		if k < 0 {
			return jsSlice(p, ustarNameSize-1), "", true
		}
		if k = strings.LastIndexByte(q[:k], '/'); k < 0 {
			return jsSlice(p, ustarNameSize-1), "", true
		}
	}
}

// encString is node-tar's encString: Buffer.write(s, size, "utf8") writes whole characters only,
// and the field needs PAX if s is not ASCII or longer than the field in UTF-16 code units.
func encString(s string, size int) (written string, needPax bool) {
	units := jsLength(s)
	needPax = units != len(s) || units > size
	if len(s) <= size {
		return s, needPax
	}
	n := 0
	for n < len(s) {
		_, w := utf8.DecodeRuneInString(s[n:])
		if n+w > size {
			break
		}
		n += w
	}
	return s[:n], needPax
}

// jsSlice is s.slice(0, n) in JavaScript, as Buffer.write then encodes it: a surrogate pair cut in
// half leaves a lone high surrogate, which UTF-8 encoding turns into U+FFFD.
func jsSlice(s string, n int) string {
	units := utf16.Encode([]rune(s))
	if len(units) <= n {
		return s
	}
	return string(utf16.Decode(units[:n]))
}
