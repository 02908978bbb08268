package release

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRetryWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	r := Retry{}.withDefaults()
	resp := func(code int, kv ...string) *http.Response {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	tests := []struct {
		name        string
		resp        *http.Response
		err         error
		attempt     int
		wantWait    time.Duration
		wantLimited bool
		wantRetry   bool
	}{
		{name: "503 first attempt", resp: resp(503), wantWait: time.Second, wantRetry: true},
		{name: "500 backoff doubles", resp: resp(500), attempt: 3, wantWait: 8 * time.Second, wantRetry: true},
		{name: "backoff is capped", resp: resp(502), attempt: 10, wantWait: 30 * time.Second, wantRetry: true},
		{name: "connection reset", err: io.ErrUnexpectedEOF, attempt: 1, wantWait: 2 * time.Second, wantRetry: true},
		{name: "429 Retry-After seconds", resp: resp(429, "Retry-After", "12"), wantWait: 12 * time.Second, wantLimited: true, wantRetry: true},
		{name: "429 Retry-After HTTP-date", resp: resp(429, "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)),
			wantWait: 90 * time.Second, wantLimited: true, wantRetry: true},
		{name: "429 without headers waits a minute", resp: resp(429), wantWait: time.Minute, wantLimited: true, wantRetry: true},
		{name: "403 secondary Retry-After", resp: resp(403, "Retry-After", "60"), wantWait: time.Minute, wantLimited: true, wantRetry: true},
		{name: "403 primary reset", resp: resp(403, "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10)),
			wantWait: 5*time.Minute + time.Second, wantLimited: true, wantRetry: true},
		{name: "403 primary reset already past", resp: resp(403, "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)),
			wantWait: time.Second, wantLimited: true, wantRetry: true},
		{name: "403 with requests remaining is a permission error", resp: resp(403, "X-Ratelimit-Remaining", "4999")},
		{name: "garbage Retry-After on 403", resp: resp(403, "Retry-After", "soon")},
		{name: "negative Retry-After on 429 falls back", resp: resp(429, "Retry-After", "-5"), wantWait: time.Minute, wantLimited: true, wantRetry: true},
		{name: "422 is final", resp: resp(422)},
		{name: "404 is final", resp: resp(404)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wait, limited, retry := r.retryWait(tc.resp, tc.err, tc.attempt, now)
			if wait != tc.wantWait || limited != tc.wantLimited || retry != tc.wantRetry {
				t.Errorf("retryWait = (%v, %v, %v), want (%v, %v, %v)", wait, limited, retry, tc.wantWait, tc.wantLimited, tc.wantRetry)
			}
		})
	}
}

func TestRateLimitErrorSaysWhen(t *testing.T) {
	t.Parallel()
	err := error(&RateLimitError{Until: time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC), Status: 429})
	var rl *RateLimitError
	if !errors.As(err, &rl) || err.Error() != "GitHub rate-limited the request (HTTP 429) until 2026-11-24T13:00:00Z, later than this job can wait: re-run the job after that time" {
		t.Errorf("err = %q", err)
	}
}
