package githubfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
)

func statementBundle(sha512, predicateType string) []byte {
	st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:npm/pkg@1.0.0","digest":{"sha512":%q}}],"predicateType":%q,"predicate":{}}`, sha512, predicateType)
	return []byte(fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payload":%q,"payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"c2ln"}]}}`,
		base64.StdEncoding.EncodeToString([]byte(st))))
}

// TestListAttestations: the list answers what gh reads (bundle, repository_id, bundle_url), filters by
// predicate_type and per_page, and the bundle_url serves the bundle as GitHub's storage does (snappy, no token).
func TestListAttestations(t *testing.T) {
	t.Parallel()
	s := New("octo", "pkg", "tok")
	t.Cleanup(s.Close)
	s.SetIDs(IDs{Repository: 4242, Owner: 77})
	do := func(method, url string, body []byte, auth bool) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
		if auth {
			req.Header.Set("Authorization", "Bearer tok")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	prov, sbom := statementBundle("ab12", "https://slsa.dev/provenance/v1"), statementBundle("ab12", "https://spdx.dev/Document/v2.3")
	for _, b := range [][]byte{prov, sbom, prov} {
		if resp, body := do(http.MethodPost, s.API.URL+"/repos/octo/pkg/attestations", []byte(`{"bundle":`+string(b)+`}`), true); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %s %s", resp.Status, body)
		}
	}
	type listed struct {
		Attestations []struct {
			Bundle       json.RawMessage `json:"bundle"`
			RepositoryID int64           `json:"repository_id"`
			BundleURL    string          `json:"bundle_url"`
		} `json:"attestations"`
	}
	list := func(query string) (int, listed) {
		t.Helper()
		resp, body := do(http.MethodGet, s.API.URL+"/repos/octo/pkg/attestations/sha512:ab12"+query, nil, true)
		var l listed
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, &l); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, l
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 3}, {"?predicate_type=provenance", 2}, {"?predicate_type=https://slsa.dev/provenance/v1", 2},
		{"?predicate_type=https://spdx.dev/Document/v2.3", 1}, {"?per_page=1", 1}, {"?predicate_type=https://slsa.dev/provenance/v0.2", -1},
	} {
		status, l := list(tc.query)
		if tc.want < 0 {
			if status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", tc.query, status)
			}
			continue
		}
		if status != http.StatusOK || len(l.Attestations) != tc.want {
			t.Errorf("%s: %d with %d attestation(s), want %d", tc.query, status, len(l.Attestations), tc.want)
		}
	}
	if resp, _ := do(http.MethodGet, s.API.URL+"/repos/octo/pkg/attestations/sha512:ffff", nil, true); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another digest: %s, want 404", resp.Status)
	}

	_, l := list("?predicate_type=provenance")
	a := l.Attestations[0]
	if a.RepositoryID != 4242 || !bytes.Equal(a.Bundle, prov) || !strings.HasPrefix(a.BundleURL, s.Uploads.URL+"/") {
		t.Fatalf("listed %d %s %q: want the repository's ID, the bundle and a storage URL", a.RepositoryID, a.Bundle, a.BundleURL)
	}
	resp, body := do(http.MethodGet, a.BundleURL, nil, false)
	got, err := snappy.Decode(nil, body)
	if resp.StatusCode != http.StatusOK || err != nil || !bytes.Equal(got, prov) {
		t.Errorf("bundle_url: %s, snappy %v: want the bundle compressed with snappy", resp.Status, err)
	}
	if resp, _ := do(http.MethodGet, a.BundleURL, nil, true); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bundle_url with a token: %s, want 400 as pre-signed storage answers", resp.Status)
	}
	if resp, _ := do(http.MethodGet, s.Uploads.URL+bundlePath+"999", nil, false); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown bundle: %s, want 404", resp.Status)
	}
}
