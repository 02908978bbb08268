// Command image builds waxseal's container Action image offline (internal/actionimage): the Dockerfile's final
// stage, distroless static-debian12 from this machine's Debian 12 packages plus the static binary, written as a
// docker-archive tarball that `podman load` and `docker load` take. It prints the image's size.
//
//	image -binary .cache/bin/waxseal-linux-amd64 -out .cache/image/waxseal.tar [-dockerfile Dockerfile] [-tag waxseal-local:dev]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/waxseal/waxseal/internal/actionimage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("image", flag.ContinueOnError)
	var o actionimage.Options
	fl.StringVar(&o.Dockerfile, "dockerfile", "Dockerfile", "the Dockerfile whose final stage to reproduce")
	fl.StringVar(&o.Binary, "binary", "", "the static binary .github/scripts/build-release.sh built")
	dst := fl.String("out", "", "where to write the docker-archive tarball")
	tag := fl.String("tag", "localhost/waxseal:local", "the image's name in the tarball")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if o.Binary == "" || *dst == "" {
		return errors.New("-binary and -out are required")
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("-tag %q: %w", *tag, err)
	}
	img, err := actionimage.Build(o)
	if err != nil {
		return err
	}
	if err := tarball.WriteToFile(*dst, ref, img); err != nil {
		return fmt.Errorf("writing %s: %w", *dst, err)
	}
	size, err := actionimage.SizeOf(img)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s: %s (%s)\n  pulled: %d bytes compressed (%.1f MB); unpacked: %d bytes (%.1f MB)\n", *dst, ref, digest,
		size.Compressed, float64(size.Compressed)/1e6, size.Uncompressed, float64(size.Uncompressed)/1e6)
	return err
}
