package npm

import "testing"

// TestSemverMatchesNodeSemver: expectations printed by node-semver 7.8.6 (npm 11's) for
// semver.parse(v, true).version, semver.clean(v, true) and semver.parse(v).version ("" for null).
func TestSemverMatchesNodeSemver(t *testing.T) {
	t.Parallel()
	tests := []struct{ v, loose, clean, strict string }{
		{"1.2.3", "1.2.3", "1.2.3", "1.2.3"},
		{"v1.2.3", "1.2.3", "1.2.3", "1.2.3"},
		{"=v1.2.3", "1.2.3", "1.2.3", ""},
		{" 1.2.3 ", "1.2.3", "1.2.3", "1.2.3"},
		{"\u20281.2.3\ufeff", "1.2.3", "1.2.3", "1.2.3"},
		{"01.2.3", "1.2.3", "1.2.3", ""},
		{"1.2.3-01", "1.2.3-1", "1.2.3-1", ""},
		{"1.2.3beta", "1.2.3-beta", "1.2.3-beta", ""},
		{"1.2.3-beta.01", "1.2.3-beta.1", "1.2.3-beta.1", ""},
		{"1.2.3+b.1", "1.2.3", "1.2.3", "1.2.3"},
		{"1.2.3-rc.1+b", "1.2.3-rc.1", "1.2.3-rc.1", "1.2.3-rc.1"},
		{"v=1.2.3", "1.2.3", "1.2.3", ""},
		{"1.2", "", "", ""},
		{"1.2.3-", "1.2.3--", "1.2.3--", ""},
		{"9007199254740991.0.0", "9007199254740991.0.0", "9007199254740991.0.0", "9007199254740991.0.0"},
		{"9007199254740992.0.0", "", "", ""},
		{"1.0.0-9007199254740990", "1.0.0-9007199254740990", "1.0.0-9007199254740990", "1.0.0-9007199254740990"},
		{"1.0.0-9007199254740991", "1.0.0-9007199254740991", "1.0.0-9007199254740991", "1.0.0-9007199254740991"},
		{"1.0.0-09007199254740993", "1.0.0-09007199254740993", "1.0.0-09007199254740993", ""},
		{"1.0.0-00", "1.0.0-0", "1.0.0-0", ""},
		{"=1.2.3", "1.2.3", "1.2.3", ""},
		{"vv1.2.3", "1.2.3", "1.2.3", ""},
		{"1.2.3 -beta", "", "", ""},
		{"1.2.3-a..b", "", "", ""},
	}
	for _, tt := range tests {
		loose, _ := parseSemver(tt.v, true)
		clean, _ := cleanSemver(tt.v, true)
		strict, _ := parseSemver(tt.v, false)
		if loose != tt.loose || clean != tt.clean || strict != tt.strict {
			t.Errorf("%q: loose %q, clean %q, strict %q; node-semver %q, %q, %q", tt.v, loose, clean, strict,
				tt.loose, tt.clean, tt.strict)
		}
	}
}
