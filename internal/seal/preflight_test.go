package seal

import (
	"errors"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

func TestPreflight(t *testing.T) {
	t.Parallel()
	reg := npmregistry.New("t")
	t.Cleanup(reg.Close)
	reg.AddVersion("@octo/published", "1.0.0", []byte("x"))
	reg.AddVersion("@octo/next", "1.0.0", []byte("x"))
	reg.AddUnpublished("@octo/gone", "2.0.0")
	tb := func(name, version string) *npm.Tarball {
		return &npm.Tarball{Path: "/w/" + strings.TrimPrefix(strings.ReplaceAll(name, "/", "-"), "@") + ".tgz", Manifest: npm.Manifest{Name: name, Version: version}}
	}
	tarballs := []*npm.Tarball{tb("@octo/published", "1.0.0"), tb("@octo/next", "1.1.0"), tb("@octo/brand-new", "0.1.0"),
		tb("@octo/gone", "2.0.0"), nil, tb("@private/thing", "1.0.0")}
	rep := &Report{Artifacts: make([]Artifact, len(tarballs))}
	rep.Artifacts[4].Error = "unreadable"
	o := Options{Retry: retry.Policy{Clock: &retrytest.Clock{}}, RegistryFor: func(name string) (string, error) {
		if strings.HasPrefix(name, "@private/") {
			return "", errors.New(".npmrc sets @private:registry to a URL with an environment variable in it")
		}
		return reg.URL, nil
	}}
	o.preflight(t.Context(), npmArtifacts(tarballs...), rep, true)
	for i, want := range []string{"is already published", "", "", "never allows a version number again", "unreadable", "environment variable"} {
		got := rep.Artifacts[i].Error
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("package %d: error %q, want %q", i, got, want)
		}
	}
	if !strings.Contains(rep.Artifacts[0].Error, `bump "version"`) {
		t.Errorf("no fix in %q", rep.Artifacts[0].Error)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "@octo/brand-new does not exist") || !strings.Contains(rep.Warnings[0], "trusted publisher") {
		t.Errorf("warnings = %q, want one about the new package and how to publish it first", rep.Warnings)
	}
	for _, r := range reg.Requests() {
		if strings.HasPrefix(r, "GET /@octo%2Funreadable") {
			t.Errorf("asked about an unreadable tarball: %s", r)
		}
	}
}

// TestPreflightNewPackageOutsideCI: outside CI the new-package warning does not talk as if trusted publishing
// were in use.
func TestPreflightNewPackageOutsideCI(t *testing.T) {
	t.Parallel()
	reg := npmregistry.New("t")
	t.Cleanup(reg.Close)
	rep := &Report{Artifacts: make([]Artifact, 1)}
	o := Options{Retry: retry.Policy{Clock: &retrytest.Clock{}}, RegistryFor: func(string) (string, error) { return reg.URL, nil }}
	o.preflight(t.Context(), npmArtifacts(&npm.Tarball{Path: "/w/x.tgz", Manifest: npm.Manifest{Name: "brand-new", Version: "0.1.0"}}), rep, false)
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "its first publish creates it") || strings.Contains(rep.Warnings[0], "trusted publisher on npmjs.com") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
}
