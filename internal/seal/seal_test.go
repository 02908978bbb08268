package seal

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
)

func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	touch(t, dir, "b-1.0.0.tgz", "a-1.0.0.tgz", "notes.txt", "c[1].tar")
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "glob sorted", args: []string{p("*.tgz")}, want: []string{p("a-1.0.0.tgz"), p("b-1.0.0.tgz")}},
		{name: "order kept, repeats dropped", args: []string{p("b-1.0.0.tgz"), p("*.tgz")}, want: []string{p("b-1.0.0.tgz"), p("a-1.0.0.tgz")}},
		{name: "literal with glob characters", args: []string{p("c[1].tar")}, want: []string{p("c[1].tar")}},
		{name: "matches nothing", args: []string{p("*.tar.gz")}, wantErr: "no file matches"},
		{name: "bad pattern", args: []string{p("[")}, wantErr: "glob syntax"},
		{name: "none", args: nil, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Expand(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Expand() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Expand() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitHubContext(t *testing.T) {
	t.Parallel()
	claims := &oidc.Claims{
		Repository: "octo/pkg", RepositoryID: "1", RepositoryOwnerID: "2",
		WorkflowRef: "octo/pkg/.github/workflows/r.yml@refs/tags/v1", SHA: "abc", Ref: "refs/tags/v1",
		EventName: "release", RunID: "9", RunAttempt: "1", RunnerEnvironment: "github-hosted",
	}
	env := map[string]string{"GITHUB_REPOSITORY": "octo/pkg", "GITHUB_SHA": "abc", "GITHUB_SERVER_URL": "https://github.com/"}
	got, err := githubContext(claims, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", RepositoryID: "1", RepositoryOwnerID: "2",
		WorkflowRef: claims.WorkflowRef, SHA: "abc", Ref: "refs/tags/v1", EventName: "release", RunID: "9", RunAttempt: "1",
		RunnerEnvironment: "github-hosted"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("githubContext (-want +got):\n%s", diff)
	}

	env["GITHUB_SHA"] = "def"
	if _, err := githubContext(claims, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "GITHUB_SHA") {
		t.Errorf("githubContext with a contradicting GITHUB_SHA = %v, want a refusal naming GITHUB_SHA", err)
	}
}

func TestNPMChecksMarksBothDuplicates(t *testing.T) {
	t.Parallel()
	tb := func(path, name string) *npm.Tarball {
		return &npm.Tarball{Path: path, Manifest: npm.Manifest{Name: name, Version: "1.0.0",
			Repository: npm.Repository{Type: "git", URL: "git+https://github.com/octo/pkg.git"}}}
	}
	tarballs := npmArtifacts(tb("/w/a.tgz", "a"), nil, tb("/w/b.tgz", "b"), tb("/w/a-copy.tgz", "a"))
	rep := &Report{
		Source:    provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", RunnerEnvironment: "github-hosted"},
		Artifacts: make([]Artifact, len(tarballs)),
	}
	rep.Artifacts[1].Error = "unreadable"
	npmChecks(tarballs, rep, true)
	for i, want := range []string{"is also in", "unreadable", "", "is also in"} {
		got := rep.Artifacts[i].Error
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("package %d error = %q, want one containing %q", i, got, want)
		}
	}
	if got := rep.Artifacts[0].Error; !strings.Contains(got, "/w/a.tgz") || !strings.Contains(got, "/w/a-copy.tgz") {
		t.Errorf("duplicate error %q does not name both files", got)
	}
}

func TestInputsAreNeverPatterns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	touch(t, dir, "pkg[1].tgz", "pkg1.tgz")
	literal := filepath.Join(dir, "pkg[1].tgz")
	// The run reads the file named, never the file the name would match as a pattern.
	arts := readAll(t.Context(), []Input{{Path: literal, Kind: File}}, npm.DefaultLimits(), &Report{Artifacts: make([]Artifact, 1)})
	if arts[0] == nil || arts[0].Path != literal {
		t.Fatalf("read %+v, want %s", arts[0], literal)
	}
	if sum := sha256.Sum256([]byte("pkg[1].tgz")); !bytes.Equal(arts[0].sha256, sum[:]) {
		t.Error("the digest is not the literal file's")
	}
	// The same name as a pattern selects the other file: why callers resolve their patterns first.
	got, _ := Expand([]string{literal})
	if diff := cmp.Diff([]string{filepath.Join(dir, "pkg1.tgz")}, got); diff != "" {
		t.Errorf("Expand of a pattern (-want +got):\n%s", diff)
	}
}

func TestCheckInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []Input
		want string
	}{
		{name: "nothing", want: "nothing to sign"},
		{name: "a tarball also named as a file", in: []Input{{"/w/a.tgz", NPM}, {"/w/./a.tgz", File}},
			want: "named both as an npm tarball and as a file signed as bytes"},
		{name: "named twice", in: []Input{{"/w/a.bin", File}, {"/w/a.bin", File}}, want: "named twice"},
		{name: "unknown kind", in: []Input{{"/w/a", "wheel"}}, want: "unknown kind"},
		{name: "control character", in: []Input{{"/w/a\x1b[2J", File}}, want: "control character"},
		{name: "fine", in: []Input{{"/w/a.tgz", NPM}, {"/w/a.tgz.zip", File}, {"/w/SUMS", Checksums}}},
	} {
		err := checkInputs(tc.in)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: checkInputs = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// npmArtifacts are tarballs as the run holds them once read (nil: one that could not be read).
func npmArtifacts(ts ...*npm.Tarball) []*artifact {
	out := make([]*artifact, len(ts))
	for i, t := range ts {
		if t != nil {
			out[i] = &artifact{Input: Input{Path: t.Path, Kind: NPM}, tarball: t, sha256: t.SHA256[:], sha512: t.SHA512[:]}
		}
	}
	return out
}

// npmInputs names tarball files to sign.
func npmInputs(paths ...string) []Input {
	out := make([]Input, len(paths))
	for i, p := range paths {
		out[i] = Input{Path: p, Kind: NPM}
	}
	return out
}
