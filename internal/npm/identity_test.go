package npm

import (
	"encoding/json"
	"strings"
	"testing"
)

// identityDisagreement compares ParseManifest's verdict on a package.json holding just name and
// version with the name and version npm publishes for it (judge.mjs "identity"): an accepted
// name@version must be exactly npm's, with npm's purl; one npm publishes unchanged must be
// accepted; and one npm publishes changed must be refused with npm's value as the fix.
// With several npms, a refusal is only wrong if every npm publishes the package.
func identityDisagreement(tb testing.TB, js []*npmJudge, name, version string) string {
	tb.Helper()
	doc, err := json.Marshal(map[string]string{"name": name, "version": version})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ParseManifest(doc); err != nil {
		var sent struct{ Name, Version string }
		if err := json.Unmarshal(doc, &sent); err != nil {
			tb.Fatal(err)
		}
		for _, j := range js {
			if !j.identity(tb, sent.Name, sent.Version).Publish.OK {
				return "" // some npm refuses it too (npm 10 allows names that npm 11 refuses)
			}
		}
	}
	for _, j := range js {
		if d := identityDisagreementWith(tb, j, name, version); d != "" {
			return j.name + ": " + d
		}
	}
	return ""
}

func identityDisagreementWith(tb testing.TB, j *npmJudge, name, version string) string {
	tb.Helper()
	doc, err := json.Marshal(map[string]string{"name": name, "version": version})
	if err != nil {
		tb.Fatal(err)
	}
	// json.Marshal turns invalid UTF-8 into U+FFFD; ask npm about the strings it will read.
	var sent struct{ Name, Version string }
	if err := json.Unmarshal(doc, &sent); err != nil {
		tb.Fatal(err)
	}
	m, err := ParseManifest(doc)
	pub := j.identity(tb, sent.Name, sent.Version).Publish
	switch {
	case err == nil && !pub.OK:
		return "waxseal accepts " + quote(m.Name+"@"+m.Version) + " but npm refuses it: " + pub.Error
	case err == nil && (pub.Name != m.Name || pub.Version != m.Version):
		return "waxseal accepts " + quote(m.Name+"@"+m.Version) + " but npm publishes " + quote(pub.Name+"@"+pub.Version)
	case err == nil && pub.Purl != Purl(m.Name, m.Version):
		return "purl " + quote(Purl(m.Name, m.Version)) + " but npm's is " + quote(pub.Purl)
	case err == nil || !pub.OK:
		return ""
	case pub.Name == sent.Name && pub.Version == sent.Version:
		return "npm publishes " + quote(pub.Name+"@"+pub.Version) + " unchanged but waxseal refuses it: " + err.Error()
	case pub.Name != sent.Name && !strings.Contains(err.Error(), `set "name" to `+quote(pub.Name)):
		return "npm publishes the name as " + quote(pub.Name) + " but waxseal's refusal does not say so: " + err.Error()
	case pub.Name == sent.Name && !strings.Contains(err.Error(), `set "version" to `+quote(pub.Version)):
		return "npm publishes the version as " + quote(pub.Version) + " but waxseal's refusal does not say so: " + err.Error()
	}
	return ""
}

var identitySeeds = []struct{ name, version string }{
	{"good-pkg", "1.0.0"}, {"@scope/pkg", "1.2.3-rc.1"}, {" good-pkg\u00a0", "1.0.0"}, {"good-pkg", "=v1.0.0"},
	{"good-pkg", " 1.0.0 "}, {"good-pkg", "1.0.0+build.1"}, {"good-pkg", "01.02.03"}, {"good-pkg", "1.0.0-01"},
	{"good-pkg", "1.0.0beta"}, {"good-pkg", "1.0.0-beta.01.x"}, {"good-pkg", "9007199254740991.0.0"},
	{"good-pkg", "9007199254740992.0.0"}, {"good-pkg", "1.0.0-9007199254740991"}, {"good-pkg", "1.0.0-09007199254740993"},
	{"good-pkg", "v=1.0.0"}, {"good-pkg", "\u20281.0.0\ufeff"}, {"good-pkg", "1.0"}, {"good-pkg", "1.0.0-"},
	{"good-pkg", "1.0.0-" + strings.Repeat("a", 250)}, {"good-pkg", "1.0.0-" + strings.Repeat("1", 251)},
	{"JSONStream", "1.0.0"}, {"a!(x)*'~", "1.0.0"}, {"@a/.b", "1.0.0"}, {"-a", "1.0.0"}, {"_a", "1.0.0"},
	{".a", "1.0.0"}, {"node_modules", "1.0.0"}, {"FAVICON.ICO", "1.0.0"}, {"@a/b/c", "1.0.0"}, {"@/b", "1.0.0"},
	{"a b", "1.0.0"}, {"naïve", "1.0.0"}, {"", "1.0.0"}, {"a", ""}, {"http", "1.0.0"}, {strings.Repeat("a", 215), "1.0.0"},
}

// TestIdentityMatchesNpm runs the name and version edge cases past npm's own normalization.
func TestIdentityMatchesNpm(t *testing.T) {
	js := judgesFor(t)
	for _, s := range identitySeeds {
		t.Run(s.name+"@"+s.version, func(t *testing.T) {
			t.Parallel()
			if d := identityDisagreement(t, js, s.name, s.version); d != "" {
				t.Error(d)
			}
		})
	}
}

// FuzzIdentityDifferential fuzzes names and versions against npm's normalization.
func FuzzIdentityDifferential(f *testing.F) {
	for _, s := range identitySeeds {
		f.Add(s.name, s.version)
	}
	f.Fuzz(func(t *testing.T, name, version string) {
		if d := identityDisagreement(t, judgesFor(t), name, version); d != "" {
			t.Fatal(d)
		}
	})
}
