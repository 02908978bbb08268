package actionrunner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The examples of Microsoft's "Parsing C++ command-line arguments", which ParseArgumentsIntoList follows, and its
// "" inside quotes.
func TestSplitArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"quoted spaces", `"a b c" d e`, []string{"a b c", "d", "e"}},
		{"escaped quote and backslash", `"ab\"c" "\\" d`, []string{`ab"c`, `\`, "d"}},
		{"backslashes not before a quote", `a\\\b d"e f"g h`, []string{`a\\\b`, "de fg", "h"}},
		{"odd backslashes before a quote", `a\\\"b c d`, []string{`a\"b`, "c", "d"}},
		{"even backslashes before a quote", `a\\\\"b c" d e`, []string{`a\\b c`, "d", "e"}},
		{"doubled quote inside quotes", `"a""b" c`, []string{`a"b`, "c"}},
		{"empty quoted argument", `run "" x`, []string{"run", "", "x"}},
		{"runs of spaces and tabs", " a \t b  ", []string{"a", "b"}},
		{"volume", `-v "/w/_temp/_github_home":"/github/home"`, []string{"-v", "/w/_temp/_github_home:/github/home"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, SplitArguments(tc.in)); diff != "" {
				t.Errorf("SplitArguments(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// What EscapeString quotes, .NET's parsing gives back whole: the runner relies on it for every -e name.
func FuzzEscapedOptionRoundTrip(f *testing.F) {
	for _, s := range []string{"INPUT_RELEASE-TAG", `a"b`, `a\`, `a\\"b`, `x y`, `\"`, `\\`, "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if key == "" {
			return // an empty key makes no option
		}
		if got := SplitArguments(EscapedOption("-e", key)); !slices.Equal(got, []string{"-e", key}) {
			t.Errorf("EscapedOption(-e, %q) splits into %q", key, got)
		}
	})
}

func TestEntryPointArgs(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"action"}, {"a b", `say "hi"`, ""}, {}} {
		got := SplitArguments("image" + EntryPointArgs(args))
		if diff := cmp.Diff(append([]string{"image"}, args...), got); diff != "" {
			t.Errorf("args %q (-want +got):\n%s", args, diff)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"3f2a1b:0c9d": "f2a1b0c9d", "ghcr.io/waxseal/waxseal@sha256:ab": "ghcriowaxsealwaxsealsha256ab", "a-b_c": "ab_c"} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// The runner's docker run, split as the docker CLI receives it: names only for the step's variables (their
// values travel in the CLI's environment, translated to container paths), the watermarks, the four mounts,
// the image and action.yml's args.
func TestRunArgumentsAsTheCLISeesThem(t *testing.T) {
	t.Parallel()
	uid, gid := os.Getuid(), os.Getgid()
	j, err := NewJob(filepath.Join(t.TempDir(), "_work"), "repo", uid, gid, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	env := j.Environment(Step{Inputs: map[string]string{"release-tag": "v1", "paths": "dist/*.tgz"},
		GitHub: map[string]string{"repository": "o/repo"}, Runner: map[string]string{"temp": j.Temp},
		RuntimeURL: "https://pipelines.example/", RuntimeToken: "tok", IDTokenURL: "https://token.example/"})
	c := j.Container(env, "3f2a1b:0c9d", []string{"action"})
	got := SplitArguments(RunArguments(c, "3f2a1b"))
	want := []string{"run", "--name", c.DisplayName, "--label", "3f2a1b", "--workdir", "/github/workspace", "--rm",
		"-e", "INPUT_PATHS", "-e", "INPUT_RELEASE-TAG", "-e", "HOME", "-e", "GITHUB_EVENT_PATH", "-e", "GITHUB_OUTPUT",
		"-e", "GITHUB_PATH", "-e", "GITHUB_REPOSITORY", "-e", "GITHUB_STATE", "-e", "GITHUB_STEP_SUMMARY",
		"-e", "GITHUB_WORKSPACE", "-e", "RUNNER_TEMP", "-e", "ACTIONS_RUNTIME_URL", "-e", "ACTIONS_RUNTIME_TOKEN",
		"-e", "ACTIONS_ID_TOKEN_REQUEST_URL", "-e", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "-e", "GITHUB_ACTIONS=true",
		"-e", "CI=true", "-v", j.Home + ":/github/home", "-v", j.Workflow + ":/github/workflow",
		"-v", j.FileCommands + ":/github/file_commands", "-v", j.Workspace + ":/github/workspace", "3f2a1b:0c9d", "action"}
	// GITHUB_ENV comes before GITHUB_EVENT_PATH in the allowlist's order: put it where the runner does.
	want = slices.Insert(want, slices.Index(want, "GITHUB_EVENT_PATH")-1, "-e", "GITHUB_ENV")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docker run argv (-want +got):\n%s", diff)
	}
	for name, wantValue := range map[string]string{"GITHUB_WORKSPACE": "/github/workspace", "HOME": "/github/home",
		"GITHUB_EVENT_PATH": "/github/workflow/event.json", "RUNNER_TEMP": j.Temp, "INPUT_RELEASE-TAG": "v1",
		"GITHUB_OUTPUT": "/github/file_commands/" + filepath.Base(j.Files["output"])} {
		if v, _ := c.Env.Lookup(name); v != wantValue {
			t.Errorf("%s = %q in the container, want %q", name, v, wantValue)
		}
	}
	if !strings.HasPrefix(c.DisplayName, "f2a1b0c9d_") || len(c.DisplayName) != len("f2a1b0c9d_")+6 {
		t.Errorf("container name %q: want the sanitized image and six hex digits", c.DisplayName)
	}
}

// The runner's directories belong to its user, and the file-command files exist before the step, empty.
func TestNewJobLayout(t *testing.T) {
	t.Parallel()
	uid, gid := 1001, 1001
	if os.Geteuid() != 0 { // only root gives files away; a user can still give them to itself
		uid, gid = os.Getuid(), os.Getgid()
	}
	j, err := NewJob(filepath.Join(t.TempDir(), "_work"), "repo", uid, gid, []byte(`{"ref":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{j.Workspace, j.Home, j.FileCommands, j.EventPath, j.Files["output"], j.Files["step_summary"]} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); int(sys.Uid) != uid || int(sys.Gid) != gid {
			t.Errorf("%s is owned by %d:%d, want the runner's user %d:%d", p, sys.Uid, sys.Gid, uid, gid)
		}
	}
	for name, p := range j.Files {
		if b, err := os.ReadFile(p); err != nil || len(b) != 0 || filepath.Dir(p) != j.FileCommands {
			t.Errorf("file command %s at %s: %d bytes, %v; want an empty file in %s", name, p, len(b), err, j.FileCommands)
		}
	}
	if len(j.Files) != 5 {
		t.Errorf("file-command files %v: want path, env, output, state and step_summary", j.Files)
	}
}
