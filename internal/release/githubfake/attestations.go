package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const docAttestations = "https://docs.github.com/rest/repos/attestations"

// StoredAttestation is an attestation the fake holds.
type StoredAttestation struct {
	ID     int64
	Bundle json.RawMessage
	// Subjects are the in-toto subjects' digests, "alg:hex".
	Subjects []string
}

// Attestations returns the attestations stored so far.
func (s *Server) Attestations() []StoredAttestation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StoredAttestation(nil), s.attestations...)
}

// serveAttestations answers the repository attestation endpoints; it reports whether the request was one.
// s.mu is held.
//
//   - "Create an attestation", POST /repos/{owner}/{repo}/attestations with body {"bundle": {...}}: "The
//     authenticated user must have write permission to the repository and, if using a fine-grained access token,
//     the attestations:write permission is required." Answers: 201 Created, 403 Forbidden, 422 "Validation
//     failed, or the endpoint has been spammed." The body of the 201 is {"id": N} (the id actions/attest turns
//     into its attestation-id output); the 403's body is GitHub's usual one for a token without the permission.
//   - "List attestations", GET /repos/{owner}/{repo}/attestations/{subject_digest}: {"attestations": [{"bundle":
//     ..., "repository_id": N, "bundle_url": ...}]}, what `gh attestation verify` reads.
//
// GitHub's docs list no endpoint to delete a repository's attestation (deletes exist under /orgs and /users
// only), so the fake has none.
func (s *Server) serveAttestations(w http.ResponseWriter, r *http.Request) bool {
	base := fmt.Sprintf("/repos/%s/%s/attestations", s.Owner, s.Repo)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == base:
		s.createAttestation(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/"):
		s.listAttestations(w, strings.TrimPrefix(r.URL.Path, base+"/"))
	default:
		return false
	}
	return true
}

func (s *Server) createAttestation(w http.ResponseWriter, r *http.Request) {
	if s.modes.NoAttestations {
		w.Header().Set("X-Accepted-GitHub-Permissions", "attestations=write")
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", docAttestations+"#create-an-attestation")
		return
	}
	var body struct {
		Bundle json.RawMessage `json:"bundle"`
	}
	subjects, err := decodeAttestation(io.LimitReader(r.Body, 16<<20), &body.Bundle)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed: "+err.Error(), docAttestations+"#create-an-attestation")
		return
	}
	s.nextID++
	s.attestations = append(s.attestations, StoredAttestation{ID: s.nextID, Bundle: body.Bundle, Subjects: subjects})
	writeJSON(w, http.StatusCreated, map[string]int64{"id": s.nextID})
}

// decodeAttestation reads {"bundle": {...}} and returns the subjects of the bundle's DSSE-enveloped in-toto
// statement.
func decodeAttestation(r io.Reader, bundle *json.RawMessage) ([]string, error) {
	var body struct {
		Bundle json.RawMessage `json:"bundle"`
	}
	if err := json.NewDecoder(r).Decode(&body); err != nil || len(body.Bundle) == 0 {
		return nil, fmt.Errorf("the body is not {\"bundle\": {...}}")
	}
	*bundle = body.Bundle
	var b struct {
		MediaType    string `json:"mediaType"`
		DSSEEnvelope struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(body.Bundle, &b); err != nil || !strings.HasPrefix(b.MediaType, "application/vnd.dev.sigstore.bundle") {
		return nil, fmt.Errorf("bundle is not a Sigstore bundle")
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil || b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" {
		return nil, fmt.Errorf("bundle has no in-toto DSSE envelope")
	}
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil || len(st.Subject) == 0 {
		return nil, fmt.Errorf("the statement has no subject")
	}
	var out []string
	for _, sub := range st.Subject {
		for alg, hex := range sub.Digest {
			out = append(out, alg+":"+hex)
		}
	}
	return out, nil
}

func (s *Server) listAttestations(w http.ResponseWriter, digest string) {
	var out []map[string]any
	for _, a := range s.attestations {
		for _, sub := range a.Subjects {
			if sub == digest {
				out = append(out, map[string]any{"bundle": a.Bundle, "repository_id": 1,
					"bundle_url": fmt.Sprintf("%s/attestations/%d/bundle", s.API.URL, a.ID)})
				break
			}
		}
	}
	if out == nil {
		writeError(w, http.StatusNotFound, "Not Found", docAttestations+"#list-attestations")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"attestations": out})
}
