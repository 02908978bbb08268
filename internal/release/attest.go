package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Attestation is a provenance bundle stored in GitHub's attestation store for the repository.
type Attestation struct {
	ID int64 `json:"id"`
	// URL is the attestation's page, SERVER/OWNER/REPO/attestations/ID (the URL actions/attest reports).
	URL string `json:"url"`
}

// ErrAttestationsForbidden means GitHub refused to store an attestation: the token lacks `attestations: write`,
// or the repository cannot have attestations.
var ErrAttestationsForbidden = errors.New("GitHub refused to store the attestation: grant the job `permissions: attestations: write` (artifact attestations need a public repository, or GitHub Enterprise Cloud for a private one)")

// Attest stores a Sigstore bundle (JSON) as an artifact attestation of the repository. GitHub's "Create an
// attestation" (POST /repos/{owner}/{repo}/attestations, body {"bundle": <the Sigstore bundle>}): "The
// authenticated user must have write permission to the repository and, if using a fine-grained access token,
// the attestations:write permission is required"; it answers 201 Created with the attestation's id, 403
// Forbidden, or 422 "Validation failed, or the endpoint has been spammed". The request goes through the retry
// policy (a 422 is final: the bundle is wrong, or GitHub throttles; both are reported). Storing is not
// idempotent: GitHub has no repository endpoint to delete an attestation, and storing the same bundle twice
// stores it twice.
func (c *Client) Attest(ctx context.Context, bundle []byte) (*Attestation, error) {
	trimmed := bytes.TrimSpace(bundle)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, errors.New("storing an attestation: the bundle is not a JSON object")
	}
	req, err := c.gh.NewRequest(http.MethodPost, fmt.Sprintf("repos/%s/%s/attestations", c.owner, c.repo),
		map[string]json.RawMessage{"bundle": trimmed})
	if err != nil {
		return nil, err
	}
	if err := c.pace.wait(ctx); err != nil {
		return nil, fmt.Errorf("storing an attestation: %w", err)
	}
	resp, err := c.send(ctx, c.api, req)
	if statusOf(err) == http.StatusForbidden || statusOf(err) == http.StatusNotFound {
		return nil, fmt.Errorf("storing an attestation: %w (%w)", ErrAttestationsForbidden, err)
	}
	if err != nil {
		return nil, fmt.Errorf("storing an attestation: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	var out struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(&out); err != nil || out.ID == 0 {
		return nil, fmt.Errorf("storing an attestation: GitHub's answer names no attestation id (%v)", err)
	}
	return &Attestation{ID: out.ID, URL: c.serverURL + "/" + c.owner + "/" + c.repo + "/attestations/" + strconv.FormatInt(out.ID, 10)}, nil
}
