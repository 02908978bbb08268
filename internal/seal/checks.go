package seal

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/printable"
)

// What a run without a CI identity leaves out, one line each.
const (
	skippedProvenance = "provenance: it needs a CI identity (a GitHub Actions job's token) to say where and how the artifacts were built, " +
		"and this token is not one; they are signed without it"
	skippedNPMChecks = "npm's provenance checks that need a CI identity (runner environment, repository.url against the workflow's repository); " +
		"package.json \"private\" and duplicate name@version were checked"
)

// skip records something the run left out and says so.
func (r *Report) skip(w io.Writer, what string) {
	r.Skipped = append(r.Skipped, what)
	fmt.Fprintf(w, "skipped %s\n", what)
}

// npmChecks applies the npm registry's provenance checks to every readable tarball. Without a CI identity only the
// checks of the package itself run ("private", duplicates): the others compare the package with the CI identity.
func npmChecks(arts []*artifact, rep *Report, ci bool) {
	src := npm.Source{RepositoryURL: rep.Source.ServerURL + "/" + rep.Source.Repository, RunnerEnvironment: rep.Source.RunnerEnvironment}
	check := npm.CheckPackage
	if ci {
		check = func(m npm.Manifest) error { return npm.CheckPublishable(m, src) }
	}
	index := map[string]int{}
	var tarballs []*npm.Tarball
	for i, a := range arts {
		if a == nil || a.Kind != NPM {
			continue
		}
		index[a.Path] = i
		tarballs = append(tarballs, a.tarball)
		if err := check(a.tarball.Manifest); err != nil {
			rep.Artifacts[i].Error = message(err)
		}
	}
	// CheckUnique names both files of each duplicate.
	for _, e := range unjoin(npm.CheckUnique(tarballs)) {
		var dup *npm.DuplicateError
		if !errors.As(e, &dup) {
			continue
		}
		for _, path := range []string{dup.First, dup.Again} {
			if p := &rep.Artifacts[index[path]]; p.Error == "" {
				p.Error = message(dup)
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

// message is err on one line for a report: the errors it joins separated by "; ", each safe to print.
func message(err error) string {
	parts := unjoin(err)
	out := make([]string, len(parts))
	for i, e := range parts {
		out[i] = printable.Line(e.Error())
	}
	return strings.Join(out, "; ")
}
