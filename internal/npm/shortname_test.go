package npm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShortNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []string
		wantMsg string // "" if accepted
	}{
		{name: "shaped name alone", entries: []string{"package/package.json", "package/file~1.js", "package/index.js"}},
		{name: "alias of package.json", entries: []string{"package/package.json", "package/PACKAG~1.JSO"}, wantMsg: `"package/package.json"`},
		{name: "alias before its long name", entries: []string{"package/packag~1.jso", "package/package.json"}, wantMsg: "8.3"},
		{name: "other directory", entries: []string{"package/a/package.json", "package/b/PACKAG~1.JSO"}},
		{name: "directory alias", entries: []string{"package/long-directory/x.js", "package/LONG-D~1/y.js"}, wantMsg: "8.3"},
		{name: "different extension", entries: []string{"package/package.json", "package/PACKAG~1.JS"}},
		{name: "no extension", entries: []string{"package/programfiles/a", "package/PROGR~12"}, wantMsg: "8.3"},
		{name: "8-character directory gets no alias", entries: []string{"package/programs/a", "package/PROGR~12"}},
		{name: "plain 8.3 names get no alias", entries: []string{"package/FILE.JS", "package/FILE~1.JS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newNameSet(100)
			for _, e := range tt.entries {
				if err := s.add(e, false); err != nil {
					t.Fatalf("add(%q): %v", e, err)
				}
			}
			err := s.shortNameConflict()
			switch {
			case tt.wantMsg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg) || err.Fix == ""):
				t.Fatalf("shortNameConflict() = %v, want a refusal containing %q with a fix", err, tt.wantMsg)
			}
		})
	}
}

// TestShortNamesCannotBeCrowdedOut: a directory's name is recorded once, however many entries it holds, so a
// directory shaped like a short name cannot fill the record and hide a later conflict; and a tarball with more names
// shaped like short names than are remembered is refused, not checked in part.
func TestShortNamesCannotBeCrowdedOut(t *testing.T) {
	t.Parallel()
	s := newNameSet(100)
	for i := range 2 * maxShaped {
		if err := s.add(fmt.Sprintf("package/AAAAAA~1/f%d.js", i), false); err != nil {
			t.Fatalf("filler entry %d: %v", i, err)
		}
	}
	for _, e := range []string{"package/package.json", "package/PACKAG~1.JSO"} {
		if err := s.add(e, false); err != nil {
			t.Fatalf("add(%q): %v", e, err)
		}
	}
	if err := s.shortNameConflict(); err == nil || !strings.Contains(err.Error(), "8.3") {
		t.Fatalf("after a directory of %d files shaped like a short name: shortNameConflict() = %v, want the package.json conflict", 2*maxShaped, err)
	}

	s = newNameSet(100)
	var err *TarballError
	for i := 0; err == nil && i <= maxShaped; i++ {
		err = s.add(fmt.Sprintf("package/F~%d.JS", i), false)
	}
	if err == nil || !errors.Is(err, ErrBomb) || err.Fix == "" {
		t.Fatalf("%d distinct names shaped like short names: %v, want a refusal (ErrBomb) with a fix", maxShaped+1, err)
	}
}

// BenchmarkShortNamesDeepPath: recording an entry costs time linear in its path, not in its depth times its length.
func BenchmarkShortNamesDeepPath(b *testing.B) {
	deep := "package/" + strings.Repeat("d/", 1024)
	i := 0
	s := newNameSet(1 << 30)
	for b.Loop() {
		if err := s.add(fmt.Sprintf("%sf%d.js", deep, i), false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestFoldKeepsSlashes: nameSet.add walks a name's segments beside its fold key's, which holds only if folding
// neither drops a "/" nor makes one, for every rune.
func TestFoldKeepsSlashes(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if k := foldKey("a/" + string(r) + "/b"); strings.Count(k, "/") != 2+strings.Count(string(r), "/") {
			t.Errorf("foldKey(%q) = %q: the slashes changed", "a/"+string(r)+"/b", k)
		}
	}
}
