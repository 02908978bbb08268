package retry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waxseal/waxseal/internal/remedy"
)

// Error is a request's final failure: which service, what it answered, and how long it was tried.
type Error struct {
	// Service is the service's name, e.g. "Fulcio".
	Service string
	// Method and URL are the request's; the URL carries no query string or user information.
	Method, URL string
	// Status is the final answer's HTTP status; 0 when no answer arrived.
	Status int
	// Body is a one-line excerpt of the final answer's body, with anything shaped like a token removed.
	Body string
	// Fault says what was wrong with an answer that arrived (cut short, unreadable), if anything.
	Fault string
	// Err is the transport error of the final try, if any.
	Err error
	// Tries is how many times the request was sent.
	Tries int
	// Elapsed is how long the request was tried.
	Elapsed time.Duration
	// Budget is Policy.For when the budget (or the context's deadline) ended the retries; zero otherwise.
	Budget time.Duration
	// Transient reports whether the final failure was of the kind that is retried (so the service is having a
	// bad time, rather than refusing the request).
	Transient bool
	// Hint is the service's advice for a lasting failure.
	Hint string
	// Limit, when positive, is the service's limit on an answer's size (Service.MaxBody), which its 2xx answer
	// exceeded. Such an answer is final: the service will send as much again.
	Limit int64
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s %s) ", e.Service, e.Method, e.URL)
	switch {
	case e.Limit > 0:
		fmt.Fprintf(&b, "answered %s with more than %s, the most waxseal reads of one answer from %s: check that the URL "+
			"points at the service (not at a proxy or another site), and if it does, report this to waxseal's maintainers",
			statusText(e.Status), sizeText(e.Limit), e.Service)
	case e.Status != 0:
		b.WriteString("answered " + statusText(e.Status))
		if e.Fault != "" {
			b.WriteString(" with " + e.Fault)
		}
		if e.Body != "" {
			fmt.Fprintf(&b, ": %q", e.Body)
		}
	default:
		b.WriteString("could not be reached: " + errText(e.Err))
	}
	if e.Transient {
		fmt.Fprintf(&b, "; waxseal tried %d time(s) over %s", e.Tries, e.Elapsed.Round(time.Second))
		if e.Budget > 0 {
			fmt.Fprintf(&b, " (its retry budget is %s)", e.Budget)
		}
		b.WriteString(": the service is failing or overloaded; ")
		if e.Hint != "" {
			b.WriteString(e.Hint + ", then ")
		}
		b.WriteString("re-run, or give it longer")
	}
	return b.String()
}

// Remedies says what a person can change: for a service that kept failing, give it longer.
func (e *Error) Remedies() []remedy.Hint {
	if !e.Transient {
		return nil
	}
	return []remedy.Hint{remedy.Give(remedy.RetryFor)}
}

// Cause returns the *Error in err's chain, if there is one, and err otherwise. Client libraries wrap a
// transport's error in their own words and in *url.Error, which repeats the URL with its query; the *Error
// already says everything a person needs.
func Cause(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return err
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Wait is one wait before another try, as Policy.Log receives it.
type Wait struct {
	Service, Method, URL string
	// Answer says what the try got: "answered 503 Service Unavailable", "failed: connection refused".
	Answer string
	// Try is the number of the try that failed.
	Try int
	// Wait is how long until the next try, at Next.
	Wait time.Duration
	Next time.Time
	// Used is how long the request has been tried so far, of Budget.
	Used, Budget time.Duration
}

// String is the wait as one log line.
func (w Wait) String() string {
	return fmt.Sprintf("%s (%s %s) %s on try %d; trying again in %s, at %s (%s of the %s retry budget used)",
		w.Service, w.Method, w.URL, w.Answer, w.Try, w.Wait.Round(100*time.Millisecond),
		w.Next.UTC().Format("15:04:05Z"), w.Used.Round(time.Second), w.Budget)
}

// sizeText says how many bytes n is, in MiB when it is a whole number of them.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

func errText(err error) string {
	if err == nil {
		return "no answer"
	}
	// url.Error repeats the method and URL, which the message already names.
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		err = ue.Err
	}
	return redactTokens(err.Error())
}

// redactURL keeps scheme, host and path: queries and user information may hold secrets.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// jwtLike matches compact JWS/JWT tokens and GitHub token formats, which an error body might echo.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*|\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{10,}`)

func redactTokens(s string) string { return jwtLike.ReplaceAllString(s, "[redacted]") }

// maxExcerpt bounds the body excerpt an Error carries.
const maxExcerpt = 200

// excerpt makes one short printable line of a body: control characters and runs of space fold to one space,
// HTML tags are dropped (an error page's text is what helps), token-shaped strings are removed.
func excerpt(body []byte) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = htmlTag.ReplaceAllString(s, " ")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	s = redactTokens(s)
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

var htmlTag = regexp.MustCompile(`<[^>]{0,200}>`)
