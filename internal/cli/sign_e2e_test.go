//go:build e2e

package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/stacktest"
	"github.com/waxseal/waxseal/internal/verifier"
)

func stackVar(t *testing.T, name string) string { return stacktest.Var(t, name) }

var (
	registryOnce sync.Once
	e2eRegistry  *npmregistry.Server
)

// testRegistry is an npm registry (in-process, as registry.npmjs.org answers) holding none of the e2e packages, so
// the registry preflight finds each one new.
func testRegistry() string {
	registryOnce.Do(func() { e2eRegistry = npmregistry.New("e2e") })
	return e2eRegistry.URL
}

// stackGetenv is the environment of a GitHub Actions job whose ID token comes from the stack's issuer, with npm's
// registry setting pointing at testRegistry.
func stackGetenv(t *testing.T, extra map[string]string) func(string) string {
	env := map[string]string{
		"npm_config_registry":            testRegistry(),
		"GITHUB_ACTIONS":                 "true",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL"),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

var stackClaims = ghoidc.DefaultClaims()

const stackRepoURL = "https://github.com/waxseal/waxseal"

// npmPack writes a package directory and packs it with the real npm, returning the tarball path.
func npmPack(t *testing.T, dir, name, version string, files map[string][]byte) string {
	t.Helper()
	src := filepath.Join(dir, "src-"+strings.NewReplacer("@", "", "/", "-").Replace(name))
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal(map[string]any{
		"name": name, "version": version, "license": "MIT",
		"repository": map[string]string{"type": "git", "url": "git+" + stackRepoURL + ".git"},
	})
	files["package.json"] = manifest
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(src, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "packed")
	os.MkdirAll(out, 0o755)
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", out)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_cache="+filepath.Join(dir, "npm-cache"))
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack %s: %v", name, err)
	}
	return filepath.Join(out, strings.TrimSpace(string(b)))
}

var (
	packOnce sync.Once
	packed   []string
	packDir  string
)

// packages packs three real npm packages once for all e2e tests: scoped, unscoped, and one holding a 200 MB file.
func packages(t *testing.T) []string {
	t.Helper()
	packOnce.Do(func() {
		var err error
		if packDir, err = os.MkdirTemp("", "waxseal-e2e-"); err != nil {
			t.Fatal(err)
		}
		big := make([]byte, 200<<20)
		rand.Read(big)
		packed = []string{
			npmPack(t, packDir, "@waxseal-e2e/scoped", "1.2.3", map[string][]byte{"index.js": []byte("module.exports = 1\n")}),
			npmPack(t, packDir, "waxseal-e2e-unscoped", "0.1.0", map[string][]byte{"index.js": []byte("module.exports = 2\n")}),
			npmPack(t, packDir, "waxseal-e2e-big", "2.0.0", map[string][]byte{"blob.bin": big}),
		}
	})
	if len(packed) != 3 {
		t.Fatal("packing the e2e packages failed earlier")
	}
	return packed
}

// copyPackages links the packed tarballs into a fresh directory, so each test writes its own bundles.
func copyPackages(t *testing.T) []string {
	dir := t.TempDir()
	var out []string
	for _, p := range packages(t) {
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.Link(p, dst); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
	}
	return out
}

type profile struct {
	name, signingConfig string
	rekorV2             bool
}

func profiles(t *testing.T) []profile {
	return []profile{
		{"rekor-v1", stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V1"), false},
		{"rekor-v2", stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V2"), true},
	}
}

func runCLI(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = Run(t.Context(), args, &o, &e, getenv)
	return o.String(), e.String(), err
}

func TestSignE2E(t *testing.T) {
	trustedRoot := stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	tr, err := root.NewTrustedRootFromPath(trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles(t) {
		t.Run(p.name, func(t *testing.T) {
			tarballs := copyPackages(t)
			out := filepath.Join(t.TempDir(), "result.json")
			_, stderr, err := runCLI(t, stackGetenv(t, nil), "sign", "--trusted-root", trustedRoot, "--signing-config", p.signingConfig,
				"--output-json", out, filepath.Join(filepath.Dir(tarballs[0]), "*.tgz"))
			if err != nil {
				t.Fatalf("waxseal sign: %v\n%s", err, stderr)
			}
			if n := strings.Count(stderr, "signed  "); n != 3 {
				t.Errorf("stderr has %d progress lines, want 3:\n%s", n, stderr)
			}
			var rep seal.Report
			raw, _ := os.ReadFile(out)
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatalf("reading --output-json: %v", err)
			}
			wantSAN := "https://github.com/" + stackClaims["job_workflow_ref"].(string)
			if rep.CertificateIdentity != wantSAN || rep.CertificateIssuer != stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER") {
				t.Errorf("report identity = %q / %q, want %q / the stack issuer", rep.CertificateIdentity, rep.CertificateIssuer, wantSAN)
			}
			if len(rep.Artifacts) != 3 {
				t.Fatalf("report has %d packages, want 3", len(rep.Artifacts))
			}
			v, err := verifier.New(tr, verifier.Identity{SAN: wantSAN, Issuer: rep.CertificateIssuer})
			if err != nil {
				t.Fatal(err)
			}
			var certs []string
			for _, pkg := range rep.Artifacts {
				certs = append(certs, checkPackage(t, v, p, pkg, trustedRoot, wantSAN, rep.CertificateIssuer)...)
			}
			for _, c := range certs[1:] {
				if c != certs[0] {
					t.Fatalf("bundles carry different certificates: one certificate must serve the whole run")
				}
			}
		})
	}
}

// checkPackage verifies one package's bundles with waxseal's verifier and with cosign, and checks the report and
// the provenance against the tarball and the token's claims. It returns the certificates the bundles carry.
func checkPackage(t *testing.T, v *verifier.Verifier, p profile, pkg seal.Artifact, trustedRoot, san, issuer string) []string {
	t.Helper()
	tb, err := npm.ReadTarball(t.Context(), pkg.Tarball, npm.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(pkg.Tarball)
	h := sha512.New()
	io.Copy(h, f)
	f.Close()
	sum := h.Sum(nil)
	wantInt := "sha512-" + base64.StdEncoding.EncodeToString(sum)
	if pkg.SHA512 != hex.EncodeToString(sum) || pkg.Integrity != wantInt || pkg.Purl != tb.Purl() {
		t.Errorf("%s: report sha512/integrity/purl = %s / %s / %s, want %x / %s / %s", pkg.Tarball, pkg.SHA512, pkg.Integrity, pkg.Purl, sum, wantInt, tb.Purl())
	}
	if pkg.Bundle != pkg.Tarball+".sigstore.json" || pkg.ProvenanceBundle != pkg.Tarball+".provenance.sigstore.json" {
		t.Errorf("bundle paths = %q, %q", pkg.Bundle, pkg.ProvenanceBundle)
	}
	art, err := bundle.LoadJSONFromPath(pkg.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyArtifact(art, tb.SHA256[:]); err != nil {
		t.Errorf("%s: verifying the artifact bundle: %v", pkg.Tarball, err)
	}
	prov, err := bundle.LoadJSONFromPath(pkg.ProvenanceBundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyProvenance(prov, tb.Purl(), tb.SHA512[:]); err != nil {
		t.Errorf("%s: verifying the provenance bundle: %v", pkg.Tarball, err)
	}
	checkStatement(t, prov, pkg)
	checkNPMShape(t, prov, pkg.ProvenanceBundle)
	if e := art.GetVerificationMaterial().GetTlogEntries(); p.rekorV2 && (len(e) != 1 || e[0].GetKindVersion().GetVersion() != "0.0.2") {
		t.Errorf("%s: the signature bundle's log entries are %v, want one Rekor v2 entry (the config's preference)", pkg.Bundle, e)
	}
	cosign(t, p, "verify-blob", "--bundle", pkg.Bundle, "--new-bundle-format", "--trusted-root", trustedRoot,
		"--certificate-identity", san, "--certificate-oidc-issuer", issuer, pkg.Tarball)
	// Provenance is on Rekor v1 with no RFC 3161 timestamp, whatever the profile.
	cosign(t, profile{}, "verify-blob-attestation", "--type", "slsaprovenance1", "--bundle", pkg.ProvenanceBundle, "--new-bundle-format",
		"--trusted-root", trustedRoot, "--certificate-identity", san, "--certificate-oidc-issuer", issuer,
		"--digest", pkg.SHA512, "--digestAlg", "sha512")
	var certs []string
	for _, b := range []*bundle.Bundle{art, prov} {
		vc, err := b.VerificationContent()
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, string(vc.Certificate().Raw))
	}
	return certs
}

// checkNPMShape checks a provenance bundle has npm's own shape: one Rekor v1 dsse entry with an inclusion promise,
// and no RFC 3161 timestamp.
func checkNPMShape(t *testing.T, b *bundle.Bundle, path string) {
	t.Helper()
	vm := b.GetVerificationMaterial()
	e := vm.GetTlogEntries()
	if len(e) != 1 || e[0].GetKindVersion().GetKind() != "dsse" || e[0].GetKindVersion().GetVersion() != "0.0.1" ||
		e[0].GetInclusionPromise() == nil {
		t.Errorf("%s: log entries %v, want one Rekor v1 dsse 0.0.1 entry with an inclusion promise", path, e)
	}
	if ts := vm.GetTimestampVerificationData().GetRfc3161Timestamps(); len(ts) != 0 {
		t.Errorf("%s: %d RFC 3161 timestamps, want none (npm's shape)", path, len(ts))
	}
}

func cosign(t *testing.T, p profile, args ...string) {
	t.Helper()
	if p.rekorV2 {
		args = append(args[:1], append([]string{"--use-signed-timestamps"}, args[1:]...)...)
	}
	cmd := exec.Command(stackVar(t, "WAXSEAL_STACK_COSIGN"), args...)
	cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// checkStatement decodes the provenance and checks npm's fields against the token's claims.
func checkStatement(t *testing.T, b *bundle.Bundle, pkg seal.Artifact) {
	t.Helper()
	env := b.GetDsseEnvelope()
	if env == nil || env.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("%s: provenance is not an in-toto DSSE envelope", pkg.ProvenanceBundle)
	}
	var st struct {
		Type    string `json:"_type"`
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string `json:"predicateType"`
		Predicate     struct {
			BuildDefinition struct {
				BuildType          string `json:"buildType"`
				ExternalParameters struct {
					Workflow struct{ Ref, Repository, Path string } `json:"workflow"`
				} `json:"externalParameters"`
				InternalParameters struct {
					Github map[string]string `json:"github"`
				} `json:"internalParameters"`
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder  struct{ ID string } `json:"builder"`
				Metadata struct {
					InvocationID string `json:"invocationId"`
				} `json:"metadata"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(env.Payload, &st); err != nil {
		t.Fatal(err)
	}
	c := func(k string) string { return stackClaims[k].(string) }
	repo := c("repository")
	got := map[string]any{
		"type": st.Type, "predicateType": st.PredicateType, "subjects": len(st.Subject),
		"subject": st.Subject[0].Name, "sha512": st.Subject[0].Digest["sha512"],
		"buildType":    st.Predicate.BuildDefinition.BuildType,
		"workflow":     st.Predicate.BuildDefinition.ExternalParameters.Workflow,
		"github":       st.Predicate.BuildDefinition.InternalParameters.Github,
		"deps":         len(st.Predicate.BuildDefinition.ResolvedDependencies),
		"depURI":       st.Predicate.BuildDefinition.ResolvedDependencies[0].URI,
		"depCommit":    st.Predicate.BuildDefinition.ResolvedDependencies[0].Digest["gitCommit"],
		"builder":      st.Predicate.RunDetails.Builder.ID,
		"invocationId": st.Predicate.RunDetails.Metadata.InvocationID,
	}
	want := map[string]any{
		"type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1", "subjects": 1,
		"subject": pkg.Purl, "sha512": pkg.SHA512,
		"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
		"workflow": struct{ Ref, Repository, Path string }{Ref: c("ref"), Repository: "https://github.com/" + repo,
			Path: ".github/workflows/release.yml"},
		"github": map[string]string{"event_name": c("event_name"), "repository_id": c("repository_id"),
			"repository_owner_id": c("repository_owner_id")},
		"deps":         1,
		"depURI":       "git+https://github.com/" + repo + "@" + c("ref"),
		"depCommit":    c("sha"),
		"builder":      "https://github.com/actions/runner/" + c("runner_environment"),
		"invocationId": "https://github.com/" + repo + "/actions/runs/" + c("run_id") + "/attempts/" + c("run_attempt"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: provenance (-want +got):\n%s", pkg.ProvenanceBundle, diff)
	}
}
