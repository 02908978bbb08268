package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/snappy"
)

const docAttestations = "https://docs.github.com/rest/repos/attestations"

// StoredAttestation is an attestation the fake holds.
type StoredAttestation struct {
	ID     int64
	Bundle json.RawMessage
	// Subjects are the in-toto subjects' digests, "alg:hex".
	Subjects []string
	// PredicateType is the in-toto statement's predicateType.
	PredicateType string
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
//   - "List attestations", GET /repos/{owner}/{repo}/attestations/{subject_digest}[?predicate_type=T]:
//     {"attestations": [{"bundle": ..., "repository_id": N, "bundle_url": ..., "initiator": "user"}]}, what `gh attestation verify`
//     reads; 404 when none matches. predicate_type filters: "provenance" stands for SLSA provenance (any
//     version), other values must equal the statement's predicateType. bundle_url is a pre-signed storage URL
//     (here on the uploads server, no Authorization), whose body is the bundle JSON compressed with snappy, which
//     gh decompresses; gh fetches it in preference to the inline bundle.
//
// GitHub's docs list no endpoint to delete a repository's attestation (deletes exist under /orgs and /users
// only), so the fake has none.
func (s *Server) serveAttestations(w http.ResponseWriter, r *http.Request) bool {
	base := fmt.Sprintf("/repos/%s/%s/attestations", s.Owner, s.Repo)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == base:
		s.createAttestation(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/"):
		s.listAttestations(w, r, strings.TrimPrefix(r.URL.Path, base+"/"))
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
	subjects, predicateType, err := decodeAttestation(io.LimitReader(r.Body, 16<<20), &body.Bundle)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed: "+err.Error(), docAttestations+"#create-an-attestation")
		return
	}
	s.nextID++
	s.attestations = append(s.attestations, StoredAttestation{ID: s.nextID, Bundle: body.Bundle, Subjects: subjects, PredicateType: predicateType})
	writeJSON(w, http.StatusCreated, map[string]int64{"id": s.nextID})
}

// decodeAttestation reads {"bundle": {...}} and returns the subjects of the bundle's DSSE-enveloped in-toto
// statement.
func decodeAttestation(r io.Reader, bundle *json.RawMessage) (subjects []string, predicateType string, err error) {
	var body struct {
		Bundle json.RawMessage `json:"bundle"`
	}
	if err := json.NewDecoder(r).Decode(&body); err != nil || len(body.Bundle) == 0 {
		return nil, "", fmt.Errorf("the body is not {\"bundle\": {...}}")
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
		return nil, "", fmt.Errorf("bundle is not a Sigstore bundle")
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil || b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" {
		return nil, "", fmt.Errorf("bundle has no in-toto DSSE envelope")
	}
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(payload, &st); err != nil || len(st.Subject) == 0 {
		return nil, "", fmt.Errorf("the statement has no subject")
	}
	for _, sub := range st.Subject {
		for alg, hex := range sub.Digest {
			subjects = append(subjects, alg+":"+hex)
		}
	}
	return subjects, st.PredicateType, nil
}

func (s *Server) listAttestations(w http.ResponseWriter, r *http.Request, digest string) {
	perPage := 30 // GitHub's default; at most 100
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	want := r.URL.Query().Get("predicate_type")
	var out []map[string]any
	for _, a := range s.attestations {
		if len(out) == perPage {
			break
		}
		if want != "" && want != a.PredicateType && (want != "provenance" || !strings.HasPrefix(a.PredicateType, "https://slsa.dev/provenance/")) {
			continue
		}
		if slices.Contains(a.Subjects, digest) {
			// initiator "user": stored through this API (GitHub's own attestations say "github"); gh's verify
			// keeps only "user" ones.
			out = append(out, map[string]any{"bundle": a.Bundle, "repository_id": max(s.ids.Repository, 1),
				"bundle_url": fmt.Sprintf("%s%s%d", s.Uploads.URL, bundlePath, a.ID), "initiator": "user"})
		}
	}
	if out == nil {
		writeError(w, http.StatusNotFound, "Not Found", docAttestations+"#list-attestations")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"attestations": out})
}

// bundlePath is where the uploads server (the fake's storage host) serves stored bundles.
const bundlePath = "/attestation-bundles/"

// bundle answers a bundle_url as GitHub's storage does: the bundle JSON, compressed with snappy, to a
// pre-signed URL that takes no Authorization header.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) {
	if !s.storage(w, r) {
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, bundlePath), 10, 64)
	s.mu.Lock()
	var body []byte
	for _, a := range s.attestations {
		if err == nil && a.ID == id {
			body = snappy.Encode(nil, a.Bundle)
		}
	}
	s.mu.Unlock()
	if body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}
