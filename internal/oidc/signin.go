package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/sigstore/sigstore/pkg/oauthflow"
	"golang.org/x/oauth2"

	"github.com/waxseal/waxseal/internal/retry"
)

// DefaultClientID is the OAuth client Sigstore's public-good and staging providers (oauth2.sigstore.dev,
// oauth2.sigstage.dev) register for command-line signers; Fulcio expects it as the token's audience.
const DefaultClientID = "sigstore"

// DefaultSignInTimeout bounds a sign-in: time to type a password and approve, not to leave a run waiting forever.
const DefaultSignInTimeout = 5 * time.Minute

// Verdicts of a sign-in that ended without a token, for errors.Is.
var (
	ErrSignInDeclined = errors.New("the sign-in was declined")
	ErrSignInTimedOut = errors.New("the sign-in timed out")
	ErrSignInMismatch = errors.New("the sign-in answer does not belong to this sign-in")
)

// InteractiveSource signs a person in at an OpenID Connect provider and returns the ID token it issues: through a
// browser on this machine (the authorization code flow with PKCE and a loopback redirect, RFC 8252), or with a code
// entered on another device (the device authorization grant, RFC 8628).
//
// It follows sigstore/sigstore's pkg/oauthflow (the same client id, scopes, PKCE S256, loopback redirect to
// http://localhost:PORT/auth/callback, sigstore's success page, and oauthflow.SubjectFromToken's rule that an
// email must be verified) but drives the protocol itself with golang.org/x/oauth2 and go-oidc, the libraries
// oauthflow is built on, because oauthflow v1.11.3's token getters cannot be used as they are: their token
// requests go through http.DefaultClient with context.Background() (InteractiveIDTokenGetter's Exchange, and
// DeviceFlowTokenGetter's http.PostForm), so they bypass the retry policy and ignore cancellation; the browser
// flow's wait is a fixed 120 s timer that then falls back to reading a code from stdin; a provider's error
// redirect (the person declined) is read as an empty code and surfaces as an unrelated token-endpoint error; a
// state mismatch also falls back to stdin rather than failing; and the device flow's poll loop cannot be stopped.
type InteractiveSource struct {
	// Issuer is the provider's issuer URL, e.g. https://oauth2.sigstore.dev/auth. Required.
	Issuer string
	// ClientID is the OAuth client; default DefaultClientID. It is the ID token's audience.
	ClientID string
	// Device uses the device authorization grant instead of a browser on this machine.
	Device bool
	// Timeout bounds the whole sign-in; default DefaultSignInTimeout.
	Timeout time.Duration
	// OpenBrowser opens the authorization URL for the person; default SystemBrowser. It may block (a browser
	// started in the foreground): the sign-in does not wait for it to return.
	OpenBrowser func(url string) error
	// Prompt receives what the person must read (the URL, the device code); default io.Discard.
	Prompt io.Writer
	// Transport carries the requests to the provider; default http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is the run's retry policy, for every request to the provider.
	Retry retry.Policy
}

var _ Source = (*InteractiveSource)(nil)

// The provider as the retry policy sees it: discovery and keys, then the token endpoints, whose answers carry
// tokens and whose 400 and 401 answers are OAuth errors (RFC 6749 5.2) that x/oauth2 reads itself. Discovery
// documents, key sets and token answers are a few KB.
var (
	providerService = retry.Service{Name: "the sign-in provider", Valid: retry.JSON, MaxBody: 1 << 20,
		Hint: "check that the provider is up (oauth2.sigstore.dev: https://status.sigstore.dev)"}
	tokenService = retry.Service{Name: "the sign-in provider's token endpoint", Valid: retry.JSON, Secret: true, MaxBody: 1 << 20,
		Pass: func(status int) bool { return status == http.StatusBadRequest || status == http.StatusUnauthorized },
		Hint: "check that the provider is up (oauth2.sigstore.dev: https://status.sigstore.dev)"}
)

// Token signs the person in. The audience of the token is the client ID, as Fulcio expects for this flow.
func (s *InteractiveSource) Token(ctx context.Context, _ string) (string, error) {
	if s.Issuer == "" {
		return "", errors.New("signing in: no OIDC provider to sign in at: pass --oidc-issuer URL, or --identity-token")
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSignInTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, ErrSignInTimedOut)
	defer cancel()
	raw, err := s.signIn(ctx, timeout)
	if err != nil {
		return "", fmt.Errorf("signing in at %s: %w", s.Issuer, err)
	}
	return raw, nil
}

func (s *InteractiveSource) signIn(ctx context.Context, timeout time.Duration) (string, error) {
	prompt := s.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, s.Retry.Client(s.Transport, providerService)), s.Issuer)
	if err != nil {
		return "", s.interrupted(ctx, timeout, fmt.Errorf("reading the provider's discovery document: %w", retry.Cause(err)))
	}
	// Like oauthflow.NewPKCE: a provider that does not advertise S256 PKCE is not used (RFC 7636 4.3: the
	// client "MUST use S256" when it can).
	var meta struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil || !slices.Contains(meta.Methods, "S256") {
		return "", errors.New("the provider does not offer PKCE with S256 (code_challenge_methods_supported), which waxseal requires")
	}
	cfg := oauth2.Config{ClientID: s.ClientID, Endpoint: p.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "email"}}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	// A public client sends client_id in the body (RFC 6749 2.3.1). Left to probe, x/oauth2 would send every
	// failed token request twice, once per style, burning a one-time code or tripping slow_down.
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	tctx := gooidc.ClientContext(ctx, s.Retry.Client(s.Transport, tokenService))
	var raw, nonce string
	if s.Device {
		raw, err = s.deviceFlow(tctx, cfg, prompt)
	} else {
		raw, nonce, err = s.browserFlow(tctx, cfg, prompt)
	}
	if err != nil {
		return "", s.interrupted(ctx, timeout, err)
	}
	return raw, verifyIDToken(ctx, p, cfg.ClientID, raw, nonce)
}

// interrupted says why a flow stopped when its context ended: the sign-in's own deadline, or the run was
// stopped.
func (s *InteractiveSource) interrupted(ctx context.Context, timeout time.Duration, err error) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrSignInTimedOut):
		how := "use --oidc-device if the browser is on another machine"
		if s.Device {
			how = "enter the code sooner"
		}
		var stray *strayAnswers
		if errors.As(err, &stray) {
			return fmt.Errorf("%w: nobody finished signing in within %s (--oidc-timeout), and the browser came back %d time(s) with another "+
				"state than waxseal sent, which it ignored (%w: a stale browser tab, or a forged redirect): run waxseal again and finish "+
				"the sign-in in the tab it opens", ErrSignInTimedOut, timeout, stray.n, ErrSignInMismatch)
		}
		return fmt.Errorf("%w: nobody finished signing in within %s (--oidc-timeout): run waxseal again and %s", ErrSignInTimedOut, timeout, how)
	case cause != nil:
		return fmt.Errorf("stopped while waiting for the sign-in: %w", cause)
	}
	return err
}

// verifyIDToken checks the token the provider issued before Fulcio sees it: its signature against the provider's
// keys, issuer, audience and expiry (go-oidc), the nonce of a browser sign-in (OIDC Core 3.1.3.7 step 11), and
// that it names a verified email, without which Fulcio's email issuers refuse it.
func verifyIDToken(ctx context.Context, p *gooidc.Provider, clientID, raw, nonce string) error {
	idt, err := p.Verifier(&gooidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("the ID token the provider issued does not verify: %w", retry.Cause(err))
	}
	if nonce != "" && idt.Nonce != nonce {
		return fmt.Errorf("%w: the ID token's nonce is not the one waxseal sent; sign in again", ErrSignInMismatch)
	}
	if _, err := oauthflow.SubjectFromToken(idt); err != nil {
		return fmt.Errorf("the ID token names no identity Fulcio accepts: %w (sign in with an account whose email is verified)", err)
	}
	return nil
}

// oauthCode returns the OAuth error code of a token endpoint's refusal, "" for other errors.
func oauthCode(err error) (code, description string) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode, re.ErrorDescription
	}
	return "", ""
}

// describe quotes a provider's error for a person: its code and, if any, its description.
func describe(code, description string) string {
	if description == "" {
		return code
	}
	return fmt.Sprintf("%s: %q", code, description)
}
