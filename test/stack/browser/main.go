// Command browser plays a person's web browser for the stack's sign-in provider: set BROWSER to
// "browser [-behaviour B]" and a program that opens a browser the way oauthflow does (a command given the
// authorization URL) gets this one, which follows the URL and the provider's redirect back to the program's
// loopback listener. -behaviour chooses what the person does: follow (approve), refuse, forge-state,
// forge-challenge or walk-away (see internal/testing/signin).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/waxseal/waxseal/internal/testing/signin"
	"github.com/waxseal/waxseal/test/stack/internal/command"
)

func main() { command.Main("browser", os.Stderr, run) }

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("browser", flag.ContinueOnError)
	fs.SetOutput(stderr)
	behaviour := fs.String("behaviour", string(signin.Follow), fmt.Sprintf("what the person does, one of %q", signin.Behaviours))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one argument, the URL to open; got %d", fs.NArg())
	}
	b := signin.Behaviour(*behaviour)
	if !slices.Contains(signin.Behaviours, b) {
		return fmt.Errorf("-behaviour %q: want one of %q", b, signin.Behaviours)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	status, err := signin.Browse(ctx, &http.Client{Timeout: 30 * time.Second}, fs.Arg(0), b)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "browser: %s: the page answered %d\n", b, status)
	return nil
}
