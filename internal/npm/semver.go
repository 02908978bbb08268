package npm

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// npm decides the version it publishes with node-semver (7.8, bundled by npm 10 to 12):
// @npmcli/package-json's prepare() checks semver.valid(version, loose) and replaces the version
// with semver.clean(version, loose), npm publish then parses it strictly and libnpmpublish cleans it
// again. This file reproduces those functions from node-semver's source (internal/re.js with its
// "safe" bounded repetitions, classes/semver.js, functions/clean.js) so waxseal names exactly the
// version npm publishes.

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER, node-semver's cap on each number.
const maxSafeInteger = 1<<53 - 1

// semverMaxLength is node-semver's MAX_LENGTH, in UTF-16 code units.
const semverMaxLength = 256

// jsSpace is ECMAScript's WhiteSpace and LineTerminator code points: what \s matches and
// String.prototype.trim removes.
const jsSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

var semverRE = sync.OnceValues(func() (full, loose *regexp.Regexp) {
	const (
		num      = `0|[1-9]\d{0,256}`
		numLoose = `\d{1,256}`
		nonNum   = `\d{0,256}[a-zA-Z-][a-zA-Z0-9-]{0,250}`
		pre      = `(?:` + nonNum + `|` + num + `)`
		preLoose = `(?:` + nonNum + `|` + numLoose + `)`
		build    = `(?:\+([a-zA-Z0-9-]{1,250}(?:\.[a-zA-Z0-9-]{1,250})*))`
	)
	full = regexp.MustCompile(`^v?(` + num + `)\.(` + num + `)\.(` + num + `)` +
		`(?:-(` + pre + `(?:\.` + pre + `)*))?` + build + `?$`)
	loose = regexp.MustCompile(`^[v=` + jsSpace + `]*(` + numLoose + `)\.(` + numLoose + `)\.(` + numLoose + `)` +
		`(?:-?(` + preLoose + `(?:\.` + preLoose + `)*))?` + build + `?$`)
	return full, loose
})

// semverResult is why a version did not parse, for messages.
type semverResult int

const (
	semverOK semverResult = iota
	semverInvalid
	semverTooBig // matched, but a number is over 2^53-1
)

// parseSemver is new SemVer(v, {loose}).version, or why the constructor throws.
func parseSemver(v string, loose bool) (string, semverResult) {
	if jsLength(v) > semverMaxLength {
		return "", semverInvalid
	}
	full, looseRE := semverRE()
	re := full
	if loose {
		re = looseRE
	}
	m := re.FindStringSubmatch(jsTrim(v))
	if m == nil {
		return "", semverInvalid
	}
	var b strings.Builder
	for i, n := range m[1:4] {
		d, ok := safeDecimal(n)
		if !ok || d > maxSafeInteger {
			return "", semverTooBig
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(d, 10))
	}
	if m[4] != "" {
		for i, id := range strings.Split(m[4], ".") {
			b.WriteByte("-."[min(i, 1)])
			// Numeric identifiers below MAX_SAFE_INTEGER become numbers (losing leading zeros);
			// the others stay strings.
			if d, ok := safeDecimal(id); ok && allDigits([]byte(id)) && d < maxSafeInteger {
				id = strconv.FormatUint(d, 10)
			}
			b.WriteString(id)
		}
	}
	return b.String(), semverOK
}

// cleanSemver is semver.clean(v, {loose}): trim, drop leading "=" and "v", parse, format.
func cleanSemver(v string, loose bool) (string, semverResult) {
	return parseSemver(strings.TrimLeft(jsTrim(v), "=v"), loose)
}

// publishedVersion is the version npm publishes for package.json's "version" v, or why npm
// refuses it.
func publishedVersion(v string) (string, semverResult) {
	if _, r := parseSemver(v, true); r != semverOK { // prepare(): semver.valid(version, loose)
		return "", r
	}
	c, r := cleanSemver(v, true)
	if r != semverOK {
		return "", r
	}
	if _, r := parseSemver(c, false); r != semverOK { // npm publish: semver.parse(version).prerelease
		return "", r
	}
	return cleanSemver(c, false) // libnpmpublish: semver.clean(version)
}

// safeDecimal parses a string of decimal digits, reporting values beyond 2^64 as not ok (they are
// over 2^53-1 anyway).
func safeDecimal(s string) (uint64, bool) {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return 0, true
	}
	if len(s) > 19 {
		return 0, false
	}
	d, err := strconv.ParseUint(s, 10, 64)
	return d, err == nil
}

// jsTrim is String.prototype.trim.
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
			return true
		}
		return 0x2000 <= r && r <= 0x200a
	})
}
