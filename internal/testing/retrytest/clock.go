// Package retrytest holds what tests of retrying code share: a clock that never sleeps.
package retrytest

import (
	"context"
	"sync"
	"time"
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
