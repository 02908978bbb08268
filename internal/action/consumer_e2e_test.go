//go:build e2e

package action

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
)

// packAs packs name@version with the real npm into ws/dist, its package.json naming repository (owner/name).
func packAs(t *testing.T, ws, name, version, repository string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	manifest, _ := json.Marshal(map[string]any{"name": name, "version": version, "license": "MIT",
		"repository": map[string]string{"type": "git", "url": "git+https://github.com/" + repository + ".git"}})
	copyFile(t, os.DevNull, filepath.Join(src, "index.js"))
	if err := os.WriteFile(filepath.Join(src, "package.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(ws, "dist")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dest)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_cache="+filepath.Join(t.TempDir(), "npm-cache"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack %s: %v", name, err)
	}
	return filepath.Join(dest, strings.TrimSpace(string(out)))
}

// mintToken asks the stack's issuer for a token with claim overrides (its test-only endpoint).
func mintToken(t *testing.T, claims ghoidc.Claims) string {
	t.Helper()
	body, _ := json.Marshal(ghoidc.MintRequest{Audience: "sigstore", Claims: claims})
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER")+ghoidc.TestTokenPath, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct{ Value string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Value == "" {
		t.Fatalf("minting a test token: status %d", resp.StatusCode)
	}
	return out.Value
}

// signIn signs ws/dist/*.tgz with the built binary and returns the report.
func signIn(t *testing.T, ws, signingConfig string, env []string) *seal.Report {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.CommandContext(t.Context(), buildBinary(t), "sign", "--trusted-root", ".sigstore/trusted_root.json",
		"--signing-config", signingConfig, "--output-json", out, "--registry-preflight=false", "dist/*.tgz")
	cmd.Dir, cmd.Env = ws, env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("waxseal sign in %s: %v\n%s", ws, err, b)
	}
	var rep seal.Report
	if err := json.Unmarshal(mustRead(t, out), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

var shBlock = regexp.MustCompile("(?s)\n(`{3,})sh\n(.*?)\n`{3,}\n")

// TestConsumerCommandsE2E renders the step summary from a real signing run, then runs every verify command it
// prints, exactly as printed, with the real waxseal, cosign and gh: each must verify. Then a second repository
// (mallory/evil) signs packages of the same names through the same reusable workflow (the same certificate SAN),
// and the same commands must refuse each of them; the SAN-only command the summary used to print does not.
func TestConsumerCommandsE2E(t *testing.T) {
	path := strings.Join([]string{filepath.Dir(buildBinary(t)), filepath.Dir(stackVar(t, "WAXSEAL_STACK_COSIGN")),
		filepath.Dir(stackVar(t, "WAXSEAL_STACK_GH")), os.Getenv("PATH")}, string(os.PathListSeparator))
	home := t.TempDir()
	toolEnv := []string{"PATH=" + path, "HOME=" + home, "GH_CONFIG_DIR=" + filepath.Join(home, "gh"), "GH_NO_UPDATE_NOTIFIER=1",
		"GH_PROMPT_DISABLED=1", "TUF_ROOT=" + filepath.Join(home, "tuf"), "SIGSTORE_NO_CACHE=1", "NO_COLOR=1"}
	for _, profile := range []struct{ name, signingConfig string }{
		{"rekor-v1", "WAXSEAL_STACK_SIGNING_CONFIG_V1"}, {"rekor-v2", "WAXSEAL_STACK_SIGNING_CONFIG_V2"},
	} {
		t.Run(profile.name, func(t *testing.T) {
			good, evil := t.TempDir(), t.TempDir()
			for _, ws := range []string{good, evil} {
				copyFile(t, stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"), filepath.Join(ws, ".sigstore", "trusted_root.json"))
			}
			sc := stackVar(t, profile.signingConfig)
			for _, p := range [][2]string{{"@waxseal-e2e/consumer", "1.0.0"}, {"waxseal-e2e-consumer", "2.0.0"}} {
				packAs(t, good, p[0], p[1], "waxseal/waxseal")
				packAs(t, evil, p[0], p[1], "mallory/evil")
			}
			rep := signIn(t, good, sc, append([]string{"GITHUB_ACTIONS=true",
				"ACTIONS_ID_TOKEN_REQUEST_URL=" + stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL"),
				"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")}, toolEnv...))
			// mallory/evil calls waxseal/waxseal's release workflow as a reusable workflow: the same SAN
			// (job_workflow_ref), another source repository, its own IDs.
			evilToken := mintToken(t, ghoidc.Claims{"repository": "mallory/evil", "repository_id": "666000666", "repository_owner": "mallory",
				"repository_owner_id": "666000667", "workflow_ref": "mallory/evil/.github/workflows/caller.yml@refs/heads/main"})
			evilRep := signIn(t, evil, sc, append([]string{"SIGSTORE_ID_TOKEN=" + evilToken}, toolEnv...))
			if evilRep.CertificateIdentity != rep.CertificateIdentity {
				t.Fatalf("the attacker's SAN is %q, want the same as ours (%q)", evilRep.CertificateIdentity, rep.CertificateIdentity)
			}

			rel := func(p string) string {
				r, _ := filepath.Rel(good, p)
				return filepath.ToSlash(r)
			}
			// GitHub's attestation store (attest: true) holds our provenance and, to make the online check mean
			// something, mallory's too: gh must refuse it by what its certificate says, not because none was found.
			// gh reaches the fake as it reaches github.com: GH_HOST=github.localhost, gh's plain-HTTP development
			// host, through HTTP_PROXY, with GH_TOKEN; the commands themselves run as printed.
			const ghToken = "ghs_consumerE2E"
			store := githubfake.New("waxseal", "waxseal", ghToken)
			t.Cleanup(store.Close)
			ghc, err := github.New(github.Config{APIURL: store.API.URL, Token: ghToken})
			if err != nil {
				t.Fatal(err)
			}
			storeClient, err := ghc.Repo("waxseal/waxseal")
			if err != nil {
				t.Fatal(err)
			}
			attested := map[string]string{}
			for _, r := range []*seal.Report{rep, evilRep} {
				for _, p := range r.Artifacts {
					a, err := storeClient.Attest(t.Context(), mustRead(t, p.ProvenanceBundle))
					if err != nil {
						t.Fatal(err)
					}
					if r == rep {
						attested[p.Tarball] = a.URL
					}
				}
			}
			toolEnv := append(slices.Clip(toolEnv), "GH_HOST=github.localhost", "HTTP_PROXY="+store.API.URL, "GH_TOKEN="+ghToken)
			summary := RenderSummary(SummaryData{Report: rep, Rel: rel, TrustedRoot: ".sigstore/trusted_root.json", Attestations: attested})
			blocks := shBlock.FindAllStringSubmatch(summary, -1)
			if len(blocks) != 2 {
				t.Fatalf("the summary has %d sh blocks, want one per package:\n%s", len(blocks), summary)
			}
			run := func(dir, line string) (string, error) {
				cmd := exec.CommandContext(t.Context(), "bash", "-c", line)
				cmd.Dir, cmd.Env = dir, toolEnv
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			var tools []string
			online := 0
			for _, b := range blocks {
				for _, line := range strings.Split(b[2], "\n") {
					tools = append(tools, strings.Fields(line)[0]+" "+strings.Fields(line)[1])
					if out, err := run(good, line); err != nil {
						t.Errorf("the printed command fails on the real bundles:\n%s\n%v\n%s", line, err, out)
					}
					if out, err := run(evil, line); err == nil {
						t.Errorf("the printed command accepts mallory/evil's bundles, signed through the same reusable workflow:\n%s\n%s", line, out)
					} else if strings.Contains(out, "no attestations found") {
						t.Errorf("the online check found no attestation for mallory/evil's tarball, so its refusal proves nothing:\n%s\n%s", line, out)
					}
					if !strings.Contains(line, "--bundle") && strings.HasPrefix(line, "gh ") {
						online++
					}
				}
			}
			if online != 2 {
				t.Errorf("%d online gh commands (no --bundle) were printed, want one per package", online)
			}
			// Each online check fetched the stored bundle as gh does: the list, then the bundle_url on storage.
			var lists, fetched int
			for _, r := range store.Requests() {
				lists += b2i(strings.HasPrefix(r, "GET api /repos/waxseal/waxseal/attestations/sha512:"))
				fetched += b2i(strings.HasPrefix(r, "GET download /attestation-bundles/"))
			}
			if lists < 4 || fetched < 4 {
				t.Errorf("gh listed %d times and fetched %d bundles, want at least 4 of each (2 packages, ours and mallory's): %q", lists, fetched, store.Requests())
			}
			want := []string{"waxseal verify", "cosign verify-blob", "cosign verify-blob-attestation", "gh attestation"}
			for _, w := range want {
				if !strings.Contains(strings.Join(tools, "\n"), w) {
					t.Errorf("no %q command was printed (got %q)", w, tools)
				}
			}
			// The .intoto.jsonl asset (the provenance bundle as one line of JSON, for Scorecard) verifies with gh and
			// waxseal as the .provenance.sigstore.json does (npm publish takes it too: TestNPMPublishE2E).
			p0 := rep.Artifacts[0]
			jsonl := p0.Tarball + ".intoto.jsonl"
			copyFile(t, p0.ProvenanceBundle, jsonl)
			b, _ := os.ReadFile(jsonl)
			if err := os.WriteFile(jsonl, append(bytes.TrimSpace(b), '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, line := range []string{
				"gh attestation verify " + rel(p0.Tarball) + " --bundle " + rel(jsonl) + " --repo waxseal/waxseal --digest-alg sha512" +
					" --custom-trusted-root .sigstore/trusted_root.json --cert-oidc-issuer " + rep.CertificateIssuer,
				"waxseal verify " + rel(p0.Tarball) + " --provenance " + rel(jsonl) + " --trusted-root .sigstore/trusted_root.json" +
					" --repository waxseal/waxseal --certificate-oidc-issuer " + rep.CertificateIssuer,
			} {
				if out, err := run(good, line); err != nil {
					t.Errorf("the .intoto.jsonl asset does not verify:\n%s\n%v\n%s", line, err, out)
				}
			}
			// The SAN-only command people used to paste lets the attacker through, with a warning.
			naive := "waxseal verify --trusted-root .sigstore/trusted_root.json --certificate-identity " + rep.CertificateIdentity +
				" --certificate-oidc-issuer " + rep.CertificateIssuer + " " + rel(rep.Artifacts[0].Tarball)
			if out, err := run(evil, naive); err != nil || !strings.Contains(out, "warning: only the signing workflow") {
				t.Errorf("the SAN-only command: %v\n%s\nwant it to pass with a warning naming what is not pinned", err, out)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
