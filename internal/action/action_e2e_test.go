//go:build e2e

package action

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/testing/filecommands"
	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/stacktest"
	"github.com/waxseal/waxseal/internal/verifier"
)

func stackVar(t *testing.T, name string) string { return stacktest.Var(t, name) }

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// npmPack packs a package with the real npm into dest, as a user's `npm pack` step does.
func npmPack(t *testing.T, src, dest, name, version string) string {
	t.Helper()
	dir := filepath.Join(src, strings.NewReplacer("@", "", "/", "-").Replace(name))
	manifest, _ := json.Marshal(map[string]any{"name": name, "version": version, "license": "MIT",
		"repository": map[string]string{"type": "git", "url": "git+https://github.com/waxseal/waxseal.git"}})
	copyFile(t, os.DevNull, filepath.Join(dir, "index.js"))
	if err := os.WriteFile(filepath.Join(dir, "package.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dest)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_cache="+filepath.Join(src, "npm-cache"))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("npm pack %s: %v\n%s", name, err, ee.Stderr)
		}
		t.Fatalf("npm pack %s: %v", name, err)
	}
	return filepath.Join(dest, strings.TrimSpace(string(out)))
}

// TestActionE2E runs the action the way the runner starts the container: the runner's environment (every
// action.yml input with its default, GITHUB_* matching the identity token, file-command files, an event
// payload, a workspace), the local Sigstore stack for signing, and the GitHub fake for the release, with a
// secondary rate limit and a 502 on the way. It checks the uploaded assets verify, the outputs as the runner
// parses them, and the summary.
func TestActionE2E(t *testing.T) {
	tr, err := root.NewTrustedRootFromPath(stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []struct {
		name, signingConfig string
		binary              bool // run the built binary as the container's entrypoint does, not Run in-process
	}{
		{"rekor-v1", "WAXSEAL_STACK_SIGNING_CONFIG_V1", false},
		{"rekor-v2", "WAXSEAL_STACK_SIGNING_CONFIG_V2", false},
		{"binary-rekor-v2", "WAXSEAL_STACK_SIGNING_CONFIG_V2", true},
	} {
		t.Run(profile.name, func(t *testing.T) {
			const token = "ghs_e2eToken0123456789"
			fake := githubfake.New("waxseal", "waxseal", token)
			defer fake.Close()
			npmReg := npmregistry.New("e2e")
			defer npmReg.Close()
			relID := fake.AddRelease("v1.2.3", true, true)
			fake.Inject(githubfake.Fault{Method: http.MethodGet, Host: "api", PathPrefix: "/repos/waxseal/waxseal/releases/", Status: 502})
			fake.Inject(githubfake.Fault{Method: http.MethodPost, Host: "uploads", PathPrefix: "/repos/", Status: 403,
				Header: http.Header{"Retry-After": {"0"}, "Content-Type": {"application/json"}},
				Body:   `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})

			home := t.TempDir()
			ws := filepath.Join(home, "workspace")
			tarballs := []string{
				npmPack(t, filepath.Join(home, "src"), filepath.Join(ws, "dist"), "@waxseal-e2e/action-scoped", "1.2.3"),
				npmPack(t, filepath.Join(home, "src"), filepath.Join(ws, "dist"), "waxseal-e2e-action", "0.4.0"),
			}
			claims := ghoidc.DefaultClaims()
			env := e2eRunnerEnv(t, home, ws, token, fake.API.URL, profile.signingConfig)
			env["INPUT_PATHS"] = "dist/*.tgz"
			env["npm_config_registry"] = npmReg.URL // the registry preflight asks it: every package is new
			if profile.binary {
				env["INPUT_ATTEST"] = "true" // and the online gh command below finds the provenance in the store
			}
			var stdout bytes.Buffer
			if profile.binary {
				stdout.WriteString(runActionBinary(t, ws, env))
			} else if err := (&Runner{Getenv: envFunc(env), Stdout: &stdout}).Run(t.Context()); err != nil {
				t.Fatalf("the action failed: %v\n%s", err, stdout.String())
			}

			// Outputs, parsed as the runner parses GITHUB_OUTPUT.
			raw, _ := os.ReadFile(env["GITHUB_OUTPUT"])
			out, err := filecommands.Parse(string(raw))
			if err != nil {
				t.Fatalf("the runner would reject GITHUB_OUTPUT: %v", err)
			}
			wantSAN := "https://github.com/" + claims["job_workflow_ref"].(string)
			if out["certificate-identity"] != wantSAN {
				t.Errorf("certificate-identity = %q, want %q", out["certificate-identity"], wantSAN)
			}
			var bundles, provs, urls []string
			var indexes []int64
			for name, dst := range map[string]any{"bundles": &bundles, "provenance-bundles": &provs, "release-assets": &urls, "rekor-log-indexes": &indexes} {
				if err := json.Unmarshal([]byte(out[name]), dst); err != nil {
					t.Fatalf("output %s = %q: %v", name, out[name], err)
				}
			}
			if diff := cmp.Diff([]string{"dist/waxseal-e2e-action-0.4.0.tgz.sigstore.json", "dist/waxseal-e2e-action-scoped-1.2.3.tgz.sigstore.json"}, bundles); diff != "" {
				t.Errorf("bundles output (-want +got):\n%s", diff)
			}
			if len(provs) != 2 || len(indexes) != 2 || len(urls) != 6 || indexes[0] == indexes[1] {
				t.Errorf("provenance-bundles %q, rekor-log-indexes %v, release-assets %q: want 2, 2 distinct, 6", provs, indexes, urls)
			}
			for _, u := range urls {
				if !strings.HasPrefix(u, "https://github.com/waxseal/waxseal/releases/download/") {
					t.Errorf("release asset URL %q is not a GitHub download URL", u)
				}
			}
			if _, err := os.Stat(filepath.Join(ws, out["results"])); err != nil {
				t.Errorf("results output %q: %v", out["results"], err)
			}

			// The assets on the release are the local bundles, and they verify.
			assets := fake.Assets(relID)
			v, err := verifier.New(tr, verifier.Identity{SAN: wantSAN, Issuer: stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER")})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tgz := range tarballs {
				base := filepath.Base(tgz)
				names = append(names, base+".sigstore.json", base+".provenance.sigstore.json", base+".intoto.jsonl")
				// The Scorecard asset is the provenance bundle as one line of JSON.
				if want := append(bytes.TrimSpace(mustRead(t, tgz+".provenance.sigstore.json")), '\n'); !bytes.Equal(assets[base+".intoto.jsonl"], want) {
					t.Errorf("%s.intoto.jsonl is not the provenance bundle as one line", base)
				}
				tb, err := npm.ReadTarball(t.Context(), tgz, npm.DefaultLimits())
				if err != nil {
					t.Fatal(err)
				}
				local, _ := os.ReadFile(tgz + ".sigstore.json")
				if !bytes.Equal(local, assets[base+".sigstore.json"]) {
					t.Errorf("%s: the asset differs from the local bundle", base)
				}
				var sig, prov bundle.Bundle
				if err := sig.UnmarshalJSON(assets[base+".sigstore.json"]); err != nil {
					t.Fatal(err)
				}
				if err := prov.UnmarshalJSON(assets[base+".provenance.sigstore.json"]); err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(mustRead(t, tgz))
				if _, err := v.VerifyArtifact(&sig, sum[:]); err != nil {
					t.Errorf("%s: the uploaded signature does not verify: %v", base, err)
				}
				if _, err := v.VerifyProvenance(&prov, tb.Purl(), tb.SHA512[:]); err != nil {
					t.Errorf("%s: the uploaded provenance does not verify: %v", base, err)
				}
			}
			if diff := cmp.Diff(slices.Sorted(slices.Values(names)), slices.Sorted(maps.Keys(assets))); diff != "" {
				t.Errorf("release assets (-want +got):\n%s", diff)
			}

			// The log and the summary.
			log := stdout.String()
			for _, want := range []string{"::add-mask::" + token, "::group::@waxseal-e2e/action-scoped@1.2.3", "::group::waxseal-e2e-action@0.4.0"} {
				if !strings.Contains(log, want) {
					t.Errorf("the log lacks %q:\n%s", want, log)
				}
			}
			if strings.Count(log, "::add-mask::") < 3 {
				t.Errorf("the GitHub token, the request token and the identity token should all be masked:\n%s", log)
			}
			summary := string(mustRead(t, env["GITHUB_STEP_SUMMARY"]))
			for _, want := range []string{"## waxseal: 2 of 2 npm package(s) signed", "`@waxseal-e2e/action-scoped` | `1.2.3`",
				"[signature](https://github.com/waxseal/waxseal/releases/download/", "waxseal verify dist/waxseal-e2e-action-0.4.0.tgz --trusted-root .sigstore/trusted_root.json --repository waxseal/waxseal --workflow .github/workflows/release.yml",
				"gh attestation verify dist/waxseal-e2e-action-0.4.0.tgz --bundle dist/waxseal-e2e-action-0.4.0.tgz.provenance.sigstore.json --repo waxseal/waxseal", "| [`waxseal/waxseal`](https://github.com/waxseal/waxseal) |"} {
				if !strings.Contains(summary, want) {
					t.Errorf("the summary lacks %q:\n%s", want, summary)
				}
			}
			if profile.binary {
				// The summary's waxseal verify commands, run as printed, verify (every printed command is run by
				// TestConsumerCommandsE2E, with cosign and gh too).
				// With attest: true, the last line is gh's online check: it finds each stored provenance by the
				// tarball's sha512 (gh reaches the fake as github.localhost through HTTP_PROXY, as in
				// TestConsumerCommandsE2E).
				var ids []int64
				if err := json.Unmarshal([]byte(out["attestation-ids"]), &ids); err != nil || len(ids) != 2 || len(fake.Attestations()) != 2 {
					t.Errorf("attestation-ids = %q, %d stored: want 2", out["attestation-ids"], len(fake.Attestations()))
				}
				home := t.TempDir()
				for _, b := range shBlock.FindAllStringSubmatch(summary, -1) {
					lines := strings.Split(b[2], "\n")
					online := lines[len(lines)-1]
					if !strings.HasPrefix(online, "gh attestation verify ") || strings.Contains(online, "--bundle") {
						t.Errorf("the last command is not gh's online check: %s", online)
					}
					for _, line := range []string{lines[0], online} {
						cmd := exec.CommandContext(t.Context(), "bash", "-c", line)
						cmd.Dir, cmd.Env = ws, []string{"PATH=" + filepath.Dir(buildBinary(t)) + ":" + filepath.Dir(stackVar(t, "WAXSEAL_STACK_GH")) + ":/usr/bin:/bin",
							"HOME=" + home, "GH_CONFIG_DIR=" + filepath.Join(home, "gh"), "GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1",
							"GH_HOST=github.localhost", "HTTP_PROXY=" + fake.API.URL, "GH_TOKEN=" + token}
						if out, err := cmd.CombinedOutput(); err != nil {
							t.Errorf("the summary's command failed: %s\n%v\n%s", line, err, out)
						}
					}
				}
			}
			// Both scripted faults were met and retried.
			var retried502, retried403 bool
			reqs := fake.Requests()
			for i, r := range reqs {
				retried502 = retried502 || (strings.HasPrefix(r, "GET api /repos/waxseal/waxseal/releases/") && i+1 < len(reqs) && reqs[i+1] == r)
				retried403 = retried403 || (strings.HasPrefix(r, "POST uploads") && i+1 < len(reqs) && reqs[i+1] == r)
			}
			if !retried502 || !retried403 {
				t.Errorf("the 502 (%v) and the secondary rate limit (%v) were not both retried: %q", retried502, retried403, reqs)
			}
		})
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildBinary builds cmd/waxseal with the Dockerfile's flags, once.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "waxseal-action-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "waxseal")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", binPath, "./cmd/waxseal")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// e2eRunnerEnv is the environment the runner gives the Action's container for a job of the stack's default
// identity (ghoidc.DefaultClaims): every input with its default, GITHUB_* matching the token, file-command files, an
// event payload, the workspace (with the stack's trusted root and signing config under .sigstore/), the release tag
// v1.2.3, and the GitHub fake at apiURL.
func e2eRunnerEnv(t *testing.T, home, ws, token, apiURL, signingConfig string) map[string]string {
	t.Helper()
	files := filepath.Join(home, "file_commands")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"), filepath.Join(ws, ".sigstore", "trusted_root.json"))
	copyFile(t, stackVar(t, signingConfig), filepath.Join(ws, ".sigstore", "signing_config.json"))
	event := filepath.Join(home, "workflow", "event.json")
	copyFile(t, os.DevNull, event)
	if err := os.WriteFile(event, []byte(`{"ref":"refs/heads/main","repository":{"full_name":"waxseal/waxseal"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	claims := ghoidc.DefaultClaims()
	env := runnerInputs(readActionYML(t), token)
	for k, v := range map[string]string{
		"INPUT_RELEASE-TAG":  "v1.2.3",
		"INPUT_TRUSTED-ROOT": ".sigstore/trusted_root.json", "INPUT_SIGNING-CONFIG": ".sigstore/signing_config.json",
		"HOME": home, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws,
		"GITHUB_OUTPUT": filepath.Join(files, "set_output_1"), "GITHUB_STEP_SUMMARY": filepath.Join(files, "step_summary_1"),
		"GITHUB_EVENT_PATH": event, "GITHUB_EVENT_NAME": claims["event_name"].(string), "GITHUB_REF": claims["ref"].(string),
		"GITHUB_SHA": claims["sha"].(string), "GITHUB_REPOSITORY": claims["repository"].(string),
		"GITHUB_REPOSITORY_ID": claims["repository_id"].(string), "GITHUB_REPOSITORY_OWNER_ID": claims["repository_owner_id"].(string),
		"GITHUB_WORKFLOW_REF": claims["workflow_ref"].(string), "GITHUB_RUN_ID": claims["run_id"].(string),
		"GITHUB_RUN_ATTEMPT": claims["run_attempt"].(string), "RUNNER_ENVIRONMENT": claims["runner_environment"].(string),
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": apiURL,
		"ACTIONS_ID_TOKEN_REQUEST_URL":   stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL"),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
	} {
		env[k] = v
	}
	return env
}

// runActionBinary runs the built binary as the container's entrypoint does: ENTRYPOINT ["/waxseal"] with
// action.yml's args, in the workspace, with only the runner's variables. It returns stdout.
func runActionBinary(t *testing.T, ws string, env map[string]string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), buildBinary(t), "action")
	cmd.Dir, cmd.Stdout, cmd.Stderr = ws, &stdout, &stderr
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("waxseal action: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
