package ghactions

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		do   func(c *Commands)
		want string
	}{
		{name: "mask", do: func(c *Commands) { c.Mask("s3cret") }, want: "::add-mask::s3cret\n"},
		{name: "mask empty is a no-op", do: func(c *Commands) { c.Mask("  ") }, want: ""},
		{name: "mask multi-line masks each line", do: func(c *Commands) { c.Mask("a\nb") },
			want: "::add-mask::a%0Ab\n::add-mask::a\n::add-mask::b\n"},
		{name: "group", do: func(c *Commands) { end := c.Group("@scope/pkg@1.0.0"); end() },
			want: "::group::@scope/pkg@1.0.0\n::endgroup::\n"},
		{name: "error escapes file and message", do: func(c *Commands) {
			c.Error(Annotation{File: "dist/a,b:c.tgz", Title: "signing", Message: "bad\n::set-output name=x::y 100%"})
		}, want: "::error file=dist/a%2Cb%3Ac.tgz,title=signing::bad%0A::set-output name=x::y 100%25\n"},
		{name: "warning without file", do: func(c *Commands) { c.Warning(Annotation{Message: "w"}) }, want: "::warning::w\n"},
		// Text from a registry or a tarball cannot drive the terminal that renders the log (GitHub's viewer renders
		// ANSI): escapes and bidirectional controls are shown, not obeyed, in every command that prints text.
		{name: "error shows escapes", do: func(c *Commands) {
			c.Error(Annotation{Title: "\x1b[32mok", Message: "name \x1b[2J\x1b[32mVERIFIED\nx\u202ey"})
		}, want: "::error title=\\x1b[32mok::name \\x1b[2J\\x1b[32mVERIFIED%0Ax\\u202ey\n"},
		{name: "group and info show escapes", do: func(c *Commands) {
			end := c.Group("p\x1b[2J")
			c.Infof("signed %s", "\x1b[1A\rfake")
			end()
		}, want: "::group::p\\x1b[2J\nsigned \\x1b[1A fake\n::endgroup::\n"},
		{name: "info plain", do: func(c *Commands) { c.Infof("signed %s", "a\nb") }, want: "signed a b\n"},
		{name: "info fences commands", do: func(c *Commands) { c.Infof("name %s", "::add-mask::x") },
			want: "::stop-commands::waxseal-00000000000000000000000000000000\nname ::add-mask::x\n::waxseal-00000000000000000000000000000000::\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			c := NewCommands(&buf)
			c.rand = bytes.NewReader(make([]byte, 16))
			tc.do(c)
			if diff := cmp.Diff(tc.want, buf.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInfofTokenIsRandom(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := NewCommands(&buf)
	c.Infof("::a")
	c.Infof("::b")
	lines := strings.Split(buf.String(), "\n")
	if lines[0] == lines[3] || !strings.HasPrefix(lines[0], "::stop-commands::waxseal-") {
		t.Errorf("stop-commands tokens are not fresh per line: %q", buf.String())
	}
}
