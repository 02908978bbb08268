package signin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// authCode is what an authorization code was issued for.
type authCode struct {
	redirectURI string
	challenge   string // S256 code_challenge
	nonce       string
	expires     time.Time
}

// authorize is the authorization endpoint. The test user approves at once unless the state was marked denied.
func (is *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// RFC 6749 4.1.2.1: with a missing or unknown client or redirect URI, tell the user and do NOT redirect.
	if c := q.Get("client_id"); c != is.cfg.ClientID {
		page(w, http.StatusBadRequest, fmt.Sprintf("unknown client_id %q", c))
		return
	}
	redirect, err := loopbackRedirect(q.Get("redirect_uri"))
	if err != nil {
		page(w, http.StatusBadRequest, err.Error())
		return
	}
	state := q.Get("state")
	fail := func(code, description string) { redirectError(w, r, redirect, state, code, description) }
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "the scope must include openid")
	// RFC 7636 4.4.1: a server that requires PKCE answers invalid_request without it, and for a method it does
	// not support.
	case challenge == "":
		fail("invalid_request", "code_challenge is required (PKCE)")
	case method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
	case !s256Challenge.MatchString(challenge):
		fail("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the code_verifier")
	case is.takeDenied(state):
		fail("access_denied", "the test user denied the request")
	default:
		code := randomString()
		is.mu.Lock()
		is.pruneLocked()
		is.codes[code] = &authCode{redirectURI: redirect.String(), challenge: challenge, nonce: q.Get("nonce"),
			expires: is.cfg.Now().Add(is.cfg.CodeLifetime)}
		is.mu.Unlock()
		v := redirect.Query()
		v.Set("code", code)
		if state != "" {
			v.Set("state", state)
		}
		redirect.RawQuery = v.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
	}
}

// s256Challenge is BASE64URL(SHA256(verifier)) without padding: 43 characters (RFC 7636 4.2).
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// verifierSyntax is RFC 7636 4.1: code-verifier = 43*128unreserved.
var verifierSyntax = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// loopbackRedirect accepts what RFC 8252 7.3 lets a native app use: http on a loopback host, any port. Dex, which
// serves oauth2.sigstore.dev, accepts the same for a public client.
func loopbackRedirect(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return nil, fmt.Errorf("redirect_uri %q is missing or not a URL", raw)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if u.Scheme != "http" || u.Fragment != "" || host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("redirect_uri %q is not a loopback http URL (RFC 8252 7.3)", raw)
	}
	return u, nil
}

func (is *Issuer) takeDenied(state string) bool {
	is.mu.Lock()
	defer is.mu.Unlock()
	d := is.denied[state]
	delete(is.denied, state)
	return d
}

// redirectError sends the user back with an error (RFC 6749 4.1.2.1), keeping the state.
func redirectError(w http.ResponseWriter, r *http.Request, redirect *url.URL, state, code, description string) {
	v := redirect.Query()
	v.Set("error", code)
	v.Set("error_description", description)
	if state != "" {
		v.Set("state", state)
	}
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// redeemCode trades an authorization code for tokens (RFC 6749 4.1.3, RFC 7636 4.5/4.6). A code is burnt by its
// first redemption, successful or not: one presented with the wrong verifier may have been stolen.
func (is *Issuer) redeemCode(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	is.mu.Lock()
	c, ok := is.codes[f.Get("code")]
	delete(is.codes, f.Get("code"))
	is.mu.Unlock()
	verifier := f.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the authorization code is unknown or was already used")
	case !is.cfg.Now().Before(c.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the authorization code has expired")
	// RFC 6749 4.1.3: redirect_uri must be identical to the one in the authorization request.
	case f.Get("redirect_uri") != c.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
	case !verifierSyntax.MatchString(verifier):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier is missing or malformed (RFC 7636 4.1)")
	// RFC 7636 4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge, else invalid_grant.
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
	default:
		is.grant(w, r, c.nonce)
	}
}

// pruneLocked forgets expired codes and device grants (is.mu held).
func (is *Issuer) pruneLocked() {
	now := is.cfg.Now()
	for k, c := range is.codes {
		if now.After(c.expires) {
			delete(is.codes, k)
		}
	}
	for k, d := range is.devices {
		if now.After(d.expires.Add(time.Hour)) { // kept a while so late polls still get expired_token
			delete(is.users, d.userCode)
			delete(is.devices, k)
		}
	}
}

// page answers a person (not a client) with a short HTML page.
func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><title>test sign-in</title><p>%s</p>\n", html.EscapeString(msg))
}
