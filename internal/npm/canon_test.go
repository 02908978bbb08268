package npm

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckEntryPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string
		dir     bool
		wantErr error  // nil if canonical
		wantMsg string // fragment of the problem
	}{
		{name: "file", path: "package/lib/index.js"},
		{name: "package.json", path: "package/package.json"},
		{name: "unicode", path: "package/lib/caf\u00e9/日本語.md"},
		{name: "spaces and dots inside", path: "package/a b/c.d.e"},
		{name: "package dir", path: "package/", dir: true},
		{name: "nested dir", path: "package/lib/", dir: true},
		{name: "255-byte segment", path: "package/" + strings.Repeat("a", 255)},
		{name: "1024 deep", path: "package/" + strings.Repeat("d/", 1023) + "x"},
		{name: "tilde not a short name", path: "package/a~b.txt"},
		{name: "long base with tilde digit", path: "package/abcdefgh~1.txt"},
		{name: "empty", path: "", wantErr: ErrNotCanonical, wantMsg: "empty name"},
		{name: "invalid UTF-8", path: "package/\xff", wantErr: ErrNotCanonical, wantMsg: "UTF-8"},
		{name: "NUL", path: "package/a\x00b", wantErr: ErrNotCanonical, wantMsg: "U+0000"},
		{name: "newline", path: "package/a\nb", wantErr: ErrNotCanonical, wantMsg: "U+000A"},
		{name: "C1 control", path: "package/a\u0085b", wantErr: ErrNotCanonical, wantMsg: "U+0085"},
		{name: "absolute", path: "/package/a", wantErr: ErrTraversal, wantMsg: "absolute"},
		{name: "drive", path: "c:package/a", wantErr: ErrTraversal, wantMsg: "absolute"},
		{name: "dotdot", path: "package/../a", wantErr: ErrTraversal, wantMsg: "climbs"},
		{name: "backslash dotdot", path: `package\..\a`, wantErr: ErrTraversal, wantMsg: "climbs"},
		{name: "backslash", path: `package\a`, wantErr: ErrNotCanonical, wantMsg: "backslash"},
		{name: "top-level file", path: "package.json", wantErr: ErrNotCanonical, wantMsg: "skips this one"},
		{name: "package as a file", path: "package", wantErr: ErrNotCanonical, wantMsg: "skips this one"},
		{name: "other top-level dir", path: "pkg/package.json", wantErr: ErrNotCanonical, wantMsg: `install this as "package.json"`},
		{name: "dot prefix", path: "./package/a", wantErr: ErrNotCanonical, wantMsg: `under "./"`},
		{name: "case of package", path: "Package/a", wantErr: ErrNotCanonical, wantMsg: `under "Package/"`},
		{name: "double slash", path: "package//a", wantErr: ErrNotCanonical, wantMsg: `as "a"`},
		{name: "dot segment", path: "package/a/./b", wantErr: ErrNotCanonical, wantMsg: `"." path segment`},
		{name: "file with slash", path: "package/a/", wantErr: ErrNotCanonical, wantMsg: `ends in "/"`},
		{name: "dir with double slash", path: "package/a//", dir: true, wantErr: ErrNotCanonical, wantMsg: "segment"},
		{name: "256-byte segment", path: "package/" + strings.Repeat("a", 256), wantErr: ErrNotCanonical, wantMsg: "256-byte"},
		{name: "too long", path: "package/" + strings.Repeat("a/", 2100), wantErr: ErrNotCanonical, wantMsg: "4096"},
		{name: "too deep", path: "package/" + strings.Repeat("d/", 1024) + "x", wantErr: ErrNotCanonical, wantMsg: "1024"},
		{name: "short name shape (refused only beside a name it could alias, see TestShortNames)", path: "package/PACKAG~1.JSO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkEntryPath(tt.path, tt.dir)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("checkEntryPath(%q) = %v, want nil", tt.path, err)
				}
				return
			}
			if err == nil || !errors.Is(err, tt.wantErr) || err.Entry != tt.path || err.Fix == "" {
				t.Fatalf("checkEntryPath(%q) = %v, want %v naming the entry with a fix", tt.path, err, tt.wantErr)
			}
			if !strings.Contains(err.Problem, tt.wantMsg) {
				t.Errorf("problem %q lacks %q", err.Problem, tt.wantMsg)
			}
		})
	}
}

func TestFoldKey(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"package/package.json", "package/PACKAGE.JSON"},
		{"package/package.json", "package/pac\u212aage.json"},  // Kelvin sign
		{"package/pass.js", "package/pa\u017f\u017f.js"},       // long s
		{"package/caf\u00e9.js", "package/cafe\u0301.js"},      // NFC, NFD
		{"package/\u00c5.js", "package/\u212b.js"},             // Angstrom sign
		{"package/package.json", "package/package.json."},      // Windows drops trailing dots
		{"package/a /b", "package/a/b"},                        // and trailing spaces
		{"package/package.json", "package/pack\u200dage.json"}, // HFS+ ignores format characters
		{"package/stra\u00dfe", "package/STRA\u1e9eE"},         // ß and capital ẞ
	}
	for _, p := range same {
		if a, b := foldKey(p[0]), foldKey(p[1]); a != b {
			t.Errorf("foldKey(%q) = %q, foldKey(%q) = %q; want equal", p[0], a, p[1], b)
		}
	}
	for _, p := range [][2]string{{"package/a.js", "package/b.js"}, {"package/a", "package/a/b"}, {"package/e\u0301", "package/e"}} {
		if foldKey(p[0]) == foldKey(p[1]) {
			t.Errorf("foldKey(%q) == foldKey(%q)", p[0], p[1])
		}
	}
}

func TestNameSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []string // directories end in "/"
		wantMsg string   // "" if all are accepted; else a fragment of the last one's refusal
	}{
		{name: "distinct", entries: []string{"package/a.js", "package/b/c.js", "package/b/d.js"}},
		{name: "directory entry before and after its files", entries: []string{"package/b/", "package/b/c.js", "package/d/e.js", "package/d/"}},
		{name: "repeated file", entries: []string{"package/a.js", "package/a.js"}, wantMsg: "appears twice"},
		{name: "repeated directory", entries: []string{"package/b/", "package/b/"}, wantMsg: "appears twice"},
		{name: "case", entries: []string{"package/README.md", "package/readme.md"}, wantMsg: `"package/README.md" once case`},
		{name: "file then directory", entries: []string{"package/a", "package/a/b"}, wantMsg: "is inside a directory"},
		{name: "directory then file", entries: []string{"package/a/b", "package/a"}, wantMsg: "is a file, but"},
		{name: "file then folded directory", entries: []string{"package/a", "package/A/b"}, wantMsg: "is inside a directory"},
		{name: "too many directories", entries: []string{"package/a/b/c/d/e"}, wantMsg: "more than 3 directories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newNameSet(3)
			if tt.name != "too many directories" {
				s.maxDirs = 100
			}
			var err *TarballError
			for i, e := range tt.entries {
				if err = s.add(e, strings.HasSuffix(e, "/")); err != nil && i != len(tt.entries)-1 {
					t.Fatalf("entry %d %q refused: %v", i, e, err)
				}
			}
			switch {
			case tt.wantMsg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)):
				t.Fatalf("last entry: %v, want a refusal containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestOctalField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field      string
		allowEmpty bool
		want       int64
		ok         bool
	}{
		{"000644 \x00", false, 0o644, true},
		{"0000644\x00", false, 0o644, true},
		{"0000644 ", false, 0o644, true},
		{"00000000022 \x00"[:12], false, 0o22, true},
		{"\x00\x00\x00\x00\x00\x00\x00\x00", true, 0, true},
		{"\x00\x00\x00\x00\x00\x00\x00\x00", false, 0, false},
		{"00000644", false, 0, false},                         // no terminator: node-tar reads into the next field
		{" 0000644", false, 0, false},                         // leading space
		{"0000648\x00", false, 0, false},                      // not octal
		{"+000644\x00", false, 0, false},                      // sign
		{"00 0644\x00", false, 0, false},                      // digits after the terminator
		{"\x80\x00\x00\x00\x00\x00\x02\x00", false, 0, false}, // base-256
	}
	for _, tt := range tests {
		got, ok := octalField([]byte(tt.field), tt.allowEmpty)
		if ok != tt.ok || got != tt.want {
			t.Errorf("octalField(%q, %v) = %o, %v; want %o, %v", tt.field, tt.allowEmpty, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParsePAX(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    *metaPath
		wantMsg string
	}{
		{name: "npm pack", body: string(paxRecords("path=package/caf\u00e9.js", "mtime=499162500", "size=4")),
			want: &metaPath{kind: typePAX, path: "package/caf\u00e9.js", time: "499162500", size: "4"}},
		{name: "value with =", body: string(paxRecords("path=package/a=b")), want: &metaPath{kind: typePAX, path: "package/a=b"}},
		{name: "bun", body: string(paxRecords("hdrcharset=BINARY", "path=package/\u00fc")), want: &metaPath{kind: typePAX, path: "package/\u00fc"}},
		{name: "other hdrcharset", body: string(paxRecords("hdrcharset=ISO-8859-1", "path=package/a")), wantMsg: "hdrcharset"},
		{name: "linkpath", body: string(paxRecords("path=package/a", "linkpath=b")), wantMsg: `"linkpath"`},
		{name: "no path", body: string(paxRecords("mtime=1")), wantMsg: "without a path"},
		{name: "unknown key", body: string(paxRecords("path=package/a", "uname=x")), wantMsg: `"uname"`},
		{name: "repeated", body: string(paxRecords("path=package/a", "path=package/b")), wantMsg: "repeated"},
		{name: "empty path", body: string(paxRecords("path=")), wantMsg: "empty"},
		{name: "newline in value", body: string(paxRecords("path=package/a\nb")), wantMsg: "newline"},
		{name: "NUL in value", body: string(paxRecords("path=package/a\x00b")), wantMsg: "NUL"},
		{name: "wrong length", body: "99 path=package/a\n", wantMsg: "malformed"},
		{name: "leading zero length", body: "019 path=package/ab\n", wantMsg: "malformed"},
		{name: "no newline", body: "18 path=package/ab ", wantMsg: "malformed"},
		{name: "trailing garbage", body: string(paxRecords("path=package/a")) + "x", wantMsg: "malformed"},
		{name: "no equals", body: "11 pathxyz\n", wantMsg: `"pathxyz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, problem := parsePAX([]byte(tt.body))
			if tt.wantMsg != "" {
				if !strings.Contains(problem, tt.wantMsg) {
					t.Fatalf("parsePAX(%q) = %v, %q; want a problem containing %q", tt.body, got, problem, tt.wantMsg)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(metaPath{})); diff != "" || problem != "" {
				t.Errorf("parsePAX(%q) problem %q (-want +got):\n%s", tt.body, problem, diff)
			}
		})
	}
}
