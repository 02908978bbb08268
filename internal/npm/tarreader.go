package npm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxPAXBytes caps a PAX extended header's body. node-tar writes at most a path (4 KiB at most,
// see maxNameBytes), an mtime and a size; it ignores extended headers over 1 MiB.
const maxPAXBytes = 64 << 10

// tarEntry is a file or directory entry, named as node-tar reads it.
type tarEntry struct {
	name string // the path (from the PAX record if there is one); directories end in "/"
	typ  byte   // typeFile or typeDir
	size int64
}

// tarReader reads a tar stream the way node-tar's Parser does, refusing every block that node-tar's
// Pack would not have written for npm pack.
type tarReader struct {
	r       io.Reader
	blk     [blockSize]byte
	scratch []byte
	body    int64  // unread body bytes of the current entry
	pad     int64  // padding after them
	cur     string // the current entry's name, for messages
}

func newTarReader(r io.Reader) *tarReader {
	return &tarReader{r: r, scratch: make([]byte, 64<<10)}
}

// next returns the next entry, or io.EOF after the end-of-archive marker (two zero blocks).
func (tr *tarReader) next() (*tarEntry, error) {
	if err := tr.skip(); err != nil {
		return nil, err
	}
	if err := tr.readBlock(); err != nil {
		return nil, err
	}
	if isZeroBlock(&tr.blk) {
		if err := tr.readBlock(); err != nil {
			return nil, err
		}
		if !isZeroBlock(&tr.blk) {
			// node-tar reads on after a single zero block; archive/tar stops with an error.
			return nil, &TarballError{Entry: blockName(&tr.blk, nil), Problem: "follows a single zero block inside the archive",
				Fix: "re-create the tarball with `npm pack`", Err: ErrNotCanonical}
		}
		return nil, io.EOF
	}
	h, hp := parseHeader(&tr.blk)
	if hp != nil {
		return nil, &TarballError{Entry: blockName(&tr.blk, nil), Problem: hp.problem, Fix: hp.fix, Err: hp.err}
	}
	var pax map[string]string
	paxSize := h.size
	if h.typ == typePAX {
		var err error
		if pax, h, err = tr.readPAX(h); err != nil {
			return nil, err
		}
	}
	e, err := entryFromHeader(h, pax, paxSize)
	if err != nil {
		return nil, err
	}
	tr.body, tr.pad, tr.cur = e.size, padding(e.size), e.name
	return e, nil
}

// readPAX reads a PAX extended header's records and the header of the entry they describe.
func (tr *tarReader) readPAX(x header) (map[string]string, header, error) {
	fail := func(name, problem string, err error) error {
		return &TarballError{Entry: name, Problem: problem, Fix: "re-create the tarball with `npm pack`", Err: err}
	}
	if x.size == 0 || x.size > maxPAXBytes {
		return nil, header{}, fail(blockName(&tr.blk, nil), fmt.Sprintf("is a PAX header of %d bytes, "+
			"which node-tar never writes", x.size), ErrNotCanonical)
	}
	body := make([]byte, x.size)
	if _, err := io.ReadFull(tr.r, body); err != nil {
		return nil, header{}, tr.cut(err)
	}
	tr.pad = padding(x.size)
	if err := tr.skip(); err != nil {
		return nil, header{}, err
	}
	pax, problem := parsePAX(body)
	if problem != "" {
		return nil, header{}, fail(blockName(&tr.blk, nil), problem, ErrNotCanonical)
	}
	if err := tr.readBlock(); err != nil {
		return nil, header{}, err
	}
	if isZeroBlock(&tr.blk) {
		return nil, header{}, fail(pax["path"], "is named in a PAX header that no entry follows", ErrNotCanonical)
	}
	h, hp := parseHeader(&tr.blk)
	if hp != nil {
		return nil, header{}, fail(blockName(&tr.blk, pax), hp.problem, hp.err)
	}
	if h.typ == typePAX {
		return nil, header{}, fail(blockName(&tr.blk, pax), "has two PAX headers in a row, which node-tar and "+
			"archive/tar merge differently", ErrNotCanonical)
	}
	return pax, h, nil
}

// parsePAX parses PAX records ("<len> <key>=<value>\n") strictly. node-tar (lib/pax.js parseKV)
// splits the body at newlines and drops any record whose length prefix does not match (so a value
// holding a newline vanishes for npm while POSIX readers keep it), and cuts values at a NUL. Only
// the keys node-tar writes for npm pack are accepted: lib/write-entry.js writes path, ctime, atime,
// dev, ino, nlink, gid, uid, uname, linkpath, mtime and size, and npm pack's "portable" option
// leaves only path, mtime (files) and size.
func parsePAX(body []byte) (map[string]string, string) {
	recs := make(map[string]string, 3)
	for len(body) > 0 {
		sp := bytes.IndexByte(body, ' ')
		if sp <= 0 || body[0] == '0' || !allDigits(body[:sp]) {
			return nil, "has a malformed PAX record"
		}
		n, err := strconv.Atoi(string(body[:sp]))
		if err != nil || n <= sp+1 || n > len(body) || body[n-1] != '\n' {
			return nil, "has a malformed PAX record"
		}
		key, value, ok := strings.Cut(string(body[sp+1:n-1]), "=")
		switch {
		case !ok:
			return nil, fmt.Sprintf("has a malformed PAX record %q", key)
		case strings.ContainsAny(value, "\n\x00"):
			return nil, fmt.Sprintf("has a PAX record %q whose value holds a newline or NUL, which node-tar reads "+
				"differently from archive/tar", key)
		case key != "path" && key != "mtime" && key != "size":
			return nil, fmt.Sprintf("has a PAX record %q, which node-tar never writes for npm pack", key)
		}
		if _, dup := recs[key]; dup || value == "" {
			return nil, fmt.Sprintf("has a repeated or empty PAX record %q", key)
		}
		recs[key] = value
		body = body[n:]
	}
	if _, ok := recs["path"]; !ok {
		return nil, "has a PAX header without a path record, which node-tar never writes for npm pack"
	}
	return recs, ""
}

// entryFromHeader names a file or directory header as node-tar does (the PAX path, else the ustar
// prefix and name), and checks that its header holds exactly what node-tar writes for that name.
// paxSize is the size of the PAX header's body, if there is one.
func entryFromHeader(h header, pax map[string]string, paxSize int64) (*tarEntry, error) {
	name := ustarPath(h)
	if p, ok := pax["path"]; ok {
		name = p
	}
	e := &tarEntry{name: name, typ: h.typ, size: h.size}
	fail := func(problem string) error {
		return &TarballError{Entry: name, Problem: problem, Fix: "re-create the tarball with `npm pack`", Err: ErrNotCanonical}
	}
	if s, ok := pax["size"]; ok && s != strconv.FormatInt(h.size, 10) {
		return nil, fail(fmt.Sprintf("has a PAX size %q that differs from its header's size %d", s, h.size))
	}
	if m, ok := pax["mtime"]; ok && !isDecimal(m) {
		return nil, fail(fmt.Sprintf("has a PAX mtime %q that is not a decimal number", m))
	}
	if h.typ == typeDir {
		if h.size != 0 {
			return nil, fail(fmt.Sprintf("is a directory with a %d-byte body", h.size))
		}
		if _, ok := pax["path"]; !ok && !strings.HasSuffix(e.name, "/") {
			e.name += "/" // node-tar's long directory names lose their slash in the name field
		}
	}
	if err := checkEntryPath(e.name, h.typ == typeDir); err != nil {
		return nil, err
	}
	wantName, wantPrefix, needPax := nodeTarNameFields(e.name)
	if string(h.name) != wantName || string(h.prefix) != wantPrefix || needPax != (pax != nil) {
		return nil, fail(fmt.Sprintf("is stored as name %q, prefix %q%s, not the way node-tar (npm pack) "+
			"stores this path", h.name, h.prefix, map[bool]string{true: " and a PAX path", false: ""}[pax != nil]))
	}
	if pax != nil && paxSize > blockSize && !isASCII(e.name) {
		// node-tar's Parser collects a PAX body as a string, decoding each piece of the decompressed
		// stream as it arrives; a body over one block can arrive in pieces, a character split between
		// two decodes as U+FFFD, the record's length no longer matches and node-tar drops the path:
		// npm installing from the registry, where the bytes arrive in pieces, then extracts the file
		// under its ustar name. (A one-block body is always handed over whole.)
		return nil, &TarballError{Entry: name, Problem: fmt.Sprintf("has a non-ASCII name in a PAX header of more "+
			"than one block, which node-tar (npm) decodes piece by piece and can lose, installing the file as %q",
			ustarPath(h)), Fix: "shorten the name (or use ASCII) and run `npm pack` again", Err: ErrNotCanonical}
	}
	return e, nil
}

// ustarPath is the path the ustar fields alone give.
func ustarPath(h header) string {
	if len(h.prefix) > 0 {
		return string(h.prefix) + "/" + string(h.name)
	}
	return string(h.name)
}

// read reads the current entry's body.
func (tr *tarReader) read(p []byte) (int, error) {
	if tr.body == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > tr.body {
		p = p[:tr.body]
	}
	n, err := tr.r.Read(p)
	tr.body -= int64(n)
	if err == io.EOF && tr.body > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		return n, tr.cut(err)
	}
	return n, nil
}

// skip discards the rest of the current entry's body and checks its padding is zeros, as node-tar
// writes it.
func (tr *tarReader) skip() error {
	for tr.body > 0 {
		n, err := tr.read(tr.scratch[:min(int64(len(tr.scratch)), tr.body)])
		if err != nil {
			return err
		}
		if n == 0 {
			return tr.cut(io.ErrUnexpectedEOF)
		}
	}
	if tr.pad == 0 {
		return nil
	}
	pad := tr.scratch[:tr.pad]
	tr.pad = 0
	if _, err := io.ReadFull(tr.r, pad); err != nil {
		return tr.cut(err)
	}
	if len(bytes.Trim(pad, "\x00")) != 0 {
		return &TarballError{Entry: tr.cur, Problem: "has data in the padding after its body",
			Fix: "re-create the tarball with `npm pack`", Err: ErrNotCanonical}
	}
	return nil
}

func (tr *tarReader) readBlock() error {
	if _, err := io.ReadFull(tr.r, tr.blk[:]); err != nil {
		return tr.cut(err)
	}
	return nil
}

// cut explains a read error: limits pass through, an early end means a truncated archive.
func (tr *tarReader) cut(err error) error {
	var te *TarballError
	if errors.As(err, &te) {
		return te
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &TarballError{Problem: "is corrupt (the tar archive ends before its end-of-archive marker)",
			Fix: "re-create it with `npm pack`", Err: ErrCorrupt}
	}
	return &TarballError{Problem: "is corrupt (" + err.Error() + ")", Fix: "re-create it with `npm pack`", Err: ErrCorrupt}
}

// blockName is the best name to report for a refused header block: the PAX path if known, else
// the ustar prefix and name as far as they read.
func blockName(b *[blockSize]byte, pax map[string]string) string {
	if p, ok := pax["path"]; ok {
		return p
	}
	name, _ := nulField(b[offName : offName+lenName])
	prefix, _ := nulField(b[offPrefix : offPrefix+lenPrefix])
	if len(prefix) > 0 && bytes.Equal(b[offMagic:offMagic+lenMagic], []byte("ustar\x0000")) {
		return string(prefix) + "/" + string(name)
	}
	return string(name)
}

func padding(size int64) int64 { return -size & (blockSize - 1) }

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isDecimal reports a PAX time as node-tar writes one: digits with an optional fraction and sign.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	return allDigits([]byte(whole)) && (!hasFrac || allDigits([]byte(frac)))
}
