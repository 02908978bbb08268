// Package actionimage builds waxseal's container Action image without a Docker engine or an image registry: the
// Dockerfile's final stage (gcr.io/distroless/static-debian12 with the static binary copied in) from this
// machine's Debian 12 packages, with the labels, entrypoint and user that stage declares. GitHub builds the image
// from the Dockerfile; this builds the same image where no base image can be pulled, so the Action can run in a
// container in tests.
package actionimage

import (
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// DistrolessStatic is the base image the Dockerfile's final stage must name (by tag and digest): the one base
// this package knows how to reproduce.
const DistrolessStatic = "gcr.io/distroless/static-debian12"

// Stage is what a Dockerfile's final stage adds to its base image.
type Stage struct {
	// Base is the FROM image, digest included.
	Base string
	// Labels are the LABEL pairs, in order of appearance (a later one wins).
	Labels map[string]string
	// Entrypoint is the exec-form ENTRYPOINT.
	Entrypoint []string
	// User is the USER instruction's value, "" when there is none (the base image's user stays).
	User string
	// Binary is where the one COPY --from=<earlier stage> puts the binary that stage builds.
	Binary string
}

// ReadFinalStage parses a Dockerfile with BuildKit's own parser and returns its final stage. Every instruction
// the image builder cannot reproduce is refused, naming it, so the Dockerfile and the offline image can never
// drift apart unnoticed: FROM must be DistrolessStatic, and the stage may hold only LABEL, one COPY --from of a
// single file, an exec-form ENTRYPOINT and USER.
func ReadFinalStage(r io.Reader) (*Stage, error) {
	stages, err := parseStages(r)
	if err != nil {
		return nil, err
	}
	if len(stages) < 2 {
		return nil, fmt.Errorf("the Dockerfile has %d stage(s): the image builder expects a build stage and a final stage", len(stages))
	}
	final := stages[len(stages)-1]
	earlier := map[string]bool{}
	for _, s := range stages[:len(stages)-1] {
		earlier[strings.ToLower(s.Name)] = true
	}
	name, _, _ := strings.Cut(final.BaseName, "@")
	if repo, _, _ := strings.Cut(name, ":"); repo != DistrolessStatic {
		return nil, fmt.Errorf("the final stage is FROM %s: the offline image builder (internal/actionimage) reproduces only %s; teach it the new base", final.BaseName, DistrolessStatic)
	}
	st := &Stage{Base: final.BaseName, Labels: map[string]string{}}
	for _, c := range final.Commands {
		if err := st.apply(c, earlier); err != nil {
			return nil, err
		}
	}
	if st.Binary == "" || len(st.Entrypoint) == 0 {
		return nil, fmt.Errorf("the final stage lacks a COPY --from of the binary or an ENTRYPOINT: the image would not run waxseal")
	}
	return st, nil
}

// parseStages parses a Dockerfile into its stages, each instruction's words expanded as `docker build` expands
// them when it dispatches the instruction (quotes removed, ${VAR} replaced from the base image's environment;
// here distroless static's, the only base allowed).
func parseStages(r io.Reader) ([]instructions.Stage, error) {
	res, err := parser.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("parsing the Dockerfile: %w", err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing the Dockerfile: %w", err)
	}
	lex := shell.NewLex(res.EscapeToken)
	env := shell.EnvsFromSlice(distrolessConfig.Env)
	for _, s := range stages {
		for _, c := range s.Commands {
			ex, ok := c.(instructions.SupportsSingleWordExpansion)
			if _, isArg := c.(*instructions.ArgCommand); !ok || isArg {
				continue
			}
			err := ex.Expand(func(word string) (string, error) {
				w, _, err := lex.ProcessWord(word, env)
				return w, err
			})
			if err != nil {
				return nil, fmt.Errorf("expanding %s: %w", c, err)
			}
		}
	}
	return stages, nil
}

func (st *Stage) apply(c instructions.Command, earlier map[string]bool) error {
	switch c := c.(type) {
	case *instructions.LabelCommand:
		for _, kv := range c.Labels {
			st.Labels[kv.Key] = kv.Value
		}
	case *instructions.EntrypointCommand:
		if c.PrependShell {
			return fmt.Errorf("ENTRYPOINT %s is in shell form: the image has no shell; use the exec form [\"/waxseal\"]", strings.Join(c.CmdLine, " "))
		}
		st.Entrypoint = c.CmdLine
	case *instructions.UserCommand:
		st.User = c.User
	case *instructions.CopyCommand:
		if st.Binary != "" || !earlier[strings.ToLower(c.From)] || len(c.SourcePaths) != 1 || c.Chown != "" || c.Chmod != "" {
			return fmt.Errorf("%s: the image builder reproduces one COPY --from=<build stage> of the binary, with no --chown or --chmod; teach it this one", c.String())
		}
		st.Binary = c.DestPath
	default:
		return fmt.Errorf("the final stage's %s is not reproduced by the offline image builder (internal/actionimage): add it there, or move it to the build stage", c)
	}
	return nil
}
