package action

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/seal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func summaryReport() *seal.Report {
	return &seal.Report{
		CertificateIdentity: "https://github.com/octo/pkg/.github/workflows/release.yml@refs/tags/v1.0.0",
		CertificateIssuer:   "https://token.actions.githubusercontent.com",
		Source: provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", Ref: "refs/tags/v1.0.0",
			SHA: "0123456789abcdef0123456789abcdef01234567", WorkflowRef: "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0.0"},
		RekorURL: "https://rekor.sigstore.dev", PublicGood: true,
		Artifacts: []seal.Artifact{
			{Path: "/ws/dist/octo-pkg-1.0.0.tgz", Kind: seal.NPM, Tarball: "/ws/dist/octo-pkg-1.0.0.tgz", Name: "@octo/pkg", Version: "1.0.0", SHA512: strings.Repeat("0f", 64),
				Bundle: "/ws/dist/octo-pkg-1.0.0.tgz.sigstore.json", ProvenanceBundle: "/ws/dist/octo-pkg-1.0.0.tgz.provenance.sigstore.json",
				RekorLogIndex: 123456, ProvenanceRekorLogIndex: 123457, RekorEntryURL: "https://search.sigstore.dev/?logIndex=123456"},
			{Path: "/ws/dist/evil-1.0.0.tgz", Kind: seal.NPM, Tarball: "/ws/dist/evil-1.0.0.tgz", Name: "evil|<b>`x`", Version: "1.0.0",
				Error: "package.json \"repository.url\" is missing: set it to https://github.com/octo/pkg\n| injected | row |"},
		},
	}
}

func TestRenderSummary(t *testing.T) {
	t.Parallel()
	rel := func(p string) string { return strings.TrimPrefix(p, "/ws/") }
	tests := []struct {
		name string
		data SummaryData
	}{
		{name: "uploaded.md", data: SummaryData{Report: summaryReport(), Rel: rel, Assets: map[string]string{
			"/ws/dist/octo-pkg-1.0.0.tgz.sigstore.json":            "https://github.com/octo/pkg/releases/download/v1.0.0/octo-pkg-1.0.0.tgz.sigstore.json",
			"/ws/dist/octo-pkg-1.0.0.tgz.provenance.sigstore.json": "https://github.com/octo/pkg/releases/download/v1.0.0/octo-pkg-1.0.0.tgz.provenance.sigstore.json",
		}}},
		{name: "uploaded-attested.md", data: SummaryData{Report: summaryReport(), Rel: rel, Assets: map[string]string{
			"/ws/dist/octo-pkg-1.0.0.tgz.sigstore.json":            "https://github.com/octo/pkg/releases/download/v1.0.0/octo-pkg-1.0.0.tgz.sigstore.json",
			"/ws/dist/octo-pkg-1.0.0.tgz.provenance.sigstore.json": "https://github.com/octo/pkg/releases/download/v1.0.0/octo-pkg-1.0.0.tgz.provenance.sigstore.json",
		}, Attestations: map[string]string{"/ws/dist/octo-pkg-1.0.0.tgz": "https://github.com/octo/pkg/attestations/7"}}},
		{name: "mixed-release.md", data: func() SummaryData {
			r := summaryReport()
			r.Artifacts = r.Artifacts[:1]
			h := func(c string) string { return strings.Repeat(c, 64) }
			for _, a := range []seal.Artifact{
				{Path: "/ws/dist/app-linux-amd64", Kind: seal.File, SHA256: h("1"), Subjects: []provenance.Subject{{Name: "app-linux-amd64", SHA256: h("1")}}},
				{Path: "/ws/dist/app.spdx.json", Kind: seal.File, SHA256: h("2"), Subjects: []provenance.Subject{{Name: "app.spdx.json", SHA256: h("2")}}},
				{Path: "/ws/dist/SHA256SUMS", Kind: seal.Checksums, SHA256: h("3"), Subjects: []provenance.Subject{
					{Name: "SHA256SUMS", SHA256: h("3")}, {Name: "app-linux-amd64", SHA256: h("1")}}},
			} {
				a.Bundle, a.ProvenanceBundle = a.Path+".sigstore.json", a.Path+".provenance.sigstore.json"
				a.RekorLogIndex, a.ProvenanceRekorLogIndex = 7, 8
				r.Artifacts = append(r.Artifacts, a)
			}
			return SummaryData{Report: r, Rel: rel, Attestations: map[string]string{"/ws/dist/app-linux-amd64": "https://github.com/octo/pkg/attestations/9"}}
		}()},
		{name: "not-uploaded-private-instance.md", data: func() SummaryData {
			r := summaryReport()
			r.PublicGood, r.RekorURL = false, "http://127.0.0.1:3003"
			r.Artifacts[0].RekorEntryURL = "http://127.0.0.1:3003/api/v2/log/entries/123456"
			r.Artifacts[0].ProvenanceBundle = ""
			return SummaryData{Report: r, Rel: rel, TrustedRoot: "stack/trusted_root.json",
				Note: "No release or tag for this run, so nothing was uploaded: the bundles are in the workspace."}
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			golden(t, "summary-"+tc.name, RenderSummary(tc.data))
		})
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"dist/a-1.0.0.tgz": "dist/a-1.0.0.tgz",
		"https://github.com/o/r/.github/workflows/x.yml@refs/tags/v1": "https://github.com/o/r/.github/workflows/x.yml@refs/tags/v1",
		"it's $(rm -rf)": `'it'\''s $(rm -rf)'`,
		"":               "''",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// cells counts a table row's cell separators the way GFM's table splitter does: a backslash escapes the next
// character, any other "|" separates cells.
func cells(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

// FuzzRenderSummary checks that package data cannot change the table's shape: one line per package, five cells.
func FuzzRenderSummary(f *testing.F) {
	f.Add("@scope/pkg", "1.0.0", "")
	f.Add(`a\|b`, "1|2\n| x | y |", "err\r\n|")
	f.Add("`x`", "[link](javascript:x)", "<script>")
	f.Fuzz(func(t *testing.T, name, version, errText string) {
		r := summaryReport()
		r.Artifacts[0].Name, r.Artifacts[0].Version = name, version
		r.Artifacts[1].Name, r.Artifacts[1].Version, r.Artifacts[1].Error = name, version, errText+"x"
		out := RenderSummary(SummaryData{Report: r, Rel: func(p string) string { return p }})
		lines := strings.Split(out, "\n")
		header := slices.Index(lines, "| Package | Version | sha512 | Bundles | Rekor entry |")
		if header < 0 || len(lines) < header+5 {
			t.Fatalf("no table:\n%s", out)
		}
		for _, row := range lines[header+2 : header+4] {
			if got := cells(row); got != 6 {
				t.Fatalf("row %q has %d separators, want 6", row, got)
			}
		}
		if lines[header+4] != "" {
			t.Fatalf("an extra line after the rows: %q", lines[header+4])
		}
	})
}

// renderGFM renders markdown the way GitHub does for a step summary: GFM tables, autolinks (bare URLs and
// addresses) and raw HTML.
func renderGFM(t testing.TB, md string) string {
	t.Helper()
	var out bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gm.Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

var hrefPattern = regexp.MustCompile(`<a href="([^"]*)"`)

// hostileNames are package data (and tarball paths) an attacker chooses.
var hostileNames = []string{
	"https://evil.example/x", "www.evil.example", "mallory@evil.example", "<img src=x onerror=alert(1)>",
	"[click](https://evil.example)", "![x](https://evil.example/t.png)", "# Heading", "</summary></details><a href=https://evil.example>x</a>",
	"```", "~~~", "a\n```\n[x](https://evil.example)\n```", "javascript:alert(1)", "\\|", "**bold** _it_",
}

// TestSummaryPackageDataAddsNoLinksOrStructure: whatever a package name, version, error or file name holds, the
// rendered summary has exactly the links, headings, tables and code blocks waxseal makes.
func TestSummaryPackageDataAddsNoLinksOrStructure(t *testing.T) {
	t.Parallel()
	base := renderGFM(t, RenderSummary(SummaryData{Report: summaryReport(), Rel: func(p string) string { return p }}))
	count := func(html, tag string) int { return strings.Count(html, "<"+tag) }
	for _, h := range hostileNames {
		r := summaryReport()
		r.Artifacts[0].Name, r.Artifacts[0].Version = h, h
		r.Artifacts[1].Name, r.Artifacts[1].Error = h, "repository.url is "+h
		out := renderGFM(t, RenderSummary(SummaryData{Report: r, Rel: func(p string) string { return strings.ReplaceAll(p, "octo-pkg", h) }}))
		for _, tag := range []string{"a ", "img", "h1", "h2", "h3", "table", "tr", "pre", "details", "summary", "strong", "em", "script"} {
			if got, want := count(out, tag), count(base, tag); got != want {
				t.Errorf("%q: %d <%s> elements, want %d:\n%s", h, got, strings.TrimSpace(tag), want, out)
			}
		}
		for _, m := range hrefPattern.FindAllStringSubmatch(out, -1) {
			if strings.Contains(m[1], "evil") || strings.HasPrefix(m[1], "mailto:") || strings.HasPrefix(m[1], "javascript:") {
				t.Errorf("%q: a link to %q", h, m[1])
			}
		}
	}
}

// TestDocsShowTheSummarysCommands: docs/action.md's example of the summary's verify commands is what the summary
// prints for o/r's release workflow at v1.0.0 (with `attest: true`), so the docs cannot drift back to commands
// that do not verify or do not pin the repository.
func TestDocsShowTheSummarysCommands(t *testing.T) {
	t.Parallel()
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "action.md"))
	if err != nil {
		t.Fatal(err)
	}
	sha512 := strings.Repeat("ab", 64)
	r := &seal.Report{
		CertificateIdentity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0.0",
		CertificateIssuer:   "https://token.actions.githubusercontent.com",
		Source: provenance.GitHub{ServerURL: "https://github.com", Repository: "o/r", Ref: "refs/tags/v1.0.0",
			RepositoryID: "123456", RepositoryOwnerID: "654321", WorkflowRef: "o/r/.github/workflows/release.yml@refs/tags/v1.0.0"},
		PublicGood: true,
		Artifacts: []seal.Artifact{{Path: "dist/pkg-1.0.0.tgz", Kind: seal.NPM, Tarball: "dist/pkg-1.0.0.tgz", Name: "pkg", Version: "1.0.0", SHA512: sha512,
			Bundle: "dist/pkg-1.0.0.tgz.sigstore.json", ProvenanceBundle: "dist/pkg-1.0.0.tgz.provenance.sigstore.json"}},
	}
	d := SummaryData{Report: r, Rel: func(p string) string { return p },
		Attestations: map[string]string{"dist/pkg-1.0.0.tgz": "https://github.com/o/r/attestations/1"}}
	cmds := verifyCommands(d, &r.Artifacts[0])
	if len(cmds) != 5 {
		t.Fatalf("%d commands, want 5:\n%s", len(cmds), strings.Join(cmds, "\n"))
	}
	want := "```sh\n" + strings.ReplaceAll(strings.Join(cmds, "\n"), sha512, "<sha512 of the tarball, hex>") + "\n```\n"
	if !strings.Contains(string(docs), want) {
		t.Errorf("docs/action.md does not show the summary's commands; put this block under \"The summary\":\n%s", want)
	}
}

// TestDocsShowAFilesCommands: docs/action.md's example of the commands that verify any other file is what the
// summary prints for a binary of o/r's release workflow at v1.0.0 (with `attest: true`).
func TestDocsShowAFilesCommands(t *testing.T) {
	t.Parallel()
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "action.md"))
	if err != nil {
		t.Fatal(err)
	}
	r := &seal.Report{
		CertificateIdentity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0.0",
		CertificateIssuer:   "https://token.actions.githubusercontent.com",
		Source: provenance.GitHub{ServerURL: "https://github.com", Repository: "o/r", Ref: "refs/tags/v1.0.0",
			WorkflowRef: "o/r/.github/workflows/release.yml@refs/tags/v1.0.0"},
		PublicGood: true, RekorVersion: 2,
		Artifacts: []seal.Artifact{{Path: "app-linux-amd64", Kind: seal.File, SHA256: strings.Repeat("cd", 32),
			Bundle: "app-linux-amd64.sigstore.json", ProvenanceBundle: "app-linux-amd64.provenance.sigstore.json"}},
	}
	d := SummaryData{Report: r, Rel: func(p string) string { return p },
		Attestations: map[string]string{"app-linux-amd64": "https://github.com/o/r/attestations/2"}}
	cmds := verifyCommands(d, &r.Artifacts[0])
	if len(cmds) != 5 {
		t.Fatalf("%d commands, want 5:\n%s", len(cmds), strings.Join(cmds, "\n"))
	}
	if want := "```sh\n" + strings.Join(cmds, "\n") + "\n```\n"; !strings.Contains(string(docs), want) {
		t.Errorf("docs/action.md does not show the summary's commands for a file; put this block under \"Any release artifact\":\n%s", want)
	}
}
