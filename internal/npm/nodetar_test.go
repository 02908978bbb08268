package npm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNodeTarNameFieldsOffline(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 120)
	tests := []struct {
		path, name, prefix string
		pax                bool
	}{
		{"package/a.js", "package/a.js", "", false},
		// 100 bytes or more: split at a slash into prefix and name.
		{"package/" + strings.Repeat("a", 92), strings.Repeat("a", 92), "package", false},
		// A base name over 100 bytes: its first 99 characters, and PAX.
		{"package/lib/" + long + ".js", long[:99], "package/lib", true},
		// Not ASCII: written whole when it fits, and PAX.
		{"package/caf\u00e9.js", "package/caf\u00e9.js", "", true},
		// slice(0, 99) cuts the 4-byte character in half; the U+FFFD it becomes does not fit in the field.
		{"package/" + strings.Repeat("e", 98) + "😀x", strings.Repeat("e", 98), "package", true},
		// Written whole characters only: 50 two-byte characters fill the 100 bytes.
		{"package/" + strings.Repeat("\u00fc", 120), strings.Repeat("\u00fc", 50), "package", true},
		// A long directory loses its trailing slash in the name field.
		{"package/" + strings.Repeat("d", 95) + "/", strings.Repeat("d", 95), "package", false},
	}
	for _, tt := range tests {
		name, prefix, pax := nodeTarNameFields(tt.path)
		if diff := cmp.Diff([]any{tt.name, tt.prefix, tt.pax}, []any{name, prefix, pax}); diff != "" {
			t.Errorf("nodeTarNameFields(%q) (-want +got):\n%s", tt.path, diff)
		}
	}
}

// TestNodeTarNameFields checks nodeTarNameFields against node-tar's own Header.encode.
func TestNodeTarNameFields(t *testing.T) {
	js := judgesFor(t)
	e99 := strings.Repeat("e", 98) + "😀"
	for _, p := range []string{
		"package/package.json", "package/" + strings.Repeat("a", 91), "package/" + strings.Repeat("a", 92),
		"package/" + strings.Repeat("a", 100), "package/" + strings.Repeat("a", 101),
		"package/" + strings.Repeat("d/", 60) + "x.js", "package/" + strings.Repeat("d", 160) + "/x.js",
		"package/lib/" + e99 + ".js", "package/" + e99, "package/ü", "package/" + strings.Repeat("ü", 60),
		"package/" + strings.Repeat("é", 120) + "/x", "package/日本語/" + strings.Repeat("語", 40) + ".md",
		"package/" + strings.Repeat("x", 200) + "/" + strings.Repeat("y", 150), "package/a/",
		"package/" + strings.Repeat("a", 120) + "/",
	} {
		for _, j := range js {
			checkNodeTarName(t, j, p)
		}
	}
}

func checkNodeTarName(t *testing.T, j *npmJudge, p string) {
	t.Helper()
	a := j.tarName(t, p)
	if len(a.Header) != blockSize {
		t.Fatalf("%q: node-tar header of %d bytes", p, len(a.Header))
	}
	var b [blockSize]byte
	copy(b[:], a.Header)
	wantName, _ := nulField(b[offName : offName+lenName])
	wantPrefix, _ := nulField(b[offPrefix : offPrefix+lenPrefix])
	name, prefix, needPax := nodeTarNameFields(p)
	if name != string(wantName) || prefix != string(wantPrefix) || needPax != a.NeedPax {
		t.Errorf("nodeTarNameFields(%q) = %q, %q, %v; %s writes %q, %q, %v", p, name, prefix, needPax, j.name,
			wantName, wantPrefix, a.NeedPax)
	}
}

// FuzzNodeTarNameFields compares nodeTarNameFields with node-tar for arbitrary relative paths.
func FuzzNodeTarNameFields(f *testing.F) {
	for _, s := range []string{"package/a", "package/" + strings.Repeat("ab/", 40) + "c", "package/" + strings.Repeat("😀", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if checkEntryPath(p, strings.HasSuffix(p, "/")) != nil {
			return // only canonical names reach nodeTarNameFields
		}
		for _, j := range judgesFor(t) {
			checkNodeTarName(t, j, p)
		}
	})
}
