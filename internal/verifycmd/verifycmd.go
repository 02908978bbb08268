// Package verifycmd is the identity policy of `waxseal verify`: who must have signed, as the command's flags say
// it. One Policy value makes both what the verifier enforces (Identity) and the flags that ask for it (Args), so the
// command a job summary prints and the check the command line runs cannot drift apart. It is the command layer's,
// shared by the command line (flags in) and the Action (commands out), so its messages name flags.
package verifycmd

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/verifier"
)

// Policy is who must have signed. Repository (OWNER/REPO on github.com) builds a GitHub Actions identity that
// Workflow and Ref narrow; SAN/SANRegexp and Issuer/IssuerRegexp are cosign's certificate identity flags, which
// replace the built identity (Repository then still pins the source repository). Commit and the numeric IDs pin
// the certificate's extensions.
type Policy struct {
	Repository, Workflow, Ref, Commit    string
	RepositoryID, OwnerID                string
	SAN, SANRegexp, Issuer, IssuerRegexp string
}

// repoPattern is OWNER/REPO as GitHub allows them.
var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// ValidRepository reports whether s is OWNER/REPO.
func ValidRepository(s string) bool { return repoPattern.MatchString(s) }

// Identity returns the certificate identity and extensions the policy requires. No identity, no verification: a
// policy that pins no signer is refused, as is one that contradicts itself.
func (p Policy) Identity() (verifier.Identity, certificate.Extensions, error) {
	id := verifier.Identity{SAN: p.SAN, SANRegexp: p.SANRegexp, Issuer: p.Issuer, IssuerRegexp: p.IssuerRegexp}
	var ext certificate.Extensions
	if err := p.check(); err != nil {
		return id, ext, err
	}
	if id.SAN == "" && id.SANRegexp == "" {
		if p.Repository == "" {
			return id, ext, fmt.Errorf("no identity, no verification: pass --repository OWNER/REPO (or cosign's --certificate-identity / --certificate-identity-regexp)")
		}
		id.SANRegexp = p.sanRegexp()
	}
	if id.Issuer == "" && id.IssuerRegexp == "" {
		id.Issuer = oidc.GitHubIssuer
	}
	if p.Repository != "" {
		ext.SourceRepositoryURI = github.DefaultServerURL + "/" + p.Repository
	}
	ext.SourceRepositoryIdentifier, ext.SourceRepositoryOwnerIdentifier = p.RepositoryID, p.OwnerID
	ext.SourceRepositoryRef, ext.SourceRepositoryDigest = p.Ref, p.Commit
	return id, ext, nil
}

func (p Policy) check() error {
	named := p.SAN != "" || p.SANRegexp != ""
	switch {
	case p.Repository != "" && !ValidRepository(p.Repository):
		return fmt.Errorf("--repository %q is not OWNER/REPO", p.Repository)
	case p.Workflow != "" && named:
		// --workflow narrows the identity --repository builds; next to an identity given outright it would narrow
		// nothing, and ignoring it silently would let a user believe it was checked.
		return fmt.Errorf("--workflow narrows the identity --repository builds; --certificate-identity already names the workflow "+
			"(the part before @): drop --workflow, or drop --certificate-identity and pass --repository OWNER/REPO --workflow %s", p.Workflow)
	case p.Repository == "" && (p.Workflow != "" || p.Ref != "") && !named:
		return fmt.Errorf("--workflow and --ref narrow --repository: pass --repository OWNER/REPO too")
	case p.Ref != "" && !strings.HasPrefix(p.Ref, "refs/"):
		return fmt.Errorf("--ref %q is not a full git ref: pass refs/tags/%s or refs/heads/%s", p.Ref, p.Ref, p.Ref)
	}
	for _, n := range []struct{ flag, v string }{{"--repository-id", p.RepositoryID}, {"--repository-owner-id", p.OwnerID}} {
		if n.v != "" && strings.Trim(n.v, "0123456789") != "" {
			return fmt.Errorf("%s %q is not a number: pass GitHub's numeric ID (gh api repos/OWNER/REPO --jq .id)", n.flag, n.v)
		}
	}
	return nil
}

// sanRegexp is the SAN Fulcio gives a GitHub Actions workflow of the repository: https://github.com/OWNER/REPO/PATH@REF.
func (p Policy) sanRegexp() string {
	wf := `\.github/workflows/[^@]+`
	if p.Workflow != "" {
		wf = regexp.QuoteMeta(WorkflowPath(p.Workflow))
	}
	ref := `refs/.+`
	if p.Ref != "" {
		ref = regexp.QuoteMeta(p.Ref)
	}
	return "^" + regexp.QuoteMeta(github.DefaultServerURL+"/"+p.Repository+"/") + wf + "@" + ref + "$"
}

// WorkflowPath is --workflow as a path in the repository: a bare file name is under .github/workflows.
func WorkflowPath(w string) string {
	if !strings.Contains(w, "/") {
		return ".github/workflows/" + w
	}
	return w
}

// Args are the flags that ask `waxseal verify` for this policy, unquoted, in a fixed order: an identity given
// outright first, then the repository that narrows it; or the repository, what narrows it, and then the issuer.
func (p Policy) Args() []string {
	type flag struct{ name, v string }
	identity := []flag{{"--certificate-identity", p.SAN}, {"--certificate-identity-regexp", p.SANRegexp}}
	issuer := []flag{{"--certificate-oidc-issuer", p.Issuer}, {"--certificate-oidc-issuer-regexp", p.IssuerRegexp}}
	repo := []flag{{"--repository", p.Repository}, {"--workflow", p.Workflow}, {"--ref", p.Ref}, {"--source-commit", p.Commit}}
	order := append(append(repo, identity...), issuer...)
	if p.SAN != "" || p.SANRegexp != "" {
		order = append(append(identity, issuer...), repo...)
	}
	order = append(order, flag{"--repository-id", p.RepositoryID}, flag{"--repository-owner-id", p.OwnerID})
	var out []string
	for _, f := range order {
		if f.v != "" {
			out = append(out, f.name, f.v)
		}
	}
	return out
}

// SignerWorkflow splits a GitHub Actions certificate identity, https://SERVER/OWNER/REPO/PATH@REF, into the
// signing workflow (OWNER/REPO/PATH, the server left out when it is serverURL's) and its ref.
func SignerWorkflow(san, serverURL string) (workflow, ref string) {
	workflow, ref, _ = strings.Cut(strings.TrimPrefix(san, strings.TrimSuffix(serverURL, "/")+"/"), "@")
	return workflow, ref
}

// ForSigner is the policy that pins what a signing run's certificate says, the way a consumer should check it:
// for a workflow of the repository itself (on github.com), its repository, workflow and ref; for a reusable
// workflow of another repository, its certificate identity and issuer, and the calling repository and ref on top (a
// reusable workflow signs with one SAN for every repository that calls it). The repository's numeric IDs are
// pinned when the source has them. The issuer is named only when it is not GitHub Actions'.
func ForSigner(san, issuer string, src provenance.GitHub) Policy {
	server := strings.TrimSuffix(src.ServerURL, "/")
	signer, ref := SignerWorkflow(san, server)
	wfPath, inRepo := strings.CutPrefix(signer, src.Repository+"/")
	p := Policy{Repository: src.Repository, RepositoryID: src.RepositoryID, OwnerID: src.RepositoryOwnerID}
	if inRepo && server == github.DefaultServerURL && strings.HasPrefix(san, server+"/") {
		p.Workflow, p.Ref = wfPath, ref
		if issuer != oidc.GitHubIssuer {
			p.Issuer = issuer
		}
		return p
	}
	p.SAN, p.Issuer, p.Ref = san, issuer, src.Ref
	return p
}
