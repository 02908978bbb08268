// Command digest is a benchmark helper for bench/digest.sh: it digests npm tarballs with waxseal's
// reader (internal/npm.ReadTarball, the code `waxseal sign` runs) and prints sha512sum-style lines,
// or makes large test tarballs.
//
//	digest FILE...                        print "<sha512 hex>  FILE" per tarball
//	digest -make FILE -size BYTES         write a tarball holding BYTES of incompressible data
package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"

	"github.com/waxseal/waxseal/internal/npm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "digest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	mk := fs.String("make", "", "write a test tarball to this path instead of digesting")
	size := fs.Int64("size", 1<<30, "bytes of incompressible data in the tarball made by -make")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mk != "" {
		return makeTarball(*mk, *size)
	}
	if fs.NArg() == 0 {
		return errors.New("no tarballs given; usage: digest FILE... | digest -make FILE -size BYTES")
	}
	lim := npm.Limits{MaxDecompressedBytes: 1 << 40}
	for _, p := range fs.Args() {
		t, err := npm.ReadTarball(ctx, p, lim)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %s\n", t.SHA512Hex(), p)
	}
	return nil
}

// makeTarball writes an npm-shaped tarball: package/package.json and one file of pseudo-random
// bytes, gzip-stored (incompressible data is stored by gzip anyway, as with binaries in packages).
func makeTarball(path string, size int64) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	zw, err := gzip.NewWriterLevel(f, gzip.NoCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	manifest := `{"name":"waxseal-bench","version":"1.0.0","repository":"waxseal/example"}`
	if err := tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(manifest))}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, manifest); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "package/blob.bin", Mode: 0o644, Size: size}); err != nil {
		return err
	}
	src := rand.NewChaCha8([32]byte{'w', 'a', 'x', 's', 'e', 'a', 'l'})
	if _, err := io.CopyN(tw, src, size); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
