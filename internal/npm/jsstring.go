package npm

import "unicode/utf16"

// jsLength is a JavaScript string's length: UTF-16 code units.
func jsLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
