package github_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
)

// provenanceBundle is a Sigstore bundle shaped like a provenance bundle: a DSSE envelope around an in-toto
// statement about one tarball (its verification material is not checked by GitHub's store or by the fake).
func provenanceBundle(sha512 string) []byte {
	st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:npm/pkg@1.0.0","digest":{"sha512":%q}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, sha512)
	return []byte(fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payload":%q,"payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"c2ln"}]}}`,
		base64.StdEncoding.EncodeToString([]byte(st))))
}

func TestAttest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		modes   githubfake.Modes
		fault   *githubfake.Fault
		bundle  []byte
		wantErr error
		want    string
	}{
		{name: "stored and listed by subject digest", bundle: provenanceBundle("ab12")},
		{name: "a 502 is retried", bundle: provenanceBundle("ab12"),
			fault: &githubfake.Fault{Method: http.MethodPost, Host: "api", PathPrefix: "/repos/octo/pkg/attestations", Status: 502}},
		{name: "no attestations: write", modes: githubfake.Modes{NoAttestations: true}, bundle: provenanceBundle("ab12"),
			wantErr: github.ErrAttestationsForbidden, want: "403"},
		{name: "not a bundle", bundle: []byte(`{"mediaType":"text/plain"}`), want: "422"},
		{name: "not JSON", bundle: []byte(`nope`), want: "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fake, _ := newTestClient(t)
			fake.SetModes(tc.modes)
			if tc.fault != nil {
				fake.Inject(*tc.fault)
			}
			a, err := c.Attest(t.Context(), tc.bundle)
			if tc.want != "" || tc.wantErr != nil {
				if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("Attest err = %v, want one saying %q (%v)", err, tc.want, tc.wantErr)
				}
				if n := len(fake.Attestations()); n != 0 {
					t.Errorf("%d attestation(s) stored by a failed call", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("https://github.com/octo/pkg/attestations/%d", a.ID); a.URL != want {
				t.Errorf("URL = %q, want %q", a.URL, want)
			}
			stored := fake.Attestations()
			if len(stored) != 1 || stored[0].ID != a.ID || stored[0].Subjects[0] != "sha512:ab12" {
				t.Fatalf("stored = %+v, want one attestation %d about sha512:ab12", stored, a.ID)
			}
			// What `gh attestation verify --digest-alg sha512` asks for.
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fake.API.URL+"/repos/octo/pkg/attestations/sha512:ab12", nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("listing by subject digest: %s", resp.Status)
			}
		})
	}
}
