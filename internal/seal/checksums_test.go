package seal

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/npm"
)

func TestParseChecksums(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("ab", 32)
	h512 := strings.Repeat("cd", 64)
	tests := []struct {
		name, content string
		want          []listed
		wantErr       string
	}{
		{name: "sha256sum", content: h + "  app_linux_amd64.tar.gz\n" + h + " *app.exe\n",
			want: []listed{{1, "app_linux_amd64.tar.gz", "sha256", h}, {2, "app.exe", "sha256", h}}},
		{name: "sha512sum, uppercase hex, ./ prefix, no final newline", content: strings.ToUpper(h512) + "  ./dist/app.zip",
			want: []listed{{1, "dist/app.zip", "sha512", h512}}},
		{name: "escaped name", content: `\` + h + `  back\\slash` + "\n", want: []listed{{1, `back\slash`, "sha256", h}}},
		{name: "empty lines are skipped", content: "\n" + h + "  a\n\n", want: []listed{{2, "a", "sha256", h}}},
		{name: "escaped newline is refused", content: `\` + h + `  a\nb` + "\n", wantErr: "line 1: the path"},
		{name: "BSD tag format", content: "SHA256 (app.zip) = " + h + "\n", wantErr: "line 1: this is the BSD tag format"},
		{name: "one space only", content: h + " app\n", wantErr: "line 1: "},
		{name: "short digest", content: "abcd  app\n", wantErr: "line 1: \"abcd\" is not a sha256 or sha512 digest"},
		{name: "Windows line endings", content: h + "  app\r\n", wantErr: "carriage return"},
		{name: "a comment", content: h + "  a\n# made by hand\n", wantErr: "line 2: "},
		{name: "absolute name", content: h + "  /etc/passwd\n", wantErr: "not a path inside"},
		{name: "leaves the directory", content: h + "  ../secret\n", wantErr: "not a path inside"},
		{name: "listed twice", content: h + "  a\n" + h + "  ./a\n", wantErr: "line 2: \"a\" is also on line 1"},
		{name: "empty", content: "\n", wantErr: "lists no files"},
		{name: "terminal escape in a name", content: h + "  a\x1b[2J\n", wantErr: "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseChecksums("SHA256SUMS", []byte(tc.content))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(listed{})); diff != "" {
				t.Errorf("parseChecksums (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChecksumsAgainstTheFiles reads real files: a checksums file's lines must name files the run signs, with their
// digests, resolved from the checksums file's directory.
func TestChecksumsAgainstTheFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s256 := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	s512 := func(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) }
	linux, darwin := write("app-linux", "linux binary"), write("bin/app-darwin", "darwin binary")
	for _, tc := range []struct {
		name, sums string
		inputs     []string
		want       string
	}{
		{name: "every line matches", sums: s256("linux binary") + "  app-linux\n" + s512("darwin binary") + "  bin/app-darwin\n",
			inputs: []string{linux, darwin}},
		{name: "a file the run does not sign", sums: s256("linux binary") + "  app-linux\n" + s256("x") + "  app.deb\n",
			inputs: []string{linux}, want: ` line 2: "app.deb" is not among the files this run signs`},
		{name: "a stale digest", sums: s256("old linux binary") + "  app-linux\n", inputs: []string{linux},
			want: ` line 1: "app-linux" is listed with sha256 ` + s256("old linux binary") + ", but the file's is " + s256("linux binary")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sums := write(strings.ReplaceAll(tc.name, " ", "-")+"/../SUMS-"+strings.ReplaceAll(tc.name, " ", "-"), tc.sums)
			in := []Input{{Path: sums, Kind: Checksums}}
			for _, p := range tc.inputs {
				in = append(in, Input{Path: p, Kind: File})
			}
			rep := &Report{Artifacts: make([]Artifact, len(in))}
			arts := readAll(t.Context(), in, npm.DefaultLimits(), rep)
			checkChecksums(arts, rep)
			got := rep.Artifacts[0].Error
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("error = %q, want %q", got, tc.want)
			}
			if tc.want == "" && len(arts[0].subjects()) != 3 {
				t.Errorf("subjects %+v, want the checksums file and its two files", arts[0].subjects())
			}
		})
	}
}

func TestReadRefusesWhatIsNotAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep := &Report{Artifacts: make([]Artifact, 2)}
	arts := readAll(t.Context(), []Input{{Path: dir, Kind: File}, {Path: filepath.Join(dir, "missing"), Kind: File}}, npm.DefaultLimits(), rep)
	if arts[0] != nil || !strings.Contains(rep.Artifacts[0].Error, "is a directory: name the files in it") {
		t.Errorf("directory: %q", rep.Artifacts[0].Error)
	}
	if arts[1] != nil || !strings.Contains(rep.Artifacts[1].Error, "check the path") {
		t.Errorf("missing file: %q", rep.Artifacts[1].Error)
	}
}
