package npm

import (
	"strings"
	"testing"
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
