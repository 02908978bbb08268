// Package oidc obtains the OpenID Connect identity token waxseal trades for a signing certificate (from the GitHub
// Actions runtime, from the user, or through an interactive browser flow) and reads its claims.
package oidc

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// GitHubIssuer is the issuer of GitHub Actions identity tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// DefaultAudience is the audience Fulcio expects.
const DefaultAudience = "sigstore"

// Sentinel errors for unusable tokens.
var (
	ErrMalformed     = errors.New("identity token is malformed")
	ErrExpired       = errors.New("identity token has expired")
	ErrWrongAudience = errors.New("identity token has the wrong audience")
)

// Claims are the parts of an identity token waxseal reads. The GitHub fields are empty for other issuers.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	Expiry   time.Time
	IssuedAt time.Time

	Repository        string
	RepositoryID      string
	RepositoryOwner   string
	RepositoryOwnerID string
	WorkflowRef       string
	JobWorkflowRef    string
	SHA               string
	Ref               string
	EventName         string
	RunID             string
	RunAttempt        string
	RunnerEnvironment string
	// RepositoryVisibility is public, internal or private.
	RepositoryVisibility string
	Email                string
}

// IsGitHubActions reports whether the token is a GitHub Actions workflow token (carries the workflow claims).
func (c *Claims) IsGitHubActions() bool {
	return c.Repository != "" && c.WorkflowRef != "" && c.SHA != ""
}

// ParseClaims reads a token's claims without verifying its signature: Fulcio verifies the token; waxseal only reads
// it to build provenance and to fail early, with a useful message, on tokens Fulcio would refuse.
func ParseClaims(token string) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.EdDSA,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v (pass the raw JWT, three base64url parts separated by dots)", ErrMalformed, err)
	}
	var std jwt.Claims
	var gh Claims
	if err := tok.UnsafeClaimsWithoutVerification(&std, &gh); err != nil {
		return nil, fmt.Errorf("%w: reading claims: %v", ErrMalformed, err)
	}
	gh.Issuer, gh.Subject, gh.Audience = std.Issuer, std.Subject, std.Audience
	if std.Expiry != nil {
		gh.Expiry = std.Expiry.Time()
	}
	if std.IssuedAt != nil {
		gh.IssuedAt = std.IssuedAt.Time()
	}
	if gh.Issuer == "" || gh.Subject == "" {
		return nil, fmt.Errorf("%w: no iss or sub claim", ErrMalformed)
	}
	return &gh, nil
}

// UnmarshalJSON accepts GitHub's claims whether they arrive as strings or numbers.
func (c *Claims) UnmarshalJSON(data []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	str := func(k string) string {
		switch v := raw[k].(type) {
		case string:
			return v
		case float64:
			return strings.TrimSuffix(fmt.Sprintf("%.0f", v), ".")
		default:
			return ""
		}
	}
	c.Repository, c.RepositoryID = str("repository"), str("repository_id")
	c.RepositoryOwner, c.RepositoryOwnerID = str("repository_owner"), str("repository_owner_id")
	c.WorkflowRef, c.JobWorkflowRef = str("workflow_ref"), str("job_workflow_ref")
	c.SHA, c.Ref, c.EventName = str("sha"), str("ref"), str("event_name")
	c.RunID, c.RunAttempt, c.RunnerEnvironment = str("run_id"), str("run_attempt"), str("runner_environment")
	c.Email = str("email")
	c.RepositoryVisibility = str("repository_visibility")
	return nil
}

// Check refuses a token Fulcio would refuse for its time or audience, saying how to get a good one.
func (c *Claims) Check(audience string, now time.Time) error {
	if audience == "" {
		audience = DefaultAudience
	}
	if !c.Expiry.IsZero() && !now.Before(c.Expiry) {
		return fmt.Errorf("%w at %s (now %s): request a fresh token right before signing; GitHub's tokens last minutes", ErrExpired, c.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !slices.Contains(c.Audience, audience) {
		return fmt.Errorf("%w %q, want %q: request the token with audience %q (in Actions: the `audience` input)", ErrWrongAudience, strings.Join(c.Audience, ","), audience, audience)
	}
	return nil
}
