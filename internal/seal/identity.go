package seal

import (
	"fmt"
	"strings"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/trust"
)

// githubContext builds the provenance's GitHub context from the token's claims, which Fulcio also writes into the
// certificate. Where the job's environment says something else, it refuses: provenance whose statement and
// certificate disagree is rejected by npm's registry, and a mismatch means something is wrong with the job.
func githubContext(c *oidc.Claims, getenv func(string) string) (provenance.GitHub, error) {
	server := strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = github.DefaultServerURL
	}
	gh := provenance.GitHub{
		ServerURL:         server,
		Repository:        c.Repository,
		RepositoryID:      c.RepositoryID,
		RepositoryOwnerID: c.RepositoryOwnerID,
		WorkflowRef:       c.WorkflowRef,
		SHA:               c.SHA,
		Ref:               c.Ref,
		EventName:         c.EventName,
		RunID:             c.RunID,
		RunAttempt:        c.RunAttempt,
		RunnerEnvironment: c.RunnerEnvironment,
	}
	for _, p := range []struct{ env, claim, token string }{
		{"GITHUB_REPOSITORY", "repository", c.Repository},
		{"GITHUB_REPOSITORY_ID", "repository_id", c.RepositoryID},
		{"GITHUB_REPOSITORY_OWNER_ID", "repository_owner_id", c.RepositoryOwnerID},
		{"GITHUB_WORKFLOW_REF", "workflow_ref", c.WorkflowRef},
		{"GITHUB_SHA", "sha", c.SHA},
		{"GITHUB_REF", "ref", c.Ref},
		{"GITHUB_EVENT_NAME", "event_name", c.EventName},
		{"GITHUB_RUN_ID", "run_id", c.RunID},
		{"GITHUB_RUN_ATTEMPT", "run_attempt", c.RunAttempt},
		{"RUNNER_ENVIRONMENT", "runner_environment", c.RunnerEnvironment},
	} {
		if v := getenv(p.env); v != "" && v != p.token {
			return provenance.GitHub{}, fmt.Errorf("the job's %s is %q but the identity token's %s claim is %q: refusing to sign provenance that contradicts the certificate (use the token this job was issued; do not override GITHUB_* variables)", p.env, v, p.claim, p.token)
		}
	}
	return gh, nil
}

// checkIdentity applies, before anything is signed, the registry's rules about the identity itself (the npm
// registry's own wording first, then the fix), and the privacy rule for Sigstore's public log. It returns a warning
// to report when an opt-in let a private repository through.
func (o Options) checkIdentity(c *oidc.Claims) (warning string, err error) {
	vis := c.RepositoryVisibility
	private := vis != "" && vis != "public"
	npmProvenance := o.Provenance && !o.SkipNPMChecksUnsafe && c.IsGitHubActions()
	publicLog := o.Trust.Instance() != trust.Custom
	switch {
	case npmProvenance && private:
		return "", remedy.With(fmt.Errorf("the npm registry would refuse this provenance: \"Unsupported GitHub Actions source repository visibility: %s\"; "+
			"npm accepts provenance only from public repositories: make %s public, or sign without provenance", vis, c.Repository),
			remedy.Set(remedy.Provenance, "false"))
	case npmProvenance && publicLog && c.Issuer != oidc.GitHubIssuer:
		return "", remedy.With(fmt.Errorf("the npm registry would refuse this provenance: its certificate issuer would be %s, and the registry accepts provenance "+
			"from GitHub Actions on github.com (%s) and GitLab CI on gitlab.com only: publish from github.com, or sign without provenance",
			c.Issuer, oidc.GitHubIssuer), remedy.Set(remedy.Provenance, "false"))
	case private && publicLog && !o.AllowPrivateRepository:
		return "", remedy.With(fmt.Errorf("%s is a %s repository, and signing writes its name, workflow and commit into Sigstore's public transparency log, "+
			"where anyone can read them for good: if that is acceptable, allow it; otherwise sign with a private Sigstore instance (its trusted root and signing config)",
			c.Repository, vis), remedy.Set(remedy.AllowPrivateRepository, "true"), remedy.Give(remedy.TrustedRoot), remedy.Give(remedy.SigningConfig))
	case private && publicLog:
		return fmt.Sprintf("%s is a %s repository: its name, workflow and commit are now in Sigstore's public transparency log (private repositories were allowed)",
			c.Repository, vis), nil
	}
	return "", nil
}
