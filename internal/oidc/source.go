package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/waxseal/waxseal/internal/retry"
)

// Source produces identity tokens. Token may be called more than once in a run (to renew a certificate).
type Source interface {
	Token(ctx context.Context, audience string) (string, error)
}

// ErrNoIDTokenPermission means the job runs in GitHub Actions but was not granted an identity token.
var ErrNoIDTokenPermission = errors.New("GitHub Actions gave this job no identity token: add `permissions: id-token: write` to the job")

// ErrNoToken means no token source is available at all.
var ErrNoToken = errors.New("no identity token: run in GitHub Actions with `permissions: id-token: write`, or pass --identity-token (or SIGSTORE_ID_TOKEN), or run on a terminal to sign in through a browser (--oidc-device: with a code, on another device)")

// ActionsSource requests tokens from the GitHub Actions runtime (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN).
type ActionsSource struct {
	Getenv func(string) string
	// Transport carries the request; default http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is the run's retry policy.
	Retry retry.Policy
}

// actionsTokenService is the Actions runtime's token endpoint as the retry policy sees it. Its answers hold the
// token, so no excerpt of a successful answer is ever kept. The answer is one token of a few KB.
var actionsTokenService = retry.Service{Name: "the GitHub Actions token endpoint", Valid: retry.JSON, Secret: true, MaxBody: 1 << 20,
	Hint: "check https://www.githubstatus.com"}

var _ Source = (*ActionsSource)(nil)

// Token requests a token with the given audience.
func (s *ActionsSource) Token(ctx context.Context, audience string) (string, error) {
	if s.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || s.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
		return "", ErrNoIDTokenPermission
	}
	gh := githubactions.New(githubactions.WithGetenv(s.Getenv),
		githubactions.WithHTTPClient(s.Retry.Client(s.Transport, actionsTokenService)))
	tok, err := gh.GetIDToken(ctx, audience)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("requesting an identity token: %w", context.Cause(ctx))
		}
		return "", fmt.Errorf("requesting an identity token from the GitHub Actions runtime: %w", retry.Cause(err))
	}
	if tok == "" {
		return "", errors.New("requesting an identity token from the GitHub Actions runtime: the answer held no token (re-run the job)")
	}
	return tok, nil
}

// StaticSource is a token given by the user: the JWT itself, or the path of a file holding it (as cosign accepts).
type StaticSource struct{ Value string }

var _ Source = (*StaticSource)(nil)

// Token returns the token; the audience was fixed when the token was minted and is checked by Claims.Check.
func (s *StaticSource) Token(context.Context, string) (string, error) {
	v := strings.TrimSpace(s.Value)
	if strings.Count(v, ".") != 2 || strings.ContainsAny(v, "/\\") {
		if b, err := os.ReadFile(v); err == nil {
			return strings.TrimSpace(string(b)), nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("reading identity token file %q: %w", v, err)
		}
	}
	if v == "" {
		return "", ErrNoToken
	}
	return v, nil
}

// Select picks the token source: an explicit token, then SIGSTORE_ID_TOKEN, then the GitHub Actions runtime, then
// signIn, the sign-in a person at a terminal goes through (nil when there is nobody to sign in).
func Select(getenv func(string) string, explicit string, signIn *InteractiveSource, transport http.RoundTripper, policy retry.Policy) (Source, error) {
	switch {
	case explicit != "":
		return &StaticSource{Value: explicit}, nil
	case getenv("SIGSTORE_ID_TOKEN") != "":
		return &StaticSource{Value: getenv("SIGSTORE_ID_TOKEN")}, nil
	case getenv("GITHUB_ACTIONS") == "true" || getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != "":
		if getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" {
			return nil, ErrNoIDTokenPermission
		}
		return &ActionsSource{Getenv: getenv, Transport: transport, Retry: policy}, nil
	case signIn != nil:
		return signIn, nil
	default:
		return nil, ErrNoToken
	}
}
