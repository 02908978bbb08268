package github

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/waxseal/waxseal/internal/retry"
)

// GitHub's REST API as the retry policy sees it. Final 4xx answers go back to go-github, which decodes them into
// its typed errors (a 404 for a missing release, a 422 already_exists). Answers are bounded by maxAPIBody.
var (
	githubService = retry.Service{Name: "GitHub", Classify: classifyGitHub, Valid: jsonOrEmpty, Pass: retry.ClientError, MaxBody: maxAPIBody,
		Hint: "check https://www.githubstatus.com"}
	githubDownload = retry.Service{Name: "GitHub", Classify: classifyGitHub, Pass: retry.ClientError, Stream: true,
		Hint: "check https://www.githubstatus.com"}
)

// jsonOrEmpty accepts GitHub's JSON answers and its empty ones (204 No Content for a delete).
func jsonOrEmpty(a retry.Answer) error {
	if len(bytes.TrimSpace(a.Body)) == 0 {
		return nil
	}
	return retry.JSON(a)
}

// secondaryMinWait is the least GitHub asks to wait after a secondary rate limit that names no time.
const secondaryMinWait = time.Minute

// classifyGitHub applies GitHub's documented rate-limit rules on top of the default policy
// (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api, "Exceeding the rate limit"):
//   - "If the retry-after response header is present, you should not retry your request until after that many
//     seconds has elapsed."
//   - "If the x-ratelimit-remaining header is 0, you should not retry your request until after the time, in UTC
//     epoch seconds, specified by the x-ratelimit-reset header."
//   - "Otherwise, wait for at least one minute before retrying. If your request continues to fail due to a
//     secondary rate limit, wait for an exponentially increasing amount of time between retries."
//
// A secondary rate limit comes as 403 or 429; a 403 that is neither kind of rate limit is a permission problem
// and final. go-github tells the kinds apart by type (*gh.RateLimitError, *gh.AbuseRateLimitError).
func classifyGitHub(a retry.Answer) retry.Verdict {
	if a.Err != nil || (a.Response.StatusCode != http.StatusForbidden && a.Response.StatusCode != http.StatusTooManyRequests) {
		return retry.Default(a)
	}
	h := a.Response.Header
	if d, ok := retry.RetryAfter(h, a.Now); ok {
		return retry.Verdict{Retry: true, Wait: max(d, time.Second)}
	}
	if h.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			return retry.Verdict{Retry: true, Wait: max(time.Unix(reset, 0).Sub(a.Now), 0) + time.Second}
		}
	}
	resp := *a.Response
	resp.Body = io.NopCloser(bytes.NewReader(a.Body))
	var abuse *gh.AbuseRateLimitError
	if a.Response.StatusCode == http.StatusTooManyRequests || errors.As(gh.CheckResponse(&resp), &abuse) {
		return retry.Verdict{Retry: true, MinWait: secondaryMinWait}
	}
	return retry.Verdict{}
}
