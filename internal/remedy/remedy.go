// Package remedy lets an error from a library package name the setting a person can change to get past it,
// without the words of any front end. The command line and the Action share setting names (`--retry-for` is the
// `retry-for` input), so a library says "give it longer" and tags its error with [RetryFor]; the command line
// renders that as `--retry-for`, the Action as the `retry-for` input. This is how sigstore-go, cosign and gh keep
// flag names at the command layer.
package remedy

import (
	"slices"
	"strings"
)

// A Setting is something a person can change: a flag of `waxseal sign`/`verify` and the Action input of the same
// name.
type Setting string

// The settings library errors point at.
const (
	RetryFor               Setting = "retry-for"
	Provenance             Setting = "provenance"
	RegistryPreflight      Setting = "registry-preflight"
	AllowPrivateRepository Setting = "allow-private-repository"
	TrustedRoot            Setting = "trusted-root"
	SigningConfig          Setting = "signing-config"
	Staging                Setting = "staging"
	OIDCIssuer             Setting = "oidc-issuer"
	IdentityToken          Setting = "identity-token"
	TUFMirror              Setting = "tuf-mirror"
	TUFRoot                Setting = "tuf-root"
)

// Hint is one change that gets past an error: Setting set to Value ("" when the person picks the value).
type Hint struct {
	Setting Setting
	Value   string
}

// Error is an error with the changes that get past it.
type Error struct {
	Err   error
	Hints []Hint
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Remedies returns e's hints.
func (e *Error) Remedies() []Hint { return e.Hints }

// Remedier is an error type that knows its own remedies (retry.Error: give it longer).
type Remedier interface {
	Remedies() []Hint
}

// With tags err with hints; a nil err stays nil.
func With(err error, hints ...Hint) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Hints: hints}
}

// Set is the Hint "set s to value".
func Set(s Setting, value string) Hint { return Hint{Setting: s, Value: value} }

// Give is the Hint "give s a value".
func Give(s Setting) Hint { return Hint{Setting: s} }

// Hints returns every hint (of every Remedier) in err's tree (through Unwrap and errors.Join), first seen first, without repeats.
func Hints(err error) []Hint {
	var out []Hint
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if d, ok := e.(*dropped); ok { // its hints are its own: the dropped ones stay out
			for _, h := range d.Remedies() {
				if !slices.Contains(out, h) {
					out = append(out, h)
				}
			}
			return
		}
		if r, ok := e.(Remedier); ok {
			for _, h := range r.Remedies() {
				if !slices.Contains(out, h) {
					out = append(out, h)
				}
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// Drop returns err without the hints for settings, for a front end where they make no sense (`waxseal
// trusted-root` fails to fetch the file `--trusted-root` would name). errors.Is and errors.As see through.
func Drop(err error, settings ...Setting) error {
	if err == nil {
		return nil
	}
	return &dropped{err: err, settings: settings}
}

type dropped struct {
	err      error
	settings []Setting
}

func (d *dropped) Error() string { return d.err.Error() }

func (d *dropped) Unwrap() error { return d.err }

func (d *dropped) Remedies() []Hint {
	return slices.DeleteFunc(Hints(d.err), func(h Hint) bool { return slices.Contains(d.settings, h.Setting) })
}

// Words renders one hint in a front end's words: `--provenance=false`, or the `provenance: false` input.
type Words func(Hint) string

// Explain returns err with its hints rendered after it, in parentheses: "… or sign without provenance
// (--provenance=false)". An error without hints comes back as it is; errors.Is and errors.As see through.
func Explain(err error, words Words) error {
	hints := Hints(err)
	if len(hints) == 0 || words == nil {
		return err
	}
	parts := make([]string, len(hints))
	for i, h := range hints {
		parts[i] = words(h)
	}
	return &explained{err: err, suffix: " (" + strings.Join(parts, "; ") + ")"}
}

// Text is Explain's message, for results that keep errors as text.
func Text(err error, words Words) string {
	if err == nil {
		return ""
	}
	return Explain(err, words).Error()
}

type explained struct {
	err    error
	suffix string
}

func (e *explained) Error() string { return e.err.Error() + e.suffix }

func (e *explained) Unwrap() error { return e.err }

// Flag renders a hint as the command line's flag: --name=value, or --name VALUE for a value to pick.
func Flag(h Hint) string {
	switch h.Value {
	case "", "true":
		return "--" + string(h.Setting)
	}
	return "--" + string(h.Setting) + "=" + h.Value
}

// Input renders a hint as the Action's input: `name: value` in the step's `with:`.
func Input(h Hint) string {
	if h.Value == "" {
		return "the `" + string(h.Setting) + "` input"
	}
	return "input `" + string(h.Setting) + ": " + h.Value + "`"
}
