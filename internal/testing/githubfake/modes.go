package githubfake

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Modes are GitHub's misbehaviours, each off in the zero value.
type Modes struct {
	// ReleaseLag keeps a new release out of GET /releases and GET /releases/tags/{tag} for this long.
	// cli/cli#6599: "gh release create ... --draft" then "gh release upload" "(often - not always) fails with the
	// error: release not found"; onyx-dot-app/onyx#12471: "GET /releases is eventually consistent, so a
	// just-created draft can be absent from the list for several seconds"; gridaco/grida#978: "collection
	// visibility is eventually consistent".
	ReleaseLag time.Duration
	// AssetLag keeps a stored asset out of GET /releases/{id}/assets for this long, while the name is already
	// taken (a second upload gets already_exists). No GitHub document states this lag; it is what
	// tcballard/build-omarchy-plugins#7 works around ("retry draft asset download with a bounded backoff to
	// tolerate first-creation indexing delay"), and the listing of releases is documented to lag (above).
	AssetLag time.Duration
	// StarterLag keeps an asset a failed upload left in state "starter" out of listings for this long (in
	// addition to nothing: it still blocks its name). remixz/publish-release#34: after a connection closed mid
	// upload, "This asset is only listed inside the edit mode of the release"; GitHub's upload docs: a 502 "may
	// leave an empty asset with a state of `starter`. It can be safely deleted."
	StarterLag time.Duration
	// ReadOnly gives the token `contents: read` only: drafts are left out of listings ("Information about
	// published releases are available to everyone. Only users with push access will receive listings for draft
	// releases." — GitHub's "List releases" docs), and every write is 403 "Resource not accessible by
	// integration" (mknejp/delete-release-assets#12 and cb80/pubrel#74: the answer to a token without the
	// permission).
	ReadOnly bool
	// ContentPerMinute and ContentPerHour, when positive, answer every content-creating request (an upload, an
	// asset PATCH or DELETE) past that many in the last minute or hour with a secondary rate limit. GitHub's
	// rate-limit docs: "In general, no more than 80 content-generating requests per minute and no more than 500
	// content-generating requests per hour are allowed." Which requests count is not documented; the fake counts
	// asset uploads, edits and deletes.
	ContentPerMinute, ContentPerHour int
	// LimitStatus is the status of a secondary rate limit: 403 (default) or 429. The docs: "you will receive a
	// 403 or 429 response".
	LimitStatus int
	// LimitRetryAfter is the Retry-After of a secondary rate limit; empty sends none ("If the retry-after
	// response header is present ... Otherwise, wait for at least one minute").
	LimitRetryAfter string
	// NoAttestations refuses to store attestations with 403, as for a token without `attestations: write`.
	NoAttestations bool
	// PublishAfterUploads publishes the release right after that many uploads were stored (someone runs
	// `gh release edit --draft=false` mid-run); 0 never.
	PublishAfterUploads int
}

// Fault is a scripted answer to the next Times (default 1) requests whose method, host ("api", "uploads" or
// "download") and path prefix match. Status 0 hangs up without an answer, as a connection reset does.
type Fault struct {
	Method, Host, PathPrefix string
	Status                   int
	Header                   http.Header
	Body                     string
	Times                    int
	// Name, when set, limits an upload fault to uploads whose `name` contains it.
	Name string
	// Store, for an upload, stores the asset before answering Status: "starter" leaves an empty asset in state
	// starter (GitHub's upload docs: "When an upstream failure occurs, you will receive a 502 Bad Gateway status.
	// This may leave an empty asset with a state of `starter`."); "uploaded" stores it whole, as when the answer
	// is lost after GitHub kept the file (concourse/github-release-resource#116, EvotecIT/PSPublishModule#698:
	// "fail closed when an interrupted upload leaves ambiguous completed bytes"). A name already taken is not
	// stored again.
	Store string
}

// secondaryBody is GitHub's answer to a secondary rate limit; go-github recognises it by documentation_url.
const secondaryBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"%d"}`

// contentCreating reports whether a request creates content, for the rate windows.
func contentCreating(method, host string) bool {
	return host == "uploads" && method == http.MethodPost || host == "api" && (method == http.MethodPatch || method == http.MethodDelete)
}

// limit answers a content-creating request past the rate windows; it reports whether it answered. s.mu is held.
func (s *Server) limit(w http.ResponseWriter) bool {
	now := s.now()
	inWindow := func(d time.Duration) int {
		n := 0
		for _, t := range s.creations {
			if now.Sub(t) < d {
				n++
			}
		}
		return n
	}
	m := s.modes
	if (m.ContentPerMinute > 0 && inWindow(time.Minute) >= m.ContentPerMinute) ||
		(m.ContentPerHour > 0 && inWindow(time.Hour) >= m.ContentPerHour) {
		s.counts.Limited++
		status := m.LimitStatus
		if status == 0 {
			status = http.StatusForbidden
		}
		if m.LimitRetryAfter != "" {
			w.Header().Set("Retry-After", m.LimitRetryAfter)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Replace(secondaryBody, "%d", strconv.Itoa(status), 1))
		return true
	}
	s.creations = append(s.creations, now)
	s.counts.PeakPerMinute = max(s.counts.PeakPerMinute, inWindow(time.Minute))
	return false
}

// admit logs the request, checks the token, plays a matching fault and applies the permission model and the
// rate windows; it reports whether to go on, and the fault that asked to store the upload first, if any.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, host string) (bool, *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r.Method+" "+host+" "+r.URL.RequestURI())
	// GitHub takes the token as "Bearer TOKEN" or "token TOKEN" (gh sends the latter).
	if auth := r.Header.Get("Authorization"); host != "download" && auth != "Bearer "+s.Token && auth != "token "+s.Token {
		writeError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return false, nil
	}
	for i, f := range s.faults {
		if f.Method == r.Method && f.Host == host && strings.HasPrefix(r.URL.Path, f.PathPrefix) &&
			strings.Contains(r.URL.Query().Get("name"), f.Name) {
			if f.Times--; f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			if f.Store != "" {
				return true, f // the upload handler stores, then answers the fault
			}
			_, _ = io.Copy(io.Discard, r.Body)
			answerFault(w, f)
			return false, nil
		}
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	attest := r.URL.Path == "/repos/"+s.Owner+"/"+s.Repo+"/attestations" // a permission of its own
	if s.modes.ReadOnly && write && host != "download" && !attest {
		w.Header().Set("X-Accepted-GitHub-Permissions", "contents=write")
		writeError(w, http.StatusForbidden, "Resource not accessible by integration",
			"https://docs.github.com/rest/releases/assets")
		return false, nil
	}
	if contentCreating(r.Method, host) && s.limit(w) {
		return false, nil
	}
	return true, nil
}

func answerFault(w http.ResponseWriter, f *Fault) {
	if f.Status == 0 { // a connection reset: hang up without answering
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
}

// StoredName is the name GitHub stores for an uploaded asset name. GitHub's upload docs: "GitHub renames asset
// filenames that have special characters, non-alphanumeric characters, and leading or trailing periods. The
// "List release assets" endpoint lists the renamed filenames." The rule itself is not documented; the fake
// follows what users observed: a space, `~`, `:`, `(`, `)` become a period (softprops/action-gh-release#159,
// #393, actions/upload-release-asset#57: "app.prod-v1.3.0-(15-5)-6064eac-release.apk" became
// "app.prod-v1.3.0-.15-5.-6064eac-release.apk", cli/cli#10585: "My App 1.0.0 Setup.exe" became
// "My.App.1.0.0.Setup.exe"); runs of such characters and periods become one period, `@` and `+` are kept
// (electron/forge#1761: "fake.      file.txt" became "fake.file.txt", "erick%%%%%!!!zhao.txt" became
// "erick.zhao.txt"); leading and trailing periods are dropped (documented, but what GitHub puts instead is not:
// the fake drops them, and names an empty result "default"). Non-ASCII letters, which GitHub transliterates
// (electron/forge#1761), are not modelled: they become periods here.
func StoredName(name string) string {
	var b strings.Builder
	dot := false
	for _, r := range name {
		keep := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_+@", r)
		if keep {
			b.WriteRune(r)
			dot = false
			continue
		}
		if !dot {
			b.WriteByte('.')
			dot = true
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "default"
	}
	return out
}
