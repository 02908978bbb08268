// Package ghoidc is a test-only OpenID Connect issuer shaped like GitHub Actions'.
//
// It serves OIDC discovery, a JWKS, and a token endpoint that answers the way
// GitHub's ACTIONS_ID_TOKEN_REQUEST_URL does: a bearer request token is
// required (401 otherwise), the optional `audience` query parameter becomes the
// token's `aud`, and the answer is JSON `{"value": "<jwt>"}`. Tokens are RS256
// JWTs carrying GitHub's claim set. A clearly test-only endpoint,
// POST /_test/token, mints tokens with claim overrides and any lifetime, so
// tests can present expired tokens, wrong audiences or other repositories.
//
// It exists so that a real Fulcio (issuer type `github-workflow`) can be run
// on loopback against it. Never point anything that matters at it.
package ghoidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.SHA256
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Paths served by an Issuer.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks"
	// TokenPath answers like GitHub's ACTIONS_ID_TOKEN_REQUEST_URL.
	TokenPath = "/idtoken"
	// TestTokenPath mints tokens with claim overrides. Test-only.
	TestTokenPath = "/_test/token"
)

// DefaultLifetime is how long a token from TokenPath is valid, as on GitHub.
const DefaultLifetime = 5 * time.Minute

// maxBody caps the JSON body accepted by TestTokenPath.
const maxBody = 64 << 10

// Claims is a JWT claim set. Values are what encoding/json produces.
type Claims map[string]any

// Config configures an Issuer. The zero value of every optional field is
// documented on the field.
type Config struct {
	// Key signs every token. Required.
	Key *rsa.PrivateKey
	// RequestToken is the bearer token that TokenPath and TestTokenPath
	// require (GitHub's ACTIONS_ID_TOKEN_REQUEST_TOKEN). Required.
	RequestToken string
	// Issuer is the `iss` claim and the base of the discovery URLs, for
	// example "http://127.0.0.1:8088". Empty means "http://" + the request's
	// Host, which suits httptest servers.
	Issuer string
	// Defaults are the claims of every token. Nil means DefaultClaims().
	Defaults Claims
	// Lifetime is exp - iat for TokenPath tokens. Zero means DefaultLifetime.
	Lifetime time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Issuer is an http.Handler serving the issuer's endpoints.
type Issuer struct {
	cfg    Config
	signer jose.Signer
	jwk    jose.JSONWebKey
	mux    *http.ServeMux
}

var _ http.Handler = (*Issuer)(nil)

// DefaultClaims returns the claims of a push to main of waxseal/waxseal on a
// GitHub-hosted runner, every value a string as GitHub sends them.
func DefaultClaims() Claims {
	const (
		repo = "waxseal/waxseal"
		ref  = "refs/heads/main"
		sha  = "8b1c9c9f2d6e4a7b3c5d0e1f2a3b4c5d6e7f8091"
		wf   = repo + "/.github/workflows/release.yml@" + ref
	)
	return Claims{
		"ref":                   ref,
		"ref_type":              "branch",
		"ref_protected":         "true",
		"sha":                   sha,
		"repository":            repo,
		"repository_id":         "812345678",
		"repository_owner":      "waxseal",
		"repository_owner_id":   "171234567",
		"repository_visibility": "public",
		"run_id":                "9876543210",
		"run_number":            "42",
		"run_attempt":           "1",
		"actor":                 "waxseal-bot",
		"actor_id":              "181234567",
		"workflow":              "release",
		"workflow_ref":          wf,
		"workflow_sha":          sha,
		"job_workflow_ref":      wf,
		"job_workflow_sha":      sha,
		"event_name":            "push",
		"head_ref":              "",
		"base_ref":              "",
		"runner_environment":    "github-hosted",
	}
}

// New returns an Issuer for cfg.
func New(cfg Config) (*Issuer, error) {
	if cfg.Key == nil {
		return nil, errors.New("creating issuer: Config.Key is nil: load one with LoadState")
	}
	if cfg.RequestToken == "" {
		return nil, errors.New("creating issuer: Config.RequestToken is empty: set a random secret")
	}
	if cfg.Defaults == nil {
		cfg.Defaults = DefaultClaims()
	}
	cfg.Defaults = maps.Clone(cfg.Defaults)
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	kid, err := keyID(&cfg.Key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("creating issuer: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: cfg.Key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("creating issuer signer: %w", err)
	}
	is := &Issuer{
		cfg:    cfg,
		signer: signer,
		jwk:    jose.JSONWebKey{Key: &cfg.Key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"},
		mux:    http.NewServeMux(),
	}
	is.mux.HandleFunc("GET "+DiscoveryPath, is.discovery)
	is.mux.HandleFunc("GET "+JWKSPath, is.jwks)
	is.mux.HandleFunc("GET "+TokenPath, is.token)
	is.mux.HandleFunc("POST "+TestTokenPath, is.testToken)
	is.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }) // a failed write fails the caller's check
	return is, nil
}

// keyID is the RFC 7638 thumbprint of the public key, base64url encoded.
func keyID(pub *rsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing key thumbprint: %w", err)
	}
	return hex.EncodeToString(tp[:8]), nil
}

// ServeHTTP implements http.Handler.
func (is *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) { is.mux.ServeHTTP(w, r) }

func (is *Issuer) issuer(r *http.Request) string {
	if is.cfg.Issuer != "" {
		return is.cfg.Issuer
	}
	return "http://" + r.Host
}

func (is *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	iss := is.issuer(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + JWKSPath,
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      claimsSupported,
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
}

// claimsSupported is the list GitHub's discovery document advertises.
var claimsSupported = []string{
	"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id",
	"repository_owner", "repository_owner_id", "run_id", "run_number", "run_attempt", "actor", "actor_id",
	"workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type",
	"ref_protected", "environment", "job_workflow_ref", "job_workflow_sha", "repository_visibility",
	"runner_environment",
}

func (is *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{is.jwk}})
}

// authorized checks the bearer request token in constant time.
func (is *Issuer) authorized(w http.ResponseWriter, r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(got), []byte(is.cfg.RequestToken)) == 1 {
		return true
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials: a bearer request token is required"})
	return false
}

// token answers like GitHub's ACTIONS_ID_TOKEN_REQUEST_URL.
func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	if !is.authorized(w, r) {
		return
	}
	is.mint(w, r, MintRequest{Audience: r.URL.Query().Get("audience")})
}

// MintRequest is the JSON body of POST /_test/token.
type MintRequest struct {
	// Audience is the `aud` claim; empty means GitHub's default,
	// "https://github.com/<repository_owner>".
	Audience string `json:"audience,omitempty"`
	// LifetimeSeconds is exp - iat; zero means the issuer's lifetime. A
	// negative value mints a token that has already expired.
	LifetimeSeconds int64 `json:"lifetime_seconds,omitempty"`
	// Claims override the defaults and the computed claims (iss, aud, sub,
	// iat, nbf, exp, jti); a null value removes the claim.
	Claims Claims `json:"claims,omitempty"`
}

func (is *Issuer) testToken(w http.ResponseWriter, r *http.Request) {
	if !is.authorized(w, r) {
		return
	}
	var req MintRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "decoding mint request: " + err.Error()})
		return
	}
	is.mint(w, r, req)
}

func (is *Issuer) mint(w http.ResponseWriter, r *http.Request, req MintRequest) {
	claims, err := is.Claims(is.issuer(r), req)
	if err == nil {
		var tok string
		tok, err = jwt.Signed(is.signer).Claims(map[string]any(claims)).Serialize()
		if err == nil {
			writeJSON(w, http.StatusOK, map[string]string{"value": tok})
			return
		}
	}
	writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "minting token: " + err.Error()})
}

// Claims returns the claim set that a token minted now for req would carry,
// with issuer as `iss`.
func (is *Issuer) Claims(issuer string, req MintRequest) (Claims, error) {
	now := is.cfg.Now().Unix()
	life := int64(is.cfg.Lifetime / time.Second)
	if req.LifetimeSeconds != 0 {
		life = req.LifetimeSeconds
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return nil, fmt.Errorf("reading random jti: %w", err)
	}
	c := maps.Clone(is.cfg.Defaults)
	// Merge overrides first so that computed claims follow them.
	for k, v := range req.Claims {
		c[k] = v
	}
	aud := req.Audience
	if aud == "" {
		aud = "https://github.com/" + str(c["repository_owner"])
	}
	computed := Claims{
		"iss": issuer,
		"aud": aud,
		"sub": subject(c),
		"iat": now,
		"nbf": now,
		"exp": now + life,
		"jti": uuid(jti),
	}
	for k, v := range computed {
		if _, overridden := req.Claims[k]; !overridden {
			c[k] = v
		}
	}
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	return c, nil
}

// subject builds `sub` the way GitHub does for its default subject template.
func subject(c Claims) string {
	repo := str(c["repository"])
	switch {
	case str(c["environment"]) != "":
		return "repo:" + repo + ":environment:" + str(c["environment"])
	case str(c["event_name"]) == "pull_request":
		return "repo:" + repo + ":pull_request"
	default:
		return "repo:" + repo + ":ref:" + str(c["ref"])
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func uuid(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
