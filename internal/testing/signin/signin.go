// Package signin is a test-only OpenID Connect provider for people signing in, shaped the way a command-line
// client sees Sigstore's own provider (oauth2.sigstore.dev, a Dex): discovery, a JWKS, an authorization endpoint
// for the authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636 with S256 only) that approves at once
// for its one test user, a token endpoint, and the device authorization grant (RFC 8628). Its ID tokens carry
// `email` and `email_verified`, which Fulcio's `email` issuer type requires.
//
// Test-only endpoints stand in for the person's choices: POST /_test/deny makes the authorization endpoint deny
// one sign-in (named by its state), POST /_test/device approves, denies or expires a pending device code. Browse
// plays the person's browser.
//
// It exists so that a real Fulcio (issuer type `email`, client id `sigstore`) can be run on loopback against it.
// Never point anything that matters at it.
package signin

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Paths served by an Issuer.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	JWKSPath          = "/keys"
	AuthorizePath     = "/authorize"
	TokenPath         = "/token"
	DeviceCodePath    = "/device/code"
	DeviceVerifyPath  = "/device"
	TestDenyPath      = "/_test/deny"
	TestDevicePath    = "/_test/device"
	deviceCodeGrant   = "urn:ietf:params:oauth:grant-type:device_code"
	authorizationCode = "authorization_code"
)

// Defaults of Config.
const (
	DefaultClientID       = "sigstore"
	DefaultEmail          = "signer@example.com"
	DefaultSubject        = "waxseal-test-user"
	DefaultTokenLifetime  = 5 * time.Minute
	DefaultCodeLifetime   = time.Minute
	DefaultDeviceLifetime = 5 * time.Minute
	DefaultDeviceInterval = 5 * time.Second
)

// maxBody caps every request body the issuer reads.
const maxBody = 64 << 10

// Config configures an Issuer. The zero value of every field is documented on it.
type Config struct {
	// Key signs the ID tokens. Nil means a fresh 2048-bit RSA key.
	Key *rsa.PrivateKey
	// Issuer is the `iss` claim and the base of every URL the issuer advertises, e.g. "http://127.0.0.1:8089".
	// Empty means "http://" + the request's Host, which suits httptest servers.
	Issuer string
	// ClientID is the one OAuth client (public, no secret) the issuer knows; default DefaultClientID.
	ClientID string
	// Email and Subject are the test user's; defaults DefaultEmail and DefaultSubject.
	Email, Subject string
	// TokenLifetime is exp - iat of ID tokens; default DefaultTokenLifetime.
	TokenLifetime time.Duration
	// CodeLifetime is how long an authorization code can be redeemed; default DefaultCodeLifetime.
	CodeLifetime time.Duration
	// DeviceLifetime is a device code's expires_in; default DefaultDeviceLifetime.
	DeviceLifetime time.Duration
	// DeviceInterval is the polling interval a device client is given (whole seconds); default
	// DefaultDeviceInterval, RFC 8628's own default.
	DeviceInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Issuer is an http.Handler serving the provider's endpoints.
type Issuer struct {
	cfg    Config
	signer jose.Signer
	jwk    jose.JSONWebKey
	mux    *http.ServeMux

	mu      sync.Mutex
	codes   map[string]*authCode    // authorization code -> its grant
	devices map[string]*deviceGrant // device_code -> its grant
	users   map[string]string       // normalized user_code -> device_code
	denied  map[string]bool         // states whose authorization request is to be denied
}

var _ http.Handler = (*Issuer)(nil)

// New returns an Issuer for cfg.
func New(cfg Config) (*Issuer, error) {
	if cfg.Key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generating the issuer key: %w", err)
		}
		cfg.Key = k
	}
	setDefaults(&cfg)
	tp, err := (&jose.JSONWebKey{Key: &cfg.Key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("computing the key thumbprint: %w", err)
	}
	kid := hex.EncodeToString(tp[:8])
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: cfg.Key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("creating the issuer signer: %w", err)
	}
	is := &Issuer{
		cfg: cfg, signer: signer, mux: http.NewServeMux(),
		jwk:   jose.JSONWebKey{Key: &cfg.Key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"},
		codes: map[string]*authCode{}, devices: map[string]*deviceGrant{}, users: map[string]string{}, denied: map[string]bool{},
	}
	is.mux.HandleFunc("GET "+DiscoveryPath, is.discovery)
	is.mux.HandleFunc("GET "+JWKSPath, is.jwks)
	is.mux.HandleFunc("GET "+AuthorizePath, is.authorize)
	is.mux.HandleFunc("POST "+TokenPath, is.token)
	is.mux.HandleFunc("POST "+DeviceCodePath, is.deviceCode)
	is.mux.HandleFunc("GET "+DeviceVerifyPath, is.deviceVerify)
	is.mux.HandleFunc("POST "+TestDenyPath, is.testDeny)
	is.mux.HandleFunc("POST "+TestDevicePath, is.testDevice)
	is.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }) // a failed write fails the caller's check
	return is, nil
}

func setDefaults(cfg *Config) {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.ClientID, DefaultClientID)
	def(&cfg.Email, DefaultEmail)
	def(&cfg.Subject, DefaultSubject)
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&cfg.TokenLifetime, DefaultTokenLifetime)
	dur(&cfg.CodeLifetime, DefaultCodeLifetime)
	dur(&cfg.DeviceLifetime, DefaultDeviceLifetime)
	dur(&cfg.DeviceInterval, DefaultDeviceInterval)
	cfg.DeviceInterval = max(cfg.DeviceInterval.Truncate(time.Second), time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
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
		"authorization_endpoint":                iss + AuthorizePath,
		"token_endpoint":                        iss + TokenPath,
		"device_authorization_endpoint":         iss + DeviceCodePath,
		"jwks_uri":                              iss + JWKSPath,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{authorizationCode, deviceCodeGrant},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified"},
	})
}

func (is *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{is.jwk}})
}

// idToken mints the test user's ID token for the client; nonce is omitted when empty (OIDC Core 3.1.3.6: it is
// echoed only when the authentication request carried one).
func (is *Issuer) idToken(r *http.Request, nonce string) (string, error) {
	now := is.cfg.Now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("reading a random jti: %w", err)
	}
	c := map[string]any{
		"iss": is.issuer(r), "sub": is.cfg.Subject, "aud": is.cfg.ClientID,
		"iat": now.Unix(), "exp": now.Add(is.cfg.TokenLifetime).Unix(), "jti": hex.EncodeToString(jti),
		"email": is.cfg.Email, "email_verified": true,
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return jwt.Signed(is.signer).Claims(c).Serialize()
}

// grant answers a successful token request (RFC 6749 section 5.1), never cached.
func (is *Issuer) grant(w http.ResponseWriter, r *http.Request, nonce string) {
	tok, err := is.idToken(r, nonce)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "minting the ID token: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": randomString(), "token_type": "Bearer", "expires_in": int(is.cfg.TokenLifetime / time.Second),
		"id_token": tok, "scope": "openid email",
	})
}

// token is the token endpoint (RFC 6749 section 3.2) for both grants.
func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "reading the form: "+err.Error())
		return
	}
	// RFC 6749 2.3.1/3.2.1: a public client identifies itself with client_id (in the body, or as the Basic user).
	client := r.PostForm.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok && client == "" {
		client = u
	}
	if client != is.cfg.ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("unknown client %q", client))
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case authorizationCode:
		is.redeemCode(w, r)
	case deviceCodeGrant:
		is.pollDevice(w, r)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported", gt))
	}
}

// testDeny marks a state whose authorization request the test user will deny.
func (is *Issuer) testDeny(w http.ResponseWriter, r *http.Request) {
	var req struct {
		State string `json:"state"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.State == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "state is required"})
		return
	}
	is.mu.Lock()
	is.denied[req.State] = true
	is.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"state": req.State, "decision": "deny"})
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "decoding the request: " + err.Error()})
		return false
	}
	return true
}

// oauthError answers an error the way RFC 6749 section 5.2 (and RFC 8628 section 3.5) specify.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomString is 256 random bits in hex: codes and device codes are bearer secrets.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// errUnknown means a code the issuer never issued (or already forgot).
var errUnknown = errors.New("unknown code")
