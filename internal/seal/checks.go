package seal

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/waxseal/waxseal/internal/npm"
)

// What a run without a CI identity leaves out, one line each.
const (
	skippedProvenance = "provenance: it needs a CI identity (a GitHub Actions job's token) to say where and how the package was built, " +
		"and this token is not one; the tarballs are signed without it"
	skippedNPMChecks = "npm's provenance checks that need a CI identity (runner environment, repository.url against the workflow's repository); " +
		"package.json \"private\" and duplicate name@version were checked"
)

// skip records something the run left out and says so.
func (r *Report) skip(w io.Writer, what string) {
	r.Skipped = append(r.Skipped, what)
	fmt.Fprintf(w, "skipped %s\n", what)
}

// ciCheckFields are the fields of npm.CheckPublishable's refusals that compare the package with the CI identity
// (the runner and the workflow's repository): without one there is nothing to compare, and without provenance the
// registry makes neither check.
var ciCheckFields = map[string]bool{"runner environment": true, `package.json "repository.url"`: true}

// npmChecks applies the npm registry's provenance checks to every readable tarball. Without a CI identity only the
// checks of the package itself run ("private", duplicates).
func npmChecks(tarballs []*npm.Tarball, rep *Report, ci bool) {
	src := npm.Source{RepositoryURL: rep.Source.ServerURL + "/" + rep.Source.Repository, RunnerEnvironment: rep.Source.RunnerEnvironment}
	index := make(map[string]int, len(tarballs))
	for i, t := range tarballs {
		if t == nil {
			continue
		}
		index[t.Path] = i
		var problems []string
		for _, e := range unjoin(npm.CheckPublishable(t.Manifest, src)) {
			var ce *npm.CheckError
			if !ci && errors.As(e, &ce) && ciCheckFields[ce.Field] {
				continue
			}
			problems = append(problems, oneLine(e))
		}
		if len(problems) > 0 {
			rep.Packages[i].Error = strings.Join(problems, "; ")
		}
	}
	// CheckUnique skips unreadable (nil) tarballs and names both files of each duplicate.
	err := npm.CheckUnique(tarballs)
	for _, e := range unjoin(err) {
		var dup *npm.DuplicateError
		if !errors.As(e, &dup) {
			continue
		}
		for _, path := range []string{dup.First, dup.Again} {
			if p := &rep.Packages[index[path]]; p.Error == "" {
				p.Error = oneLine(dup)
			}
		}
	}
}

// unjoin returns the errors an errors.Join holds, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
