// Package filecommands reads the file-command files a step writes (GITHUB_OUTPUT, GITHUB_ENV) exactly as the
// runner does, so tests see what the runner would.
package filecommands

import (
	"fmt"
	"strings"
)

// Parse reads a file command file (GITHUB_OUTPUT, GITHUB_ENV) the way the runner does
// (actions/runner FileCommandManager, EnvFileKeyValuePairs): blank lines are skipped, NAME=VALUE and
// NAME<<DELIMITER heredocs are accepted, a later value for a name replaces an earlier one.
func Parse(text string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for {
		line, _, ok := readLine(text, &i)
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			if eq == 0 {
				return nil, fmt.Errorf("invalid format %q: name must not be empty", line)
			}
			out[line[:eq]] = line[eq+1:]
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("invalid format %q: name and delimiter must not be empty", line)
			}
			v, err := readHeredoc(text, &i, delim)
			if err != nil {
				return nil, err
			}
			out[name] = v
		default:
			return nil, fmt.Errorf("invalid format %q", line)
		}
	}
}

func readHeredoc(text string, i *int, delim string) (string, error) {
	start, end := *i, *i
	for {
		l, nl, ok := readLine(text, i)
		if !ok {
			return "", fmt.Errorf("invalid value: matching delimiter %q not found", delim)
		}
		if l == delim {
			break
		}
		if nl == "" {
			return "", fmt.Errorf("invalid value: EOF marker missing new line")
		}
		end = *i - len(nl)
	}
	if end > start {
		return text[start:end], nil
	}
	return "", nil
}

// readLine returns the line at *i without its line break ("\n" or "\r\n"), the break itself, and advances *i.
func readLine(text string, i *int) (line, newline string, ok bool) {
	if *i >= len(text) {
		return "", "", false
	}
	rest := text[*i:]
	n := strings.IndexByte(rest, '\n')
	if n < 0 {
		*i = len(text)
		return rest, "", true
	}
	line, newline = rest[:n], "\n"
	if strings.HasSuffix(line, "\r") {
		line, newline = line[:len(line)-1], "\r\n"
	}
	*i += n + 1
	return line, newline, true
}
