package npm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// manifestEntry is where npm pack puts package.json, and where npm reads it from.
const manifestEntry = "package/package.json"

// nodeTarMaxRatio is node-tar's MAX_DECOMPRESSION_RATIO: npm aborts extracting (so installing or
// publishing) a tarball whose decompressed bytes exceed 1000 times the compressed bytes it has read.
const nodeTarMaxRatio = 1000

// walker checks every entry of the gzip tar stream and keeps package/package.json.
//
// npm reads a tarball with zlib and node-tar (pacote: strip: 1, and the last entry wins), waxseal with
// the reader here; the two must not be able to disagree. So the walker accepts only forms where there
// is nothing to disagree about: one gzip member (gzipmember.go), tar headers in the layouts the
// packers write, every field spelled the way node-tar 6 and 7 and other readers parse alike
// (tarheader.go, tarreader.go), every entry under package/ with a name no other entry shares, even
// ignoring case and Unicode normalization (entryname.go, collision.go, shortname.go), and the
// end-of-archive marker followed by nothing but zeros.
type walker struct {
	lim          Limits
	src          *chunkReader
	decompressed int64
	entries      int
	names        *nameSet
	manifest     []byte
	seenManifest bool
	// onEntry, if set, sees every entry (tests compare them with what npm's extraction writes).
	onEntry func(*tarEntry)
}

// walk reads the whole archive. Every entry is checked, not just those before package.json, so a
// tarball is either entirely what npm pack makes or refused; reading to the end also verifies the
// gzip checksum of everything that will be signed.
func (w *walker) walk() error {
	zr, err := openGzip(w.src)
	if err != nil {
		return err
	}
	w.names = newNameSet(w.lim.MaxEntryCount)
	body := &limitedReader{r: zr, w: w}
	tr := newTarReader(body)
	for {
		e, err := tr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return w.streamError(err, "reading the tar archive")
		}
		if err := w.entry(e, tr); err != nil {
			return err
		}
	}
	if err := w.trailer(body); err != nil {
		return err
	}
	if err := w.names.shortNameConflict(); err != nil {
		return err
	}
	if !w.seenManifest {
		return &TarballError{Problem: "has no " + manifestEntry,
			Fix: "pass the package tarball your packer wrote; every packer includes package.json", Err: ErrNoManifest}
	}
	return nil
}

// trailer reads what follows the end-of-archive marker: packers write nothing but the two zero
// blocks, other tools pad with zeros; anything else is data no reader shows. limitedReader checks
// that the gzip member ends the file.
func (w *walker) trailer(body io.Reader) error {
	var buf [4096]byte
	for {
		n, err := body.Read(buf[:])
		if len(bytes.Trim(buf[:n], "\x00")) != 0 {
			return &TarballError{Problem: "has data after the end of the tar archive, which npm never reads",
				Fix: repack, Err: ErrNotCanonical}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return w.streamError(err, "reading past the end of the tar archive")
		}
	}
	return nil
}

// streamError classifies a read error: refusals pass through, the rest means corruption.
func (w *walker) streamError(err error, doing string) error {
	var te *TarballError
	if errors.As(err, &te) {
		return te
	}
	return &TarballError{Problem: fmt.Sprintf("is corrupt (%s: %v)", doing, err),
		Fix: "download or pack it again", Err: ErrCorrupt}
}

// entry counts one checked entry, records its name and, for package/package.json, reads its body.
func (w *walker) entry(e *tarEntry, tr *tarReader) error {
	w.entries++
	if w.entries > w.lim.MaxEntryCount {
		return &TarballError{Problem: fmt.Sprintf("has more than %d entries", w.lim.MaxEntryCount),
			Fix: "raise the entry limit only if the package really has that many files", Err: ErrBomb}
	}
	if err := w.names.add(e.name, e.typ == typeDir); err != nil {
		return err
	}
	if e.name == manifestEntry+"/" {
		return &TarballError{Entry: e.name, Problem: "is a directory",
			Fix: repack, Err: ErrManifest}
	}
	if w.onEntry != nil {
		w.onEntry(e)
	}
	if e.name != manifestEntry {
		return nil
	}
	return w.readManifest(e, tr)
}

func (w *walker) readManifest(e *tarEntry, tr *tarReader) error {
	w.seenManifest = true // the name set has already refused a second one
	if e.size > w.lim.MaxManifestBytes {
		return w.tooBig(e.name)
	}
	raw := make([]byte, e.size)
	if _, err := io.ReadFull(readerFunc(tr.read), raw); err != nil {
		return w.streamError(err, "reading "+manifestEntry)
	}
	w.manifest = raw
	return nil
}

func (w *walker) tooBig(name string) error {
	return &TarballError{Entry: name, Problem: fmt.Sprintf("is larger than %d bytes", w.lim.MaxManifestBytes),
		Fix: "shrink package.json (move data out of it) or raise the manifest limit", Err: ErrManifest}
}

// readerFunc adapts a read method to io.Reader.
type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// limitedReader counts decompressed bytes and enforces the size and ratio caps as they stream.
type limitedReader struct {
	r io.Reader
	w *walker
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	w := l.w
	if err == io.EOF {
		// The gzip member ended; every packer writes one member and nothing after it. zlib would read a
		// second member on, and skip or refuse other bytes.
		if _, more := w.src.ReadByte(); more != io.EOF {
			return n, &TarballError{Problem: "has data after its gzip stream (packers write exactly one gzip member)",
				Fix: repack, Err: ErrNotCanonical}
		}
	}
	w.decompressed += int64(n)
	consumed := max(w.src.consumed(), 1)
	switch {
	case w.decompressed > w.lim.MaxDecompressedBytes:
		return n, &TarballError{Problem: fmt.Sprintf("decompresses to more than %d bytes", w.lim.MaxDecompressedBytes),
			Fix: "this looks like a gzip bomb; if the package is really that large, raise the decompressed-size limit",
			Err: ErrBomb}
	case w.decompressed > ratioFloor && w.decompressed > w.lim.MaxCompressionRatio*consumed:
		return n, &TarballError{
			Problem: fmt.Sprintf("decompresses more than %d times its compressed size", w.lim.MaxCompressionRatio),
			Fix:     "this looks like a gzip bomb; if the package is really this repetitive, raise the ratio limit", Err: ErrBomb}
	case w.decompressed > nodeTarMaxRatio*consumed:
		return n, &TarballError{
			Problem: fmt.Sprintf("decompresses more than %d times the compressed bytes read so far, which makes "+
				"node-tar abort, so npm could neither publish nor install it", nodeTarMaxRatio),
			Fix: "make the package's content less repetitive (e.g. do not ship large runs of zeros)", Err: ErrBomb}
	}
	return n, err
}
