package seal

import (
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
		{name: "none", args: nil, wantErr: "no tarballs given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := expand(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("expand() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("expand() (-want +got):\n%s", diff)
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
	tarballs := []*npm.Tarball{tb("/w/a.tgz", "a"), nil, tb("/w/b.tgz", "b"), tb("/w/a-copy.tgz", "a")}
	rep := &Report{
		Source:   provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", RunnerEnvironment: "github-hosted"},
		Packages: make([]PackageResult, len(tarballs)),
	}
	rep.Packages[1].Error = "unreadable"
	npmChecks(tarballs, rep, true)
	for i, want := range []string{"is also in", "unreadable", "", "is also in"} {
		got := rep.Packages[i].Error
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("package %d error = %q, want one containing %q", i, got, want)
		}
	}
	if got := rep.Packages[0].Error; !strings.Contains(got, "/w/a.tgz") || !strings.Contains(got, "/w/a-copy.tgz") {
		t.Errorf("duplicate error %q does not name both files", got)
	}
}

func TestFilesAreNeverPatterns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	touch(t, dir, "pkg[1].tgz", "pkg1.tgz")
	literal := filepath.Join(dir, "pkg[1].tgz")
	got, err := Options{Files: []string{literal}}.tarballs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{literal}, got); diff != "" {
		t.Errorf("tarballs() (-want +got):\n%s", diff)
	}
	// The same name as a pattern selects the other file: why the Action passes Files.
	got, _ = Options{Paths: []string{literal}}.tarballs()
	if diff := cmp.Diff([]string{filepath.Join(dir, "pkg1.tgz")}, got); diff != "" {
		t.Errorf("tarballs() of a pattern (-want +got):\n%s", diff)
	}
	if _, err := (Options{Files: []string{literal}, Paths: []string{literal}}).tarballs(); err == nil {
		t.Error("tarballs() accepted both Files and Paths")
	}
}
