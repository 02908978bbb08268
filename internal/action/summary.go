package action

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/waxseal/waxseal/internal/seal"
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
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`,
	"*", `\*`, "_", `\_`, "`", "'", "\n", " ", "\r", " ")

// md escapes untrusted text (package names, errors) for a markdown table cell.
func md(s string) string { return mdEscaper.Replace(s) }

// code puts text in a code span for a table cell. Backticks, which would close the span, become quotes; a pipe
// is escaped for the table; a backslash, which GFM's table splitter would pair with that escape, becomes U+FF3C.
func code(s string) string {
	return "`" + strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", `\|`, `\`, "＼").Replace(s) + "`"
}

func link(text, u string) string {
	if u == "" {
		return text
	}
	return "[" + text + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u) + ")"
}

// RenderSummary renders the markdown for GITHUB_STEP_SUMMARY.
func RenderSummary(d SummaryData) string {
	var b strings.Builder
	r := d.Report
	signed := 0
	for _, p := range r.Packages {
		if p.Error == "" {
			signed++
		}
	}
	fmt.Fprintf(&b, "## waxseal: %d of %d npm package(s) signed\n\n", signed, len(r.Packages))
	b.WriteString("| Package | Version | sha512 | Bundles | Rekor entry |\n|---|---|---|---|---|\n")
	for _, p := range r.Packages {
		name := p.Name
		if name == "" {
			name = filepath.Base(p.Tarball)
		}
		if p.Error != "" {
			fmt.Fprintf(&b, "| %s | %s | | ❌ %s | |\n", code(name), code(p.Version), md(p.Error))
			continue
		}
		bundles := []string{d.bundleCell("signature", p.Bundle)}
		if p.ProvenanceBundle != "" {
			bundles = append(bundles, d.bundleCell("provenance", p.ProvenanceBundle))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(name), code(p.Version), code(short(p.SHA512)),
			strings.Join(bundles, " · "), link(fmt.Sprint(p.RekorLogIndex), p.RekorEntryURL))
	}
	if d.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", d.Note)
	}
	writeSigner(&b, r)
	writeVerify(&b, d)
	return b.String()
}

// bundleCell links an uploaded bundle, or names the local file when it was not uploaded.
func (d SummaryData) bundleCell(kind, path string) string {
	if u := d.Assets[path]; u != "" {
		return link(kind, u)
	}
	return kind + " " + code(d.Rel(path))
}

func short(hexDigest string) string {
	if len(hexDigest) > 16 {
		return hexDigest[:16] + "…"
	}
	return hexDigest
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
		link(md(s.Repository), repoURL), code(workflow), code(s.Ref), link(code(short7(s.SHA)), repoURL+"/commit/"+url.PathEscape(s.SHA)))
}

func short7(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// shq quotes a word for a POSIX shell.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeVerify(b *strings.Builder, d SummaryData) {
	r := d.Report
	var p *seal.PackageResult
	for i := range r.Packages {
		if r.Packages[i].Error == "" {
			p = &r.Packages[i]
			break
		}
	}
	if p == nil || r.CertificateIdentity == "" {
		return
	}
	tgz, bundle, prov := d.Rel(p.Tarball), d.Rel(p.Bundle), d.Rel(p.ProvenanceBundle)
	inst := ""
	switch {
	case d.Staging:
		inst = " --staging"
	case d.TrustedRoot != "":
		inst = " --trusted-root " + shq(d.TrustedRoot)
	}
	b.WriteString("\n### Verify\n\nWith the identity filled in, for " + code(tgz) + " (the others are alike):\n\n```sh\n")
	if p.ProvenanceBundle == "" {
		inst += " --no-provenance"
	}
	fmt.Fprintf(b, "waxseal verify%s --certificate-identity %s --certificate-oidc-issuer %s %s\n",
		inst, shq(r.CertificateIdentity), shq(r.CertificateIssuer), shq(tgz))
	cosignRoot := ""
	if d.TrustedRoot != "" {
		cosignRoot = " --trusted-root " + shq(d.TrustedRoot)
	}
	if p.ProvenanceBundle == "" {
		fmt.Fprintf(b, "cosign verify-blob --new-bundle-format%s --bundle %s --certificate-identity %s --certificate-oidc-issuer %s %s\n",
			cosignRoot, shq(bundle), shq(r.CertificateIdentity), shq(r.CertificateIssuer), shq(tgz))
		b.WriteString("```\n")
		return
	}
	fmt.Fprintf(b, "cosign verify-blob-attestation --new-bundle-format%s --bundle %s --type slsaprovenance1 --certificate-identity %s --certificate-oidc-issuer %s %s\n",
		cosignRoot, shq(prov), shq(r.CertificateIdentity), shq(r.CertificateIssuer), shq(tgz))
	if r.Source.Repository != "" {
		ghRoot := ""
		if d.TrustedRoot != "" {
			ghRoot = " --custom-trusted-root " + shq(d.TrustedRoot)
		}
		fmt.Fprintf(b, "gh attestation verify %s --bundle %s --repo %s%s\n", shq(tgz), shq(prov), shq(r.Source.Repository), ghRoot)
	}
	b.WriteString("```\n")
}
