package signin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Behaviour is how Browse plays the person at the browser.
type Behaviour string

// The behaviours Browse knows.
const (
	// Follow opens the authorization URL and follows the redirect back to the client: the person approves.
	Follow Behaviour = "follow"
	// Refuse has the person deny the request (through POST /_test/deny), then follows the redirect back.
	Refuse Behaviour = "refuse"
	// ForgeState answers the client with another state than it sent, as a stale tab or a forged redirect would.
	ForgeState Behaviour = "forge-state"
	// ForgeChallenge swaps the PKCE code_challenge, so the provider issues a code bound to another verifier (an
	// authorization request that is not the client's): the client's code exchange must then fail.
	ForgeChallenge Behaviour = "forge-challenge"
	// WalkAway does nothing: the person never signs in.
	WalkAway Behaviour = "walk-away"
)

// Behaviours lists every Behaviour.
var Behaviours = []Behaviour{Follow, Refuse, ForgeState, ForgeChallenge, WalkAway}

// Browse plays the browser the client opened at authURL (an authorization URL of an Issuer). It returns the
// status of the last answer (from the client's redirect listener), or 0 when it did not browse.
func Browse(ctx context.Context, client *http.Client, authURL string, b Behaviour) (int, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return 0, fmt.Errorf("parsing the authorization URL: %w", err)
	}
	q := u.Query()
	switch b {
	case Follow:
	case WalkAway:
		return 0, nil
	case Refuse:
		if err := postJSON(ctx, client, u.Scheme+"://"+u.Host+TestDenyPath, map[string]string{"state": q.Get("state")}); err != nil {
			return 0, err
		}
	case ForgeState:
		q.Set("state", "forged-"+randomString())
	case ForgeChallenge:
		sum := sha256.Sum256([]byte(randomString() + randomString()))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	default:
		return 0, fmt.Errorf("unknown behaviour %q", b)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req) // follows the provider's redirect to the client's listener
	if err != nil {
		return 0, fmt.Errorf("browsing %s: %w", u.Redacted(), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) // the page itself does not matter
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func postJSON(ctx context.Context, client *http.Client, url string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, b)
	}
	return nil
}

// Decide records the person's decision on a pending device code at the issuer base URL issuer.
func Decide(ctx context.Context, client *http.Client, issuer, userCode string, d Decision) error {
	return postJSON(ctx, client, issuer+TestDevicePath, DeviceRequest{UserCode: userCode, Decision: d})
}
