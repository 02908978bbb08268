// Package printable makes text that strangers control (names in tarballs, file names, answers from a registry or
// GitHub) safe to show on one line of a terminal, a log or an error: control characters (terminal escapes among
// them), line and paragraph separators, bidirectional controls and invalid UTF-8 are escaped, so such text can
// neither forge lines nor clear, recolour or reorder what a person reads.
package printable

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s with every character that could break or disguise a line escaped as Go escapes it (\n, \x1b,
// \u202e); everything else is kept as it is.
func Line(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case Unsafe(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
	}
	return b.String()
}

// Safe reports whether s can be shown as it is: valid UTF-8 with no character Line escapes.
func Safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if Unsafe(r) {
			return false
		}
	}
	return true
}

// Unsafe reports whether r is a character Line escapes: a control character, a line or paragraph separator, or a
// bidirectional control.
func Unsafe(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// Lines is Line applied to each line of s: its line breaks kept, everything else that could disguise a line
// escaped (a multi-line message, an error, an annotation).
func Lines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Line(l)
	}
	return strings.Join(lines, "\n")
}

// Quote quotes s for a message: in double quotes, with Line's escapes and the quote and backslash escaped too.
func Quote(s string) string {
	return `"` + Line(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)) + `"`
}

// Abbrev shortens s to its first n characters and "…" when it is longer (a digest in a table or a log line).
func Abbrev(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
