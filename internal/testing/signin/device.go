package signin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Decision is what the person does with a pending device code.
type Decision string

// The decisions POST /_test/device accepts.
const (
	Approve Decision = "approve"
	Deny    Decision = "deny"
	// Expire ends the code's lifetime now, as if nobody had come.
	Expire Decision = "expire"
)

// DeviceRequest is the JSON body of POST /_test/device.
type DeviceRequest struct {
	UserCode string   `json:"user_code"`
	Decision Decision `json:"decision"`
}

// deviceGrant is one device authorization (RFC 8628 3.1) and where it stands.
type deviceGrant struct {
	userCode  string
	challenge string // S256 code_challenge, when the client sent one
	expires   time.Time
	interval  time.Duration // grows by 5 s with every slow_down (RFC 8628 3.5)
	lastPoll  time.Time
	decision  Decision // "" while pending
}

// userCodeAlphabet is RFC 8628 6.1's example: base-20 consonants, no vowels (no words), none easily confused.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = userCodeAlphabet[randIntn(len(userCodeAlphabet))]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func randIntn(n int) int {
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])   // never fails (Go 1.24+)
		if int(b[0]) < 256/n*n { // no modulo bias
			return int(b[0]) % n
		}
	}
}

// normalizeUserCode ignores case and punctuation, as RFC 8628 6.1 advises.
func normalizeUserCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r
		}
		return -1
	}, s)
}

// deviceCode is the device authorization endpoint (RFC 8628 3.1, 3.2).
func (is *Issuer) deviceCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "reading the form: "+err.Error())
		return
	}
	f := r.PostForm
	challenge, method := f.Get("code_challenge"), f.Get("code_challenge_method")
	switch {
	case f.Get("client_id") != is.cfg.ClientID:
		oauthError(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("unknown client %q", f.Get("client_id")))
		return
	case !slices.Contains(strings.Fields(f.Get("scope")), "openid"):
		oauthError(w, http.StatusBadRequest, "invalid_scope", "the scope must include openid")
		return
	case challenge != "" && (method != "S256" || !s256Challenge.MatchString(challenge)):
		oauthError(w, http.StatusBadRequest, "invalid_request", "code_challenge_method must be S256 with a 43-character challenge")
		return
	}
	device, user := randomString(), newUserCode()
	is.mu.Lock()
	is.pruneLocked()
	is.devices[device] = &deviceGrant{userCode: user, challenge: challenge, interval: is.cfg.DeviceInterval,
		expires: is.cfg.Now().Add(is.cfg.DeviceLifetime)}
	is.users[normalizeUserCode(user)] = device
	is.mu.Unlock()
	iss := is.issuer(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": device, "user_code": user,
		"verification_uri":          iss + DeviceVerifyPath,
		"verification_uri_complete": iss + DeviceVerifyPath + "?user_code=" + user,
		"expires_in":                int(is.cfg.DeviceLifetime / time.Second),
		"interval":                  int(is.cfg.DeviceInterval / time.Second),
	})
}

// pollSlack forgives a poll that arrives a little early: a client polling on a ticker every interval sees
// network delays shift one poll later and the next one closer.
const pollSlack = 250 * time.Millisecond

// pollDevice answers a device access token request (RFC 8628 3.4, 3.5). An approved code is redeemed once.
func (is *Issuer) pollDevice(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	now := is.cfg.Now()
	is.mu.Lock()
	defer is.mu.Unlock()
	d, ok := is.devices[f.Get("device_code")]
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the device code is unknown or was already redeemed")
		return
	}
	early := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval-pollSlack
	d.lastPoll = now
	switch {
	case !now.Before(d.expires) || d.decision == Expire:
		oauthError(w, http.StatusBadRequest, "expired_token", "the device code has expired")
	case d.decision == Deny:
		oauthError(w, http.StatusBadRequest, "access_denied", "the test user denied the request")
	case early:
		// "the interval MUST be increased by 5 seconds for this and all subsequent requests"
		d.interval += 5 * time.Second
		oauthError(w, http.StatusBadRequest, "slow_down", fmt.Sprintf("poll at most every %s", d.interval))
	case d.decision == "":
		oauthError(w, http.StatusBadRequest, "authorization_pending", "the user has not approved the request yet")
	case d.challenge != "" && !verifierMatches(f.Get("code_verifier"), d.challenge):
		delete(is.devices, f.Get("device_code"))
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
	default:
		delete(is.devices, f.Get("device_code"))
		delete(is.users, normalizeUserCode(d.userCode))
		is.grant(w, r, "")
	}
}

func verifierMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifierSyntax.MatchString(verifier) &&
		subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// deviceVerify is the verification URI a person visits. With a user_code, the test user approves at once; without
// one it shows where to enter it.
func (is *Issuer) deviceVerify(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	if code == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><title>test sign-in</title><form method=get action=%q>"+
			"<label>Code <input name=user_code></label> <button>Approve</button></form>\n", DeviceVerifyPath)
		return
	}
	if err := is.decide(code, Approve); err != nil {
		page(w, http.StatusNotFound, err.Error())
		return
	}
	page(w, http.StatusOK, "Approved: return to your terminal.")
}

// testDevice records the person's decision on a pending device code.
func (is *Issuer) testDevice(w http.ResponseWriter, r *http.Request) {
	var req DeviceRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if !slices.Contains([]Decision{Approve, Deny, Expire}, req.Decision) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("decision %q: want approve, deny or expire", req.Decision)})
		return
	}
	if err := is.decide(req.UserCode, req.Decision); err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, req)
}

func (is *Issuer) decide(userCode string, dec Decision) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	d, ok := is.devices[is.users[normalizeUserCode(userCode)]]
	if !ok {
		return fmt.Errorf("user code %q: %w", userCode, errUnknown)
	}
	if !is.cfg.Now().Before(d.expires) {
		return fmt.Errorf("user code %q has expired", userCode)
	}
	d.decision = dec
	return nil
}
