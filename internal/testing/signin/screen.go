package signin

import (
	"bytes"
	"context"
	"regexp"
	"sync"
)

// Screen is what a person at the terminal reads: a writer a test can wait on for a line to appear. It is safe
// for the concurrent writes of a run and of the browser command it starts.
type Screen struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

// NewScreen returns an empty Screen.
func NewScreen() *Screen { return &Screen{changed: make(chan struct{})} }

func (s *Screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
	return s.buf.Write(b)
}

// String returns everything written so far.
func (s *Screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// WaitFor returns the submatches of re once the screen shows it, nil if ctx ends first.
func (s *Screen) WaitFor(ctx context.Context, re *regexp.Regexp) []string {
	for {
		s.mu.Lock()
		m, changed := re.FindStringSubmatch(s.buf.String()), s.changed
		s.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}
