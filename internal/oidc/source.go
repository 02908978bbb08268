package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/sethvargo/go-githubactions"

	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
)

// Source produces identity tokens. Token may be called more than once in a run (to renew a certificate).
type Source interface {
	Token(ctx context.Context, audience string) (string, error)
}

// Unavailable is the source when there is none: it answers every request with Err. A command that holds it can
// run its own checks first and fail on the token only when it needs one.
type Unavailable struct{ Err error }

// Token returns u.Err.
func (u Unavailable) Token(context.Context, string) (string, error) { return "", u.Err }

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
// No error ever shows the value or a file's content: a value that is neither a JWT nor a file may still be a token
// in another shape ("Bearer eyJ..."), and CI logs keep what is printed.
type StaticSource struct {
	Value string
	// Env names the environment variable Value came from (SIGSTORE_ID_TOKEN); empty when it is the identity-token
	// setting.
	Env string
}

var _ Source = (*StaticSource)(nil)

// maxTokenFile bounds what is read of a token file; an identity token is a few KB.
const maxTokenFile = 64 << 10

// jwtShape is a JWS in compact serialization: three base64url parts separated by dots (RFC 7515 7.1).
var jwtShape = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)

// Token returns the token; the audience was fixed when the token was minted and is checked by Claims.Check.
func (s *StaticSource) Token(context.Context, string) (string, error) {
	v := strings.TrimSpace(s.Value)
	switch {
	case v == "":
		return "", ErrNoToken
	case jwtShape.MatchString(v):
		return v, nil
	}
	tok, err := readTokenFile(v)
	if err == nil {
		return tok, nil
	}
	if errors.Is(err, errNotAFile) {
		what := "the identity token given is"
		if s.Env != "" {
			what = s.Env + " is"
		}
		err = fmt.Errorf("%s neither a file nor a JWT (three base64url parts separated by dots): give the token itself, "+
			"alone (no \"Bearer \" prefix, no quotes), or the path of a file that holds it", what)
	}
	if s.Env != "" {
		return "", err
	}
	return "", remedy.With(err, remedy.Give(remedy.IdentityToken))
}

// errNotAFile means a value is no file's name, so it was not meant as one.
var errNotAFile = errors.New("not a file")

// readTokenFile reads the JWT in the file at path. Its errors never name the path or show the content: either may be
// a token.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && looksLikePath(path):
		return "", errors.New("the identity token file does not exist: check its path, or give the token itself")
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL):
		return "", errNotAFile
	case err != nil:
		return "", fmt.Errorf("opening the identity token file: %w", pathless(err))
	}
	defer func() { _ = f.Close() }() // read-only
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("reading the identity token file: %w", pathless(err))
	case len(b) > maxTokenFile:
		return "", fmt.Errorf("the identity token file is larger than %d KiB: it should hold one JWT", maxTokenFile>>10)
	}
	tok := strings.TrimSpace(string(b))
	if !jwtShape.MatchString(tok) {
		return "", errors.New("the identity token file does not hold a JWT (three base64url parts separated by dots), alone: " +
			"write the token itself to it (no \"Bearer \" prefix, no quotes)")
	}
	return tok, nil
}

// looksLikePath reports whether a value that names no file was meant as a file name: it has a directory in it, or
// ends in an extension, and no space.
func looksLikePath(v string) bool {
	if strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	ext := filepath.Ext(v)
	return strings.ContainsAny(v, `/\`) || len(ext) > 1 && len(ext) <= 6
}

// pathless is err without the file name a *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Select picks the token source: an explicit token, then SIGSTORE_ID_TOKEN, then the GitHub Actions runtime, then
// signIn, the sign-in a person at a terminal goes through (nil when there is nobody to sign in).
func Select(getenv func(string) string, explicit string, signIn *InteractiveSource, transport http.RoundTripper, policy retry.Policy) (Source, error) {
	switch {
	case explicit != "":
		return &StaticSource{Value: explicit}, nil
	case getenv("SIGSTORE_ID_TOKEN") != "":
		return &StaticSource{Value: getenv("SIGSTORE_ID_TOKEN"), Env: "SIGSTORE_ID_TOKEN"}, nil
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
