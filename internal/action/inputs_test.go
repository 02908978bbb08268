package action

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	t.Parallel()
	base := map[string]string{"GITHUB_WORKSPACE": "/github/workspace"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    func(c *Config) any
		wantVal any
		wantErr string
	}{
		{name: "defaults", env: base, want: func(c *Config) any {
			return []any{c.Patterns, c.Provenance, c.Upload, c.Overwrite, c.NPMChecks, c.Staging, c.UploadTarballs}
		}, wantVal: []any{[]string{"*.tgz"}, true, "auto", false, true, false, false}},
		{name: "paths lines, blanks and comments dropped", env: with("INPUT_PATHS", " dist/*.tgz \n\n# packed by npm\nother.tgz\n"),
			want: func(c *Config) any { return c.Patterns }, wantVal: []string{"dist/*.tgz", "other.tgz"}},
		{name: "hyphenated inputs keep their hyphen", env: with("INPUT_UPLOAD-TARBALLS", "TRUE", "INPUT_NPM-CHECKS", "False", "INPUT_RELEASE-TAG", "v1"),
			want: func(c *Config) any { return []any{c.UploadTarballs, c.NPMChecks, c.ReleaseTag} }, wantVal: []any{true, false, "v1"}},
		{name: "bad boolean lists the allowed values", env: with("INPUT_PROVENANCE", "yes"),
			wantErr: "input `provenance`: \"yes\" is not allowed: use one of true, false"},
		{name: "bad enum lists the allowed values", env: with("INPUT_UPLOAD", "always"),
			wantErr: "input `upload`: \"always\" is not allowed: use one of auto, true, false"},
		{name: "every bad input at once", env: with("INPUT_OVERWRITE", "1", "INPUT_STAGING", "on"),
			wantErr: "input `overwrite`: \"1\" is not allowed: use one of true, false (or True/TRUE, False/FALSE)\ninput `staging`: \"on\""},
		{name: "staging contradicts a trusted root", env: with("INPUT_STAGING", "true", "INPUT_TRUSTED-ROOT", "root.json"),
			wantErr: "contradict"},
		{name: "no workspace", env: map[string]string{}, wantErr: "GITHUB_WORKSPACE is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(envFunc(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantVal, tc.want(c)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInputErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, err := Load(envFunc(map[string]string{"GITHUB_WORKSPACE": "/w", "INPUT_OVERWRITE": "maybe"}))
	var ie *InputError
	if !errors.As(err, &ie) || ie.Input != "overwrite" || ie.Value != "maybe" {
		t.Fatalf("err = %#v, want an *InputError for overwrite=maybe", err)
	}
}
