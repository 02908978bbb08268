package npm

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckPublishable(t *testing.T) {
	t.Parallel()
	src := Source{RepositoryURL: "https://github.com/waxseal/example", RunnerEnvironment: "github-hosted"}
	withURL := func(u string) Manifest {
		return Manifest{Name: "a", Version: "1.0.0", Repository: Repository{Type: "git", URL: u}, Tarball: "a-1.0.0.tgz"}
	}
	const fix = `set "repository": {"type": "git", "url": "git+https://github.com/waxseal/example.git"}`
	tests := []struct {
		name   string
		m      Manifest
		src    Source
		want   []*CheckError
		accept bool
	}{
		{name: "git+https with .git", m: withURL("git+https://github.com/waxseal/example.git"), accept: true},
		{name: "https", m: withURL("https://github.com/waxseal/example"), accept: true},
		{name: "host case and www", m: withURL("https://WWW.GitHub.com/waxseal/example/"), accept: true},
		{name: "git protocol", m: withURL("git://github.com/waxseal/example.git"), accept: true},
		{name: "ssh url", m: withURL("git+ssh://git@github.com/waxseal/example.git"), accept: true},
		{name: "scp form", m: withURL("git@github.com:waxseal/example.git"), accept: true},
		{name: "github shorthand", m: withURL("github:waxseal/example"), accept: true},
		{name: "bare shorthand", m: withURL("waxseal/example"), accept: true},
		{name: "ssh without colon", m: withURL("git@github.com/waxseal/example"), accept: true},
		{name: "port ignored", m: withURL("https://github.com:443/waxseal/example.git"), accept: true},
		{name: "ssh scheme", m: withURL("ssh://git@github.com/waxseal/example.git"), accept: true},
		{name: "committish", m: withURL("git+https://github.com/waxseal/example.git#main"), accept: true},
		{name: "tree path", m: withURL("https://github.com/waxseal/example/tree/main/packages/a"), accept: true},
		{name: "source with trailing slash", m: withURL("waxseal/example"),
			src: Source{RepositoryURL: "https://github.com/waxseal/example/", RunnerEnvironment: "github-hosted"}, accept: true},
		{name: "owner case differs", m: withURL("git+https://github.com/WaxSeal/example.git"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "git+https://github.com/WaxSeal/example.git", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "other repo", m: withURL("https://github.com/waxseal/other"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "https://github.com/waxseal/other", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "other host", m: withURL("https://gitlab.com/waxseal/example"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "https://gitlab.com/waxseal/example", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "gitlab shorthand", m: withURL("gitlab:waxseal/example"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "gitlab:waxseal/example", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "host without scheme is not a url", m: withURL("github.com/waxseal/example"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "github.com/waxseal/example", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "repo case differs", m: withURL("waxseal/Example"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "waxseal/Example", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "git+http is not a GitHub protocol", m: withURL("git+http://github.com/waxseal/example"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "git+http://github.com/waxseal/example", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "file url", m: withURL("file:///waxseal/example"), want: []*CheckError{{
			Path: "a-1.0.0.tgz", Field: `package.json "repository.url"`,
			Problem: `is "file:///waxseal/example", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix}}},
		{name: "all three rules broken", m: Manifest{Name: "a", Version: "1.0.0", Private: true},
			src: Source{RepositoryURL: "https://github.com/waxseal/example", RunnerEnvironment: "self-hosted"},
			want: []*CheckError{
				{Field: `package.json "private"`, Problem: "is set to a true value, so npm refuses to publish the package",
					Fix: `remove "private" from package.json (or set it to false)`},
				{Field: "runner environment", Problem: `is "self-hosted"; the npm registry accepts provenance only from GitHub-hosted runners`,
					Fix: "run the job on a GitHub-hosted runner (e.g. runs-on: ubuntu-latest)"},
				{Field: `package.json "repository.url"`, Problem: `is "", expected to match "https://github.com/waxseal/example" from provenance`, Fix: fix},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := src
			if tt.src != (Source{}) {
				s = tt.src
			}
			err := CheckPublishable(tt.m, s)
			if tt.accept {
				if err != nil {
					t.Fatalf("CheckPublishable = %v, want nil", err)
				}
				return
			}
			var got []*CheckError
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *CheckError
				if !errors.As(e, &ce) {
					t.Fatalf("%T is not a *CheckError", e)
				}
				got = append(got, ce)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckPublishable (-want +got):\n%s", diff)
			}
			for _, ce := range got {
				if strings.ContainsAny(ce.Error(), "\r\n") {
					t.Errorf("multi-line message %q", ce.Error())
				}
			}
		})
	}
}

func TestCheckErrorMessage(t *testing.T) {
	t.Parallel()
	err := CheckPublishable(Manifest{Tarball: "dist/a.tgz", Repository: Repository{URL: "x/y"}},
		Source{RepositoryURL: "https://github.com/o/r", RunnerEnvironment: "github-hosted"})
	want := `"dist/a.tgz": package.json "repository.url" is "x/y", expected to match "https://github.com/o/r" from provenance; ` +
		`set "repository": {"type": "git", "url": "git+https://github.com/o/r.git"}`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCheckUnique(t *testing.T) {
	t.Parallel()
	tb := func(path, name, version string) *Tarball {
		return &Tarball{Path: path, Manifest: Manifest{Name: name, Version: version}}
	}
	if err := CheckUnique([]*Tarball{tb("a.tgz", "a", "1.0.0"), tb("b.tgz", "a", "1.0.1"), tb("c.tgz", "@s/a", "1.0.0")}); err != nil {
		t.Fatalf("distinct packages refused: %v", err)
	}
	err := CheckUnique([]*Tarball{tb("x/a.tgz", "a", "1.0.0"), tb("b.tgz", "b", "1.0.0"), tb("y/a.tgz", "a", "1.0.0")})
	var de *DuplicateError
	if !errors.As(err, &de) {
		t.Fatalf("CheckUnique = %v, want a *DuplicateError", err)
	}
	if diff := cmp.Diff(&DuplicateError{Purl: "pkg:npm/a@1.0.0", First: "x/a.tgz", Again: "y/a.tgz"}, de); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, s := range []string{"x/a.tgz", "y/a.tgz", "bump"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
}

// FuzzCheckPublishable feeds arbitrary repository URLs (untrusted package.json text) and sources:
// no panic, every refusal is a one-line *CheckError with a fix, and acceptance means the runner is
// GitHub-hosted and both URLs name the same repository.
func FuzzCheckPublishable(f *testing.F) {
	for _, s := range []string{"git+https://github.com/o/r.git", "o/r", "github:o/r#main", "git@github.com:o/r",
		"ssh://git@github.com/o/r", "https://www.github.com:8443/o/r/tree/x", "gitlab:o/r", "file:///x", "", "@:/#"} {
		f.Add(s, "https://github.com/o/r", false)
	}
	f.Fuzz(func(t *testing.T, repoURL, source string, private bool) {
		m := Manifest{Private: private, Repository: Repository{URL: repoURL}}
		err := CheckPublishable(m, Source{RepositoryURL: source, RunnerEnvironment: "github-hosted"})
		if err == nil {
			a, okA := parseRepo(repoURL)
			b, okB := parseRepo(source)
			if private || !okA || !okB || a != b {
				t.Fatalf("accepted %q for source %q (private %v)", repoURL, source, private)
			}
			return
		}
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ce *CheckError
			if !errors.As(e, &ce) || ce.Fix == "" || strings.ContainsAny(ce.Error(), "\r\n") {
				t.Fatalf("refusal %#v is not a one-line *CheckError with a fix", e)
			}
		}
	})
}

func TestGitHubRepository(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"git+https://github.com/sigstore/sigstore-js.git": "sigstore/sigstore-js",
		"github:microsoft/playwright-cli":                 "microsoft/playwright-cli",
		"git@github.com:Octo/Pkg.git":                     "Octo/Pkg",
		"https://gitlab.com/o/r":                          "",
		"":                                                "",
		"not a url":                                       "",
	} {
		got, ok := GitHubRepository(in)
		if got != want || ok != (want != "") {
			t.Errorf("GitHubRepository(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
