package githubfake

import "testing"

// TestStoredName checks the fake's name rule against what users saw GitHub store.
func TestStoredName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"tilde (softprops/action-gh-release#159)", "tobwen-1.1.0-1~buster_amd64.deb", "tobwen-1.1.0-1.buster_amd64.deb"},
		{"parentheses (actions/upload-release-asset#57)", "app.prod-v1.3.0-(15-5)-6064eac-release.apk", "app.prod-v1.3.0-.15-5.-6064eac-release.apk"},
		{"spaces (cli/cli#10585)", "My App 1.0.0 Setup.exe", "My.App.1.0.0.Setup.exe"},
		{"a run of spaces after a period (electron/forge#1761)", "fake.      file.txt", "fake.file.txt"},
		{"a run of symbols (electron/forge#1761)", "erick%%%%%!!!zhao.txt", "erick.zhao.txt"},
		{"colon (softprops/action-gh-release#159)", "pkg-1:2.0.tgz", "pkg-1.2.0.tgz"},
		{"plus and at are kept", "zxcvbn-v2.3+2@x.tbz", "zxcvbn-v2.3+2@x.tbz"},
		{"leading and trailing periods", ".env.", "env"},
		{"an npm bundle name is kept", "octo-pkg-1.0.0.tgz.provenance.sigstore.json", "octo-pkg-1.0.0.tgz.provenance.sigstore.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := StoredName(tc.in); got != tc.want {
				t.Errorf("StoredName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
