package seal

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/provenance"
)

// listed is one line of a checksums file: a file name and the digest the line gives it.
type listed struct {
	line   int
	name   string // as written, less a leading "./"
	alg    string // sha256 or sha512, from the digest's length
	digest string // lowercase hex
}

func (l listed) subject() provenance.Subject {
	s := provenance.Subject{Name: l.name}
	if l.alg == "sha256" {
		s.SHA256 = l.digest
	} else {
		s.SHA512 = l.digest
	}
	return s
}

// parseChecksums reads a checksums file in the format sha256sum and sha512sum write (GNU coreutils), which
// goreleaser's checksums.txt also uses: per line a hex digest, a space, a space or "*" (binary mode), and the file
// name; a line that starts with a backslash has its name escaped (\\ for a backslash, \n for a newline). Empty lines
// are skipped. Anything else is refused with its line number.
func parseChecksums(file string, content []byte) ([]listed, error) {
	var out []listed
	seen := map[string]int{}
	for i, raw := range bytes.Split(content, []byte("\n")) {
		n := i + 1
		line := string(raw)
		if line == "" {
			continue
		}
		l, err := parseChecksumLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", file, n, err)
		}
		l.line = n
		if first, dup := seen[l.name]; dup {
			return nil, fmt.Errorf("%s line %d: %s is also on line %d: a checksums file lists each file once", file, n, printable.Quote(l.name), first)
		}
		seen[l.name] = n
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no files: is it a checksums file (sha256sum's output)?", file)
	}
	return out, nil
}

func parseChecksumLine(line string) (listed, error) {
	const want = "want HEX  NAME or HEX *NAME (the output of sha256sum or sha512sum; goreleaser's checksums.txt)"
	escaped := strings.HasPrefix(line, `\`)
	if escaped {
		line = line[1:]
	}
	digest, rest, ok := strings.Cut(line, " ")
	if !ok || (rest == "" || rest[0] != ' ' && rest[0] != '*') {
		if strings.HasPrefix(line, "SHA") && strings.Contains(line, ") = ") {
			return listed{}, fmt.Errorf("this is the BSD tag format (shasum --tag): write it with sha256sum instead, %s", want)
		}
		return listed{}, fmt.Errorf("%s is not a checksum line: %s", printable.Quote(abbrevLine(line)), want)
	}
	l := listed{digest: strings.ToLower(digest), name: rest[1:]}
	if b, err := hex.DecodeString(l.digest); err != nil || len(b) != 32 && len(b) != 64 {
		return listed{}, fmt.Errorf("%s is not a sha256 or sha512 digest in hex: %s", printable.Quote(abbrevLine(digest)), want)
	} else if len(b) == 32 {
		l.alg = "sha256"
	} else {
		l.alg = "sha512"
	}
	if escaped {
		name, err := unescapeChecksumName(l.name)
		if err != nil {
			return listed{}, err
		}
		l.name = name
	}
	if strings.HasSuffix(l.name, "\r") {
		return listed{}, fmt.Errorf("the line ends with a carriage return (a file written with Windows line endings): convert it to \\n line endings")
	}
	if err := CheckPath(l.name); err != nil {
		return listed{}, err
	}
	clean := path.Clean(strings.TrimPrefix(l.name, "./"))
	if l.name == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return listed{}, fmt.Errorf("the file name %s is not a path inside the checksums file's directory", printable.Quote(l.name))
	}
	l.name = clean
	return l, nil
}

// unescapeChecksumName undoes sha256sum's escaping of a name that holds a backslash or a line break.
func unescapeChecksumName(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("the escaped name %s ends with a lone backslash", printable.Quote(s))
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("the escaped name %s holds the unknown escape \\%c", printable.Quote(s), s[i])
		}
	}
	return b.String(), nil
}

func abbrevLine(s string) string { return printable.Abbrev(s, 80) }

// checkChecksums holds every line of every checksums file to the file of that name this run signs: the file must
// be among the run's artifacts (a subject waxseal attests is one whose bytes it hashed in this run), and its digest
// must be the one listed. Names are resolved from the checksums file's directory.
func checkChecksums(arts []*artifact, rep *Report) {
	byPath := map[string]*artifact{}
	for _, a := range arts {
		if a != nil {
			byPath[filepath.Clean(a.Path)] = a
		}
	}
	for i, a := range arts {
		if a == nil || a.Kind != Checksums {
			continue
		}
		var problems []string
		for _, l := range a.listed {
			if err := checkListed(a, l, byPath); err != nil {
				problems = append(problems, err.Error())
			}
		}
		if len(problems) > 0 {
			rep.Artifacts[i].Error = strings.Join(problems, "; ")
		}
	}
}

func checkListed(sums *artifact, l listed, byPath map[string]*artifact) error {
	where := fmt.Sprintf("%s line %d", sums.Path, l.line)
	target, ok := byPath[filepath.Join(filepath.Dir(sums.Path), filepath.FromSlash(l.name))]
	if !ok {
		return fmt.Errorf("%s: %s is not among the files this run signs: sign it in the same run (name it as an artifact) or remove the line",
			where, printable.Quote(l.name))
	}
	got := hex.EncodeToString(target.sha256)
	if l.alg == "sha512" {
		got = hex.EncodeToString(target.sha512)
	}
	if got != l.digest {
		return fmt.Errorf("%s: %s is listed with %s %s, but the file's is %s: make the checksums file again from the files you release",
			where, printable.Quote(l.name), l.alg, l.digest, got)
	}
	return nil
}
