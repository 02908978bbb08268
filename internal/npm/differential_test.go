package npm

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The differential tests hold waxseal to its promise: for every tarball it accepts, npm publish
// (npm's own code, see judge_test.go) publishes the same name and version under the same purl, and
// npm install writes the same package.json and the same files. A refusal never disagrees.

// fuzzLimits keep fuzzing fast; tighter limits only add refusals.
var fuzzLimits = Limits{MaxManifestBytes: 64 << 10, MaxEntryCount: 256, MaxDecompressedBytes: 32 << 20, MaxCompressionRatio: 50}

// disagreement returns how any judged npm's reading of the tarball at p differs from waxseal's, or ""
// when waxseal refuses it or every npm agrees with it.
func disagreement(tb testing.TB, js []*npmJudge, p string, lim Limits) string {
	tb.Helper()
	var entries []*tarEntry
	got, err := readTarball(tb.Context(), p, lim, func(e *tarEntry) { entries = append(entries, e) })
	if err != nil {
		return "" // a refusal never disagrees; only accepted tarballs need npm's view
	}
	var problems []string
	for _, j := range js {
		for _, d := range npmDisagreement(got, entries, j.judgeTarball(tb, p)) {
			problems = append(problems, j.name+": "+d)
		}
	}
	if len(problems) == 0 {
		return ""
	}
	m := got.Manifest
	return fmt.Sprintf("waxseal accepted %s@%s (purl %s), but %s", m.Name, m.Version, got.Purl(), strings.Join(problems, "; "))
}

// npmDisagreement lists how one npm's answer differs from what waxseal read.
func npmDisagreement(got *Tarball, entries []*tarEntry, ans judgeAnswer) []string {
	m := got.Manifest
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	pub := ans.Publish
	switch {
	case !pub.OK:
		add("npm publish refuses it (%s: %s)", pub.Code, pub.Error)
	case pub.Name != m.Name || pub.Version != m.Version:
		add("npm publishes %s@%s", pub.Name, pub.Version)
	case pub.Purl != got.Purl():
		add("npm's provenance subject is %s, waxseal's %s", pub.Purl, got.Purl())
	case pub.Private != m.Private:
		add("npm reads private=%v", pub.Private)
	case !pub.SameBytes:
		add("npm publishes different bytes")
	}
	if pub.OK {
		if p := repositoryDisagreement(m.Repository.URL, pub.Repository); p != "" {
			add("%s", p)
		}
	}
	want := npmFilesFrom(entries)
	for _, ex := range []struct {
		what string
		res  npmResult
		ok   bool
		err  string
	}{
		{"npm install", npmResult{ans.Install.Manifest, ans.Install.Files}, ans.Install.OK, ans.Install.Error},
		{"npm install from the registry (bytes in pieces)", derefResult(ans.Install.Chunked), ans.Install.Chunked != nil, ""},
	} {
		switch {
		case !ex.ok:
			add("%s fails (%s)", ex.what, ex.err)
		case !bytes.Equal(ex.res.Manifest, m.Raw):
			add("%s writes a different package.json: %q", ex.what, ex.res.Manifest)
		default:
			if d := cmp.Diff(want, ex.res.Files); d != "" {
				add("%s writes different files (-waxseal +npm):\n%s", ex.what, d)
			}
		}
	}
	return problems
}

func derefResult(r *npmResult) npmResult {
	if r == nil {
		return npmResult{}
	}
	return *r
}

// repositoryDisagreement compares repository.url with npm's normalized one, as the registry's
// provenance check would see them.
func repositoryDisagreement(ours string, npms *string) string {
	theirs := ""
	if npms != nil {
		theirs = *npms
	}
	a, aok := parseRepo(ours)
	b, bok := parseRepo(theirs)
	if aok && (!bok || a != b) {
		return fmt.Sprintf("npm sends repository.url %q where waxseal checked %q", theirs, ours)
	}
	return ""
}

// npmFilesFrom is the file list npm's extraction should write for the entries waxseal read:
// "package/" stripped, and pacote's one rename (a .gitignore becomes .npmignore unless an
// .npmignore came earlier in the same directory, in which case it is skipped).
func npmFilesFrom(entries []*tarEntry) []npmFile {
	files := map[string]int64{}
	sawIgnore := map[string]bool{}
	for _, e := range entries {
		if e.typ != typeFile {
			continue
		}
		p := e.name
		switch path.Base(p) {
		case ".npmignore":
			sawIgnore[p] = true
		case ".gitignore":
			ni := strings.TrimSuffix(p, ".gitignore") + ".npmignore"
			if sawIgnore[ni] {
				continue
			}
			p = ni
		}
		files[strings.TrimPrefix(p, packageDir)] = e.size
	}
	out := make([]npmFile, 0, len(files))
	for p, size := range files {
		out = append(out, npmFile{Path: p, Size: size})
	}
	slices.SortFunc(out, func(a, b npmFile) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// realTarballs lists every tarball made by npm that the tests keep: npm pack output of npm 10, 11
// and 12, the examples, and registry downloads.
func realTarballs(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, pattern := range []string{"../../testdata/npm/real/npm*/*.tgz", "../../testdata/npm/real/*.tgz",
		"../../testdata/npm/*.tgz", "../../testdata/npm-real/*.tgz", "../../testdata/example/*.tgz"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m...)
	}
	return out
}

// TestReadTarballEveryRealPack: every tarball npm made is accepted, with the name and version in
// its file name (npm pack names it <name without @, / as ->-<version>.tgz). npm 10, 11 and 12
// are all represented.
func TestReadTarballEveryRealPack(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for _, p := range realTarballs(t) {
		seen[filepath.Base(filepath.Dir(p))]++
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			got, err := ReadTarball(t.Context(), p, DefaultLimits())
			if err != nil {
				t.Fatalf("ReadTarball: %v", err)
			}
			m := got.Manifest
			want := PackFileName(m.Name, m.Version)
			if filepath.Base(p) != want {
				t.Errorf("read %s@%s from %s", m.Name, m.Version, filepath.Base(p))
			}
		})
	}
	for _, dir := range []string{"npm10", "npm11", "npm12"} {
		if seen[dir] < 3 {
			t.Errorf("testdata/npm/real/%s has %d tarballs, want the 3 make.sh packs", dir, seen[dir])
		}
	}
}

// TestDifferential runs the corpus through waxseal and npm: every real tarball (accepted, and npm
// agrees) and every hostile one (npm reads what the case says, so the divergence is real, and
// waxseal does not disagree with it). The fuzz corpus in testdata/fuzz runs as the seeds of
// FuzzDifferential and FuzzManifestDifferential.
func TestDifferential(t *testing.T) {
	js := judgesFor(t)
	for _, j := range js {
		t.Logf("judging with %s", j.name)
	}
	for _, p := range realTarballs(t) {
		t.Run("real/"+p, func(t *testing.T) {
			t.Parallel()
			if _, err := ReadTarball(t.Context(), p, DefaultLimits()); err != nil {
				t.Fatalf("waxseal refuses a real npm pack: %v", err)
			}
			if d := disagreement(t, js, p, DefaultLimits()); d != "" {
				t.Error(d)
			}
		})
	}
	for _, c := range hostileCases(t) {
		t.Run("hostile/"+c.name, func(t *testing.T) {
			t.Parallel()
			p := writeTemp(t, "hostile.tgz", c.tgz(t))
			for _, j := range js {
				ans := j.judgeTarball(t, p)
				if got, want := npmView(ans), c.npmFor(j); got != want {
					t.Errorf("%s: npm publish reads %s, want %s (publish error: %s)", j.name, got, want, ans.Publish.Error)
				}
				if c.chunked != "" && ans.Install.Chunked != nil {
					if got := manifestView(ans.Install.Chunked.Manifest); got != c.chunked {
						t.Errorf("%s: npm install with the bytes in pieces writes %s, want %s", j.name, got, c.chunked)
					}
				}
			}
			if d := disagreement(t, js, p, DefaultLimits()); d != "" {
				t.Error(d)
			}
		})
	}
}

// npmView is what npm publish publishes: "name@version" or "refused".
func npmView(a judgeAnswer) string {
	if !a.Publish.OK {
		return "refused"
	}
	return a.Publish.Name + "@" + a.Publish.Version
}

// manifestView is the name and version in a package.json as JSON.parse reads it, or "none".
func manifestView(raw []byte) string {
	var doc struct{ Name, Version string }
	if raw == nil || json.Unmarshal(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), &doc) != nil {
		return "none"
	}
	return doc.Name + "@" + doc.Version
}

// asTgz gzips raw unless it already is gzip, so fuzzing mutates the tar stream itself.
func asTgz(tb testing.TB, raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		return raw
	}
	return gz(tb, raw)
}

// manifestTarball is a canonical npm pack tarball around the given package.json.
func manifestTarball(tb testing.TB, doc []byte) []byte {
	return gz(tb, packTar(manifestEntry, string(doc), "package/index.js", "module.exports = 1\n"))
}

// differentialSeeds are the real tarballs (as files and as tar streams), the hostile ones and the
// seeds of FuzzReadTarball.
func differentialSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var seeds [][]byte
	for _, p := range realTarballs(tb) {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if len(raw) < 64<<10 {
			seeds = append(seeds, raw, gunzip(tb, raw))
		}
	}
	for _, c := range hostileCases(tb) {
		switch {
		case c.gz != nil:
			seeds = append(seeds, c.gz)
		case c.tar != nil:
			if raw := c.tar(); len(raw) < 1<<20 { // the megabytes of zeros teach the fuzzer nothing
				seeds = append(seeds, raw)
			}
		}
	}
	return append(seeds, seedTarballs(tb)...)
}

// FuzzDifferential mutates tarballs (the tar stream, gzipped by the harness, or whole gzip files)
// and fails whenever waxseal accepts one that npm reads differently.
func FuzzDifferential(f *testing.F) {
	for _, s := range differentialSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if d := disagreement(t, judgesFor(t), writeTemp(t, "fuzz.tgz", asTgz(t, raw)), fuzzLimits); d != "" {
			t.Fatal(d)
		}
	})
}

// FuzzManifestDifferential mutates package.json inside a canonical tarball: name, version,
// private and repository as JSON.parse and npm's normalization read them.
func FuzzManifestDifferential(f *testing.F) {
	for _, s := range []string{
		goodJSON, evilJSON, goodManifest,
		`{"name":"@a/b","version":"1.0.0-rc.1+build","private":false,"repository":"github:o/r"}`,
		`{"name":"a","version":"=v1.2.3","repositories":["o/r"]}`,
		`{"name":" a ","version":" 1.2.3 "}`, `{"name":"a","version":"1.2.3-01.x"}`,
		`{"name":"A","version":"1.2.3","NAME":"b"}`, "\ufeff" + `{"name":"a","version":"1.0.0"}`,
		`{"name":"a","version":"1.0.0","private":-0}`, `{"name":"a","version":"1.0.0","private":"0"}`,
		`{"name":"a!(x)*'~","version":"1.0.0"}`, `{"name":"@a/.b","version":"1.0.0"}`,
		`{"name":"a","version":"9007199254740991.0.0-9007199254740991"}`,
		`{"name":"a","version":"1.0.0","repository":{"type":"git","url":"git@github.com:o/r.git"}}`,
	} {
		f.Add([]byte(s))
	}
	for _, c := range hostileCases(f) {
		if c.tar == nil {
			continue
		}
		// The package.json cases are the hostile archives holding package.json and index.js alone.
		if doc, ok := onlyManifest(c.tar()); ok {
			f.Add(doc)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if d := disagreement(t, judgesFor(t), writeTemp(t, "fuzz.tgz", manifestTarball(t, doc)), fuzzLimits); d != "" {
			t.Fatal(d)
		}
	})
}

// onlyManifest returns package.json from a canonical archive holding just package.json and an
// index.js (or package.json alone).
func onlyManifest(raw []byte) ([]byte, bool) {
	tr := tar.NewReader(bytes.NewReader(raw))
	var doc []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return doc, doc != nil
		}
		if err != nil || (h.Name != manifestEntry && h.Name != "package/index.js") {
			return nil, false
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, false
		}
		if h.Name == manifestEntry {
			doc = b
		}
	}
}

// FuzzEntryNamesDifferential builds npm pack-style archives (headers exactly as node-tar writes
// them) from fuzzed entry names, one per line after package/package.json, so the fuzzer explores
// names waxseal accepts: npm's extraction must write exactly those files.
func FuzzEntryNamesDifferential(f *testing.F) {
	for _, s := range []string{
		"package/index.js", "package/a/b/c.js\npackage/a/d.js", "package/lib/caf\u00e9.js\npackage/lib/\u65e5\u672c.md",
		"package/" + strings.Repeat("d", 120) + ".js", "package/" + strings.Repeat("a/", 70) + "x",
		"package/x.\npackage/y ", "package/.gitignore\npackage/.npmignore", "package/sub/.npmignore\npackage/sub/.gitignore",
		"package/\U0001f600/" + strings.Repeat("\u00fc", 60) + "/n.js", "package/a\npackage/A",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, names string) {
		files := []string{manifestEntry, goodJSON}
		for i, n := range strings.Split(names, "\n") {
			files = append(files, n, strconv.Itoa(i))
		}
		if d := disagreement(t, judgesFor(t), writeTemp(t, "fuzz.tgz", gz(t, packTar(files...))), fuzzLimits); d != "" {
			t.Fatal(d)
		}
	})
}
