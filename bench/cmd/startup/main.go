// Command startup measures how long the Action's container takes from `docker run` to its first request, and a
// JavaScript action's start beside it, on this machine. bench/container.sh runs it.
//
//	startup -image .cache/image/waxseal.tar -js .cache/bench-startup [-runs 15]
//
// Every program under test sends its first request to a local listener, which notes when it arrives. The
// container is started as the runner starts it (internal/testing/actionrunner: the runner's directories owned
// by uid 1001, its environment, its `docker run` argument string split as .NET splits it), with podman and runc
// in docker's place and --network host. Its first request is the release lookup (GET /repos/.../releases/tags/..);
// the listener answers 401, so the Action stops there. Run it as root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/waxseal/waxseal/internal/testing/actionrunner"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "startup: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("startup", flag.ContinueOnError)
	image := fl.String("image", ".cache/image/waxseal.tar", "the Action's image (make image)")
	binary := fl.String("binary", ".cache/bin/waxseal-linux-amd64", "the binary in the image (build-release.sh)")
	js := fl.String("js", ".cache/bench-startup", "bench/startup with its node_modules installed (npm ci)")
	runs := fl.Int("runs", 15, "runs of each measurement")
	if err := fl.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "waxseal-bench-startup-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }() // ours
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	l, err := listen()
	if err != nil {
		return err
	}
	defer l.close()
	ctr, err := newContainerRun(ctx, dir, *image, *binary, l.url)
	if err != nil {
		return err
	}
	defer func() { _ = ctr.podman.Close() }() // its run root
	jsRun, err := newJSRun(dir, *js, l.url)
	if err != nil {
		return err
	}
	rows := []row{
		{"container: podman run (runner's arguments) → first request", ctr.firstRequest},
		{"container: podman run … `waxseal version` → exit (no request)", ctr.version},
		{"no container: the same binary, same environment → first request", ctr.direct},
		{"JS: setup-node's cached path (node setup-node-cached.mjs) → exit", jsRun.setupNode},
		{"JS: node action.mjs (@actions/core + http-client) → first request", jsRun.action},
		{"JS: npx startup-probe (warm npx cache) → first request", jsRun.npx},
		{"JS: node -e fetch(…) → first request (Node's floor)", jsRun.node},
	}
	medians := map[string]time.Duration{}
	fmt.Fprintf(out, "| measurement (%d runs each) | median | min | max |\n| --- | ---: | ---: | ---: |\n", *runs)
	for _, r := range rows {
		var ds []time.Duration
		for range *runs {
			d, err := r.measure(ctx, l)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		medians[r.name] = ds[len(ds)/2]
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", r.name, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]))
	}
	setup := medians[rows[3].name]
	fmt.Fprintf(out, "\nsetup-node (cached) + node action: %s; setup-node (cached) + npx: %s; container: %s\n",
		ms(setup+medians[rows[4].name]), ms(setup+medians[rows[5].name]), ms(medians[rows[0].name]))
	return nil
}

type row struct {
	name    string
	measure func(context.Context, *listener) (time.Duration, error)
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// listener notes when each request arrives and answers 401, as GitHub answers a bad token.
type listener struct {
	url  string
	srv  *http.Server
	hits chan time.Time
}

func listen() (*listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &listener{url: "http://" + ln.Addr().String(), hits: make(chan time.Time, 64)}
	l.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case l.hits <- time.Now():
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)
	})}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

func (l *listener) close() { _ = l.srv.Close() }

// toFirstRequest starts cmd and returns the time from its start to the first request the listener sees; it then
// waits for cmd to exit.
func (l *listener) toFirstRequest(cmd *exec.Cmd) (time.Duration, error) {
	for len(l.hits) > 0 { // a request a previous run sent late
		<-l.hits
	}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	type exit struct{ err error }
	exited := make(chan exit, 1)
	go func() { exited <- exit{cmd.Wait()} }()
	select {
	case at := <-l.hits:
		<-exited // its exit status is the 401's business
		return at.Sub(start), nil
	case e := <-exited:
		return 0, fmt.Errorf("exited before any request: %v\n%s", e.err, stderr.String())
	}
}

// toExit runs cmd and returns how long it took; it must succeed.
func toExit(cmd *exec.Cmd) (time.Duration, error) {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return time.Since(start), nil
}

// containerRun is the Action's container on a runner-shaped job whose first request goes to the listener.
type containerRun struct {
	binary string
	podman *actionrunner.Podman
	job    *actionrunner.Job
	image  string
	label  string
	step   actionrunner.Step
}

func newContainerRun(ctx context.Context, dir, archive, binary, url string) (*containerRun, error) {
	binary, err := filepath.Abs(binary)
	if err != nil {
		return nil, err
	}
	p, err := actionrunner.NewPodman(filepath.Join(dir, "podman"))
	if err != nil {
		return nil, err
	}
	if err := p.Load(ctx, archive); err != nil {
		return nil, err
	}
	label := actionrunner.InstanceLabel([]byte("bench"))
	c := &containerRun{binary: binary, podman: p, image: actionrunner.ImageName(label), label: label}
	if err := p.Tag(ctx, "localhost/waxseal:local", c.image); err != nil {
		return nil, err
	}
	if c.job, err = actionrunner.NewJob(filepath.Join(dir, "_work"), "waxseal", 1001, 1001, []byte(`{}`)); err != nil {
		return nil, err
	}
	for _, f := range []string{"dist/pkg-1.0.0.tgz", ".sigstore/trusted_root.json", ".sigstore/signing_config.json"} {
		p := filepath.Join(c.job.Workspace, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			return nil, err
		}
	}
	if err := c.job.GiveToRunner(); err != nil {
		return nil, err
	}
	c.step = actionrunner.Step{
		Inputs: map[string]string{"paths": "dist/*.tgz", "upload": "true", "release-tag": "v1.0.0", "github-token": "ghs_bench",
			"trusted-root": ".sigstore/trusted_root.json", "signing-config": ".sigstore/signing_config.json", "retry-for": "1s"},
		GitHub: map[string]string{"api_url": url, "server_url": "https://github.com", "repository": "waxseal/waxseal",
			"ref": "refs/heads/main", "event_name": "push", "run_id": "1", "run_attempt": "1"},
		Runner:     map[string]string{"os": "Linux", "arch": "X64", "environment": "github-hosted", "temp": c.job.Temp},
		RuntimeURL: url + "/runtime/", RuntimeToken: "bench-runtime-token", IDTokenURL: url + "/idtoken",
	}
	return c, nil
}

func (c *containerRun) command(ctx context.Context, args []string) *exec.Cmd {
	ctr := c.job.Container(c.job.Environment(c.step), c.image, args)
	ctr.Network = "host" // the listener is on this machine's loopback
	return c.podman.RunCommand(ctx, ctr, c.label, nil, nil)
}

func (c *containerRun) firstRequest(ctx context.Context, l *listener) (time.Duration, error) {
	return l.toFirstRequest(c.command(ctx, []string{"action"}))
}

// direct runs the binary itself with the step's environment (host paths), in the workspace.
func (c *containerRun) direct(ctx context.Context, l *listener) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, c.binary, "action")
	cmd.Dir, cmd.Env = c.job.Workspace, append(c.job.Environment(c.step).List(), "GITHUB_ACTIONS=true", "CI=true")
	return l.toFirstRequest(cmd)
}

func (c *containerRun) version(ctx context.Context, _ *listener) (time.Duration, error) {
	return toExit(c.command(ctx, []string{"version"}))
}

// jsRun is a JavaScript action's start on the same machine: a tool cache holding this machine's Node as
// setup-node would find it, the runner's file-command files, and the scripts of bench/startup.
type jsRun struct {
	dir, url string
	env      []string
	npxCache string
}

func newJSRun(dir, js, url string) (*jsRun, error) {
	js, err := filepath.Abs(js)
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(node, "-p", "process.versions.node").Output()
	if err != nil {
		return nil, err
	}
	version := strings.TrimSpace(string(out))
	// RUNNER_TOOL_CACHE/node/<version>/x64 with bin/node and the x64.complete marker tool-cache's find looks for.
	tool := filepath.Join(dir, "hostedtoolcache", "node", version, "x64")
	if err := os.MkdirAll(filepath.Join(tool, "bin"), 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(node, filepath.Join(tool, "bin", "node")); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tool+".complete", nil, 0o644); err != nil {
		return nil, err
	}
	files := filepath.Join(dir, "js-file-commands")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []string{"add_path", "set_output"} { // the runner creates them before each step
		if err := os.WriteFile(filepath.Join(files, f), nil, 0o644); err != nil {
			return nil, err
		}
	}
	j := &jsRun{dir: js, url: url, npxCache: filepath.Join(dir, "npm-cache")}
	j.env = append(os.Environ(), "RUNNER_TOOL_CACHE="+filepath.Join(dir, "hostedtoolcache"), "RUNNER_TEMP="+dir,
		"INPUT_NODE-VERSION="+strings.SplitN(version, ".", 2)[0], "INPUT_URL="+url,
		"GITHUB_PATH="+filepath.Join(files, "add_path"), "GITHUB_OUTPUT="+filepath.Join(files, "set_output"),
		"npm_config_cache="+j.npxCache, "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	// npx installs the probe into its cache once; the runs measure the warm start.
	pack := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, filepath.Join(js, "probe"))
	pack.Env = j.env
	if out, err := pack.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("npm pack the probe: %v\n%s", err, out)
	}
	warm := j.npxCommand(context.Background())
	if out, err := warm.CombinedOutput(); err != nil && !errors.As(err, new(*exec.ExitError)) {
		return nil, fmt.Errorf("warming npx: %v\n%s", err, out)
	}
	return j, nil
}

func (j *jsRun) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = j.dir, j.env
	return cmd
}

func (j *jsRun) npxCommand(ctx context.Context) *exec.Cmd {
	return j.command(ctx, "npx", "--yes", "--package", filepath.Join(filepath.Dir(j.npxCache), "startup-probe-1.0.0.tgz"), "startup-probe", j.url)
}

func (j *jsRun) setupNode(ctx context.Context, _ *listener) (time.Duration, error) {
	return toExit(j.command(ctx, "node", "setup-node-cached.mjs"))
}

func (j *jsRun) action(ctx context.Context, l *listener) (time.Duration, error) {
	return l.toFirstRequest(j.command(ctx, "node", "action.mjs"))
}

func (j *jsRun) npx(ctx context.Context, l *listener) (time.Duration, error) {
	return l.toFirstRequest(j.npxCommand(ctx))
}

func (j *jsRun) node(ctx context.Context, l *listener) (time.Duration, error) {
	return l.toFirstRequest(j.command(ctx, "node", "-e", "fetch(process.argv[1]).then(r => r.text())", j.url))
}
