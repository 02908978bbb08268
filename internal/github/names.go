package github

import (
	"net/url"
	"strings"
)

// StoredName is the name GitHub stores for an asset uploaded as name. GitHub's upload docs: "GitHub renames
// asset filenames that have special characters, non-alphanumeric characters, and leading or trailing periods.
// The "List release assets" endpoint lists the renamed filenames." GitHub does not document the rule; this
// follows what users saw it do (softprops/action-gh-release#159 and #393, actions/upload-release-asset#57,
// cli/cli#10585, electron/forge#1761): letters, digits and `-_+@` are kept, every run of other characters (and
// periods) becomes one period, and leading and trailing periods are dropped. Non-ASCII letters, which GitHub
// transliterates, become periods here, so a name with them may still not match: Publish uses the name GitHub
// answers with, and matches on a re-run by this rule. npm tarball names ("scope-name-1.2.3.tgz") are kept as
// they are.
func StoredName(name string) string {
	var b strings.Builder
	run := false
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '+' || r == '@' {
			b.WriteRune(r)
			run = false
		} else if !run {
			b.WriteByte('.')
			run = true
		}
	}
	if out := strings.Trim(b.String(), "."); out != "" {
		return out
	}
	return "default"
}

// tagURL is SERVER/OWNER/REPO/releases/KIND/TAG: the page (KIND "tag") or download base (KIND "download") of a
// release by its tag, which a draft keeps once published, unlike its own untagged-... URLs
// (softprops/action-gh-release#86 and #713; esphome/workflows#170: "the final URL is deterministic from the
// tag"). Each segment of the tag is escaped; slashes in a tag are kept, as GitHub's own URLs keep them.
func (r *Repo) tagURL(kind, tag string) string {
	segs := strings.Split(tag, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return r.c.serverURL + "/" + url.PathEscape(r.owner) + "/" + url.PathEscape(r.name) + "/releases/" + kind + "/" + strings.Join(segs, "/")
}
