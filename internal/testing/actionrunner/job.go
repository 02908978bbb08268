package actionrunner

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Env is a step's environment in the order the runner adds to it (its Dictionary keeps insertion order while
// nothing is removed). The order only decides the order of the -e options.
type Env struct {
	names  []string
	values map[string]string
}

// NewEnv returns an empty Env.
func NewEnv() *Env { return &Env{values: map[string]string{}} }

// Set sets name, keeping its first position.
func (e *Env) Set(name, value string) {
	if _, ok := e.values[name]; !ok {
		e.names = append(e.names, name)
	}
	e.values[name] = value
}

// Lookup returns name's value and whether it is set.
func (e *Env) Lookup(name string) (string, bool) { v, ok := e.values[name]; return v, ok }

// Names returns the names in order.
func (e *Env) Names() []string { return slices.Clone(e.names) }

// List returns NAME=value pairs in order, as exec.Cmd.Env takes them.
func (e *Env) List() []string {
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.values[n])
	}
	return out
}

// The file commands FileCommandManager creates before each step: github context name and file prefix.
var fileCommands = []struct{ context, prefix string }{
	{"path", "add_path_"}, {"env", "set_env_"}, {"output", "set_output_"}, {"state", "save_state_"},
	{"step_summary", "step_summary_"},
}

// githubEnvKeys are the github context keys GitHubContext exports as GITHUB_<KEY> (its _contextEnvAllowlist).
var githubEnvKeys = []string{"action_path", "action_ref", "action_repository", "action", "actor", "actor_id",
	"api_url", "base_ref", "env", "event_name", "event_path", "graphql_url", "head_ref", "job", "output", "path",
	"ref_name", "ref_protected", "ref_type", "ref", "repository", "repository_id", "repository_owner",
	"repository_owner_id", "retention_days", "run_attempt", "run_id", "run_number", "server_url", "sha", "state",
	"step_summary", "triggering_actor", "workflow", "workflow_ref", "workflow_sha", "workspace"}

// Job is one job's directories on the runner, laid out and owned as the runner lays them out: <work>/_temp with
// _github_home, _github_workflow/event.json and _runner_file_commands/<prefix><guid>, and the workspace
// <work>/<repo>/<repo>, all owned by the runner's user.
type Job struct {
	Work, Temp, Home, Workflow, FileCommands, Workspace string
	// Files are the file-command files by github context name: output, env, path, state, step_summary.
	Files map[string]string
	// EventPath is the event payload, <temp>/_github_workflow/event.json.
	EventPath string
	// UID and GID own everything above: the runner's user (1001 on GitHub's hosted Ubuntu images).
	UID, GID int
}

// NewJob lays a job out under work for repository repo ("name"), writes the event payload, creates the
// file-command files empty (FileCommandManager.InitializeFiles), and gives all of it to uid:gid.
func NewJob(work, repo string, uid, gid int, event []byte) (*Job, error) {
	j := &Job{Work: work, Temp: filepath.Join(work, "_temp"), Workspace: filepath.Join(work, repo, repo),
		Files: map[string]string{}, UID: uid, GID: gid}
	j.Home, j.Workflow = filepath.Join(j.Temp, "_github_home"), filepath.Join(j.Temp, "_github_workflow")
	j.FileCommands = filepath.Join(j.Temp, "_runner_file_commands")
	j.EventPath = filepath.Join(j.Workflow, "event.json")
	for _, d := range []string{j.Home, j.Workflow, j.FileCommands, j.Workspace} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	suffix := newGUID()
	for _, f := range fileCommands {
		p := filepath.Join(j.FileCommands, f.prefix+suffix)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return nil, err
		}
		j.Files[f.context] = p
	}
	if err := os.WriteFile(j.EventPath, event, 0o644); err != nil {
		return nil, err
	}
	return j, j.GiveToRunner()
}

// GiveToRunner gives every directory and file under the work folder to the runner's user, as if its steps had
// made them (call it after laying out a workspace as root).
func (j *Job) GiveToRunner() error {
	return filepath.WalkDir(j.Work, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, j.UID, j.GID)
	})
}

// Step is what the runner knows of one container-action step.
type Step struct {
	// Inputs are the action's inputs by name, the workflow's `with:` over action.yml's defaults.
	Inputs map[string]string
	// GitHub and Runner are the github and runner contexts; the job fills github's workspace, event_path and
	// file-command entries.
	GitHub, Runner map[string]string
	// RuntimeURL and RuntimeToken are the system connection's; IDTokenURL is its GenerateIdTokenUrl, whose request
	// token is the runtime token.
	RuntimeURL, RuntimeToken, IDTokenURL string
}

// Environment builds the step's environment as ContainerActionHandler.RunAsync does, host paths and all (the
// container's values come from Container, translated).
func (j *Job) Environment(s Step) *Env {
	env := NewEnv()
	for _, name := range slices.Sorted(maps.Keys(s.Inputs)) {
		// Handler.AddInputsToEnvironment: INPUT_{name.Replace(' ', '_').ToUpperInvariant()}; hyphens stay.
		env.Set("INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_")), s.Inputs[name])
	}
	env.Set("HOME", j.Home)
	gh := map[string]string{"workspace": j.Workspace, "event_path": j.EventPath}
	for k, v := range s.GitHub {
		gh[k] = v
	}
	for k, p := range j.Files {
		gh[k] = p
	}
	for _, k := range githubEnvKeys {
		if v, ok := gh[k]; ok {
			env.Set("GITHUB_"+strings.ToUpper(k), v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Runner)) {
		env.Set("RUNNER_"+strings.ToUpper(k), s.Runner[k])
	}
	env.Set("ACTIONS_RUNTIME_URL", s.RuntimeURL)
	env.Set("ACTIONS_RUNTIME_TOKEN", s.RuntimeToken)
	if s.IDTokenURL != "" { // only when the job has `permissions: id-token: write`
		env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", s.IDTokenURL)
		env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", s.RuntimeToken)
	}
	return env
}

// Container is the ContainerInfo RunAsync builds for image: the four mounts and their path translations
// (/github/home, /github/workflow, /github/file_commands, /github/workspace), --workdir /github/workspace, every
// variable translated, and action.yml's args. The runner also mounts /var/run/docker.sock; no Docker engine runs
// here, so that one mount is left out.
func (j *Job) Container(env *Env, image string, args []string) *Container {
	mounts := []Mount{{j.Home, "/github/home", false}, {j.Workflow, "/github/workflow", false},
		{j.FileCommands, "/github/file_commands", false}, {j.Workspace, "/github/workspace", false}}
	c := &Container{DisplayName: Sanitize(image) + "_" + newGUID()[:6], Image: image, WorkDir: "/github/workspace",
		Env: NewEnv(), EntryPointArgs: EntryPointArgs(args), Mounts: mounts}
	for _, n := range env.Names() {
		v, _ := env.Lookup(n)
		c.Env.Set(n, translate(mounts, v))
	}
	return c
}

// translate is ContainerInfo.TranslateToContainerPath: a value equal to a mount's source, or under it, moves to
// its target; the mappings are tried last added first.
func translate(mounts []Mount, v string) string {
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		if v == m.Source {
			return m.Target
		}
		if rest, ok := strings.CutPrefix(v, m.Source+string(filepath.Separator)); ok {
			return m.Target + "/" + rest
		}
	}
	return v
}

// InstanceLabel is DockerCommandManager's DockerInstanceLabel: the first six hex digits of the SHA-256 of the
// runner's .runner configuration.
func InstanceLabel(runnerConfig []byte) string {
	sum := sha256.Sum256(runnerConfig)
	return hex.EncodeToString(sum[:])[:6]
}

// ImageName is the name the runner builds a Dockerfile action's image under: "{label}:{step id, 32 hex}".
func ImageName(label string) string { return label + ":" + newGUID() }

// newGUID is a Guid.ToString("N"): 32 lowercase hex digits.
func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
