package npm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"
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

// ParseManifest parses and validates package.json by npm's rules: a JSON object whose "name" is a
// valid npm package name and whose "version" is a clean semantic version. Errors are *TarballError
// wrapping ErrManifest, naming the field and the fix.
func ParseManifest(raw []byte) (Manifest, error) {
	m := Manifest{Raw: raw}
	// npm's JSON parser ignores a leading byte-order mark.
	body := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	var doc struct {
		Name         json.RawMessage `json:"name"`
		Version      json.RawMessage `json:"version"`
		Private      json.RawMessage `json:"private"`
		Repository   *Repository     `json:"repository"`
		Repositories json.RawMessage `json:"repositories"`
	}
	var probe any
	if err := json.Unmarshal(body, &probe); err != nil {
		return m, manifestErr("", "is not valid JSON ("+err.Error()+")", "fix the syntax, e.g. with `npm pkg fix`")
	}
	if _, ok := probe.(map[string]any); !ok {
		return m, manifestErr("", "is not a JSON object", "make package.json an object: {\"name\": ..., \"version\": ...}")
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return m, manifestErr("", "is not valid JSON ("+err.Error()+")", "fix the syntax, e.g. with `npm pkg fix`")
	}
	var err error
	if m.Name, err = stringField("name", doc.Name, `set "name", e.g. "@scope/pkg"`); err != nil {
		return m, err
	}
	if m.Version, err = stringField("version", doc.Version, `set "version", e.g. "1.0.0"`); err != nil {
		return m, err
	}
	if err := ValidateName(m.Name); err != nil {
		return m, err
	}
	if err := ValidateVersion(m.Version); err != nil {
		return m, err
	}
	m.Private = truthy(doc.Private)
	if doc.Repository != nil {
		m.Repository = *doc.Repository
	}
	if truthy(doc.Repositories) {
		// npm's normalization: a truthy "repositories" replaces "repository" with its first entry.
		m.Repository = firstRepository(doc.Repositories)
	}
	return m, nil
}

func firstRepository(raw json.RawMessage) Repository {
	var list []json.RawMessage
	var r Repository
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		_ = r.UnmarshalJSON(list[0]) // never fails: wrong types leave r empty
	}
	return r
}

func manifestErr(field, problem, fix string) *TarballError {
	return &TarballError{Field: field, Problem: problem, Fix: fix, Err: ErrManifest}
}

func stringField(name string, raw json.RawMessage, fix string) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", manifestErr(name, "is missing", fix)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", manifestErr(name, "is not a string", fix)
	}
	return s, nil
}

// truthy mirrors JavaScript truthiness, which is how npm publish tests "private".
func truthy(raw json.RawMessage) bool {
	switch s := strings.TrimSpace(string(raw)); s {
	case "", "false", "null", `""`:
		return false
	default:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f != 0
		}
		return true
	}
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
	case strings.TrimSpace(name) != name:
		bad = "has leading or trailing spaces"
	case strings.EqualFold(name, "node_modules") || strings.EqualFold(name, "favicon.ico"):
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

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER, node-semver's cap on each number.
const maxSafeInteger = 1<<53 - 1

// ValidateVersion requires a clean semantic version as npm publishes it: MAJOR.MINOR.PATCH with an
// optional prerelease, no "v" prefix, no build metadata (npm publish strips both, so the provenance
// subject would not match the published version), each number at most 2^53-1, at most 256 characters.
func ValidateVersion(v string) error {
	fail := func(problem, fix string) error { return manifestErr("version", quote(v)+" "+problem, fix) }
	if len(v) > 256 {
		return fail("is longer than 256 characters", `set "version" to a semantic version such as "1.0.0"`)
	}
	if !isCleanSemver(v) {
		base, _, _ := strings.Cut(strings.TrimLeft(strings.TrimSpace(v), "=v"), "+")
		if isCleanSemver(base) {
			return fail("is not clean: npm publishes it as "+quote(base),
				`set "version" to `+quote(base)+` (no "v" prefix, spaces or "+build" suffix)`)
		}
		return fail("is not a semantic version", `set "version" to MAJOR.MINOR.PATCH, e.g. "1.0.0"`)
	}
	core, _, _ := strings.Cut(v, "-")
	for n := range strings.SplitSeq(core, ".") {
		if x, err := strconv.ParseUint(n, 10, 64); err != nil || x > maxSafeInteger {
			return fail("has a number larger than npm allows", "keep each number at most 2^53-1")
		}
	}
	return nil
}

// isCleanSemver reports MAJOR.MINOR.PATCH[-PRERELEASE] exactly, with no shorthand or build.
func isCleanSemver(v string) bool {
	return semver.IsValid("v"+v) && semver.Canonical("v"+v) == "v"+v
}
