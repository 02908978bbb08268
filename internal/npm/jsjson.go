package npm

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// npm reads package.json with JSON.parse (json-parse-even-better-errors), and Go's encoding/json
// reads it differently: it matches struct keys case-insensitively and with Unicode folding ("Name"
// or "verſion" fill Name or Version), turns invalid UTF-8 and lone surrogate escapes into U+FFFD,
// and has its own depth limit. So package.json is parsed here by JSON.parse's grammar (ECMA-404)
// and refused wherever JavaScript and another reader could see different documents: invalid UTF-8,
// lone surrogates, a key twice in any object (JSON.parse keeps the last, other readers the first
// or refuse), and "__proto__" keys (an own property for JSON.parse, but code that copies the object
// with assignment turns it into the prototype).

// maxJSONDepth bounds nesting; package.json documents nest a handful of levels.
const maxJSONDepth = 512

// jsValue is a top-level member of package.json as JSON.parse produces it.
type jsValue struct {
	kind byte   // '{', '[', '"', '0' (number), 't', 'f' or 'n' (null)
	raw  []byte // the value's JSON text
	str  string // a string's value
}

// truthy is JavaScript's ToBoolean of the value; an absent member (the zero jsValue) is undefined.
func (v jsValue) truthy() bool {
	switch v.kind {
	case 0:
		return false
	case '"':
		return v.str != ""
	case '0':
		f, _ := strconv.ParseFloat(string(v.raw), 64) // out of range: ±Inf (truthy); underflow: 0 (falsy), as in JS
		return f != 0
	case 'f', 'n':
		return false
	}
	return true
}

type jsParser struct {
	b    []byte
	pos  int
	base int      // offset of b in the file, for messages
	path []string // keys from the root to the value being parsed, for messages
}

// parseJSObject parses package.json's text (after the byte-order mark npm strips) and returns its
// top-level members. Errors are *TarballError wrapping ErrManifest.
func parseJSObject(b []byte, base int) (map[string]jsValue, error) {
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, w := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && w <= 1 {
				break
			}
			i += w
		}
		return nil, manifestErr("", fmt.Sprintf("is not valid UTF-8 (at byte %d; npm reads such bytes as U+FFFD)", base+i),
			"save package.json as UTF-8")
	}
	p := &jsParser{b: b, base: base}
	p.ws()
	if p.pos >= len(b) || b[p.pos] != '{' {
		if _, err := p.value(0); err != nil {
			return nil, err
		}
		return nil, manifestErr("", "is not a JSON object", `make package.json an object: {"name": ..., "version": ...}`)
	}
	top := make(map[string]jsValue)
	if err := p.object(0, top); err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(b) {
		return nil, p.syntax("unexpected text after the document")
	}
	return top, nil
}

func (p *jsParser) syntax(what string) error {
	return manifestErr("", fmt.Sprintf("is not valid JSON (%s at byte %d)", what, p.base+p.pos),
		"fix the JSON syntax")
}

func (p *jsParser) where() string {
	if len(p.path) == 0 {
		return "at the top level"
	}
	return "in " + strings.Join(p.path, ".")
}

func (p *jsParser) ws() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses any value; for a string it also returns the decoded text.
func (p *jsParser) value(depth int) (jsValue, error) {
	p.ws()
	if p.pos >= len(p.b) {
		return jsValue{}, p.syntax("unexpected end")
	}
	start := p.pos
	v := jsValue{kind: p.b[p.pos]}
	var err error
	switch c := p.b[p.pos]; {
	case c == '{':
		err = p.object(depth+1, nil)
	case c == '[':
		err = p.array(depth + 1)
	case c == '"':
		v.str, err = p.string()
	case c == '-' || ('0' <= c && c <= '9'):
		v.kind = '0'
		err = p.number()
	default:
		err = p.literal()
	}
	v.raw = p.b[start:p.pos]
	return v, err
}

func (p *jsParser) literal() error {
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(string(p.b[p.pos:min(len(p.b), p.pos+5)]), lit) {
			p.pos += len(lit)
			return nil
		}
	}
	return p.syntax(fmt.Sprintf("unexpected %q", p.b[p.pos]))
}

// object parses an object; keep, if not nil, receives the members (the top level).
func (p *jsParser) object(depth int, keep map[string]jsValue) error {
	if depth > maxJSONDepth {
		return manifestErr("", fmt.Sprintf("nests objects and arrays more than %d deep", maxJSONDepth), "flatten it")
	}
	p.pos++ // {
	seen := make(map[string]struct{})
	for first := true; ; first = false {
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == '}' && first {
			p.pos++
			return nil
		}
		if p.pos >= len(p.b) || p.b[p.pos] != '"' {
			return p.syntax("expected a string key")
		}
		key, err := p.string()
		if err != nil {
			return err
		}
		if _, dup := seen[key]; dup {
			return manifestErr("", fmt.Sprintf("has the key %q twice %s (JavaScript keeps the last one, other readers "+
				"the first or neither)", key, p.where()), "remove one of them")
		}
		if key == "__proto__" {
			return manifestErr("", fmt.Sprintf(`has a "__proto__" key %s, which JavaScript code that copies `+
				"package.json can turn into the object's prototype", p.where()), "remove it")
		}
		seen[key] = struct{}{}
		p.ws()
		if p.pos >= len(p.b) || p.b[p.pos] != ':' {
			return p.syntax("expected ':'")
		}
		p.pos++
		p.path = append(p.path, strconv.Quote(key))
		v, err := p.value(depth)
		p.path = p.path[:len(p.path)-1]
		if err != nil {
			return err
		}
		if keep != nil {
			keep[key] = v
		}
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.b) && p.b[p.pos] == '}' {
			p.pos++
			return nil
		}
		return p.syntax("expected ',' or '}'")
	}
}

func (p *jsParser) array(depth int) error {
	if depth > maxJSONDepth {
		return manifestErr("", fmt.Sprintf("nests objects and arrays more than %d deep", maxJSONDepth), "flatten it")
	}
	p.pos++ // [
	p.ws()
	if p.pos < len(p.b) && p.b[p.pos] == ']' {
		p.pos++
		return nil
	}
	for i := 0; ; i++ {
		p.path = append(p.path, strconv.Itoa(i))
		_, err := p.value(depth)
		p.path = p.path[:len(p.path)-1]
		if err != nil {
			return err
		}
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.b) && p.b[p.pos] == ']' {
			p.pos++
			return nil
		}
		return p.syntax("expected ',' or ']'")
	}
}

func (p *jsParser) number() error {
	digits := func() int {
		n := 0
		for p.pos < len(p.b) && '0' <= p.b[p.pos] && p.b[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.b[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.b) && p.b[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return p.syntax("malformed number")
	}
	if p.pos < len(p.b) && p.b[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.syntax("malformed number")
		}
	}
	if p.pos < len(p.b) && (p.b[p.pos] == 'e' || p.b[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.b) && (p.b[p.pos] == '+' || p.b[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.syntax("malformed number")
		}
	}
	return nil
}

// string parses a string literal; the document is valid UTF-8, so only escapes need decoding.
func (p *jsParser) string() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for {
		if p.pos >= len(p.b) {
			return "", p.syntax("unterminated string")
		}
		c := p.b[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.syntax("control character in a string")
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.b) {
			return "", p.syntax("unterminated string")
		}
		esc := p.b[p.pos+1]
		p.pos += 2
		if i := strings.IndexByte(`"\/bfnrt`, esc); i >= 0 {
			b.WriteByte("\"\\/\b\f\n\r\t"[i])
			continue
		}
		if esc != 'u' {
			return "", p.syntax(fmt.Sprintf(`invalid escape "\%c"`, esc))
		}
		r, err := p.hex4()
		if err != nil {
			return "", err
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || p.pos+1 >= len(p.b) || p.b[p.pos] != '\\' || p.b[p.pos+1] != 'u' {
				return "", p.lone(r)
			}
			p.pos += 2
			lo, err := p.hex4()
			if err != nil {
				return "", err
			}
			hi := r
			if r = utf16.DecodeRune(hi, lo); r == utf8.RuneError {
				return "", p.lone(hi)
			}
		}
		b.WriteRune(r)
	}
}

func (p *jsParser) lone(r rune) error {
	return manifestErr("", fmt.Sprintf(`has a lone UTF-16 surrogate \u%04x in a string %s (JavaScript keeps it, `+
		"other readers turn it into U+FFFD)", r, p.where()), "remove it or write the whole surrogate pair")
}

func (p *jsParser) hex4() (rune, error) {
	if p.pos+4 > len(p.b) {
		return 0, p.syntax("truncated \\u escape")
	}
	n, err := strconv.ParseUint(string(p.b[p.pos:p.pos+4]), 16, 32)
	if err != nil || strings.ContainsAny(string(p.b[p.pos:p.pos+4]), "+-_xX") {
		return 0, p.syntax("invalid \\u escape")
	}
	p.pos += 4
	return rune(n), nil
}
