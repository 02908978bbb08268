package printable

import "testing"

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"sigstore@2.0.0", "sigstore@2.0.0"},
		{"naïve-名前", "naïve-名前"},
		{"a\nb\r", `a\nb\r`},
		{"\x1b[2J\x1b[32mVERIFIED", `\x1b[2J\x1b[32mVERIFIED`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"tab\there", `tab\there`},
	}
	for _, tc := range tests {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if Safe(tc.in) != (tc.in == tc.want) {
			t.Errorf("Safe(%q) = %v", tc.in, Safe(tc.in))
		}
	}
	if got := Quote("a\"b\\\x1b"); got != `"a\"b\\\x1b"` {
		t.Errorf("Quote = %s", got)
	}
	if got := Abbrev("0123456789abcdef0123", 16); got != "0123456789abcdef…" || Abbrev("abc", 16) != "abc" {
		t.Errorf("Abbrev = %q", got)
	}
}

func FuzzLine(f *testing.F) {
	f.Add("a\x1b\n\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		if out := Line(s); !Safe(out) {
			t.Fatalf("Line(%q) = %q is not safe", s, out)
		}
	})
}
