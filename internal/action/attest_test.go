package action

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
)

// signWithDSSE is fakeSign with a provenance bundle shaped like a real one (a DSSE envelope around an in-toto
// statement about the tarball), written indented over several lines as a bundle file may be.
func signWithDSSE(calls *int) func(context.Context, seal.Options) (*seal.Report, error) {
	sign := fakeSign(calls)
	return func(ctx context.Context, o seal.Options) (*seal.Report, error) {
		rep, err := sign(ctx, o)
		if err != nil {
			return rep, err
		}
		for _, p := range rep.Artifacts {
			st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:npm/pkg@1.0.0","digest":{"sha512":%q}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, p.SHA512)
			b := fmt.Sprintf("{\n  \"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\",\n  \"verificationMaterial\": {},\n  \"dsseEnvelope\": {\"payload\": %q, \"payloadType\": \"application/vnd.in-toto+json\", \"signatures\": [{\"sig\": \"c2ln\"}]}\n}\n",
				base64.StdEncoding.EncodeToString([]byte(st)))
			if err := os.WriteFile(p.ProvenanceBundle, []byte(b), 0o644); err != nil {
				return nil, err
			}
			line, err := bundlefile.Line([]byte(b)) // as seal writes it
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(p.ProvenanceJSONL, line, 0o644); err != nil {
				return nil, err
			}
		}
		return rep, nil
	}
}

func TestRunAttest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		modes      githubfake.Modes
		wantErr    string
		wantStored int
	}{
		{name: "stored, then uploaded", wantStored: 1},
		{name: "no attestations: write leaves the release alone", modes: githubfake.Modes{NoAttestations: true},
			wantErr: "grant the job `permissions: attestations: write`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := githubfake.New("octo", "pkg", ghToken)
			defer fake.Close()
			fake.SetModes(tc.modes)
			relID := fake.AddRelease("v1.0.0", true, false)
			env, ws := runnerEnv(t, fake)
			env["INPUT_ATTEST"] = "true"
			var calls int
			stdout, err := runAction(t, env, signWithDSSE(&calls))
			stored := fake.Attestations()
			if len(stored) != tc.wantStored {
				t.Errorf("%d attestation(s) stored, want %d", len(stored), tc.wantStored)
			}
			out := outputs(t, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "the release was not changed") {
					t.Fatalf("Run err = %v, want it to say %q and that the release was not changed", err, tc.wantErr)
				}
				if got := fake.Assets(relID); len(got) != 0 {
					t.Errorf("the release changed although an attestation failed: %v", got)
				}
				if out["attestation-ids"] != "[]" {
					t.Errorf("attestation-ids = %s, want []", out["attestation-ids"])
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, stdout)
			}
			if got := stored[0].Subjects; !cmp.Equal(got, []string{"sha512:" + strings.Repeat("ab", 64)}) {
				t.Errorf("stored subjects %q, want the tarball's sha512 (what gh attestation verify --digest-alg sha512 looks up)", got)
			}
			if want := fmt.Sprintf("[%d]", stored[0].ID); out["attestation-ids"] != want {
				t.Errorf("attestation-ids = %s, want %s", out["attestation-ids"], want)
			}
			var urls []string
			if err := json.Unmarshal([]byte(out["attestation-urls"]), &urls); err != nil || len(urls) != 1 ||
				urls[0] != fmt.Sprintf("https://github.com/octo/pkg/attestations/%d", stored[0].ID) {
				t.Errorf("attestation-urls = %s (%v)", out["attestation-urls"], err)
			}
			// The release got the provenance as one line of JSON Lines too.
			jsonl := string(fake.Assets(relID)["pkg-1.0.0.tgz.intoto.jsonl"])
			if strings.Count(jsonl, "\n") != 1 || !strings.HasSuffix(jsonl, "}\n") || !json.Valid([]byte(jsonl)) {
				t.Errorf("pkg-1.0.0.tgz.intoto.jsonl = %q, want the bundle as one line ending in one newline", jsonl)
			}
			var res struct {
				Attestations []struct {
					Tarball string `json:"tarball"`
					ID      int64  `json:"id"`
				} `json:"attestations"`
			}
			b, _ := os.ReadFile(filepath.Join(ws, ".waxseal", "results.json"))
			if err := json.Unmarshal(b, &res); err != nil || len(res.Attestations) != 1 || res.Attestations[0].Tarball != "dist/pkg-1.0.0.tgz" {
				t.Errorf("results file attestations = %+v (%v)", res.Attestations, err)
			}
		})
	}
}
