// Package npm reads npm package tarballs (the output of npm pack, yarn pack, pnpm pack or bun pm pack)
// as untrusted input: it digests the file in one streaming pass while checking the archive and reading
// package/package.json, and it applies the npm registry's provenance rules before anything is signed.
package npm

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Tarball is an npm package tarball that passed ReadTarball's checks. SHA512 and SHA256 are digests
// of exactly the bytes that were parsed, so signing them signs what was checked.
type Tarball struct {
	Path     string
	Size     int64
	SHA512   [sha512.Size]byte
	SHA256   [sha256.Size]byte
	Manifest Manifest
}

// ReadTarball reads the tarball at path exactly once: the same bytes feed sha512, sha256 and the
// gzip+tar checks concurrently. It accepts the forms npm pack (npm 10, 11, 12), yarn pack (1 and 4),
// pnpm pack and bun pm pack write, wherever every npm (zlib, node-tar 6 and 7, JSON.parse) and waxseal
// cannot read different files, names or versions (docs/npm-reader.md lists them), and refuses
// everything else (see the Err* sentinels, ErrNotCanonical in particular); every error is a
// *TarballError naming the file, the entry where there is one, and the fix, or the context's error. Memory stays under 8 MiB of
// pooled buffers whatever the tarball's size, plus about 40 bytes per entry and directory name (to
// refuse names that collide on case-insensitive file systems). Throughput is that of sha512 for
// incompressible content and of gzip inflation for compressible content, since every entry is
// checked, not only those before package/package.json.
func ReadTarball(ctx context.Context, path string, lim Limits) (*Tarball, error) {
	return readTarball(ctx, path, lim, nil)
}

// readTarball is ReadTarball with a hook that sees every entry (for tests).
func readTarball(ctx context.Context, path string, lim Limits, onEntry func(*tarEntry)) (*Tarball, error) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, ioError(path, "opening", err)
	}
	defer func() { _ = f.Close() }() // read-only
	if fi, err := f.Stat(); err != nil {
		return nil, ioError(path, "inspecting", err)
	} else if !fi.Mode().IsRegular() {
		return nil, &TarballError{Path: path, Problem: "is not a regular file (" + fi.Mode().Type().String() + ")",
			Fix: "pass the .tgz file your packer wrote (npm pack, pnpm pack, yarn pack or bun pm pack)", Err: ErrNotRegular}
	}

	w := &walker{lim: lim, onEntry: onEntry}
	d, err := stream(ctx, f, func(r *chunkReader) error {
		w.src = r
		return w.walk()
	})
	if err != nil {
		var te *TarballError
		switch {
		case errors.As(err, &te):
			te.Path = path
			return nil, te
		case ctx.Err() != nil:
			return nil, fmt.Errorf("reading %q: %w", path, err)
		default:
			return nil, ioError(path, "reading", err)
		}
	}
	m, err := ParseManifest(w.manifest)
	if err != nil {
		te := err.(*TarballError)
		te.Path, te.Entry = path, manifestEntry
		return nil, te
	}
	m.Tarball = path
	return &Tarball{Path: path, Size: d.size, SHA512: d.sha512, SHA256: d.sha256, Manifest: m}, nil
}

func ioError(path, doing string, err error) *TarballError {
	fix := "check the path and that the file is readable"
	if errors.Is(err, fs.ErrNotExist) {
		fix = "check the path; your packer (npm pack, pnpm pack, yarn pack or bun pm pack) creates the tarball"
	}
	return &TarballError{Path: path, Problem: "cannot be read (" + doing + ": " + unwrapPath(err) + ")", Fix: fix, Err: err}
}

// unwrapPath drops the path os.PathError repeats, since TarballError already names the file.
func unwrapPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Purl returns the package URL npm puts in the provenance subject, e.g. "pkg:npm/%40scope/name@1.2.3".
func (t *Tarball) Purl() string { return Purl(t.Manifest.Name, t.Manifest.Version) }

// Integrity returns npm's integrity string for the tarball: "sha512-" and the standard base64 digest.
func (t *Tarball) Integrity() string {
	return "sha512-" + base64.StdEncoding.EncodeToString(t.SHA512[:])
}

// SHA512Hex returns the tarball's sha512 in lowercase hex, as the provenance subject carries it.
func (t *Tarball) SHA512Hex() string { return hex.EncodeToString(t.SHA512[:]) }

// PackFileName is the file `npm pack` writes for name@version: "@scope/name" and "1.2.3" make
// "scope-name-1.2.3.tgz" (npm's own rule, from its pack command: the leading "@" dropped, the "/" turned into "-").
func PackFileName(name, version string) string {
	return strings.ReplaceAll(strings.TrimPrefix(name, "@"), "/", "-") + "-" + version + ".tgz"
}

// npmKeeps are characters npm's purl (npm-package-arg toPurl) leaves as they are but packageurl-go
// percent-encodes; they occur only in legacy package names.
var npmKeeps = strings.NewReplacer("%21", "!", "%27", "'", "%28", "(", "%29", ")", "%2A", "*")

// Purl returns the package URL of name@version the way npm writes it in provenance: type npm, the
// scope as namespace with its "@" encoded as %40, no qualifiers.
func Purl(name, version string) string {
	ns, n := "", name
	if scope, rest, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		ns, n = scope, rest
	}
	p := packageurl.NewPackageURL(packageurl.TypeNPM, ns, n, version, nil, "")
	return npmKeeps.Replace(p.ToString())
}
