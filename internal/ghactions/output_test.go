package ghactions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/waxseal/waxseal/internal/testing/filecommands"
)

func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := filecommands.Parse(string(b))
	if err != nil {
		t.Fatalf("the runner would reject %q: %v", b, err)
	}
	return got
}

func TestOutputFileRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "output")
	o, err := NewOutputFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"bundles":              `["a.tgz.sigstore.json"]`,
		"multi-line":           "line one\nline two\n",
		"looks-like-heredoc":   "x<<EOF\nEOF\ninjected=1",
		"fixed-delimiter":      "ghadelimiter_\nother=1", // what go-githubactions' fixed delimiter would let through
		"empty":                "",
		"certificate_identity": "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0.0",
	}
	for _, name := range []string{"bundles", "multi-line", "looks-like-heredoc", "fixed-delimiter", "empty", "certificate_identity"} {
		if err := o.Set(name, want[name]); err != nil {
			t.Fatalf("Set(%q): %v", name, err)
		}
	}
	if diff := cmp.Diff(want, readOutputs(t, path)); diff != "" {
		t.Errorf("outputs as the runner reads them (-want +got):\n%s", diff)
	}
}

func TestOutputFileRefusesItsDelimiter(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{7}, 16)
	id, err := uuid.NewRandomFromReader(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "output")
	o := &OutputFile{path: path, rand: bytes.NewReader(seed)}
	value := "x\nghadelimiter_" + id.String() + "\nevil=1"
	if err := o.Set("name", value); !errors.Is(err, ErrDelimiterInValue) {
		t.Fatalf("Set with a value holding its delimiter: got %v, want ErrDelimiterInValue", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused value still wrote the output file (stat: %v)", err)
	}
}

func TestOutputFileNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		output  string
		wantErr bool
	}{
		{name: "identifier", output: "release-assets"},
		{name: "underscore", output: "_x1"},
		{name: "newline", output: "a\nb", wantErr: true},
		{name: "equals", output: "a=b", wantErr: true},
		{name: "heredoc", output: "a<<b", wantErr: true},
		{name: "empty", output: "", wantErr: true},
		{name: "leading digit", output: "1a", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, _ := NewOutputFile(filepath.Join(t.TempDir(), "output"))
			err := o.Set(tc.output, "v")
			if (err != nil) != tc.wantErr {
				t.Fatalf("Set(%q): err = %v, want error: %v", tc.output, err, tc.wantErr)
			}
		})
	}
}

func TestNewOutputFileUnset(t *testing.T) {
	t.Parallel()
	_, err := NewOutputFile("")
	if err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") {
		t.Fatalf("NewOutputFile(\"\") = %v, want an error naming GITHUB_OUTPUT", err)
	}
}

// FuzzOutputRoundTrip checks that whatever value is written, the runner reads back exactly that value under
// exactly that name and nothing else. A trailing "\r" is the one thing the runner's line reader drops.
func FuzzOutputRoundTrip(f *testing.F) {
	f.Add("plain")
	f.Add("a\nb\n")
	f.Add("x<<EOF\nEOF\ny=1")
	f.Add("\r\n\r\n")
	f.Fuzz(func(t *testing.T, value string) {
		if strings.HasSuffix(value, "\r") {
			t.Skip("the runner strips a CR before the closing delimiter's line break")
		}
		path := filepath.Join(t.TempDir(), "output")
		o, _ := NewOutputFile(path)
		if err := o.Set("v", value); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{"v": value}, readOutputs(t, path)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
