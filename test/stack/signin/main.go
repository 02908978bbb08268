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
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/waxseal/waxseal/internal/testing/signin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "signin: %v\n", err)
		os.Exit(1)
	}
}

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
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "signin: issuer %s (user %s) listening on %s\n", *issuer, *email, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
