// Package ghactions speaks the GitHub Actions runner's protocols: workflow commands on stdout (masks, groups,
// annotations, log lines) and the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files a step appends to.
//
// Workflow commands go through go-githubactions, which escapes messages and properties the way the official
// toolkit does. Outputs do not: its SetOutput uses a fixed heredoc delimiter, so a value built from package data
// could close the heredoc early and inject another output. [OutputFile] uses a random delimiter per value and
// refuses values that contain it, as @actions/core does.
package ghactions

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/waxseal/waxseal/internal/printable"
)

// Commands issues workflow commands to the runner. Its methods write to the injected writer only.
type Commands struct {
	a    *githubactions.Action
	w    io.Writer
	rand io.Reader
}

// NewCommands returns Commands writing to w (the step's stdout).
func NewCommands(w io.Writer) *Commands {
	return &Commands{a: githubactions.New(githubactions.WithWriter(w)), w: w, rand: rand.Reader}
}

// Mask tells the runner to replace secret with *** in every later log line. A multi-line secret is also masked
// line by line, because the runner matches masks per line. Call it before anything can print the secret.
func (c *Commands) Mask(secret string) {
	if strings.TrimSpace(secret) == "" {
		return
	}
	c.a.AddMask(secret)
	if strings.ContainsAny(secret, "\r\n") {
		for _, line := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\r' || r == '\n' }) {
			if strings.TrimSpace(line) != "" {
				c.a.AddMask(line)
			}
		}
	}
}

// Group opens a collapsible log group titled title and returns the function that closes it.
func (c *Commands) Group(title string) (end func()) {
	c.a.Group(printable.Line(title))
	return c.a.EndGroup
}

// Annotation is an error, warning or notice shown on the run's summary page and, when File is set, on the file.
type Annotation struct {
	// File is the path, relative to the repository root, the annotation points at; empty for none.
	File string
	// Title is a short heading; empty for none.
	Title string
	// Message is the text; it may span lines.
	Message string
}

func (an Annotation) props() map[string]string {
	p := map[string]string{}
	if an.File != "" {
		p["file"] = printable.Line(an.File)
	}
	if an.Title != "" {
		p["title"] = printable.Line(an.Title)
	}
	return p
}

// message is an annotation's text as the log shows it: its lines kept, each made printable, so text from a
// registry or a tarball cannot clear the screen or recolour what follows (GitHub's log viewer renders ANSI).
func (an Annotation) message() string { return printable.Lines(an.Message) }

// Error issues an ::error:: annotation. Properties and message are escaped, so no value can end the command.
func (c *Commands) Error(an Annotation) {
	c.a.WithFieldsMap(an.props()).Errorf("%s", an.message())
}

// Warning issues a ::warning:: annotation.
func (c *Commands) Warning(an Annotation) {
	c.a.WithFieldsMap(an.props()).Warningf("%s", an.message())
}

// Infof prints one plain log line. Line breaks in the result are replaced by spaces, and a line that could be
// read as a workflow command (it contains "::") is fenced with ::stop-commands:: and a random token, so text
// that comes from package data cannot issue commands.
func (c *Commands) Infof(format string, args ...any) {
	line := printable.Line(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(fmt.Sprintf(format, args...)))
	if !strings.Contains(line, "::") {
		_, _ = fmt.Fprintln(c.w, line) // like go-githubactions, a broken stdout is not worth failing the step
		return
	}
	token := c.token()
	_, _ = fmt.Fprintf(c.w, "::stop-commands::%s\n%s\n::%s::\n", token, line, token)
}

func (c *Commands) token() string {
	b := make([]byte, 16)
	if _, err := io.ReadFull(c.rand, b); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand never fails on supported platforms
	}
	return "waxseal-" + hex.EncodeToString(b)
}
