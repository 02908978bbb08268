package actionrunner

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Podman runs podman as root with its storage, configuration and temporary files under one directory, set up
// the way this kind of machine needs (no Docker engine, hybrid cgroups):
//   - --runtime runc: crun refuses hybrid cgroup layouts; runc takes them with --cgroup-manager=cgroupfs;
//   - --storage-driver vfs: no overlay mounts needed;
//   - containers.conf with default_ulimits = []: podman's default nofile limit cannot be set here;
//   - --events-backend file: no journald.
type Podman struct {
	dir     string
	conf    string
	runroot string // podman refuses a run root path longer than 50 characters: a short one of its own
}

// NewPodman sets podman up under dir (which the caller removes); Close removes its run root.
func NewPodman(dir string) (*Podman, error) {
	runroot, err := os.MkdirTemp("", "podrun-")
	if err != nil {
		return nil, err
	}
	p := &Podman{dir: dir, conf: filepath.Join(dir, "containers.conf"), runroot: runroot}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644); err != nil {
		return nil, err
	}
	return p, nil
}

// Close removes the run root (containers' state; they are gone once `run --rm` returns).
func (p *Podman) Close() error { return os.RemoveAll(p.runroot) }

// Command is podman with its global options, then args. Its environment is this process's, the extra
// variables, and podman's own settings.
func (p *Podman) Command(ctx context.Context, extra []string, args ...string) *exec.Cmd {
	global := []string{"--root", filepath.Join(p.dir, "root"), "--runroot", p.runroot,
		"--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
		"--tmpdir", filepath.Join(p.dir, "libpod-tmp")}
	cmd := exec.CommandContext(ctx, "podman", append(global, args...)...)
	cmd.Env = append(append(os.Environ(), extra...), "CONTAINERS_CONF="+p.conf, "TMPDIR="+filepath.Join(p.dir, "tmp"))
	return cmd
}

// Load loads a docker-archive tarball into podman's storage.
func (p *Podman) Load(ctx context.Context, tarball string) error {
	out, err := p.Command(ctx, nil, "load", "--quiet", "--input", tarball).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman load %s: %w\n%s", tarball, err, out)
	}
	return nil
}

// Tag names a loaded image again.
func (p *Podman) Tag(ctx context.Context, image, name string) error {
	out, err := p.Command(ctx, nil, "tag", image, name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman tag %s %s: %w\n%s", image, name, err, out)
	}
	return nil
}

// RunCommand is the runner's `docker run` for c, with podman in docker's place: the argument string DockerRun
// builds, split into argv as .NET splits it, and the environment ProcessInvoker gives the docker CLI (this
// process's, the container's variables with their translated values, GITHUB_ACTIONS=true and CI=true), from which
// each `-e NAME` takes its value.
func (p *Podman) RunCommand(ctx context.Context, c *Container, label string, stdout, stderr io.Writer) *exec.Cmd {
	extra := append(c.Env.List(), "GITHUB_ACTIONS=true")
	if _, ok := c.Env.Lookup("CI"); !ok && os.Getenv("CI") == "" {
		extra = append(extra, "CI=true")
	}
	cmd := p.Command(ctx, extra, SplitArguments(RunArguments(c, label))...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd
}
