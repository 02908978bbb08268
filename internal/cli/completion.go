package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

const completionSynopsis = "completion bash|zsh|fish"

const completionHelp = `Usage: waxseal ` + completionSynopsis + `

Prints a script that completes waxseal's commands and flags in that shell. To load it:
  bash:  source <(waxseal completion bash)     (or save it as /etc/bash_completion.d/waxseal)
  zsh:   waxseal completion zsh >"${fpath[1]}/_waxseal"   (then start a new shell, or run compinit)
  fish:  waxseal completion fish >~/.config/fish/completions/waxseal.fish
`

// runCompletion prints a completion script for a shell: the commands, and each command's flags, taken from the
// same definitions the commands parse, so the script cannot offer a flag that is gone or miss a new one.
//
//	bash: source <(waxseal completion bash)                        (or save it in /etc/bash_completion.d/waxseal)
//	zsh:  waxseal completion zsh >"${fpath[1]}/_waxseal"           (then compinit)
//	fish: waxseal completion fish >~/.config/fish/completions/waxseal.fish
func (e *Env) runCompletion(args []string) error {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprint(e.Stdout, completionHelp)
		return nil
	}
	if len(args) != 1 {
		return usagef("completion: name one shell: waxseal %s", completionSynopsis)
	}
	write, ok := map[string]func(io.Writer, []completedCommand){"bash": writeBash, "zsh": writeZsh, "fish": writeFish}[args[0]]
	if !ok {
		return usagef("completion: %q is not a shell waxseal completes: bash, zsh or fish", args[0])
	}
	write(e.Stdout, completedCommands())
	return nil
}

// isHelp reports whether arg asks for help, as the flag package's -h does in every spelling it accepts.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "--h" || arg == "help"
}

// completedCommand is a command as a completion script offers it.
type completedCommand struct {
	name, summary string
	flags         []completedFlag
}

type completedFlag struct {
	name, usage string
	takesValue  bool
}

func completedCommands() []completedCommand {
	var out []completedCommand
	for _, c := range commands {
		cc := completedCommand{name: c.name, summary: c.summary}
		if c.flags != nil {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.flags(fs)
			fs.VisitAll(func(f *flag.Flag) {
				bf, isBool := f.Value.(interface{ IsBoolFlag() bool })
				cc.flags = append(cc.flags, completedFlag{name: f.Name, usage: firstClause(f.Usage), takesValue: !isBool || !bf.IsBoolFlag()})
			})
			sort.Slice(cc.flags, func(i, j int) bool { return cc.flags[i].name < cc.flags[j].name })
		}
		out = append(out, cc)
	}
	return out
}

// firstClause is a flag's usage up to its first ";", "(" or ":", on one line: what a completion menu shows.
func firstClause(s string) string {
	if i := strings.IndexAny(s, ";(:"); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.Join(strings.Fields(s), " "))
}

func writeBash(w io.Writer, cmds []completedCommand) {
	var names []string
	fmt.Fprint(w, "# bash completion for waxseal: source <(waxseal completion bash)\n_waxseal() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} flags=\n")
	fmt.Fprint(w, "\tif ((COMP_CWORD == 1)); then\n")
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, "\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n\tcase ${COMP_WORDS[1]} in\n", strings.Join(names, " "))
	for _, c := range cmds {
		var fl []string
		for _, f := range c.flags {
			fl = append(fl, "--"+f.name)
		}
		fmt.Fprintf(w, "\t%s) flags=%q ;;\n", c.name, strings.Join(fl, " "))
	}
	fmt.Fprint(w, "\tesac\n\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\telse\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\ncomplete -o default -F _waxseal waxseal\n")
}

// zshQuote escapes what _arguments and _describe read specially in a description.
func zshQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, "'", `'\''`, "[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
}

func writeZsh(w io.Writer, cmds []completedCommand) {
	fmt.Fprint(w, "#compdef waxseal\n# zsh completion for waxseal: waxseal completion zsh >\"${fpath[1]}/_waxseal\"\n_waxseal() {\n\tlocal -a commands\n\tcommands=(\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "\t\t'%s:%s'\n", c.name, zshQuote(c.summary))
	}
	fmt.Fprint(w, "\t)\n\tif (( CURRENT == 2 )); then\n\t\t_describe 'command' commands\n\t\treturn\n\tfi\n\tcase $words[2] in\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "\t%s)\n\t\t_arguments -S", c.name)
		for _, f := range c.flags {
			spec := "'--" + f.name + "[" + zshQuote(f.usage) + "]"
			if f.takesValue {
				spec += ":value:_files"
			}
			fmt.Fprintf(w, " \\\n\t\t\t%s'", spec)
		}
		fmt.Fprint(w, " \\\n\t\t\t'*:file:_files' ;;\n")
	}
	fmt.Fprint(w, "\tesac\n}\n_waxseal \"$@\"\n")
}

func writeFish(w io.Writer, cmds []completedCommand) {
	q := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'" }
	fmt.Fprint(w, "# fish completion for waxseal: waxseal completion fish >~/.config/fish/completions/waxseal.fish\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c waxseal -f -n __fish_use_subcommand -a %s -d %s\n", c.name, q(c.summary))
	}
	for _, c := range cmds {
		for _, f := range c.flags {
			value := ""
			if f.takesValue {
				value = " -r"
			}
			fmt.Fprintf(w, "complete -c waxseal -n '__fish_seen_subcommand_from %s' -l %s%s -d %s\n", c.name, f.name, value, q(f.usage))
		}
	}
}
