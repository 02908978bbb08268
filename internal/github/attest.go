package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Attestation is a Sigstore bundle stored in GitHub's attestation store for the repository.
type Attestation struct {
	ID int64 `json:"id"`
	// URL is the attestation's page, SERVER/OWNER/REPO/attestations/ID (the URL actions/attest reports).
	URL string `json:"url"`
}

// ErrAttestationsForbidden means GitHub refused to store an attestation (403, or 404 for a repository that
// cannot have them): the token lacks `attestations: write`, or the repository is private on a plan without
// artifact attestations.
var ErrAttestationsForbidden = errors.New("GitHub refused to store the attestation")

// Attest stores a Sigstore bundle (JSON) as an artifact attestation of the repository. GitHub's "Create an
// attestation" (POST /repos/{owner}/{repo}/attestations, body {"bundle": <the Sigstore bundle>}): "The
// authenticated user must have write permission to the repository and, if using a fine-grained access token,
// the attestations:write permission is required"; it answers 201 Created with the attestation's id, 403
// Forbidden, or 422 "Validation failed, or the endpoint has been spammed". A 422 is final: the bundle is wrong,
// or GitHub throttles; both are reported. Storing is not idempotent: GitHub has no repository endpoint to delete
// an attestation, and storing the same bundle twice stores it twice.
func (r *Repo) Attest(ctx context.Context, bundle []byte) (*Attestation, error) {
	trimmed := bytes.TrimSpace(bundle)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, errors.New("storing an attestation: the bundle is not a JSON object")
	}
	req, err := r.c.gh.NewRequest(http.MethodPost, fmt.Sprintf("repos/%s/%s/attestations", r.owner, r.name),
		map[string]json.RawMessage{"bundle": trimmed})
	if err != nil {
		return nil, err
	}
	var out struct {
		ID int64 `json:"id"`
	}
	err = r.c.doJSON(ctx, r.c.api, req, &out)
	if s := StatusOf(err); s == http.StatusForbidden || s == http.StatusNotFound {
		return nil, fmt.Errorf("storing an attestation: %w (%w)", ErrAttestationsForbidden, err)
	}
	if err != nil {
		return nil, fmt.Errorf("storing an attestation: %w", err)
	}
	if out.ID == 0 {
		return nil, errors.New("storing an attestation: GitHub's answer names no attestation id")
	}
	return &Attestation{ID: out.ID, URL: r.c.serverURL + "/" + r.owner + "/" + r.name + "/attestations/" + strconv.FormatInt(out.ID, 10)}, nil
}
