// Package retry is waxseal's one retry policy for every network call: the Actions token endpoint, TUF, Fulcio,
// Rekor, timestamp authorities, the GitHub API and the npm registry. It is an http.RoundTripper, so the client
// libraries (sigstore-go, go-github, go-tuf, go-githubactions) keep building their own requests and reading their
// own answers while every try, wait and final verdict is decided here.
//
// Failures are classified by status code and error type, never by message text: connection errors, timeouts,
// 408, 429, 5xx, and answers that are cut short or cannot be what the service sends are retried; a 4xx that means
// "your request is wrong" is not. Waits back off exponentially with jitter, bounded per wait, honour Retry-After
// (seconds and HTTP-date), and stop when a request has been tried for [Policy.For]. The loop itself is
// sigstore/sigstore's httpretry.Transport (the one sigstore-go uses), driven by this package's decisions, so there
// is one retry layer, not two.
package retry

import (
	"context"
	"net/http"
	"time"
)

// DefaultFor is how long a request is retried by default: long enough to ride out a multi-minute outage of a
// public service inside a release job.
const DefaultFor = 5 * time.Minute

// Policy says how long and how often to retry. The zero value means the defaults documented on each field.
type Policy struct {
	// For is the longest one request is retried, counted from its first try; default DefaultFor. A wait that would
	// end past it (or past the context's deadline) is not started: the request fails at once, naming the service.
	For time.Duration
	// AttemptTimeout bounds each try of a request whose answer is read whole; default 30s.
	AttemptTimeout time.Duration
	// StreamTimeout bounds each try of a download (Service.Stream), body included; default 15m.
	StreamTimeout time.Duration
	// WaitMin is the first backoff; default 1s. WaitMax caps each backoff; default 30s. A service's own
	// Retry-After (or a service-specific wait such as GitHub's secondary rate limits) may ask for longer.
	WaitMin, WaitMax time.Duration
	// Clock is the time source waits use; default the real clock.
	Clock Clock
	// Log receives one line per wait; default none. It must be safe for concurrent use.
	Log func(Wait)
}

func (p Policy) withDefaults() Policy {
	if p.For <= 0 {
		p.For = DefaultFor
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 30 * time.Second
	}
	if p.StreamTimeout <= 0 {
		p.StreamTimeout = 15 * time.Minute
	}
	if p.WaitMin <= 0 {
		p.WaitMin = time.Second
	}
	if p.WaitMax <= 0 {
		p.WaitMax = 30 * time.Second
	}
	if p.WaitMax < p.WaitMin {
		p.WaitMax = p.WaitMin
	}
	if p.Clock == nil {
		p.Clock = RealClock{}
	}
	if p.Log == nil {
		p.Log = func(Wait) {}
	}
	return p
}

// Overall is the longest a request can take under the policy, tries and waits included: the timeout to give a
// client library that insists on one, so that it never cuts the policy short.
func (p Policy) Overall() time.Duration {
	p = p.withDefaults()
	return p.For + 2*p.AttemptTimeout
}

// Clock is the time source retries wait on. Tests inject one that never sleeps.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever is first, and returns ctx's error in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer that stops when ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Client returns an http.Client that sends every request for svc through [Policy.Transport] over base (nil means
// http.DefaultTransport). It has no overall Timeout: the policy bounds each try and the whole request.
func (p Policy) Client(base http.RoundTripper, svc Service) *http.Client {
	return &http.Client{Transport: p.Transport(base, svc)}
}
