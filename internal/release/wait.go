package release

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
)

// poll calls try until it reports done, waiting 1s, 2s, 4s ... (at most 15s) on clock between calls, for at most
// limit in all. It returns try's error at once; running out of time is not an error (done stays false).
func poll(ctx context.Context, clock retry.Clock, limit time.Duration, try func() (bool, error)) error {
	start := clock.Now()
	wait := time.Second
	for {
		done, err := try()
		if err != nil || done {
			return err
		}
		if clock.Now().Add(wait).Sub(start) > limit {
			return nil
		}
		if err := clock.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// GitHub's content-creation limits, and the pace waxseal keeps under them. The rate-limit docs: "In general, no
// more than 80 content-generating requests per minute and no more than 500 content-generating requests per hour
// are allowed." waxseal keeps a quarter of the minute's and a tenth of the hour's room for everything else the
// same token does in the job (creating the release, other steps).
const (
	DefaultPerMinute = 60
	DefaultPerHour   = 450
)

// Pacer spaces content-creating requests (uploads, renames, deletes, attestations) so that no more than
// DefaultPerMinute go in any minute and DefaultPerHour in any hour. It waits on the policy's clock; a wait longer
// than the retry budget fails instead. One Pacer serves a whole run, whatever it creates. It is safe for
// concurrent use.
type Pacer struct {
	mu     sync.Mutex
	clock  retry.Clock
	budget time.Duration
	sent   []time.Time
}

// NewPacer returns a Pacer that waits on policy's clock, within its budget.
func NewPacer(policy retry.Policy) *Pacer {
	clock, budget := clockOf(policy)
	return &Pacer{clock: clock, budget: budget}
}

// RateError is a run that needs more content-creating requests than GitHub allows within the retry budget.
type RateError struct {
	Wait, Budget time.Duration
}

func (e *RateError) Error() string {
	return fmt.Sprintf("GitHub allows about 500 content-creating requests an hour and waxseal keeps to %d; the next one would have to wait %s, past the %s retry budget: upload fewer files per job, or allow longer waits", DefaultPerHour, e.Wait.Round(time.Second), e.Budget)
}

// Wait returns when one more request fits in both windows; concurrent callers go one at a time. It returns a
// *RateError, tagged with the retry-for remedy, when the wait would outlast the budget.
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	next := now
	if n := len(p.sent); n >= DefaultPerMinute {
		next = later(next, p.sent[n-DefaultPerMinute].Add(time.Minute))
	}
	if n := len(p.sent); n >= DefaultPerHour {
		next = later(next, p.sent[n-DefaultPerHour].Add(time.Hour))
	}
	if d := next.Sub(now); d > 0 {
		if d > p.budget {
			return remedy.With(&RateError{Wait: d, Budget: p.budget}, remedy.Give(remedy.RetryFor))
		}
		if err := p.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
	p.sent = append(p.sent, p.clock.Now())
	if len(p.sent) > 2*DefaultPerHour {
		p.sent = append([]time.Time(nil), p.sent[len(p.sent)-DefaultPerHour:]...)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// paced is a Service whose content-creating calls wait for the Pacer.
type paced struct {
	Service
	pace *Pacer
}

func (p paced) UploadAsset(ctx context.Context, rel *github.Release, name, path string) (*github.Asset, error) {
	if err := p.pace.Wait(ctx); err != nil {
		return nil, fmt.Errorf("uploading %q: %w", name, err)
	}
	return p.Service.UploadAsset(ctx, rel, name, path)
}

func (p paced) DeleteAsset(ctx context.Context, assetID int64) error {
	if err := p.pace.Wait(ctx); err != nil {
		return fmt.Errorf("deleting release asset %d: %w", assetID, err)
	}
	return p.Service.DeleteAsset(ctx, assetID)
}

func (p paced) RenameAsset(ctx context.Context, assetID int64, name string) (*github.Asset, error) {
	if err := p.pace.Wait(ctx); err != nil {
		return nil, fmt.Errorf("renaming release asset %d to %q: %w", assetID, name, err)
	}
	return p.Service.RenameAsset(ctx, assetID, name)
}
