package npm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Manifest is what waxseal needs from package/package.json.
type Manifest struct {
	Name       string
	Version    string
	Private    bool // JavaScript truthiness of "private", as npm publish tests it
	Repository Repository
	Raw        []byte // package.json exactly as stored in the tarball
	// Tarball is the path of the tarball the manifest came from, when read by ReadTarball.
	Tarball string
}

// Repository is package.json's "repository", which may be a string ("owner/repo",
// "github:owner/repo", a URL) or an object; a string becomes {Type: "git", URL: s} as npm
// normalizes it.
type Repository struct {
	Type, URL, Directory string
}

// UnmarshalJSON accepts both forms of "repository". Fields of the wrong JSON type are left
// empty rather than failing: npm ignores them too, and CheckPublishable reports a missing URL.
func (r *Repository) UnmarshalJSON(b []byte) error {
	*r = Repository{}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = Repository{Type: "git", URL: s}
		return nil
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(b, &o) != nil {
		return nil
	}
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(o[k], &v)
		return v
	}
	*r = Repository{Type: str("type"), URL: str("url"), Directory: str("directory")}
	return nil
}

// ParseManifest parses and validates package.json the way npm reads it when it publishes: as
// JavaScript's JSON.parse reads it (see jsjson.go for what is refused as ambiguous), a leading
// byte-order mark ignored, then "name" and "version" as npm's normalization leaves them. Where npm
// would publish a different name or version than the one written (it trims the name and
// semver.clean()s the version), the manifest is refused with the exact value to write instead,
// rather than normalized: the tarball's package.json then says what the registry will show.
// Errors are *TarballError wrapping ErrManifest, naming the field and the fix.
func ParseManifest(raw []byte) (Manifest, error) {
	m := Manifest{Raw: raw}
	// npm reads package.json as UTF-8 text, and json-parse-even-better-errors strips one U+FEFF.
	body, base := raw, 0
	if bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		body, base = raw[3:], 3
	}
	doc, err := parseJSObject(body, base)
	if err != nil {
		return m, err
	}
	if m.Name, err = stringMember(doc, "name", `set "name", e.g. "@scope/pkg"`); err != nil {
		return m, err
	}
	if t := jsTrim(m.Name); t != m.Name && ValidateName(t) == nil {
		// @npmcli/package-json normalize (fixName): data.name = data.name.trim()
		return m, manifestErr("name", fmt.Sprintf("%s has leading or trailing white space: npm publishes it as %s",
			quote(m.Name), quote(t)), `set "name" to `+quote(t))
	}
	if err := ValidateName(m.Name); err != nil {
		return m, err
	}
	if m.Version, err = stringMember(doc, "version", `set "version", e.g. "1.0.0"`); err != nil {
		return m, err
	}
	if err := ValidateVersion(m.Version); err != nil {
		return m, err
	}
	m.Private = doc["private"].truthy()
	m.Repository = repositoryOf(doc)
	return m, nil
}

// repositoryOf reads "repository" after npm's normalization (@npmcli/package-json,
// fixRepositoryField): a truthy "repositories" replaces it with repositories[0] (JavaScript
// indexing: an array's first element, a string's first character, an object's "0" member).
func repositoryOf(doc map[string]jsValue) Repository {
	v, ok := doc["repository"]
	if rs, has := doc["repositories"]; has && rs.truthy() {
		v, ok = firstOf(rs)
	}
	if !ok || !v.truthy() {
		return Repository{}
	}
	var r Repository
	switch v.kind {
	case '"':
		r = Repository{Type: "git", URL: v.str}
	case '{':
		_ = r.UnmarshalJSON(v.raw) // never fails: wrong types leave fields empty
	}
	return r
}

// firstOf is JavaScript's v[0].
func firstOf(v jsValue) (jsValue, bool) {
	var raw json.RawMessage
	switch v.kind {
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(v.raw, &list) != nil || len(list) == 0 {
			return jsValue{}, false
		}
		raw = list[0]
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(v.raw, &obj) != nil || obj["0"] == nil {
			return jsValue{}, false
		}
		raw = obj["0"]
	case '"':
		units := utf16.Encode([]rune(v.str))
		return jsValue{kind: '"', str: string(utf16.Decode(units[:1]))}, true // never empty: v is truthy
	default:
		return jsValue{}, false
	}
	// The document was validated as a whole, so encoding/json reads this member as JavaScript does.
	out := jsValue{kind: raw[0], raw: raw}
	switch {
	case raw[0] == '"':
		_ = json.Unmarshal(raw, &out.str)
	case raw[0] == '-' || ('0' <= raw[0] && raw[0] <= '9'):
		out.kind = '0'
	}
	return out, true
}

func manifestErr(field, problem, fix string) *TarballError {
	return &TarballError{Field: field, Problem: problem, Fix: fix, Err: ErrManifest}
}

// stringMember returns a string member, refusing it if missing, null or not a string.
func stringMember(doc map[string]jsValue, name, fix string) (string, error) {
	v, ok := doc[name]
	switch {
	case !ok || v.kind == 'n':
		return "", manifestErr(name, "is missing", fix)
	case v.kind != '"':
		return "", manifestErr(name, "is not a string", fix)
	}
	return v.str, nil
}

var scopedName = regexp.MustCompile(`^(?:@([^/]+?)/)?([^/]+?)$`)

// ValidateName applies npm's package name rules (validate-npm-package-name's errors; legacy
// warnings such as capital letters are accepted, as the registry accepts them for existing packages).
func ValidateName(name string) error {
	bad := ""
	switch {
	case name == "":
		bad = "is empty"
	case strings.HasPrefix(name, "."):
		bad = "starts with a period"
	case strings.HasPrefix(name, "-"):
		bad = "starts with a hyphen"
	case strings.HasPrefix(name, "_"):
		bad = "starts with an underscore"
	case jsTrim(name) != name:
		bad = "has leading or trailing spaces"
	case isASCII(name) && (strings.ToLower(name) == "node_modules" || strings.ToLower(name) == "favicon.ico"):
		bad = "is a reserved name"
	case !urlSafe(name):
		m := scopedName.FindStringSubmatch(name)
		switch {
		case m == nil || m[1] == "" || !urlSafe(m[1]) || !urlSafe(m[2]):
			bad = "contains characters that are not URL-safe"
		case strings.HasPrefix(m[2], "."):
			bad = "starts with a period after the scope"
		}
	}
	if bad == "" {
		return nil
	}
	return manifestErr("name", fmt.Sprintf("%s %s", quote(name), bad),
		`use lowercase letters, digits, "-", "." and "_", optionally as "@scope/name"`)
}

// urlSafe reports whether encodeURIComponent(s) == s in JavaScript.
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.!~*'()", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ValidateVersion requires the version exactly as npm publishes it: a semantic version that npm
// accepts (node-semver, at most 256 characters, each number at most 2^53-1) and that npm's
// semver.clean(version, loose) leaves unchanged, so no "v" or "=" prefix, spaces, leading zeros or
// "+build" suffix (npm publish strips them, and the provenance subject would not match the
// published version). The fix names the version npm would publish.
func ValidateVersion(v string) error {
	fail := func(problem, fix string) error { return manifestErr("version", quote(v)+" "+problem, fix) }
	if jsLength(v) > semverMaxLength {
		return fail("is longer than 256 characters", `set "version" to a semantic version such as "1.0.0"`)
	}
	switch pub, r := publishedVersion(v); {
	case r == semverTooBig:
		return fail("has a number larger than npm allows", "keep each number at most 2^53-1")
	case r != semverOK:
		return fail("is not a semantic version", `set "version" to MAJOR.MINOR.PATCH, e.g. "1.0.0"`)
	case pub != v:
		return fail("is not clean: npm publishes it as "+quote(pub),
			`set "version" to `+quote(pub)+` (no "v" prefix, spaces, leading zeros or "+build" suffix)`)
	}
	return nil
}

// isASCII reports whether s is 7-bit ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
