package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/sigstore/sigstore/pkg/httpretry"
)

// Transport returns a RoundTripper that sends each request for svc over base (nil means http.DefaultTransport)
// under the policy. A request is retried only if it can be replayed (no body, or GetBody set, as
// http.NewRequest does for in-memory bodies). The answer handed back is a 2xx whose body was read whole and
// checked by svc.Valid (or a streamed 2xx), a redirect (for http.Client to follow, each hop under the policy
// again), or a final status svc.Pass accepts; every other final failure is an
// *Error naming the service, what it answered and how long it was tried. A 2xx answer larger than svc.MaxBody is
// final at once: the *Error names the limit. A cancelled context ends the request
// at once with the context's error.
func (p Policy) Transport(base http.RoundTripper, svc Service) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if svc.Classify == nil {
		svc.Classify = Default
	}
	return &transport{p: p.withDefaults(), base: base, svc: svc}
}

type transport struct {
	p    Policy
	base http.RoundTripper
	svc  Service
}

// RoundTrip runs one request's tries through httpretry.Transport, with this request's own decisions: the
// classifier and budget decide in CheckRetry, the wait happens on the policy's clock in Backoff.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := &request{t: t, req: req, start: t.p.Clock.Now()}
	loop := &httpretry.Transport{
		Base:       roundTripperFunc(r.try),
		MaxRetries: math.MaxInt32,
		WaitMin:    t.p.WaitMin,
		WaitMax:    t.p.WaitMax,
		CheckRetry: r.check,
		Backoff:    r.backoff,
	}
	resp, err := loop.RoundTrip(req)
	return r.finish(resp, err)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// request is the state of one logical request across its tries.
type request struct {
	t     *transport
	req   *http.Request
	start time.Time
	tries int
	last  Answer // the latest try's answer
	fault string // what was wrong with it, for messages
	wait  time.Duration
	final Verdict // the last verdict
	spent bool    // the budget ended the retries
	over  int64   // the service's size limit, when a 2xx answer exceeded it (final)
}

// try sends one try with its own timeout and reads a whole answer before the timeout ends.
func (r *request) try(req *http.Request) (*http.Response, error) {
	r.tries++
	r.over = 0
	timeout := r.t.p.AttemptTimeout
	if r.t.svc.Stream {
		timeout = r.t.p.StreamTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	resp, err := r.t.base.RoundTrip(req.WithContext(ctx))
	a := Answer{Request: r.req, Response: resp, Err: timedOut(ctx, req, err, timeout)}
	if err != nil {
		cancel()
		r.record(a, "")
		return nil, a.Err
	}
	if r.t.svc.Stream && resp.StatusCode/100 == 2 {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		a.Now = r.t.p.Clock.Now()
		r.last, r.fault = a, ""
		return resp, nil
	}
	limit := r.t.svc.maxBody()
	a.Body, a.Err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	a.Err = timedOut(ctx, req, a.Err, timeout)
	_ = resp.Body.Close() // read whole, or as much as will be looked at
	cancel()
	fault := ""
	switch {
	case a.Err != nil:
		fault = "an answer cut short (" + a.Err.Error() + ")"
	case int64(len(a.Body)) > limit:
		fault, a.Body = "an answer larger than "+sizeText(limit), a.Body[:limit]
		if resp.StatusCode/100 == 2 {
			r.over = limit
		}
	case resp.StatusCode/100 == 2 && r.t.svc.Valid != nil:
		if verr := r.t.svc.Valid(a); verr != nil {
			fault = "an unreadable answer (" + verr.Error() + ")"
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(a.Body))
	resp.ContentLength = int64(len(a.Body))
	r.record(a, fault)
	if a.Err != nil {
		return nil, a.Err
	}
	return resp, nil
}

func (r *request) record(a Answer, fault string) {
	a.Now = r.t.p.Clock.Now()
	r.last, r.fault = a, fault
}

// check is httpretry's CheckRetry: it classifies the try and decides, within the budget, whether and how long to
// wait. A decision not to retry is final.
func (r *request) check(_ *http.Request, resp *http.Response, err error) bool {
	if r.req.Context().Err() != nil {
		return false
	}
	if err == nil && resp.StatusCode < 400 && r.fault == "" {
		return false // success, or a redirect for the client to follow
	}
	if b := r.req.Body; b != nil && b != http.NoBody && r.req.GetBody == nil {
		return false // the body cannot be sent again
	}
	if r.over > 0 {
		r.final = Verdict{} // the service answered, with more than it ever should: it will do so again
		return false
	}
	r.final = r.t.svc.Classify(r.last)
	if !r.final.Retry {
		return false
	}
	r.wait = r.backoffFor(r.final)
	next := r.last.Now.Add(r.wait)
	if next.Sub(r.start) > r.t.p.For {
		r.spent = true
		return false
	}
	if d, ok := r.req.Context().Deadline(); ok && time.Until(d) < r.wait { // deadlines are on the wall clock
		r.spent = true
		return false
	}
	r.t.p.Log(Wait{Service: r.t.svc.Name, Method: r.req.Method, URL: redactURL(r.req.URL), Answer: r.describe(),
		Try: r.tries, Wait: r.wait, Next: next, Used: r.last.Now.Sub(r.start), Budget: r.t.p.For})
	return true
}

// backoffFor is the wait before the next try: what the service asked for; else, when the verdict names a least
// wait, that wait doubled for every earlier try (GitHub: "wait for at least one minute ... then an exponentially
// increasing amount of time"); else exponential backoff with full jitter over [WaitMin, WaitMin*2^n], capped at
// WaitMax.
func (r *request) backoffFor(v Verdict) time.Duration {
	if v.Wait > 0 {
		return max(v.Wait, v.MinWait)
	}
	if v.MinWait > 0 {
		d := v.MinWait
		for i := 1; i < r.tries && d < maxLeastWait; i++ {
			d *= 2
		}
		return min(d, maxLeastWait) + jitter(min(d, maxLeastWait)/10)
	}
	p := r.t.p
	ceil := p.WaitMin
	for i := 1; i < r.tries && ceil < p.WaitMax; i++ {
		ceil *= 2
	}
	ceil = min(ceil, p.WaitMax)
	return p.WaitMin + jitter(ceil-p.WaitMin)
}

// maxLeastWait caps the doubling of a service's least wait.
const maxLeastWait = 15 * time.Minute

// jitter returns a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d) // #nosec G404 -- jitter spreads load, nothing secret
}

// backoff is httpretry's Backoff: it waits on the policy's clock (so tests never sleep) and returns zero, so
// httpretry itself does not wait again.
func (r *request) backoff(time.Duration, time.Duration, int, *http.Response) time.Duration {
	_ = r.t.p.Clock.Sleep(r.req.Context(), r.wait) // a cancelled context ends the loop: httpretry checks it next
	return 0
}

// finish turns the loop's outcome into what the caller gets.
func (r *request) finish(resp *http.Response, err error) (*http.Response, error) {
	if cerr := r.req.Context().Err(); cerr != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, context.Cause(r.req.Context())
	}
	if err == nil && resp.StatusCode < 400 && r.fault == "" {
		return resp, nil
	}
	if err == nil && r.over == 0 && r.t.svc.Pass != nil && !r.final.Retry && r.t.svc.Pass(resp.StatusCode) {
		return resp, nil
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	e := &Error{Service: r.t.svc.Name, Method: r.req.Method, URL: redactURL(r.req.URL), Tries: r.tries,
		Elapsed: r.last.Now.Sub(r.start), Transient: r.final.Retry, Hint: r.t.svc.Hint, Fault: r.fault, Err: r.last.Err,
		Limit: r.over}
	if r.spent {
		e.Budget = r.t.p.For
	}
	if r.last.Response != nil {
		e.Status = r.last.Response.StatusCode
		if !r.t.svc.Secret || e.Status/100 != 2 {
			e.Body = excerpt(r.last.Body)
		}
	}
	if e.Err == nil && err != nil && !errors.Is(err, r.last.Err) {
		e.Err = err
	}
	return nil, e
}

// describe says what the latest try got, for a wait line.
func (r *request) describe() string {
	if r.last.Response == nil {
		return "failed: " + errText(r.last.Err)
	}
	s := "answered " + statusText(r.last.Response.StatusCode)
	if r.fault != "" {
		s += " with " + r.fault
	}
	return s
}

// AttemptTimeoutError is a try that got no (whole) answer within the policy's limit per try.
type AttemptTimeoutError struct{ Limit time.Duration }

func (e *AttemptTimeoutError) Error() string { return fmt.Sprintf("no answer within %s", e.Limit) }

// Timeout reports true, as net.Error timeouts do.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// timedOut replaces the error of a try whose own deadline passed (its caller's context is fine) with an
// AttemptTimeoutError.
func timedOut(ctx context.Context, req *http.Request, err error, limit time.Duration) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && req.Context().Err() == nil {
		return &AttemptTimeoutError{Limit: limit}
	}
	return err
}

// cancelOnClose ends a streamed try's context when the caller is done with the body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
