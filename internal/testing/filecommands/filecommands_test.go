package filecommands

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    map[string]string
		wantErr bool
	}{
		{name: "key value", text: "a=1\nb=x=y\n", want: map[string]string{"a": "1", "b": "x=y"}},
		{name: "blank lines", text: "\n\na=1\n\n", want: map[string]string{"a": "1"}},
		{name: "heredoc", text: "a<<EOF\nl1\nl2\nEOF\n", want: map[string]string{"a": "l1\nl2"}},
		{name: "heredoc crlf", text: "a<<EOF\r\nl1\r\nl2\r\nEOF\r\n", want: map[string]string{"a": "l1\r\nl2"}},
		{name: "empty heredoc", text: "a<<EOF\nEOF\n", want: map[string]string{"a": ""}},
		{name: "equals before heredoc", text: "a=b<<c\n", want: map[string]string{"a": "b<<c"}},
		{name: "heredoc before equals", text: "a<<=\nx\n=\n", want: map[string]string{"a": "x"}},
		{name: "later wins", text: "a=1\na=2\n", want: map[string]string{"a": "2"}},
		{name: "last line without newline", text: "a=1", want: map[string]string{"a": "1"}},
		{name: "missing delimiter", text: "a<<EOF\nl1\n", wantErr: true},
		{name: "value without newline before EOF", text: "a<<EOF\nl1", wantErr: true},
		{name: "empty name", text: "=1\n", wantErr: true},
		{name: "empty delimiter", text: "a<<\n", wantErr: true},
		{name: "neither form", text: "garbage\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.text)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse(%q) err = %v, want error: %v", tc.text, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("a=1\nb<<EOF\nx\nEOF\n")
	f.Add("a<<EOF\r\n\r\nEOF")
	f.Fuzz(func(t *testing.T, text string) {
		got, err := Parse(text)
		if err != nil {
			return
		}
		for k := range got {
			if k == "" {
				t.Fatalf("empty name accepted from %q", text)
			}
		}
	})
}
