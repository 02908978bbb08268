package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rawTar writes tar archives block by block, the way node-tar's Pack does for npm pack unless a
// field is overridden, so tests can build both canonical archives and every hostile variation.
type rawTar struct {
	buf bytes.Buffer
}

// hdr is one header block. Zero fields take node-tar's values for a file; raw overrides win.
type hdr struct {
	name, prefix, link string
	typ                byte // default '0'
	size               int64
	mode               string // raw 8-byte field, default "000644 \x00"
	sizeField          string // raw 12-byte size field, overriding size
	magic              string // raw 8 bytes at 257, default "ustar\x0000"
	chksum             string // "signed", "8digits", "wrong", or "" for node-tar's unsigned "%06o \x00"
	trailer            string // bytes at 500..512
	nameRaw            []byte // raw 100-byte name field content, overriding name
}

// nodeOctal is node-tar's padOctal: zero-padded octal, a space and a NUL, filling size bytes.
func nodeOctal(n int64, size int) string {
	s := strconv.FormatInt(n, 8)
	if len(s) == size-1 {
		return s + "\x00"
	}
	return strings.Repeat("0", size-2-len(s)) + s + " \x00"
}

func (t *rawTar) header(h hdr) {
	var b [blockSize]byte
	if h.nameRaw != nil {
		copy(b[offName:offName+lenName], h.nameRaw)
	} else {
		copy(b[offName:offName+lenName], h.name)
	}
	mode := h.mode
	if mode == "" {
		mode = "000644 \x00"
	}
	copy(b[offMode:], mode)
	size := h.sizeField
	if size == "" {
		size = nodeOctal(h.size, lenSize)
	}
	copy(b[offSize:], size)
	copy(b[offMtime:], nodeOctal(499162500, lenMtime)) // npm pack's 1985-10-26T08:15:00Z
	typ := h.typ
	if typ == 0 && h.name != "" || typ == 0 && h.nameRaw != nil {
		typ = typeFile
	}
	if h.typ == 'Z' { // spelled 'Z' to ask for the pre-POSIX '\x00'
		typ = 0
	}
	b[offType] = typ
	copy(b[offLinkname:offLinkname+lenLinkname], h.link)
	magic := h.magic
	if magic == "" {
		magic = "ustar\x0000"
	}
	copy(b[offMagic:offMagic+lenMagic], magic)
	copy(b[offDevmaj:], nodeOctal(0, lenDevmaj))
	copy(b[offDevmin:], nodeOctal(0, lenDevmin))
	copy(b[offPrefix:offPrefix+lenPrefix], h.prefix)
	copy(b[offPad:], h.trailer)
	unsigned, signed := checksums(&b)
	switch h.chksum {
	case "signed":
		copy(b[offChksum:], nodeOctal(signed, lenChksum))
	case "8digits":
		copy(b[offChksum:], fmt.Sprintf("%08o", unsigned))
	case "wrong":
		copy(b[offChksum:], nodeOctal(unsigned+1, lenChksum))
	default:
		copy(b[offChksum:], nodeOctal(unsigned, lenChksum))
	}
	t.buf.Write(b[:])
}

// body writes data and the zero padding to the next block.
func (t *rawTar) body(data []byte) {
	t.buf.Write(data)
	t.buf.Write(make([]byte, padding(int64(len(data)))))
}

// meta writes a PAX ('x' or 'g') or GNU ('L', 'K') header with its body.
func (t *rawTar) meta(typ byte, name string, body []byte) {
	t.header(hdr{name: name, typ: typ, size: int64(len(body))})
	t.body(body)
}

// paxRecords encodes "key=value" pairs as PAX records.
func paxRecords(kv ...string) []byte {
	var b bytes.Buffer
	for _, r := range kv {
		n := len(r) + 3 // " ", "\n" and at least one digit
		for len(strconv.Itoa(n))+len(r)+2 != n {
			n++
		}
		fmt.Fprintf(&b, "%d %s\n", n, r)
	}
	return b.Bytes()
}

// file writes a file entry exactly as node-tar does for npm pack: a PAX header with path, mtime and
// size when the path does not fit the ustar fields.
func (t *rawTar) file(name string, data []byte) { t.fileMode(name, data, "") }

// fileMode is file with a raw mode field ("" for 0644).
func (t *rawTar) fileMode(name string, data []byte, mode string) {
	n, prefix, needPax := nodeTarNameFields(name)
	if needPax {
		base := jsSlice("PaxHeader/"+posixBasename(name), 99)
		bn, bp, _ := nodeTarNameFields(base)
		recs := paxRecords("path="+name, "mtime=499162500", "size="+strconv.Itoa(len(data)))
		t.header(hdr{name: bn, prefix: bp, typ: typePAX, size: int64(len(recs))})
		t.body(recs)
	}
	t.header(hdr{name: n, prefix: prefix, size: int64(len(data)), mode: mode})
	t.body(data)
}

// end writes the end-of-archive marker and returns the archive.
func (t *rawTar) end() []byte {
	t.buf.Write(make([]byte, 2*blockSize))
	return bytes.Clone(t.buf.Bytes())
}

// packTar is an npm pack-style archive of the given name/body pairs.
func packTar(files ...string) []byte {
	var t rawTar
	for i := 0; i+1 < len(files); i += 2 {
		t.file(files[i], []byte(files[i+1]))
	}
	return t.end()
}

// innerEntry is a header and body that one reader sees as data inside another entry's body.
func innerEntry(name string, data []byte) []byte {
	var t rawTar
	t.file(name, data)
	return t.buf.Bytes()
}

// TestRawTarMatchesNpmPack: the builder writes, byte for byte, the tar stream npm 11 wrote for the
// kitchen-sink package, entry by entry, so hostile archives differ from real ones only where meant.
func TestRawTarMatchesNpmPack(t *testing.T) {
	t.Parallel()
	real := readRealTar(t, "../../testdata/npm/real/npm11/waxseal-example-kitchen-sink-1.2.3-rc.1.tgz")
	var rebuilt rawTar
	for _, e := range tarEntries(t, real) {
		rebuilt.fileMode(e.name, e.body, nodeOctal(e.mode, lenMode))
	}
	if got := rebuilt.end(); !bytes.Equal(got, real) {
		i := 0
		for i < min(len(got), len(real)) && got[i] == real[i] {
			i++
		}
		t.Fatalf("rebuilt archive differs from npm pack's at byte %d (block %d, offset %d)", i, i/blockSize, i%blockSize)
	}
}

// readRealTar returns the decompressed tar stream of a .tgz.
func readRealTar(tb testing.TB, path string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return gunzip(tb, raw)
}

func gunzip(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

type namedBody struct {
	name string
	body []byte
	mode int64
}

// tarEntries lists a benign archive's files with archive/tar, independently of the reader under test.
func tarEntries(tb testing.TB, raw []byte) []namedBody {
	tb.Helper()
	tr := tar.NewReader(bytes.NewReader(raw))
	var out []namedBody
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, namedBody{h.Name, b, h.Mode})
	}
}

// posixBasename is Node's path.posix.basename for relative paths.
func posixBasename(p string) string {
	p = strings.TrimRight(p, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}
