// Package githubtest connects the one GitHub client to the GitHub fake, as a job reaches GitHub.
package githubtest

import (
	"testing"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

// Repo is fake's repository through the real client under policy, with token (none when empty), over a
// connection pool of the test's own.
func Repo(t testing.TB, fake *githubfake.Server, policy retry.Policy, token string) *github.Repo {
	t.Helper()
	c, err := github.New(github.Config{APIURL: fake.API.URL, Token: token, Transport: retrytest.Transport(t), Retry: policy})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Repo(fake.Owner + "/" + fake.Repo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Token is the token New's fake takes.
const Token = "ghs_testtoken123"

// New starts a GitHub fake for octo/pkg that takes Token, and returns its repository through the real client,
// with a retry policy that waits on the returned clock (which never sleeps).
func New(t testing.TB) (*github.Repo, *githubfake.Server, *retrytest.Clock) {
	t.Helper()
	fake := githubfake.New("octo", "pkg", Token)
	t.Cleanup(fake.Close)
	clock := &retrytest.Clock{}
	return Repo(t, fake, retrytest.Policy(clock), Token), fake, clock
}
