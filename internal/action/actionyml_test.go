package action

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/waxseal/waxseal/internal/ghactions"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/testing/filecommands"
)

type actionYML struct {
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
}

func readActionYML(t *testing.T) actionYML {
	t.Helper()
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// runnerInputs is what the runner passes a container action: every declared input, with its default when the
// workflow sets none, as INPUT_<NAME> (upper case, hyphens kept).
func runnerInputs(a actionYML, token string) map[string]string {
	env := map[string]string{}
	for name, in := range a.Inputs {
		v := in.Default
		if v == "${{ github.token }}" {
			v = token
		}
		env["INPUT_"+strings.ToUpper(name)] = v
	}
	return env
}

// TestActionYMLMatchesLoad checks action.yml and the code agree: the same input names, the same defaults, and
// a container action whose entrypoint is given the "action" argument.
func TestActionYMLMatchesLoad(t *testing.T) {
	t.Parallel()
	a := readActionYML(t)
	read := map[string]bool{}
	getenv := func(k string) string {
		if name, ok := strings.CutPrefix(k, "INPUT_"); ok {
			read[strings.ToLower(name)] = true
		}
		return map[string]string{"GITHUB_WORKSPACE": "/github/workspace"}[k]
	}
	fromCode, err := Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(a.Inputs)), slices.Sorted(maps.Keys(read))); diff != "" {
		t.Errorf("inputs in action.yml vs inputs the code reads (-yml +code):\n%s", diff)
	}
	env := runnerInputs(a, "ghs_token")
	env["GITHUB_WORKSPACE"] = "/github/workspace"
	fromYML, err := Load(envFunc(env))
	if err != nil {
		t.Fatalf("action.yml's defaults do not load: %v", err)
	}
	fromYML.GitHubToken = ""
	fromCode.Audience = "sigstore" // seal's default, spelled out in action.yml
	if diff := cmp.Diff(fromCode, fromYML); diff != "" {
		t.Errorf("defaults in the code vs action.yml (-code +yml):\n%s", diff)
	}
	for name, in := range a.Inputs {
		if !strings.Contains(strings.ToLower(in.Description), "default") {
			t.Errorf("input %s: the description does not state its default", name)
		}
	}
	if a.Runs.Using != "docker" || a.Runs.Image != "Dockerfile" || !slices.Equal(a.Runs.Args, []string{"action"}) {
		t.Errorf("runs = %+v, want docker, Dockerfile, [action]", a.Runs)
	}
}

func TestActionYMLOutputsAreWritten(t *testing.T) {
	t.Parallel()
	a := readActionYML(t)
	dir := t.TempDir()
	ws, err := NewWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "output")
	out, _ := ghactions.NewOutputFile(path)
	rep := &seal.Report{Artifacts: []seal.Artifact{{Path: filepath.Join(dir, "a.tgz"), Kind: seal.NPM, Tarball: filepath.Join(dir, "a.tgz"), Bundle: filepath.Join(dir, "a.tgz.sigstore.json")}}}
	if err := setOutputs(out, ws, rep, filepath.Join(dir, ".waxseal", "results.json"), nil, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	written, err := filecommands.Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(written)), slices.Sorted(maps.Keys(a.Outputs))); diff != "" {
		t.Errorf("outputs written vs declared in action.yml (-written +declared):\n%s", diff)
	}
}
