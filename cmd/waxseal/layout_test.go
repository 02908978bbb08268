package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeMapsTheTree checks the README's layout names every Go package under cmd/ and internal/, and nothing
// that is not there: a newcomer's map that matches the tree.
func TestReadmeMapsTheTree(t *testing.T) {
	t.Parallel()
	section := layout(t)
	listed := map[string]int{} // directory -> its place in the map
	for i, m := range regexp.MustCompile(`(?m)^    ((?:cmd|internal|test|bench)[^ ]*/)`).FindAllStringSubmatch(section, -1) {
		listed[strings.TrimSuffix(m[1], "/")] = i + 1
	}
	for dir := range listed {
		if st, err := os.Stat(filepath.Join("../..", dir)); err != nil || !st.IsDir() {
			t.Errorf("the README lists %s/, which is not in the tree", dir)
		}
	}
	var missing []string
	for _, top := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join("../..", top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel("../..", p)
			if hasGo(p) && listed[filepath.ToSlash(rel)] == 0 {
				missing = append(missing, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("the README's layout does not list %s/", m)
	}
}

func hasGo(dir string) bool {
	entries, _ := os.ReadDir(dir)
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return strings.HasSuffix(e.Name(), ".go") })
}

// TestImportsFlowDown checks what the README's layout says of dependencies: a shipped package imports only
// packages listed below it, and never a test fake.
func TestImportsFlowDown(t *testing.T) {
	t.Parallel()
	section := layout(t)
	place := map[string]int{}
	for i, m := range regexp.MustCompile(`(?m)^    ((?:cmd|internal)[^ ]*)/`).FindAllStringSubmatch(section, -1) {
		place[m[1]] = i + 1
	}
	const module = "github.com/waxseal/waxseal/"
	fset := token.NewFileSet()
	for pkg, at := range place {
		if strings.HasPrefix(pkg, "internal/testing") {
			continue
		}
		files, _ := filepath.Glob(filepath.Join("../..", pkg, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				dep, ok := strings.CutPrefix(strings.Trim(imp.Path.Value, `"`), module)
				switch {
				case !ok:
				case strings.HasPrefix(dep, "internal/testing"):
					t.Errorf("%s imports the test fake %s", f, dep)
				case place[dep] <= at:
					t.Errorf("%s imports %s, which the README's layout lists above it", pkg, dep)
				}
			}
		}
	}
}

// layout is the README's ## Layout section.
func layout(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no ## Layout section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}
