package signer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// retryPolicy retries transient failures (connection refused or reset, timeouts, 5xx, 429) with exponential
// backoff on a context-aware timer.
type retryPolicy struct {
	attempts int           // total tries, at least 1
	base     time.Duration // first wait; doubles each time
	max      time.Duration
}

func (p retryPolicy) do(ctx context.Context, what string, fn func() error) error {
	wait := p.base
	var err error
	for i := 0; i < max(p.attempts, 1); i++ {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s: %w (gave up: %v)", what, err, ctx.Err())
			case <-t.C:
			}
			wait = min(wait*2, p.max)
		}
		if err = fn(); err == nil || !transient(err) {
			break
		}
	}
	if err != nil && transient(err) {
		return fmt.Errorf("%s: %w (tried %d times; check the service is reachable and up, then re-run)", what, err, max(p.attempts, 1))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// transient reports whether err is worth retrying.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "EOF", "returned 5", "returned 429",
		"status 5", "status 429", "Unavailable", "Bad Gateway", "Gateway Timeout", "Too Many Requests"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
