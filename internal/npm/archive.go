package npm

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// manifestEntry is where npm pack puts package.json, and where npm reads it from.
const manifestEntry = "package/package.json"

// walker checks every entry of the gzip tar stream and keeps package/package.json.
type walker struct {
	lim          Limits
	src          *chunkReader
	decompressed int64
	entries      int
	manifest     []byte
	seenManifest bool
}

// walk reads the whole archive. Every entry is checked, not just those before package.json, so a
// tarball is either entirely what npm pack makes or refused; reading to the end also verifies the
// gzip checksum of everything that will be signed.
func (w *walker) walk() error {
	zr, err := gzip.NewReader(w.src)
	if err != nil {
		return &TarballError{Problem: "is not gzip-compressed (" + err.Error() + ")",
			Fix: "pass the .tgz that `npm pack` writes", Err: ErrNotGzip}
	}
	body := &limitedReader{r: zr, w: w}
	tr := tar.NewReader(body)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return w.streamError(err, "reading the tar archive")
		}
		if err := w.entry(hdr, tr); err != nil {
			return err
		}
	}
	// The tar end marker may be followed by padding; read through it so the gzip CRC is checked.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return w.streamError(err, "reading past the end of the tar archive")
	}
	if !w.seenManifest {
		return &TarballError{Problem: "has no " + manifestEntry,
			Fix: "pass a tarball made by `npm pack`, which always includes it", Err: ErrNoManifest}
	}
	return nil
}

// streamError classifies a read error: limit errors pass through, the rest means corruption.
func (w *walker) streamError(err error, doing string) error {
	var te *TarballError
	if errors.As(err, &te) {
		return te
	}
	return &TarballError{Problem: fmt.Sprintf("is corrupt (%s: %v)", doing, err),
		Fix: "re-create it with `npm pack`", Err: ErrCorrupt}
}

// entry checks one header and, for package/package.json, reads its body.
func (w *walker) entry(hdr *tar.Header, body io.Reader) error {
	w.entries++
	if w.entries > w.lim.MaxEntryCount {
		return &TarballError{Problem: fmt.Sprintf("has more than %d entries", w.lim.MaxEntryCount),
			Fix: "raise the entry limit only if the package really has that many files", Err: ErrBomb}
	}
	if err := checkName(hdr.Name); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeXGlobalHeader: // tar.Reader reports the legacy '\x00' (TypeRegA) as TypeReg or TypeDir
	case tar.TypeSymlink, tar.TypeLink:
		return &TarballError{Entry: hdr.Name, Problem: "is a link to " + quote(hdr.Linkname),
			Fix: "npm pack never stores links: re-create the tarball with `npm pack`", Err: ErrLink}
	default:
		return &TarballError{Entry: hdr.Name, Problem: fmt.Sprintf("has tar type %q", hdr.Typeflag),
			Fix: "npm pack stores only files and directories: re-create the tarball with `npm pack`",
			Err: ErrEntryType}
	}
	if path.Clean(hdr.Name) != manifestEntry {
		return nil
	}
	return w.readManifest(hdr, body)
}

func (w *walker) readManifest(hdr *tar.Header, body io.Reader) error {
	if w.seenManifest {
		return &TarballError{Entry: hdr.Name, Problem: "appears twice",
			Fix: "re-create the tarball with `npm pack`", Err: ErrManifest}
	}
	w.seenManifest = true
	if hdr.Typeflag == tar.TypeDir {
		return &TarballError{Entry: hdr.Name, Problem: "is a directory",
			Fix: "re-create the tarball with `npm pack`", Err: ErrManifest}
	}
	if hdr.Size > w.lim.MaxManifestBytes {
		return w.tooBig(hdr.Name)
	}
	raw, err := io.ReadAll(io.LimitReader(body, w.lim.MaxManifestBytes+1))
	if err != nil {
		return w.streamError(err, "reading "+manifestEntry)
	}
	if int64(len(raw)) > w.lim.MaxManifestBytes {
		return w.tooBig(hdr.Name)
	}
	w.manifest = raw
	return nil
}

func (w *walker) tooBig(name string) error {
	return &TarballError{Entry: name, Problem: fmt.Sprintf("is larger than %d bytes", w.lim.MaxManifestBytes),
		Fix: "shrink package.json (move data out of it) or raise the manifest limit", Err: ErrManifest}
}

// checkName refuses names that would land outside the package directory if extracted.
func checkName(name string) error {
	bad := ""
	switch {
	case name == "":
		bad = "is empty"
	case strings.ContainsRune(name, 0):
		bad = "contains a NUL byte"
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || hasDrive(name):
		bad = "is an absolute path"
	default:
		for _, seg := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
			if seg == ".." {
				bad = "climbs out of the package directory"
			}
		}
	}
	if bad == "" {
		return nil
	}
	return &TarballError{Entry: name, Problem: "entry name " + bad,
		Fix: "npm pack writes only package/... paths: re-create the tarball with `npm pack`", Err: ErrTraversal}
}

// hasDrive reports a Windows drive prefix such as C: (node-tar strips these as absolute).
func hasDrive(name string) bool {
	return len(name) >= 2 && name[1] == ':' &&
		(('a' <= name[0] && name[0] <= 'z') || ('A' <= name[0] && name[0] <= 'Z'))
}

// limitedReader counts decompressed bytes and enforces the size and ratio caps as they stream.
type limitedReader struct {
	r io.Reader
	w *walker
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	w := l.w
	w.decompressed += int64(n)
	if w.decompressed > w.lim.MaxDecompressedBytes {
		return n, &TarballError{Problem: fmt.Sprintf("decompresses to more than %d bytes", w.lim.MaxDecompressedBytes),
			Fix: "this looks like a gzip bomb; if the package is really that large, raise the decompressed-size limit",
			Err: ErrBomb}
	}
	if w.decompressed > ratioFloor && w.decompressed > w.lim.MaxCompressionRatio*max(w.src.consumed(), 1) {
		return n, &TarballError{
			Problem: fmt.Sprintf("decompresses more than %d times its compressed size", w.lim.MaxCompressionRatio),
			Fix:     "this looks like a gzip bomb; re-create the tarball with `npm pack`", Err: ErrBomb}
	}
	return n, err
}
