package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Service describes one remote service: its name for messages and what counts as a transient failure there.
type Service struct {
	// Name is how messages name the service, e.g. "Fulcio" or "the npm registry". Required.
	Name string
	// Hint is what to do when the service keeps failing, e.g. "check https://status.sigstore.dev". Optional.
	Hint string
	// Classify decides whether a failed try is worth another; default Default. It sees the answer's status,
	// headers and body (read whole unless Stream), or the transport error.
	Classify func(a Answer) Verdict
	// Valid checks that a 2xx answer is what the service sends (e.g. JSON); an answer that is not is retried like
	// a 5xx. Default: any answer is valid.
	Valid func(a Answer) error
	// Pass reports final non-2xx statuses the client library handles itself (Rekor v1's 409 "entry already
	// exists"), handed back as responses. Every other final failure comes back as an *Error.
	Pass func(status int) bool
	// Stream leaves 2xx bodies unread, for downloads; they are bounded by Policy.StreamTimeout and by the caller.
	Stream bool
	// MaxBody bounds an answer read whole: the largest answer the service sends, with room to spare; default
	// DefaultMaxBody. A 2xx answer larger than it is a final *Error naming the limit, never retried: a service that
	// answers too much will answer too much again. (Only non-2xx answers of a Stream service are read whole.)
	MaxBody int64
	// Secret means successful answers carry secrets (an identity token): an Error never quotes a 2xx body.
	Secret bool
}

// DefaultMaxBody is Service.MaxBody when a service sets none.
const DefaultMaxBody = 4 << 20

func (s Service) maxBody() int64 {
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return DefaultMaxBody
}

// ClientError is a Service.Pass for services whose client library reads 4xx answers itself (go-github decodes
// GitHub's error bodies; the npm registry's 404 means "no such package").
func ClientError(status int) bool { return status >= 400 && status < 500 }

// Answer is one try's outcome as Classify and Valid see it.
type Answer struct {
	// Request is the try's request.
	Request *http.Request
	// Response is the answer, nil when the try failed before one arrived. Its body has been read into Body.
	Response *http.Response
	// Body is the answer's body (empty for streamed 2xx answers).
	Body []byte
	// Err is the transport error, or the error reading the body.
	Err error
	// Now is the policy clock's time when the answer arrived.
	Now time.Time
}

// Verdict is Classify's decision about a failed try.
type Verdict struct {
	// Retry says another try may succeed.
	Retry bool
	// Wait, when positive, is how long the service asked to wait (Retry-After, a rate-limit reset); zero means the
	// policy's exponential backoff.
	Wait time.Duration
	// MinWait, when positive, is the least a backoff may be (GitHub asks for a minute after a secondary rate limit).
	MinWait time.Duration
}

// Default classifies failures the way every Sigstore service, GitHub and the npm registry document them:
// connection failures, timeouts of a try, 408, 429 and 5xx (but 501 and 505, which will not change) are
// retried, honouring Retry-After; other statuses are final. 499 ("client closed request") is retried too: a
// server answers it when the work it was doing was cancelled under it (rekor-tiles does, when a retried
// submission joins an earlier try that timed out), which says nothing about the request itself.
func Default(a Answer) Verdict {
	if a.Err != nil {
		return Verdict{Retry: transientErr(a.Request.Context(), a.Err)}
	}
	switch code := a.Response.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code == statusClientClosedRequest,
		code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported:
		w, _ := RetryAfter(a.Response.Header, a.Now)
		return Verdict{Retry: true, Wait: w}
	case code >= 200 && code < 300:
		return Verdict{Retry: true} // only reached when Valid refused the body: a garbled answer
	}
	return Verdict{}
}

// statusClientClosedRequest is nginx's 499, which gRPC gateways (rekor-tiles) also send for a cancelled call.
const statusClientClosedRequest = 499

// transientErr reports whether a transport error may pass: anything but a cancelled request, a certificate
// that will not verify, a name that does not exist, or a malformed request.
func transientErr(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false // the caller gave up, or its deadline passed
	}
	var (
		unknownCA  x509.UnknownAuthorityError
		invalid    x509.CertificateInvalidError
		hostname   x509.HostnameError
		recordHdr  tls.RecordHeaderError
		dnsErr     *net.DNSError
		invalidURL url.InvalidHostError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &recordHdr):
		return false // TLS will fail the same way next time: the URL or the trust store is wrong
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false // no such host: the URL is wrong
	case errors.As(err, &invalidURL):
		return false
	}
	return true
}

// RetryAfter reads a Retry-After header in either RFC 9110 form, delay-seconds or an HTTP-date, relative to now.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// JSON is a Valid check for services that answer JSON.
func JSON(a Answer) error {
	if !json.Valid(a.Body) {
		return errors.New("the answer is not JSON")
	}
	return nil
}
