//go:build e2e

// Package stack_test proves the local Sigstore stack: with it running (see
// run.sh), it mints a GitHub-shaped ID token, signs with sigstore-go against
// each signing-config profile, verifies with sigstore-go requiring SCTs, a
// tlog entry and an observer timestamp, and verifies again with cosign.
package stack_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sethvargo/go-githubactions"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/stacktest"
)

func env(t *testing.T, name string) string { return stacktest.Var(t, name) }

// The default claims of the stack's issuer, which Fulcio turns into the
// certificate's identity and GitHub extensions.
var (
	claims  = ghoidc.DefaultClaims()
	wantSAN = "https://github.com/" + claims["job_workflow_ref"].(string)
)

func idToken(t *testing.T) string {
	t.Helper()
	gha := githubactions.New(githubactions.WithGetenv(func(k string) string { return os.Getenv(k) }))
	tok, err := gha.GetIDToken(t.Context(), "sigstore")
	if err != nil {
		t.Fatalf("getting ID token the way a GitHub job does: %v", err)
	}
	return tok
}

type profile struct {
	name          string
	signingConfig string // env var
	rekorVersion  uint32
	wantKind      string // tlog entry kind, version
}

var profiles = []profile{
	{name: "v1", signingConfig: "WAXSEAL_STACK_SIGNING_CONFIG_V1", rekorVersion: 1, wantKind: "hashedrekord 0.0.1"},
	{name: "v2", signingConfig: "WAXSEAL_STACK_SIGNING_CONFIG_V2", rekorVersion: 2, wantKind: "hashedrekord 0.0.2"},
}

// bundleOptions picks Fulcio, Rekor and the TSA from the signing config,
// as waxseal does.
func bundleOptions(t *testing.T, ctx context.Context, sc *root.SigningConfig, tr root.TrustedMaterial, token string) sign.BundleOptions {
	t.Helper()
	now := time.Now()
	ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, now)
	if err != nil {
		t.Fatalf("selecting Fulcio: %v", err)
	}
	rekors, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), sign.RekorAPIVersions, now)
	if err != nil {
		t.Fatalf("selecting Rekor: %v", err)
	}
	tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), sign.TimestampAuthorityAPIVersions, now)
	if err != nil {
		t.Fatalf("selecting TSA: %v", err)
	}
	opts := sign.BundleOptions{
		CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: ca.URL}),
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: token},
		TrustedRoot:                tr,
		Context:                    ctx,
	}
	for _, r := range rekors {
		opts.TransparencyLogs = append(opts.TransparencyLogs, sign.NewRekor(&sign.RekorOptions{BaseURL: r.URL, Version: r.MajorAPIVersion}))
	}
	for _, ts := range tsas {
		opts.TimestampAuthorities = append(opts.TimestampAuthorities, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: ts.URL}))
	}
	return opts
}

func TestStackSignVerify(t *testing.T) {
	trPath := env(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	tr, err := root.NewTrustedRootFromPath(trPath)
	if err != nil {
		t.Fatalf("loading the stack's trusted root: %v", err)
	}
	issuer := env(t, "WAXSEAL_STACK_OIDC_ISSUER")
	cosign := env(t, "WAXSEAL_STACK_COSIGN")
	token := idToken(t)

	for _, p := range profiles {
		sc := signingConfig(t, p)
		for _, k := range kinds {
			t.Run(p.name+"/"+k.name, func(t *testing.T) {
				dir := t.TempDir()
				blob := make([]byte, 4096)
				rand.Read(blob)
				blobPath := filepath.Join(dir, "blob.bin")
				if err := os.WriteFile(blobPath, blob, 0o600); err != nil {
					t.Fatal(err)
				}
				kp, err := sign.NewEphemeralKeypair(nil)
				if err != nil {
					t.Fatal(err)
				}
				pb, err := sign.Bundle(k.content(t, blob), kp, bundleOptions(t, t.Context(), sc, tr, token))
				if err != nil {
					t.Fatalf("signing with sigstore-go: %v", err)
				}
				checkEntry(t, pb, k.wantKind[p.rekorVersion])
				bundlePath := filepath.Join(dir, "blob.sigstore.json")
				writeBundle(t, pb, bundlePath)

				b := &bundle.Bundle{Bundle: pb}
				res := verifyBlob(t, tr, b, blob, issuer)
				checkCertificate(t, res, issuer)

				args := append([]string{k.cosignVerb, "--new-bundle-format", "--bundle", bundlePath, "--trusted-root", trPath,
					"--certificate-identity", wantSAN, "--certificate-oidc-issuer", issuer}, k.cosignArgs...)
				if p.rekorVersion == 2 {
					// Rekor v2 entries carry no signed time: it comes from the TSA.
					args = append(args, "--use-signed-timestamps")
				}
				runCosign(t, cosign, append(args, blobPath)...)

				// A tampered blob must fail with both verifiers.
				tampered := bytes.Clone(blob)
				tampered[0] ^= 1
				if _, err := verifier(t, tr).Verify(b, policy(t, tampered, issuer, wantSAN)); err == nil {
					t.Errorf("sigstore-go verified a tampered blob")
				}
				tamperedPath := filepath.Join(dir, "tampered.bin")
				if err := os.WriteFile(tamperedPath, tampered, 0o600); err != nil {
					t.Fatal(err)
				}
				if out, err := cosignCmd(t, cosign, append(args, tamperedPath)...).CombinedOutput(); err == nil {
					t.Errorf("cosign verified a tampered blob:\n%s", out)
				}
				// So must a wrong identity.
				evil := "https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/main"
				if _, err := verifier(t, tr).Verify(b, policy(t, blob, issuer, evil)); err == nil {
					t.Errorf("sigstore-go accepted a wrong SAN")
				}
			})
		}
	}
}

func signingConfig(t *testing.T, p profile) *root.SigningConfig {
	t.Helper()
	sc, err := root.NewSigningConfigFromPath(env(t, p.signingConfig))
	if err != nil {
		t.Fatalf("loading signing config: %v", err)
	}
	// The V2 profile lists Rekor v2 first and Rekor v1 after it (npm provenance goes there); the preferred log,
	// the one selection picks, must be of the profile's version.
	got, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), sign.RekorAPIVersions, time.Now())
	if err != nil || len(got) != 1 || got[0].MajorAPIVersion != p.rekorVersion || sc.RekorLogURLs()[0].MajorAPIVersion != p.rekorVersion {
		t.Fatalf("signing config Rekor services = %+v, selected %+v (%v), want API version %d first and selected", sc.RekorLogURLs(), got, err, p.rekorVersion)
	}
	return sc
}

// kind is what gets signed: a message signature over the blob, or a DSSE
// envelope holding an in-toto statement whose subject is the blob.
type kind struct {
	name       string
	content    func(t *testing.T, blob []byte) sign.Content
	wantKind   map[uint32]string // tlog entry "kind version" by Rekor API version
	cosignVerb string
	cosignArgs []string
}

var kinds = []kind{
	{
		name:       "message",
		content:    func(_ *testing.T, blob []byte) sign.Content { return &sign.PlainData{Data: blob} },
		wantKind:   map[uint32]string{1: "hashedrekord 0.0.1", 2: "hashedrekord 0.0.2"},
		cosignVerb: "verify-blob",
	},
	{
		name:    "attestation",
		content: statement,
		// sigstore-go v1.3.0 logs a DSSE envelope in Rekor v2 as a
		// hashedrekord over its PAE (rekor-tiles accepts only hashedrekord).
		wantKind:   map[uint32]string{1: "dsse 0.0.1", 2: "hashedrekord 0.0.2"},
		cosignVerb: "verify-blob-attestation",
		cosignArgs: []string{"--type", "slsaprovenance1"},
	},
}

// statement is a minimal SLSA v1 provenance statement about blob.
func statement(t *testing.T, blob []byte) sign.Content {
	t.Helper()
	sum := sha256.Sum256(blob)
	pred, err := structpb.NewStruct(map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{"ref": claims["ref"], "repository": "https://github.com/" + claims["repository"].(string), "path": ".github/workflows/release.yml"}},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": "https://github.com/actions/runner/github-hosted"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Name: "blob.bin", Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
		PredicateType: "https://slsa.dev/provenance/v1",
		Predicate:     pred,
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return &sign.DSSEData{Data: b, PayloadType: "application/vnd.in-toto+json"}
}

// TestStackRejectsBadTokens proves Fulcio checks the issuer's tokens: an
// expired token and a wrong audience get no certificate.
func TestStackRejectsBadTokens(t *testing.T) {
	sc, err := root.NewSigningConfigFromPath(env(t, "WAXSEAL_STACK_SIGNING_CONFIG_V2"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		req     ghoidc.MintRequest
		wantErr bool
	}{
		// The control: the same path with a good token gets a certificate.
		{name: "valid", req: ghoidc.MintRequest{Audience: "sigstore"}},
		{name: "expired", req: ghoidc.MintRequest{Audience: "sigstore", LifetimeSeconds: -60}, wantErr: true},
		{name: "wrong audience", req: ghoidc.MintRequest{Audience: "npm"}, wantErr: true},
		{name: "no job_workflow_ref", req: ghoidc.MintRequest{Audience: "sigstore",
			Claims: ghoidc.Claims{"job_workflow_ref": nil}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mintTestToken(t, tt.req)
			kp, err := sign.NewEphemeralKeypair(nil)
			if err != nil {
				t.Fatal(err)
			}
			f := sign.NewFulcio(&sign.FulcioOptions{BaseURL: ca.URL})
			_, err = f.GetCertificate(t.Context(), kp, &sign.CertificateProviderOptions{IDToken: tok})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Fulcio GetCertificate error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func mintTestToken(t *testing.T, req ghoidc.MintRequest) string {
	t.Helper()
	body, _ := json.Marshal(req)
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		env(t, "WAXSEAL_STACK_OIDC_ISSUER")+ghoidc.TestTokenPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+env(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("minting test token: %v", err)
	}
	defer resp.Body.Close()
	var v struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("minting test token: status %d, %v", resp.StatusCode, err)
	}
	return v.Value
}

func verifier(t *testing.T, tr root.TrustedMaterial) *verify.Verifier {
	t.Helper()
	v, err := verify.NewVerifier(tr, verify.WithSignedCertificateTimestamps(1),
		verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func policy(t *testing.T, blob []byte, issuer, san string) verify.PolicyBuilder {
	t.Helper()
	id, err := verify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		t.Fatal(err)
	}
	return verify.NewPolicy(verify.WithArtifact(bytes.NewReader(blob)), verify.WithCertificateIdentity(id))
}

func verifyBlob(t *testing.T, tr root.TrustedMaterial, b *bundle.Bundle, blob []byte, issuer string) *verify.VerificationResult {
	t.Helper()
	res, err := verifier(t, tr).Verify(b, policy(t, blob, issuer, wantSAN))
	if err != nil {
		t.Fatalf("sigstore-go verification (SCT, tlog and observer timestamp required): %v", err)
	}
	if len(res.VerifiedTimestamps) == 0 {
		t.Errorf("no verified timestamps")
	}
	return res
}

// checkCertificate: Fulcio put GitHub's workflow extensions in the certificate.
func checkCertificate(t *testing.T, res *verify.VerificationResult, issuer string) {
	t.Helper()
	if res.Signature == nil || res.Signature.Certificate == nil {
		t.Fatalf("no certificate summary in result")
	}
	c := res.Signature.Certificate
	got := certificate.Summary{SubjectAlternativeName: c.SubjectAlternativeName, Extensions: certificate.Extensions{
		Issuer:                   c.Issuer,
		SourceRepositoryURI:      c.SourceRepositoryURI,
		SourceRepositoryDigest:   c.SourceRepositoryDigest,
		SourceRepositoryRef:      c.SourceRepositoryRef,
		RunnerEnvironment:        c.RunnerEnvironment,
		GithubWorkflowRepository: c.GithubWorkflowRepository,
		GithubWorkflowTrigger:    c.GithubWorkflowTrigger,
	}}
	want := certificate.Summary{SubjectAlternativeName: wantSAN, Extensions: certificate.Extensions{
		Issuer:                   issuer,
		SourceRepositoryURI:      "https://github.com/" + claims["repository"].(string),
		SourceRepositoryDigest:   claims["sha"].(string),
		SourceRepositoryRef:      claims["ref"].(string),
		RunnerEnvironment:        claims["runner_environment"].(string),
		GithubWorkflowRepository: claims["repository"].(string),
		GithubWorkflowTrigger:    claims["event_name"].(string),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("certificate (-want +got):\n%s", diff)
	}
}

// checkEntry: one tlog entry of the profile's kind, and one TSA timestamp.
func checkEntry(t *testing.T, pb *protobundle.Bundle, wantKind string) {
	t.Helper()
	vm := pb.GetVerificationMaterial()
	entries := vm.GetTlogEntries()
	if len(entries) != 1 {
		t.Fatalf("%d tlog entries, want 1", len(entries))
	}
	kv := entries[0].GetKindVersion()
	if got := kv.GetKind() + " " + kv.GetVersion(); got != wantKind {
		t.Errorf("tlog entry kind = %q, want %q", got, wantKind)
	}
	if entries[0].GetInclusionProof().GetCheckpoint().GetEnvelope() == "" {
		t.Errorf("tlog entry has no inclusion proof checkpoint")
	}
	if n := len(vm.GetTimestampVerificationData().GetRfc3161Timestamps()); n != 1 {
		t.Errorf("%d RFC 3161 timestamps, want 1", n)
	}
}

func writeBundle(t *testing.T, pb *protobundle.Bundle, path string) {
	t.Helper()
	b, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// cosignCmd runs cosign with a private TUF root, so it never reads or
// writes the machine's.
func cosignCmd(t *testing.T, cosign string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), cosign, args...)
	cmd.Env = append(os.Environ(), "TUF_ROOT="+t.TempDir())
	return cmd
}

func runCosign(t *testing.T, cosign string, args ...string) {
	t.Helper()
	out, err := cosignCmd(t, cosign, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !bytes.Contains(out, []byte("Verified OK")) {
		t.Errorf("cosign %s printed no \"Verified OK\":\n%s", args[0], out)
	}
}
