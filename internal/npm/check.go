package npm

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Source is where the provenance says the package was built.
type Source struct {
	// RepositoryURL is the source repository, e.g. https://github.com/owner/repo (the provenance's
	// externalParameters.workflow.repository).
	RepositoryURL string
	// RunnerEnvironment is the runner_environment claim: github-hosted or self-hosted.
	RunnerEnvironment string
}

// CheckPublishable applies the checks the npm registry makes when it accepts a package with
// provenance from src, so a publish cannot fail after signing: the package's own (CheckPackage) and
// those that compare it with where it was built (checkSource). It returns nil or an errors.Join of
// *CheckError, one per rule broken.
func CheckPublishable(m Manifest, src Source) error {
	return errors.Join(append([]error{CheckPackage(m)}, checkSource(m, src)...)...)
}

// CheckPackage applies the checks of the package itself, which need no CI identity: "private" must
// not be truthy (npm publish refuses with EPRIVATE). It returns nil or a *CheckError.
func CheckPackage(m Manifest) error {
	if m.Private {
		return &CheckError{Path: m.Tarball, Field: `package.json "private"`,
			Problem: "is set to a true value, so npm refuses to publish the package",
			Fix:     `remove "private" from package.json (or set it to false)`}
	}
	return nil
}

// checkSource applies the registry's checks of the package against the CI identity that builds it.
// It returns a *CheckError per rule broken:
//   - the runner environment must be github-hosted (the registry refuses provenance from
//     self-hosted runners);
//   - package.json repository.url must name the same repository as the provenance (the registry's
//     E422 "Failed to validate repository information"): same host, and the same owner/repo
//     compared case-sensitively, after npm's hosted-git-info normalization (git+https://, git://,
//     ssh and scp forms, github:owner/repo and owner/repo shorthands, trailing .git, host case,
//     www.).
func checkSource(m Manifest, src Source) []error {
	var errs []error
	add := func(field, problem, fix string) {
		errs = append(errs, &CheckError{Path: m.Tarball, Field: field, Problem: problem, Fix: fix})
	}
	if src.RunnerEnvironment != "github-hosted" {
		add("runner environment", fmt.Sprintf("is %q; the npm registry accepts provenance only from "+
			"GitHub-hosted runners", src.RunnerEnvironment),
			"run the job on a GitHub-hosted runner (e.g. runs-on: ubuntu-latest)")
	}
	if p, f, ok := checkRepository(m.Repository.URL, src.RepositoryURL); !ok {
		add(`package.json "repository.url"`, p, f)
	}
	return errs
}

// checkRepository compares repository.url with the provenance's source repository.
func checkRepository(got, source string) (problem, fix string, ok bool) {
	want, wantOK := parseRepo(source)
	if !wantOK {
		return fmt.Sprintf("cannot be compared: the provenance repository %q is not a repository URL", source),
			"check the identity token's repository claims", false
	}
	if g, gotOK := parseRepo(got); gotOK && g == want {
		return "", "", true
	}
	return fmt.Sprintf("is %q, expected to match %q from provenance", got, source),
		fmt.Sprintf(`set "repository": {"type": "git", "url": "git+https://%s/%s/%s.git"}`, want.host, want.owner, want.repo),
		false
}

// repoID is a hosted repository: lowercase host without www., owner and repo as written.
type repoID struct{ host, owner, repo string }

// shortcuts are hosted-git-info's "host:owner/repo" forms.
var shortcuts = map[string]string{"github": "github.com", "gitlab": "gitlab.com",
	"bitbucket": "bitbucket.org", "gist": "gist.github.com", "sourcehut": "git.sr.ht"}

// parseRepo reads a repository URL the way npm's hosted-git-info does for the forms package.json
// uses. Owner and repo keep their case: the registry compares them case-sensitively (it refused
// "git+https://github.com/formidablelabs/victory.git" for provenance from FormidableLabs/victory,
// FormidableLabs/victory#2590), while the host is compared by name, case-insensitively.
func parseRepo(s string) (repoID, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return repoID{}, false
	}
	s, _, _ = strings.Cut(s, "#") // a committish names a commit, not a different repository
	if isShorthand(s) {
		s = "github:" + s
	}
	if scheme, rest, ok := strings.Cut(s, ":"); ok {
		if host, known := shortcuts[strings.ToLower(scheme)]; known && !strings.HasPrefix(rest, "//") {
			return splitOwnerRepo(host, rest)
		}
	}
	if !strings.Contains(s, "://") {
		// user@host:owner/repo (scp form) or user@host/owner/repo: hosted-git-info reads both as ssh.
		at := strings.Index(s, "@")
		if at < 0 {
			return repoID{}, false
		}
		if colon := strings.LastIndex(s, ":"); colon > at {
			s = s[:colon] + "/" + s[colon+1:]
		}
		s = "git+ssh://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return repoID{}, false
	}
	switch strings.ToLower(u.Scheme) { // hosted-git-info's protocols for GitHub
	case "git", "http", "https", "git+https", "ssh", "git+ssh":
	default:
		return repoID{}, false
	}
	// Like hosted-git-info, match the host by name alone: case, a www. prefix and a port do not matter.
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	return splitOwnerRepo(host, u.Path)
}

// splitOwnerRepo takes /owner/repo[.git][/tree/...] and trims the .git suffix.
func splitOwnerRepo(host, p string) (repoID, bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) < 2 || (len(segs) > 2 && segs[2] != "tree") {
		return repoID{}, false
	}
	owner, repo := segs[0], strings.TrimSuffix(segs[1], ".git")
	if owner == "" || repo == "" {
		return repoID{}, false
	}
	return repoID{host: host, owner: owner, repo: repo}, true
}

// isShorthand is hosted-git-info's test for "owner/repo": one slash, not leading or trailing, no
// colon, @, whitespace, or leading dot.
func isShorthand(s string) bool {
	slash := strings.Index(s, "/")
	return slash > 0 && !strings.HasSuffix(s, "/") && strings.Count(s, "/") == 1 &&
		!strings.ContainsAny(s, ":@ \t\r\n") && !strings.HasPrefix(s, ".")
}

// CheckUnique refuses two tarballs of the same name@version (the registry keeps only one), naming
// both files. It returns nil or an errors.Join of *DuplicateError.
func CheckUnique(ts []*Tarball) error {
	seen := make(map[string]string, len(ts))
	var errs []error
	for _, t := range ts {
		if t == nil {
			continue
		}
		key := t.Purl()
		if first, dup := seen[key]; dup {
			errs = append(errs, &DuplicateError{Purl: key, First: first, Again: t.Path})
			continue
		}
		seen[key] = t.Path
	}
	return errors.Join(errs...)
}

// GitHubRepository is the github.com repository ("owner/repo") a package.json repository URL names, read the way
// npm's hosted-git-info reads it; ok is false for a URL that names none (another host, no URL, not a repository).
func GitHubRepository(repositoryURL string) (string, bool) {
	r, ok := parseRepo(repositoryURL)
	if !ok || r.host != "github.com" {
		return "", false
	}
	return r.owner + "/" + r.repo, true
}
