package npm

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseManifest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		raw       string
		want      Manifest
		wantField string // field of the *TarballError, "" for whole-document errors
		wantErr   bool
	}{
		{name: "object repository", raw: `{"name":"@a/b","version":"1.2.3","repository":{"type":"git","url":"git+https://github.com/o/r.git","directory":"pkgs/b"}}`,
			want: Manifest{Name: "@a/b", Version: "1.2.3", Repository: Repository{Type: "git", URL: "git+https://github.com/o/r.git", Directory: "pkgs/b"}}},
		{name: "string repository", raw: `{"name":"a","version":"1.2.3","repository":"o/r"}`,
			want: Manifest{Name: "a", Version: "1.2.3", Repository: Repository{Type: "git", URL: "o/r"}}},
		{name: "repository of wrong type is ignored", raw: `{"name":"a","version":"1.2.3","repository":42}`,
			want: Manifest{Name: "a", Version: "1.2.3"}},
		{name: "url of wrong type is ignored", raw: `{"name":"a","version":"1.2.3","repository":{"url":["x"]}}`,
			want: Manifest{Name: "a", Version: "1.2.3"}},
		{name: "repositories replaces repository", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":[{"type":"git","url":"o/r"},"p/q"]}`,
			want: Manifest{Name: "a", Version: "1.2.3", Repository: Repository{Type: "git", URL: "o/r"}}},
		{name: "repositories not an array empties repository", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":{"url":"o/r"}}`,
			want: Manifest{Name: "a", Version: "1.2.3"}},
		// [] is truthy in JavaScript, so npm replaces "repository" with [][0], undefined.
		{name: "empty repositories empties repository", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":[]}`,
			want: Manifest{Name: "a", Version: "1.2.3"}},
		{name: "false repositories is ignored", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":false}`,
			want: Manifest{Name: "a", Version: "1.2.3", Repository: Repository{Type: "git", URL: "x/y"}}},
		{name: "byte order mark", raw: "\ufeff" + `{"name":"a","version":"1.0.0"}`, want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "private true", raw: `{"name":"a","version":"1.0.0","private":true}`, want: Manifest{Name: "a", Version: "1.0.0", Private: true}},
		{name: "private string is truthy", raw: `{"name":"a","version":"1.0.0","private":"false"}`, want: Manifest{Name: "a", Version: "1.0.0", Private: true}},
		{name: "private 0 is falsy", raw: `{"name":"a","version":"1.0.0","private":0}`, want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "private false", raw: `{"name":"a","version":"1.0.0","private":false}`, want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "private empty string", raw: `{"name":"a","version":"1.0.0","private":""}`, want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "prerelease", raw: `{"name":"a","version":"1.0.0-beta.2"}`, want: Manifest{Name: "a", Version: "1.0.0-beta.2"}},
		{name: "array", raw: `[1,2]`, wantErr: true},
		{name: "trailing garbage", raw: `{"name":"a","version":"1.0.0"} x`, wantErr: true},
		{name: "name not string", raw: `{"name":1,"version":"1.0.0"}`, wantField: "name", wantErr: true},
		{name: "name null", raw: `{"name":null,"version":"1.0.0"}`, wantField: "name", wantErr: true},
		{name: "version number", raw: `{"name":"a","version":1}`, wantField: "version", wantErr: true},
		{name: "build metadata", raw: `{"name":"a","version":"1.0.0+git.abc"}`, wantField: "version", wantErr: true},
		// JavaScript reads keys case-sensitively: "Name" and "verſion" are other members.
		{name: "case variants of keys", raw: `{"name":"a","version":"1.0.0","NAME":"b","Version":"2.0.0","verſion":"3.0.0"}`,
			want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "escaped keys", raw: `{"n\u0061me":"a","version":"1.0.0"}`, want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "duplicate key", raw: `{"name":"a","version":"1.0.0","name":"b"}`, wantErr: true},
		{name: "duplicate nested key", raw: `{"name":"a","version":"1.0.0","repository":{"url":"x/y","url":"o/r"}}`, wantErr: true},
		{name: "proto key", raw: `{"name":"a","version":"1.0.0","__proto__":{"private":true}}`, wantErr: true},
		{name: "lone surrogate", raw: `{"name":"a","version":"1.0.0","description":"\udfff"}`, wantErr: true},
		{name: "invalid UTF-8", raw: "{\"name\":\"a\",\"version\":\"1.0.0\",\"x\":\"\xff\"}", wantErr: true},
		{name: "two byte-order marks", raw: "\ufeff\ufeff" + `{"name":"a","version":"1.0.0"}`, wantErr: true},
		// npm trims the name and semver.clean()s the version before publishing: refused, with npm's value.
		{name: "name with spaces", raw: `{"name":" a\u3000","version":"1.0.0"}`, wantField: "name", wantErr: true},
		{name: "private underflows to 0", raw: `{"name":"a","version":"1.0.0","private":1e-400}`, want: Manifest{Name: "a", Version: "1.0.0"}},
		{name: "private overflows to Infinity", raw: `{"name":"a","version":"1.0.0","private":1e400}`, want: Manifest{Name: "a", Version: "1.0.0", Private: true}},
		// repositories[0] as JavaScript indexes it: a string's first character, an object's "0".
		{name: "repositories string", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":"o/r"}`,
			want: Manifest{Name: "a", Version: "1.2.3", Repository: Repository{Type: "git", URL: "o"}}},
		{name: "repositories object with 0", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":{"0":{"url":"o/r"}}}`,
			want: Manifest{Name: "a", Version: "1.2.3", Repository: Repository{URL: "o/r"}}},
		{name: "repositories first entry empty", raw: `{"name":"a","version":"1.2.3","repository":"x/y","repositories":[""]}`,
			want: Manifest{Name: "a", Version: "1.2.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseManifest([]byte(tt.raw))
			if tt.wantErr {
				var te *TarballError
				if !errors.As(err, &te) || !errors.Is(err, ErrManifest) || te.Field != tt.wantField || te.Fix == "" {
					t.Fatalf("ParseManifest(%s) = %#v, want ErrManifest on field %q with a fix", tt.raw, err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseManifest(%s): %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Manifest{}, "Raw")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if string(got.Raw) != tt.raw {
				t.Errorf("Raw = %q, want the input", got.Raw)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pkg     string
		wantBad string // "" if valid
	}{
		{name: "plain", pkg: "waxseal-example"},
		{name: "scoped", pkg: "@waxseal-example/hello"},
		{name: "dots and underscores", pkg: "a.b_c"},
		{name: "legacy capitals are accepted", pkg: "JSONStream"},
		{name: "legacy specials are accepted", pkg: "x!(y)"},
		{name: "empty", pkg: "", wantBad: "empty"},
		{name: "leading dot", pkg: ".hidden", wantBad: "period"},
		{name: "leading hyphen", pkg: "-x", wantBad: "hyphen"},
		{name: "leading underscore", pkg: "_x", wantBad: "underscore"},
		{name: "spaces", pkg: " x", wantBad: "spaces"},
		{name: "node_modules", pkg: "node_modules", wantBad: "reserved"},
		{name: "favicon any case", pkg: "Favicon.ico", wantBad: "reserved"},
		{name: "slash unscoped", pkg: "a/b", wantBad: "URL-safe"},
		{name: "two slashes", pkg: "@a/b/c", wantBad: "URL-safe"},
		{name: "scope only", pkg: "@a", wantBad: "URL-safe"},
		{name: "empty scope", pkg: "@/b", wantBad: "URL-safe"},
		{name: "scoped dot name", pkg: "@a/.b", wantBad: "period"},
		{name: "unicode", pkg: "naïve", wantBad: "URL-safe"},
		{name: "newline", pkg: "a\nb", wantBad: "URL-safe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateName(tt.pkg)
			if tt.wantBad == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tt.pkg, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantBad) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ValidateName(%q) = %v, want a one-line error mentioning %q", tt.pkg, err, tt.wantBad)
			}
		})
	}
}

func TestValidateVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string
		wantFix string // "" if valid
	}{
		{name: "release", version: "1.2.3"},
		{name: "zeros", version: "0.0.0"},
		{name: "prerelease", version: "1.2.3-alpha.1"},
		{name: "max safe integer", version: "9007199254740991.0.0"},
		{name: "v prefix", version: "v1.2.3", wantFix: `set "version" to "1.2.3"`},
		{name: "equals prefix", version: "=1.2.3", wantFix: `set "version" to "1.2.3"`},
		{name: "spaces", version: " 1.2.3 ", wantFix: `set "version" to "1.2.3"`},
		{name: "build metadata", version: "1.2.3+build.5", wantFix: `set "version" to "1.2.3"`},
		{name: "shorthand", version: "1.2", wantFix: "MAJOR.MINOR.PATCH"},
		// node-semver's loose parse (which npm's package.json normalization uses) reads numbers with
		// leading zeros, and npm publishes them without: "01.2.3" as "1.2.3", "1.2.3-01" as "1.2.3-1".
		{name: "leading zero", version: "01.2.3", wantFix: `set "version" to "1.2.3"`},
		{name: "prerelease leading zero", version: "1.2.3-01", wantFix: `set "version" to "1.2.3-1"`},
		{name: "range", version: "^1.2.3", wantFix: "MAJOR.MINOR.PATCH"},
		{name: "empty", version: "", wantFix: "MAJOR.MINOR.PATCH"},
		{name: "too big", version: "9007199254740992.0.0", wantFix: "2^53-1"},
		{name: "too long", version: "1.0.0-" + strings.Repeat("a", 260), wantFix: "semantic version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateVersion(tt.version)
			if tt.wantFix == "" {
				if err != nil {
					t.Fatalf("ValidateVersion(%q) = %v, want nil", tt.version, err)
				}
				return
			}
			if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tt.wantFix) {
				t.Fatalf("ValidateVersion(%q) = %v, want ErrManifest with %q", tt.version, err, tt.wantFix)
			}
		})
	}
}

// FuzzManifest checks ParseManifest never panics, that accepted manifests satisfy the rules it
// claims to enforce, and that every refusal is a one-line ErrManifest with a fix.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{
		goodManifest, `{"name":"a","version":"1.0.0","private":true,"repository":"o/r"}`,
		`{"name":"a","version":"v1.0.0"}`, `{"name":null}`, `[]`, `"x"`, `{"name":"@a/b","version":"1.0.0-x+y"}`,
		"\ufeff{}", `{"name":"a","version":"1.0.0","repository":{"url":7}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseManifest(raw)
		if err != nil {
			var te *TarballError
			if !errors.As(err, &te) || !errors.Is(err, ErrManifest) || te.Fix == "" || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("refusal %#v is not a one-line ErrManifest with a fix", err)
			}
			return
		}
		if ValidateName(m.Name) != nil || ValidateVersion(m.Version) != nil {
			t.Fatalf("accepted invalid %q@%q", m.Name, m.Version)
		}
		if p := Purl(m.Name, m.Version); !strings.HasPrefix(p, "pkg:npm/") || !strings.HasSuffix(p, "@"+m.Version) {
			t.Fatalf("Purl(%q, %q) = %q", m.Name, m.Version, p)
		}
	})
}
