// Command signin runs the test-only sign-in provider of internal/testing/signin for the local Sigstore stack:
// the OIDC provider people sign in at (browser and device flows), which Fulcio trusts as an `email` issuer.
//
// Its key is made anew at every start; Fulcio, started after it, reads the keys it serves.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/waxseal/waxseal/internal/testing/signin"
	"github.com/waxseal/waxseal/test/stack/internal/command"
)

func main() { command.Main("signin", os.Stderr, run) }

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("signin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8089", "address to listen on")
	issuer := fs.String("issuer", "", "issuer URL, the `iss` claim (default http://<listen>)")
	email := fs.String("email", signin.DefaultEmail, "the test user's email")
	interval := fs.Duration("device-interval", signin.DefaultDeviceInterval, "polling interval given to device clients (whole seconds)")
	deviceLifetime := fs.Duration("device-lifetime", signin.DefaultDeviceLifetime, "lifetime of a device code")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("no arguments expected: pass flags only")
	}
	if *issuer == "" {
		*issuer = "http://" + *listen
	}
	h, err := signin.New(signin.Config{Issuer: *issuer, Email: *email, DeviceInterval: *interval, DeviceLifetime: *deviceLifetime})
	if err != nil {
		return err
	}
	return command.Serve(ctx, *listen, h, func(addr net.Addr) {
		fmt.Fprintf(stderr, "signin: issuer %s (user %s) listening on %s\n", *issuer, *email, addr)
	})
}
