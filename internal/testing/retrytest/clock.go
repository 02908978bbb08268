// Package retrytest holds what tests of retrying code share: a clock that never sleeps, a policy that waits on
// it, and a connection pool per test.
package retrytest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/retry"
)

// Clock is a retry.Clock whose time moves only when something sleeps on it. The zero value starts at
// 2026-12-02T12:00:00Z. It is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *Clock) init() {
	if c.now.IsZero() {
		c.now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	return c.now
}

// Sleep moves the clock on by d at once and records d; it returns ctx's error if ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// Slept returns every wait so far, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// Total returns the sum of every wait so far.
func (c *Clock) Total() time.Duration {
	var t time.Duration
	for _, d := range c.Slept() {
		t += d
	}
	return t
}

// Policy is a retry policy that waits on clock, which never sleeps. The per-try timeout is the one wall-clock bound
// left (it must bound real I/O), so it is set far beyond any test's run time: on a loaded machine a 30-second try
// timeout could otherwise fire, and turn a scripted answer into a retry.
func Policy(clock *Clock) retry.Policy {
	return retry.Policy{Clock: clock, AttemptTimeout: 10 * time.Minute}
}

// Transport is a connection pool of the test's own: http.DefaultTransport is shared by every parallel test, and
// each fake's Close closes its idle connections, which lets one test's teardown reach into another's request.
func Transport(t testing.TB) http.RoundTripper {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}
