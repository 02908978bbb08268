//go:build e2e

package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/waxseal/waxseal/internal/actionimage"
	"github.com/waxseal/waxseal/internal/testing/actionrunner"
	"github.com/waxseal/waxseal/internal/testing/filecommands"
	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
)

// runnerUID and runnerGID are the runner's user on GitHub's hosted Ubuntu images (uid 1001, `runner`): it owns
// the work folder, and every step after a container action runs as it.
const runnerUID, runnerGID = 1001, 1001

// containerRig is the Action's image, built offline from the binary .github/scripts/build-release.sh builds and
// loaded into a private podman storage under the name the runner gives a Dockerfile action's image.
type containerRig struct {
	podman *actionrunner.Podman
	image  string // "{DockerInstanceLabel}:{step id}"
	label  string
	args   []string // action.yml's runs.args
}

func newContainerRig(t *testing.T) *containerRig {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "waxseal")
	build := exec.CommandContext(t.Context(), "bash", ".github/scripts/build-release.sh", bin)
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-release.sh: %v\n%s", err, out)
	}
	img, err := actionimage.Build(actionimage.Options{Dockerfile: filepath.Join("..", "..", "Dockerfile"), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	label := actionrunner.InstanceLabel([]byte(`{"agentName":"GitHub Actions 2","poolName":"Azure Pipelines"}`))
	r := &containerRig{image: actionrunner.ImageName(label), label: label, args: readActionYML(t).Runs.Args}
	ref, err := name.NewTag(r.image)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(archive, ref, img); err != nil {
		t.Fatal(err)
	}
	if r.podman, err = actionrunner.NewPodman(filepath.Join(dir, "podman")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.podman.Close() })
	if err := r.podman.Load(t.Context(), archive); err != nil {
		t.Fatal(err)
	}
	return r
}

// stepResult is what the runner sees of one container run.
type stepResult struct {
	exit           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
}

// run runs the step as the runner does: ContainerActionHandler's environment and mounts for job, DockerRun's
// arguments. The network stands in for the runner's: on a runner the container joins Docker's default bridge
// network (the runner passes --network only for a job that has a `container:`) and reaches github.com and
// Sigstore through it; here the local stack and the fakes listen on the loopback of test/stack/run.sh's network
// namespace, which --network host shares.
func (r *containerRig) run(t *testing.T, job *actionrunner.Job, step actionrunner.Step) stepResult {
	t.Helper()
	c := job.Container(job.Environment(step), r.image, r.args)
	c.Network = "host"
	var stdout, stderr bytes.Buffer
	res := stepResult{}
	if err := r.podman.RunCommand(t.Context(), c, r.label, &stdout, &stderr).Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("podman run: %v\n%s", err, stderr.String())
		}
		res.exit = ee.ExitCode()
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	raw := mustRead(t, job.Files["output"])
	out, err := filecommands.Parse(string(raw))
	if err != nil {
		t.Fatalf("the runner would reject GITHUB_OUTPUT: %v\n%s", err, raw)
	}
	res.outputs, res.summary = out, string(mustRead(t, job.Files["step_summary"]))
	return res
}

// containerJob lays out a runner's job: the workspace a checkout and `npm pack` leave (two packages packed into
// dist/, the stack's trusted root and signing config, an .npmrc naming the registry fake), committed to git, and
// all of it owned by the runner's user.
func containerJob(t *testing.T, registryURL string) (*actionrunner.Job, []string) {
	t.Helper()
	work, err := os.MkdirTemp("", "waxseal-runner-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(work) })
	if err := os.Chmod(work, 0o755); err != nil { // the runner's user walks in
		t.Fatal(err)
	}
	event := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"waxseal/waxseal","private":false}}`)
	job, err := actionrunner.NewJob(filepath.Join(work, "_work"), "waxseal", runnerUID, runnerGID, event)
	if err != nil {
		t.Fatal(err)
	}
	ws := job.Workspace
	tarballs := []string{
		npmPack(t, filepath.Join(work, "src"), filepath.Join(ws, "dist"), "@waxseal-e2e/container-scoped", "1.2.3"),
		npmPack(t, filepath.Join(work, "src"), filepath.Join(ws, "dist"), "waxseal-e2e-container", "0.4.0"),
	}
	copyFile(t, stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"), filepath.Join(ws, ".sigstore", "trusted_root.json"))
	copyFile(t, stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V2"), filepath.Join(ws, ".sigstore", "signing_config.json"))
	if err := os.WriteFile(filepath.Join(ws, ".npmrc"), []byte("registry="+registryURL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := job.GiveToRunner(); err != nil {
		t.Fatal(err)
	}
	// The checkout: the sources are committed; dist/ is what the build made.
	asRunner(t, job, "git", "init", "--quiet", ".")
	asRunner(t, job, "git", "add", ".sigstore", ".npmrc")
	asRunner(t, job, "git", "-c", "user.name=runner", "-c", "user.email=runner@example.com", "commit", "--quiet", "-m", "checkout")
	return job, tarballs
}

// asRunner runs a command in the workspace as the runner's user, as the steps after a container action run, and
// returns its output; it fails the test if the command fails.
func asRunner(t *testing.T, job *actionrunner.Job, name string, args ...string) string {
	t.Helper()
	out, err := runnerCommand(t, job, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("as the runner's user: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func runnerCommand(t *testing.T, job *actionrunner.Job, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = job.Workspace
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + job.Home, "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: runnerUID, Gid: runnerGID, Groups: []uint32{}}}
	return cmd
}

// runnerStep is the step as the runner knows it: every input action.yml declares, with its default unless with
// sets it, the github and runner contexts of a push to main that the identity token's claims agree with, and the
// OIDC request URL (its token is the runtime token, as on a runner).
func runnerStep(t *testing.T, job *actionrunner.Job, fake *githubfake.Server, idTokenURL string, with map[string]string) actionrunner.Step {
	t.Helper()
	inputs := map[string]string{}
	for n, in := range readActionYML(t).Inputs {
		inputs[n] = in.Default
		if in.Default == "${{ github.token }}" {
			inputs[n] = fake.Token
		}
	}
	maps.Copy(inputs, with)
	gh := map[string]string{"api_url": fake.API.URL, "server_url": "https://github.com", "graphql_url": fake.API.URL + "/graphql",
		"action": "__waxseal_waxseal", "job": "publish", "ref_name": "main", "triggering_actor": "waxseal-bot"}
	for k, v := range ghoidc.DefaultClaims() {
		if s, ok := v.(string); ok && k != "job_workflow_ref" && k != "job_workflow_sha" && k != "repository_visibility" {
			gh[k] = s
		}
	}
	return actionrunner.Step{Inputs: inputs, GitHub: gh,
		Runner: map[string]string{"os": "Linux", "arch": "X64", "name": "GitHub Actions 2", "environment": "github-hosted",
			"temp": job.Temp, "tool_cache": "/opt/hostedtoolcache", "workspace": filepath.Dir(job.Workspace)},
		RuntimeURL: "https://pipelines.actions.githubusercontent.com/waxseal/", RuntimeToken: stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
		IDTokenURL: idTokenURL}
}

// issuerRecorder sits in front of the stack's GitHub-shaped OIDC issuer and records the audience each token
// request asks for, and each token it hands out (so the test can look for them in the container's output).
type issuerRecorder struct {
	URL string // ACTIONS_ID_TOKEN_REQUEST_URL through the recorder

	mu        sync.Mutex
	audiences []string
	tokens    []string
}

func newIssuerRecorder(t *testing.T, requestURL string) *issuerRecorder {
	t.Helper()
	u, err := url.Parse(requestURL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &issuerRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	proxy.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		var tok struct{ Value string }
		_ = json.Unmarshal(b, &tok) // an error answer holds no token
		rec.mu.Lock()
		rec.audiences = append(rec.audiences, resp.Request.URL.Query().Get("audience"))
		if tok.Value != "" {
			rec.tokens = append(rec.tokens, tok.Value)
		}
		rec.mu.Unlock()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	rec.URL = srv.URL + u.RequestURI()
	return rec
}

func (r *issuerRecorder) seen() (audiences, tokens []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.audiences...), append([]string(nil), r.tokens...)
}

// checkNoSecrets fails if a secret shows in the container's output anywhere but on an ::add-mask:: line of its
// own, which the runner consumes without echoing it (ActionCommandManager's AddMaskCommandExtension: OmitEcho)
// and masks everywhere after.
func checkNoSecrets(t *testing.T, res stepResult, secrets ...string) {
	t.Helper()
	for _, line := range strings.Split(res.stdout+"\n"+res.stderr, "\n") {
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) && line != "::add-mask::"+s {
				t.Errorf("a secret (%.6s...) shows in the container's output: %q", s, line)
			}
		}
	}
}
