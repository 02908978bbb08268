// Command ghoidc runs the test-only GitHub-Actions-shaped OIDC issuer of
// internal/testing/ghoidc for the local Sigstore stack.
//
// Its signing key and request token live in -state-dir, so a restart keeps
// earlier tokens valid. The request token is in <state-dir>/request-token.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/test/stack/internal/command"
)

func main() { command.Main("ghoidc", os.Stderr, run) }

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ghoidc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8088", "address to listen on")
	stateDir := fs.String("state-dir", "", "directory holding the signing key and request token (required)")
	issuer := fs.String("issuer", "", "issuer URL, the `iss` claim (default http://<listen>)")
	claimsFile := fs.String("claims", "", "JSON object of claims merged over the built-in defaults (null removes one)")
	lifetime := fs.Duration("lifetime", ghoidc.DefaultLifetime, "lifetime of tokens from the token endpoint")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stateDir == "" {
		return errors.New("-state-dir is required: pass a directory that survives restarts")
	}
	if *issuer == "" {
		*issuer = "http://" + *listen
	}
	st, err := ghoidc.LoadState(*stateDir)
	if err != nil {
		return err
	}
	defaults := ghoidc.DefaultClaims()
	if *claimsFile != "" {
		b, err := os.ReadFile(*claimsFile)
		if err != nil {
			return fmt.Errorf("reading claims %q: %w", *claimsFile, err)
		}
		var over ghoidc.Claims
		if err := json.Unmarshal(b, &over); err != nil {
			return fmt.Errorf("parsing claims %q: %w: it must be one JSON object", *claimsFile, err)
		}
		for k, v := range over {
			defaults[k] = v
		}
	}
	h, err := ghoidc.New(ghoidc.Config{
		Key: st.Key, RequestToken: st.RequestToken, Issuer: *issuer, Defaults: defaults, Lifetime: *lifetime,
	})
	if err != nil {
		return err
	}
	return command.Serve(ctx, *listen, h, func(addr net.Addr) {
		fmt.Fprintf(stderr, "ghoidc: issuer %s listening on %s\n", *issuer, addr)
	})
}
