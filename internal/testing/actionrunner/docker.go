// Package actionrunner reproduces how the GitHub Actions runner starts a container action (`runs: using: docker`)
// on a Linux runner, and runs it with podman: the runner's directories and their owner, the step's environment
// with host paths translated into the container, and the exact `docker run` argument string, split into argv the
// way .NET splits it.
//
// Read from github.com/actions/runner (each at the commit the look-up index held):
//   - src/Runner.Worker/Handlers/ContainerActionHandler.cs @ 02523b9a60a24fe13364739abefe2255c5a6b758: the
//     environment (inputs, HOME, the github and runner contexts, ACTIONS_* and ACTIONS_ID_TOKEN_REQUEST_*), the
//     mounts, the work directory, the entrypoint and args, and the path translation of every value.
//   - src/Runner.Worker/Container/DockerCommandManager.cs @ 01eef8fc3ed98f0753c1c8b76023aceae965100f: DockerRun,
//     the argument string.
//   - src/Runner.Worker/Container/DockerUtil.cs (the version DockerCommandManager above calls with key and value):
//     CreateEscapedOption and EscapeString.
//   - src/Runner.Worker/Container/ContainerInfo.cs @ 0187fcdb1a566bc7a959515410d613699ed16909:
//     TranslateToContainerPath, AddPathTranslateMapping.
//   - src/Runner.Worker/Handlers/Handler.cs @ 0b5d67881da24406b06491a87cb61b028fa1bff2: AddInputsToEnvironment.
//   - src/Runner.Worker/GitHubContext.cs @ 0b8dadc9a267c6fde8a78c8b1392fe953639e5d9: which github context keys
//     become GITHUB_* variables; src/Runner.Worker/RunnerContext.cs @ 50e1649c69eb95ec80d467126d0b806bc6cf3da3:
//     RUNNER_*.
//   - src/Runner.Worker/FileCommandManager.cs @ 03182cf8614e959123a3c29dc3719f0afb944254: the file-command files.
//   - src/Runner.Sdk/ProcessInvoker.cs @ 0acefcf19943432c1830b40cc7707a7129296b32: the docker CLI's own
//     environment (the runner's, plus the container's variables, GITHUB_ACTIONS and CI).
//   - src/Sdk/DTPipelines/Pipelines/Validation/NameValidation.cs @ 0d7588c6046e80feb500f06099cab6b114ae214b:
//     Sanitize, for the container's name.
//
// and from github.com/dotnet/runtime, src/libraries/System.Diagnostics.Process/src/System/Diagnostics/Process.Unix.cs
// @ 01c405cb677c7b0bda2b241900cc2fc18905ecd4: ParseArgumentsIntoList, which turns ProcessStartInfo.Arguments (the
// runner's one string) into the docker CLI's argv.
package actionrunner

import (
	"regexp"
	"strings"
)

// Mount is one bind mount (ContainerInfo's MountVolume).
type Mount struct {
	Source, Target string
	ReadOnly       bool
}

// Container is what ContainerActionHandler hands DockerRun (ContainerInfo's fields it reads).
type Container struct {
	DisplayName string // ContainerDisplayName: Sanitize(image) + "_" + six hex digits
	Image       string
	WorkDir     string
	// Env is ContainerEnvironmentVariables: the step's variables, values already translated to container paths.
	Env        *Env
	EntryPoint string // empty: the image's ENTRYPOINT
	// EntryPointArgs is the string ContainerActionHandler builds from action.yml's args (see EntryPointArgs).
	EntryPointArgs string
	Network        string // empty: docker's default network
	Mounts         []Mount
}

// RunArguments is DockerCommandManager.DockerRun's argument string, "run" and its options, as the runner hands it
// to ProcessStartInfo.Arguments. label is the runner's DockerInstanceLabel.
func RunArguments(c *Container, label string) string {
	opts := []string{"--name " + c.DisplayName, "--label " + label, "--workdir " + c.WorkDir, "--rm"}
	for _, k := range c.Env.Names() {
		// "-e MY_SECRET maps the value into the exec'ed process without exposing the value directly in the command"
		opts = append(opts, EscapedOption("-e", k))
	}
	opts = append(opts, "-e GITHUB_ACTIONS=true")
	if _, ok := c.Env.Lookup("CI"); !ok {
		opts = append(opts, "-e CI=true")
	}
	if c.EntryPoint != "" {
		opts = append(opts, `--entrypoint "`+c.EntryPoint+`"`)
	}
	if c.Network != "" {
		opts = append(opts, "--network "+c.Network)
	}
	for _, m := range c.Mounts {
		q := strings.NewReplacer(`"`, `\"`)
		v := `-v "` + q.Replace(m.Source) + `":"` + q.Replace(m.Target) + `"`
		if m.Source == "" {
			v = `-v "` + q.Replace(m.Target) + `"`
		}
		if m.ReadOnly {
			v += ":ro"
		}
		opts = append(opts, v)
	}
	opts = append(opts, c.Image, c.EntryPointArgs)
	return strings.TrimSpace("run " + strings.Join(opts, " "))
}

// EntryPointArgs is ContainerActionHandler's string of action.yml's evaluated `args:`: each one quoted, inner
// double quotes backslash-escaped, an empty one as "".
func EntryPointArgs(args []string) string {
	var b strings.Builder
	for _, a := range args {
		if a == "" {
			b.WriteString(` ""`)
			continue
		}
		b.WriteString(` "` + strings.ReplaceAll(a, `"`, `\"`) + `"`)
	}
	return b.String()
}

var (
	quoteEscape       = regexp.MustCompile(`(\\*)"`)
	endOfStringEscape = regexp.MustCompile(`(\\+)$`)
)

// EscapedOption is DockerUtil.CreateEscapedOption(flag, key): "" for an empty key, else the flag and the key
// quoted by EscapeString.
func EscapedOption(flag, key string) string {
	if key == "" {
		return ""
	}
	return flag + " " + escapeString(key)
}

// escapeString is DockerUtil.EscapeString: backslashes before a double quote are doubled and the quote escaped,
// trailing backslashes doubled, and the whole wrapped in double quotes, so .NET's argument parsing gives back the
// value.
func escapeString(v string) string {
	if v == "" {
		return ""
	}
	v = quoteEscape.ReplaceAllString(v, `$1$1\"`)
	v = endOfStringEscape.ReplaceAllString(v, `$1$1`)
	return `"` + v + `"`
}

// SplitArguments is .NET's ParseArgumentsIntoList (Process.Unix.cs), "the rules outlined in 'Parsing C++
// Command-Line Arguments'": how the runner's one argument string reaches the docker CLI as argv.
func SplitArguments(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		var arg string
		arg, i = nextArgument(s, i)
		out = append(out, arg)
	}
	return out
}

// nextArgument is GetNextArgument: it reads one argument from s[i:] and returns it with the index of the
// character that ended it.
func nextArgument(s string, i int) (string, int) {
	var b strings.Builder
	inQuotes := false
	for i < len(s) {
		backslashes := 0
		for i < len(s) && s[i] == '\\' {
			i++
			backslashes++
		}
		if backslashes > 0 {
			if i >= len(s) || s[i] != '"' {
				b.WriteString(strings.Repeat(`\`, backslashes)) // not before a quote: literal
			} else {
				b.WriteString(strings.Repeat(`\`, backslashes/2)) // pairs become one; an odd one makes the quote literal
				if backslashes%2 != 0 {
					b.WriteByte('"')
					i++
				}
			}
			continue
		}
		c := s[i]
		switch {
		case c == '"' && inQuotes && i < len(s)-1 && s[i+1] == '"':
			b.WriteByte('"') // "" inside quotes is a literal quote, still inside
			i += 2
			continue
		case c == '"':
			inQuotes = !inQuotes
			i++
			continue
		case (c == ' ' || c == '\t') && !inQuotes:
			return b.String(), i
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), i
}

// Sanitize is NameValidation.Sanitize(name, allowHyphens: false): letters and underscores, and digits after the
// first kept character; nothing else.
func Sanitize(name string) string {
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= '0' && c <= '9' && b.Len() > 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}
