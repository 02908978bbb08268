// Package stacktest gives end-to-end tests the local Sigstore stack's settings (test/stack/run.sh exports them
// from stack.env).
package stacktest

import (
	"os"
	"testing"
)

// Var returns a variable the stack's stack.env exports. E2E tests run only through test/stack/run.sh, so a missing
// variable fails the test: it is never a skip.
func Var(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run e2e tests through test/stack/run.sh", name)
	}
	return v
}
