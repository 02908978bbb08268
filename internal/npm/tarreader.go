package npm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxPAXBytes caps a PAX extended header's body. Packers write a path (4 KiB at most, see
// maxNameBytes) and a few short records; node-tar ignores extended headers over 1 MiB.
const maxPAXBytes = 64 << 10

// tarEntry is a file or directory entry, named as node-tar reads it.
type tarEntry struct {
	name string // the path (from a PAX record or GNU long name if there is one); directories end in "/"
	typ  byte   // typeFile or typeDir
	size int64
}

// metaPath is the path a PAX header or GNU long name gives the entry after it.
type metaPath struct {
	kind byte   // typePAX or typeLongName
	path string // the path record or long name
	size string // the PAX size record, if any
	time string // the PAX mtime record, if any
}

// tarReader reads a tar stream the way node-tar's Parser does, refusing every block on which node-tar 6
// and 7 and other readers could part ways.
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
			return nil, &TarballError{Entry: blockName(&tr.blk), Problem: "follows a single zero block inside the archive",
				Fix: repack, Err: ErrNotCanonical}
		}
		return nil, io.EOF
	}
	h, hp := parseHeader(&tr.blk)
	if hp != nil {
		name := blockName(&tr.blk)
		if name == "" {
			name = "(the header after " + quote(tr.cur) + ")"
		}
		return nil, &TarballError{Entry: name, Problem: hp.problem, Fix: hp.fix, Err: hp.err}
	}
	var meta *metaPath
	if h.typ == typePAX || h.typ == typeLongName {
		var err error
		if meta, h, err = tr.readMeta(h); err != nil {
			return nil, err
		}
	}
	e, err := entryFromHeader(h, meta)
	if err != nil {
		return nil, err
	}
	tr.body, tr.pad, tr.cur = e.size, padding(e.size), e.name
	return e, nil
}

// readMeta reads a PAX header's records or a GNU long name, and the header of the entry it names.
func (tr *tarReader) readMeta(x header) (*metaPath, header, error) {
	what := metaName(x.typ)
	fail := func(name, problem string, err error) error {
		return &TarballError{Entry: name, Problem: problem, Fix: repack, Err: err}
	}
	limit := int64(maxPAXBytes)
	if x.typ == typeLongName {
		limit = maxNameBytes + 1
	}
	if x.size == 0 || x.size > limit {
		return nil, header{}, fail(blockName(&tr.blk), fmt.Sprintf("is a %s of %d bytes, which no packer "+
			"writes (node-tar ignores meta headers over 1 MiB)", what, x.size), ErrNotCanonical)
	}
	body := make([]byte, x.size)
	if _, err := io.ReadFull(tr.r, body); err != nil {
		return nil, header{}, tr.cut(err)
	}
	tr.pad = padding(x.size)
	if err := tr.skip(); err != nil {
		return nil, header{}, err
	}
	var meta *metaPath
	var problem string
	if x.typ == typeLongName {
		meta, problem = parseLongName(body)
	} else {
		meta, problem = parsePAX(body)
	}
	if problem != "" {
		return nil, header{}, fail(blockName(&tr.blk), problem, ErrNotCanonical)
	}
	if err := tr.readBlock(); err != nil {
		return nil, header{}, err
	}
	if isZeroBlock(&tr.blk) {
		return nil, header{}, fail(meta.path, "is named in a "+what+" that no entry follows", ErrNotCanonical)
	}
	h, hp := parseHeader(&tr.blk)
	if hp != nil {
		return nil, header{}, fail(meta.path, hp.problem, hp.err)
	}
	if h.typ == typePAX || h.typ == typeLongName {
		return nil, header{}, fail(meta.path, "has a "+what+" followed by a "+metaName(h.typ)+", which node-tar 6, "+
			"node-tar 7 and other readers combine differently", ErrNotCanonical)
	}
	if p := splitProblem(body, meta, ustarPath(h)); p != "" {
		return nil, header{}, &TarballError{Entry: meta.path, Problem: p, Fix: "shorten the path to under about 500 " +
			"bytes (or use ASCII names for its directories) and pack the package again", Err: ErrNotCanonical}
	}
	return meta, h, nil
}

// splitProblem refuses a meta header body that node-tar can decode wrongly. node-tar collects the body
// as a string, decoding each piece of the decompressed stream on its own as it arrives; every piece
// after the first starts at least 512 bytes into the body (Parser consumes whole blocks), and where the
// pieces break depends on how the compressed bytes arrive: in one piece from a local file, in many from
// the registry. A character split between two pieces decodes as U+FFFD: node-tar then drops the PAX
// record (its length no longer matches) and names the file by its ustar fields, or garbles the GNU long
// name. So a body is safe exactly when no byte past its first 512 is part of a non-ASCII character.
func splitProblem(body []byte, meta *metaPath, ustar string) string {
	if len(body) <= blockSize || isASCII(string(body[blockSize:])) {
		return ""
	}
	what := "install the file under its ustar name " + quote(ustar)
	if meta.kind == typeLongName {
		what = "garble the name"
	}
	return fmt.Sprintf("has a non-ASCII path of %d bytes in a %s over one block: npm decodes such a header piece by "+
		"piece as the bytes arrive (from the registry, in many pieces) and can %s", len(meta.path), metaName(meta.kind), what)
}

// parseLongName parses a GNU long name as pnpm and GNU tar write it: the path and a NUL. node-tar cuts
// the name at the first NUL but keeps anything after a newline that follows it (/\0.*/); archive/tar
// cuts at the NUL. Only NULs may follow it.
func parseLongName(body []byte) (*metaPath, string) {
	name, rest, ok := bytes.Cut(body, []byte{0})
	switch {
	case !ok:
		return nil, "is a GNU long-name header whose name does not end in a NUL"
	case !isZero(rest):
		return nil, "is a GNU long-name header with bytes after the NUL that ends its name, which node-tar and " +
			"other readers keep differently"
	case len(name) == 0:
		return nil, "is a GNU long-name header with an empty name, which makes node-tar (npm) skip the next entry's header"
	}
	return &metaPath{kind: typeLongName, path: string(name)}, ""
}

// paxKeys are the PAX records accepted: path, mtime and size (npm pack writes them), and hdrcharset (bun
// writes "BINARY"; node-tar and archive/tar ignore it and read the path as UTF-8, which checkEntryPath
// requires). node-tar (lib/pax.js) would apply many others: linkpath makes it skip a file header, uid,
// gid, mode and the times change what it extracts.
var paxKeys = map[string]bool{"path": true, "mtime": true, "size": true, "hdrcharset": true}

// parsePAX parses PAX records ("<len> <key>=<value>\n") strictly. node-tar (lib/pax.js parseKV)
// splits the body at newlines and drops any record whose length prefix does not match (so a value
// holding a newline vanishes for npm while POSIX readers keep it), and cuts values at a NUL.
func parsePAX(body []byte) (*metaPath, string) {
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
				"differently from other readers", key)
		case !paxKeys[key]:
			return nil, fmt.Sprintf("has a PAX record %q, which node-tar (npm) applies but no packer writes", key)
		case key == "hdrcharset" && value != "BINARY" && value != "ISO-IR 10646 2000 UTF-8":
			return nil, fmt.Sprintf("has a PAX hdrcharset %q", value)
		}
		if _, dup := recs[key]; dup || value == "" {
			return nil, fmt.Sprintf("has a repeated or empty PAX record %q", key)
		}
		recs[key] = value
		body = body[n:]
	}
	if _, ok := recs["path"]; !ok {
		return nil, "has a PAX header without a path record, which no packer writes"
	}
	return &metaPath{kind: typePAX, path: recs["path"], size: recs["size"], time: recs["mtime"]}, ""
}

// entryFromHeader names a file or directory header as node-tar does: the PAX path or GNU long name if
// there is one (node-tar, archive/tar and GNU tar all let it replace the ustar fields), else the ustar
// prefix and name, however the packer split the path between them.
func entryFromHeader(h header, meta *metaPath) (*tarEntry, error) {
	name := ustarPath(h)
	if meta != nil {
		name = meta.path
	}
	e := &tarEntry{name: name, typ: h.typ, size: h.size}
	fail := func(problem string) error {
		return &TarballError{Entry: name, Problem: problem, Fix: repack, Err: ErrNotCanonical}
	}
	if meta != nil && meta.size != "" && meta.size != strconv.FormatInt(h.size, 10) {
		return nil, fail(fmt.Sprintf("has a PAX size %q that differs from its header's size %d", meta.size, h.size))
	}
	if meta != nil && meta.time != "" && !isDecimal(meta.time) {
		return nil, fail(fmt.Sprintf("has a PAX mtime %q that is not a decimal number", meta.time))
	}
	if h.typ == typeDir {
		if h.size != 0 {
			return nil, fail(fmt.Sprintf("is a directory with a %d-byte body", h.size))
		}
		if !strings.HasSuffix(e.name, "/") {
			e.name += "/" // yarn 1 and long names in node-tar's ustar fields leave the slash out
		}
	}
	if err := checkEntryPath(e.name, h.typ == typeDir); err != nil {
		return nil, err
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
			Fix: repack, Err: ErrNotCanonical}
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
			Fix: "download or pack it again", Err: ErrCorrupt}
	}
	return &TarballError{Problem: "is corrupt (" + err.Error() + ")", Fix: "download or pack it again", Err: ErrCorrupt}
}

// blockName is the best name to report for a refused header block: the ustar prefix and name as far as
// they read.
func blockName(b *[blockSize]byte) string {
	name, _ := nulField(b[offName : offName+lenName])
	prefix, _ := nulField(b[offPrefix : offPrefix+lenPrefix])
	if len(prefix) > 0 && string(b[offMagic:offMagic+lenMagic]) == magicUstar {
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
