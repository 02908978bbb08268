package action

import (
	"cmp"
	"fmt"
	"html"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/verifycmd"
)

// SummaryData is what the step summary shows.
type SummaryData struct {
	Report *seal.Report
	// Assets maps a local bundle path to its release download URL; empty when nothing was uploaded.
	Assets map[string]string
	// Rel turns a local path into the workspace-relative one people see.
	Rel func(string) string
	// Staging and TrustedRoot shape the verify commands for a non-public-good instance.
	Staging     bool
	TrustedRoot string
	// Note is an extra line under the table (e.g. why nothing was uploaded).
	Note string
	// Attestations maps a local tarball path to the page of its provenance in GitHub's attestation store (`attest`).
	Attestations map[string]string
}

// code puts untrusted text (package names, versions, errors, asset names) in a code span: inside one, markdown
// makes no links (not even of bare URLs), no emphasis and no HTML. Backticks, which would close the span, become
// quotes; line breaks become spaces; a pipe is escaped for the table; a backslash, which GFM's table splitter would
// pair with that escape, becomes U+FF3C.
func code(s string) string {
	return "`" + strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", `\|`, `\`, "＼").Replace(s) + "`"
}

// link makes a markdown link to u, percent-encoding every byte that could end the destination, break the table or
// open HTML.
func link(text, u string) string {
	if u == "" {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>"'`+"`"+`|\[]{}^`, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return "[" + text + "](" + b.String() + ")"
}

// RenderSummary renders the markdown for GITHUB_STEP_SUMMARY.
func RenderSummary(d SummaryData) string {
	var b strings.Builder
	r := d.Report
	signed, npmOnly := 0, true
	for _, a := range r.Artifacts {
		if a.Error == "" {
			signed++
		}
		npmOnly = npmOnly && a.Kind == seal.NPM
	}
	if npmOnly {
		fmt.Fprintf(&b, "## waxseal: %d of %d npm package(s) signed\n\n", signed, len(r.Artifacts))
		b.WriteString("| Package | Version | sha512 | Bundles | Rekor entry |\n|---|---|---|---|---|\n")
	} else {
		fmt.Fprintf(&b, "## waxseal: %d of %d artifact(s) signed\n\n", signed, len(r.Artifacts))
		b.WriteString("| Artifact | Kind | Digest | Bundles | Rekor entry |\n|---|---|---|---|---|\n")
	}
	for i := range r.Artifacts {
		d.writeRow(&b, &r.Artifacts[i], npmOnly)
	}
	if d.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", d.Note)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\n⚠️ %s\n", code(w))
	}
	writeSigner(&b, r)
	writeVerify(&b, d)
	return b.String()
}

// writeRow writes an artifact's row of the table: an npm package by name and version with its sha512 (npmOnly's
// columns), any other artifact by its path and kind with its sha256.
func (d SummaryData) writeRow(b *strings.Builder, a *seal.Artifact, npmOnly bool) {
	name, second, digest := d.Rel(a.Path), kindCell(a), "sha256:"+printable.Abbrev(a.SHA256, 16)
	if a.Kind == seal.NPM {
		name, second, digest = cmp.Or(a.Name, filepath.Base(a.Path)), "npm "+a.Version, "sha512:"+printable.Abbrev(a.SHA512, 16)
		if npmOnly {
			second, digest = a.Version, printable.Abbrev(a.SHA512, 16)
		}
	}
	if a.Error != "" {
		fmt.Fprintf(b, "| %s | %s | | ❌ %s | |\n", code(name), code(second), code(a.Error))
		return
	}
	bundles := []string{d.bundleCell("signature", a.Bundle)}
	if a.ProvenanceBundle != "" {
		bundles = append(bundles, d.bundleCell("provenance", a.ProvenanceBundle))
	}
	entries := link(fmt.Sprint(a.RekorLogIndex), a.RekorEntryURL)
	if a.ProvenanceBundle != "" {
		entries += " · provenance " + link(fmt.Sprint(a.ProvenanceRekorLogIndex), a.ProvenanceRekorEntryURL)
	}
	if u := d.Attestations[a.Path]; u != "" {
		bundles = append(bundles, link("attestation", u))
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", code(name), code(second), code(digest), strings.Join(bundles, " · "), entries)
}

func kindCell(a *seal.Artifact) string {
	if a.Kind == seal.Checksums && len(a.Subjects) > 1 {
		return fmt.Sprintf("checksums of %d file(s)", len(a.Subjects)-1)
	}
	return string(a.Kind)
}

// bundleCell links an uploaded bundle, or names the local file when it was not uploaded.
func (d SummaryData) bundleCell(kind, path string) string {
	if u := d.Assets[path]; u != "" {
		return link(kind, u)
	}
	return kind + " " + code(d.Rel(path))
}

func writeSigner(b *strings.Builder, r *seal.Report) {
	if r.CertificateIdentity == "" {
		return
	}
	fmt.Fprintf(b, "\n**Signer** %s (issuer %s)\n", code(r.CertificateIdentity), code(r.CertificateIssuer))
	s := r.Source
	if s.Repository == "" {
		return
	}
	repoURL := strings.TrimSuffix(s.ServerURL, "/") + "/" + s.Repository
	workflow := s.WorkflowRef
	if _, after, ok := strings.Cut(workflow, s.Repository+"/"); ok {
		workflow = after
	}
	fmt.Fprintf(b, "\n| Repository | Workflow | Ref | Commit |\n|---|---|---|---|\n| %s | %s | %s | %s |\n",
		link(code(s.Repository), repoURL), code(workflow), code(s.Ref), link(code(short7(s.SHA)), repoURL+"/commit/"+url.PathEscape(s.SHA)))
}

func short7(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// ShellQuote quotes a word for a POSIX shell when it needs it, so a printed command works as pasted.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fence returns a code fence longer than any run of backticks in body, so no line of it can close the block.
func fence(body string) string {
	longest, run := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func writeVerify(b *strings.Builder, d SummaryData) {
	r := d.Report
	if r.CertificateIdentity == "" {
		return
	}
	var signed []*seal.Artifact
	for i := range r.Artifacts {
		if r.Artifacts[i].Error == "" {
			signed = append(signed, &r.Artifacts[i])
		}
	}
	if len(signed) == 0 {
		return
	}
	article, noun, file := "a", "package", "the tarball (for example as npm installs it)"
	if slices.ContainsFunc(r.Artifacts, func(a seal.Artifact) bool { return a.Kind != seal.NPM }) {
		article, noun, file = "an", "artifact", "the file itself"
	}
	fmt.Fprintf(b, "\n### Verify\n\nRun these where the files were downloaded (the paths are the workspace's). Each one pins the "+
		"repository as well as the signing workflow, so %s %s that another repository signed through the same "+
		"reusable workflow is refused. `gh attestation verify` checks provenance only: it never accepts the message-signature "+
		"bundle (`.sigstore.json`).\n", article, noun)
	if len(d.Attestations) > 0 {
		fmt.Fprintf(b, "\nThe provenance is also in this repository's attestation store: the last `gh attestation verify` of each "+
			"%s needs no bundle file, only %s.\n", noun, file)
	}
	if d.Staging {
		b.WriteString("\nThese bundles come from Sigstore's staging instance: cosign and gh need its `trusted_root.json` " +
			"(`--trusted-root` for cosign, `--custom-trusted-root` for gh), so only the waxseal command is shown.\n")
	}
	for i, a := range signed {
		open := ""
		if i == 0 {
			open = " open"
		}
		cmds := strings.Join(verifyCommands(d, a), "\n")
		f := fence(cmds)
		title := a.Label(d.Rel(a.Path))
		// Raw HTML: the summary line is HTML-escaped, not markdown.
		fmt.Fprintf(b, "\n<details%s><summary>%s</summary>\n\n%ssh\n%s\n%s\n\n</details>\n", open, html.EscapeString(title), f, cmds, f)
	}
}

// verifyCommands are the commands that verify one package as printed: waxseal (both bundles), cosign (each
// bundle), and gh (provenance only). Each pins the source repository, not only the signing workflow: a reusable
// workflow signs with one SAN for every repository that calls it.
func verifyCommands(d SummaryData, p *seal.Artifact) []string {
	r := d.Report
	s := r.Source
	tgz, bundle, prov := ShellQuote(d.Rel(p.Path)), ShellQuote(d.Rel(p.Bundle)), ShellQuote(d.Rel(p.ProvenanceBundle))
	san, iss := r.CertificateIdentity, r.CertificateIssuer
	serverURL := strings.TrimSuffix(s.ServerURL, "/")
	repo := s.Repository
	signer, _ := verifycmd.SignerWorkflow(san, serverURL) // owner/repo/path/to/workflow.yml
	ghIssuer := iss == oidc.GitHubIssuer

	w := []string{"waxseal verify", tgz}
	switch {
	case d.Staging:
		w = append(w, "--staging")
	case d.TrustedRoot != "":
		w = append(w, "--trusted-root", ShellQuote(d.TrustedRoot))
	}
	for _, a := range verifycmd.ForSigner(san, iss, s).Args() {
		w = append(w, ShellQuote(a))
	}
	if p.ProvenanceBundle == "" {
		w = append(w, "--no-provenance")
	}
	out := []string{strings.Join(w, " ")}
	if d.Staging {
		return out
	}
	cosignRoot := ""
	if d.TrustedRoot != "" {
		cosignRoot = " --trusted-root " + ShellQuote(d.TrustedRoot)
	}
	id := fmt.Sprintf(" --certificate-identity %s --certificate-oidc-issuer %s --certificate-github-workflow-repository %s", ShellQuote(san), ShellQuote(iss), ShellQuote(repo))
	timestamps := ""
	if r.RekorVersion == 2 {
		timestamps = " --use-signed-timestamps" // Rekor v2 gives no signing time: the RFC 3161 timestamp does
	}
	out = append(out, fmt.Sprintf("cosign verify-blob %s --bundle %s --new-bundle-format%s%s%s", tgz, bundle, cosignRoot, timestamps, id))
	if p.ProvenanceBundle == "" {
		return out
	}
	pin := []string{"--repo", ShellQuote(repo)}
	if p.Kind == seal.NPM {
		// npm's provenance names the tarball by sha512 only, which cosign cannot compute itself; gh can, when told.
		out = append(out, fmt.Sprintf("cosign verify-blob-attestation --bundle %s --new-bundle-format%s --type slsaprovenance1 --digest %s --digestAlg sha512%s",
			prov, cosignRoot, ShellQuote(p.SHA512), id))
		pin = append(pin, "--digest-alg sha512")
	} else {
		// Any other artifact's provenance names it by sha256, the digest cosign and gh compute by default.
		out = append(out, fmt.Sprintf("cosign verify-blob-attestation %s --bundle %s --new-bundle-format%s --type slsaprovenance1%s",
			tgz, prov, cosignRoot, id))
	}
	// --signer-workflow with its host: without one, gh prefixes the host it talks to.
	pin = append(pin, "--signer-workflow", ShellQuote(strings.TrimPrefix(serverURL, "https://")+"/"+signer), "--source-ref", ShellQuote(s.Ref))
	if d.TrustedRoot != "" {
		pin = append(pin, "--custom-trusted-root", ShellQuote(d.TrustedRoot))
	}
	if !ghIssuer {
		pin = append(pin, "--cert-oidc-issuer", ShellQuote(iss))
	}
	out = append(out, strings.Join(append([]string{"gh attestation verify", tgz, "--bundle", prov}, pin...), " "))
	if d.Attestations[p.Path] != "" {
		// Online: gh finds the provenance in the repository's attestation store by the artifact's digest.
		out = append(out, strings.Join(append([]string{"gh attestation verify", tgz}, pin...), " "))
	}
	if sum := checksumTool(p); sum != "" {
		// The files a checksums file lists, once it is verified: those downloaded beside it. Its names are relative
		// to its own directory.
		dir, file := filepath.Split(d.Rel(p.Path))
		check := sum + " --ignore-missing --check " + ShellQuote(file)
		if dir != "" {
			check = "(cd " + ShellQuote(filepath.Clean(dir)) + " && " + check + ")"
		}
		out = append(out, check)
	}
	return out
}

// checksumTool is the coreutils command that checks the files a checksums file lists (sha256sum or sha512sum),
// when they all use one algorithm; "" otherwise.
func checksumTool(p *seal.Artifact) string {
	if p.Kind != seal.Checksums || len(p.Subjects) < 2 {
		return ""
	}
	tool := ""
	for _, s := range p.Subjects[1:] {
		t := "sha512sum"
		if s.SHA256 != "" {
			t = "sha256sum"
		}
		if tool != "" && tool != t {
			return ""
		}
		tool = t
	}
	return tool
}
