package verifier

import (
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// newResult summarises what sigstore-go verified. Only verified values are used: the certificate summary and the
// verified timestamps; the log index comes from the entry whose inclusion was verified.
func newResult(b *bundle.Bundle, res *verify.VerificationResult) *Result {
	r := &Result{}
	if res.Signature != nil && res.Signature.Certificate != nil {
		fillIdentity(r, res.Signature.Certificate)
	}
	if entries, err := b.TlogEntries(); err == nil && len(entries) > 0 {
		r.LogIndex = entries[0].LogIndex()
	}
	var sources []string
	seen := map[string]bool{}
	for _, ts := range res.VerifiedTimestamps {
		src := describeTimestamp(ts)
		if seen[src] {
			continue
		}
		seen[src] = true
		sources = append(sources, src)
		// The log's integrated time is the signing time when there is one; else the first RFC 3161 time.
		if r.LogTime.IsZero() || ts.Type == "Tlog" {
			r.LogTime = ts.Timestamp.UTC()
		}
	}
	r.TimestampSource = strings.Join(sources, ", ")
	return r
}

func describeTimestamp(ts verify.TimestampVerificationResult) string {
	kind := "timestamp authority"
	if ts.Type == "Tlog" {
		kind = "transparency log integrated time"
	}
	if ts.URI == "" {
		return kind
	}
	return kind + " (" + ts.URI + ")"
}

// fillIdentity copies the signer's identity from the certificate, falling back to the GitHub-specific extensions
// Fulcio issued before March 2023 (1.3.6.1.4.1.57264.1.2-6) for old bundles.
func fillIdentity(r *Result, c *certificate.Summary) {
	r.SAN = c.SubjectAlternativeName
	r.Issuer = c.Issuer
	r.Repository = certRepository(c)
	r.RepositoryID, r.OwnerID = c.SourceRepositoryIdentifier, c.SourceRepositoryOwnerIdentifier
	r.Ref = firstNonEmpty(c.SourceRepositoryRef, c.GithubWorkflowRef)
	r.Commit = firstNonEmpty(c.SourceRepositoryDigest, c.GithubWorkflowSHA)
	r.RunnerEnvironment = c.RunnerEnvironment
	if r.Repository != "" { // a CI identity; a person's certificate (an email SAN) names no workflow
		r.Workflow = workflowPath(firstNonEmpty(c.BuildConfigURI, c.SubjectAlternativeName), r.Repository)
	}
}

func certRepository(c *certificate.Summary) string {
	if c.SourceRepositoryURI != "" {
		return c.SourceRepositoryURI
	}
	if c.GithubWorkflowRepository != "" {
		return "https://github.com/" + c.GithubWorkflowRepository
	}
	return ""
}

// workflowPath turns https://github.com/o/r/.github/workflows/x.yml@refs/heads/main into .github/workflows/x.yml.
func workflowPath(uri, repo string) string {
	if repo == "" || !strings.HasPrefix(uri, repo+"/") {
		return uri
	}
	p := strings.TrimPrefix(uri, repo+"/")
	if i := strings.LastIndex(p, "@"); i >= 0 {
		p = p[:i]
	}
	return p
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
