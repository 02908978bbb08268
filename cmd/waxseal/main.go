// Command waxseal signs release artifacts (npm tarballs and any file) keylessly with Sigstore, and verifies what
// it signed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/waxseal/waxseal/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if cli.ShouldPrint(err) {
			fmt.Fprintln(os.Stderr, cli.FormatError(err))
		}
		os.Exit(cli.ExitCode(err))
	}
}
