package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Clock is the time source retries wait on. Tests inject one that never sleeps.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever is first, and returns ctx's error in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Retry says how a Client retries. The zero value means the defaults documented on each field.
type Retry struct {
	// Attempts is the number of tries per request; default 6.
	Attempts int
	// Backoff is the first wait after a 5xx or a broken connection, doubled each time; default 1s.
	Backoff time.Duration
	// MaxBackoff caps the doubling; default 30s.
	MaxBackoff time.Duration
	// Budget is the most a single request may spend waiting in total; default 10m. A wait that would pass the
	// budget or the context's deadline (the job's remaining time) is not started: the request fails at once.
	Budget time.Duration
	// Clock is the time source; default the real clock.
	Clock Clock
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 6
	}
	if r.Backoff <= 0 {
		r.Backoff = time.Second
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 30 * time.Second
	}
	if r.Budget <= 0 {
		r.Budget = 10 * time.Minute
	}
	if r.Clock == nil {
		r.Clock = realClock{}
	}
	return r
}

// RateLimitError is returned when GitHub asks to wait longer than the run can.
type RateLimitError struct {
	// Until is when GitHub allows the next request.
	Until time.Time
	// Status is the HTTP status of the refusal (403 or 429).
	Status int
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("GitHub rate-limited the request (HTTP %d) until %s, later than this job can wait: re-run the job after that time", e.Status, e.Until.UTC().Format(time.RFC3339))
}

// retryWait decides whether a response (or transport error) is worth another try, and after how long. Rate
// limits name their own wait; other transient failures back off exponentially from the attempt number.
func (r Retry) retryWait(resp *http.Response, err error, attempt int, now time.Time) (wait time.Duration, rateLimited, retry bool) {
	backoff := min(r.Backoff<<attempt, r.MaxBackoff)
	if err != nil {
		// Connection resets, EOFs and timeouts: the request may not have arrived.
		return backoff, false, !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusForbidden:
		// docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: "If the retry-after response header
		// is present, you should not retry your request until after that many seconds has elapsed. ... If the
		// x-ratelimit-remaining header is 0, you should not retry your request until after the time specified by
		// the x-ratelimit-reset header."
		if d, ok := retryAfter(resp, now); ok {
			return d, true, true
		}
		if rem, ok := headerInt(resp, "X-Ratelimit-Remaining"); ok && rem == 0 {
			if reset, ok := headerInt(resp, "X-Ratelimit-Reset"); ok {
				return max(time.Unix(reset, 0).Sub(now), 0) + time.Second, true, true
			}
		}
		if code == http.StatusTooManyRequests {
			// "Otherwise, wait for at least one minute before retrying."
			return max(backoff, time.Minute), true, true
		}
		return 0, false, false // a plain 403 is a permission problem
	case code >= 500:
		return backoff, false, true
	}
	return 0, false, false
}

// retryAfter reads Retry-After in either of its RFC 9110 forms: delay-seconds or an HTTP-date.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if s, ok := headerInt(resp, "Retry-After"); ok {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func headerInt(resp *http.Response, name string) (int64, bool) {
	v := resp.Header.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}
