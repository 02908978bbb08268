package seal

import (
	"fmt"
	"strings"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
)

// githubContext builds the provenance's GitHub context from the token's claims, which Fulcio also writes into the
// certificate. Where the job's environment says something else, it refuses: provenance whose statement and
// certificate disagree is rejected by npm's registry, and a mismatch means something is wrong with the job.
func githubContext(c *oidc.Claims, getenv func(string) string) (provenance.GitHub, error) {
	server := strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
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
