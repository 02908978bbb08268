package npm

import (
	"fmt"
	"strings"
	"testing"
)

// The meta-header class: node-tar judges the header of a PAX ('x') or GNU long-name ('L') entry
// itself (lib/parse.js consumeHeader) and skips it as TAR_ENTRY_INVALID when its checksum is wrong,
// when a numeric field throws in Header.decode (base-256 outside the safe range), when it has no
// path ("path is required": an empty name field and no ustar prefix), or when it has a link name
// (node-tar 6 forbids one on every type but links). A skipped header's body is then read as more
// headers. waxseal used to check those fields on file headers but read past them on a PAX header, so
// a PAX header with an empty name was one path for waxseal and one invalid block for npm.

// pathlessPAXSmuggle is the attack: a PAX header with an empty name whose body is a single "path"
// record, every byte of it printable ASCII (so it is a name waxseal accepts), laid out so that its
// first block is also a valid symbolic-link header for node-tar. npm skips the PAX header, reads the
// symlink (pacote skips links), skips the link's "body" of two blocks (the rest of the PAX body and
// the header of the file the PAX path names) and lands inside that file's body, where an evil
// package.json entry waits, followed by an end-of-archive marker. waxseal read one file with a
// long name; every npm from 10.0.0 to 12.2.3 publishes and installs evil-pkg@6.6.6.
func pathlessPAXSmuggle(t *rawTar) {
	t.file(manifestEntry, []byte(goodJSON))
	const recLen = 1000 // "1000 path=" + value + "\n", over two blocks
	var b [blockSize]byte
	for i := range b {
		b[i] = 'a'
	}
	copy(b[:], "1000 path=package/")
	for _, i := range []int{60, 95, 200, 300, 400, 480} {
		b[i] = '/' // keep every path segment under 255 bytes
	}
	copy(b[offSize:], fmt.Sprintf("%011o/", 2*blockSize)) // the link's "body": two blocks
	b[offType] = '2'                                      // symbolic link; its link name is the 'a's at 157
	copy(b[offChksum:], "        ")
	unsigned, _ := checksums(&b)
	copy(b[offChksum:], fmt.Sprintf("%07o/", unsigned))
	tail := []byte(strings.Repeat("b", recLen-blockSize-4) + ".js\n")
	for _, i := range []int{100, 300} {
		tail[i] = '/'
	}
	body := append(b[:], tail...)
	path := string(body[len("1000 path=") : recLen-1])
	t.header(hdr{typ: typePAX, size: recLen}) // no name, no prefix
	t.body(body)
	name, prefix, _ := nodeTarNameFields(path)
	var inner rawTar
	inner.file(manifestEntry, []byte(evilJSON))
	inner.buf.Write(make([]byte, 2*blockSize))
	t.header(hdr{name: name, prefix: prefix, size: int64(inner.buf.Len())})
	t.body(inner.buf.Bytes())
}

// longThen writes the good manifest, a GNU long-name header with the given body, then a file holding
// the evil manifest under the ustar name name.
func longThen(body, name string) func(t *rawTar) {
	return func(t *rawTar) {
		t.file(manifestEntry, []byte(goodJSON))
		t.meta(typeLongName, "././@LongLink", []byte(body))
		t.header(hdr{name: name, size: int64(len(evilJSON))})
		t.body([]byte(evilJSON))
	}
}

// metaHeaderCases are the hostile tarballs of the meta-header class, and of the long names and gzip
// headers the reader now parses itself.
func metaHeaderCases(tb testing.TB) []hostileCase {
	return []hostileCase{
		{name: "PAX header without a name", tar: tarOf(pathlessPAXSmuggle),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "empty name field"},
		// node-tar keeps what follows a newline after the NUL (/\0.*/): "package/x\0\n" names "package/x\n".
		{name: "long name with bytes after its NUL", tar: tarOf(longThen("package/a.js\x00\npackage.json", "package/a.js")),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "after the NUL"},
		// An empty long name: readers fall back to the ustar name or take an empty path; no packer writes one.
		{name: "empty long name", tar: tarOf(smugglePath(func(t *rawTar) { t.meta(typeLongName, "././@LongLink", []byte("\x00")) })),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "empty name"},
		{name: "long name then PAX path", tar: tarOf(paxThen("package/x.js",
			func(t *rawTar) { t.meta(typeLongName, "././@LongLink", []byte("package/readme.md\x00")) },
			metaOf('x', "path="+manifestEntry))),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "followed by a PAX header"},
		{name: "long name as pnpm writes it", tar: tarOf(longThen("package/"+strings.Repeat("n", 120)+".js\x00",
			"package/"+strings.Repeat("n", 92))), legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", want: "good-pkg@1.0.0"},
		{name: "gzip reserved flag bits", gz: gzWithHeader(tb, 0x20, nil),
			legacy: "good-pkg@1.0.0", npm: "refused", wantErr: ErrCorrupt, wantMsg: "reserved gzip header flag bits", noEntry: true},
		{name: "gzip header CRC wrong", gz: gzWithHeader(tb, flagHCRC, []byte{0, 0}),
			legacy: "refused", npm: "refused", wantErr: ErrCorrupt, wantMsg: "header CRC", noEntry: true},
		{name: "gzip file name of 600 bytes", gz: gzWithHeader(tb, flagName, []byte(strings.Repeat("n", 600)+"\x00")),
			legacy: "refused", npm: "good-pkg@1.0.0", want: "good-pkg@1.0.0"},
	}
}

// smugglePath writes the good manifest, the meta header, then a file whose body is the evil manifest's
// header and body: a reader that skips the file's header reads the body as entries.
func smugglePath(meta func(t *rawTar)) func(t *rawTar) {
	return func(t *rawTar) {
		t.file(manifestEntry, []byte(goodJSON))
		meta(t)
		inner := innerEntry(manifestEntry, []byte(evilJSON))
		t.header(hdr{name: "package/a.txt", size: int64(len(inner))})
		t.body(inner)
	}
}

// gzWithHeader is the good package gzipped by hand with the given flag byte and optional header
// fields (written as given, after the 10 fixed bytes).
func gzWithHeader(tb testing.TB, flg byte, fields []byte) []byte {
	raw := packTar(manifestEntry, goodJSON)
	plain := gz(tb, raw)
	out := append([]byte{0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 3}, fields...)
	return append(out, plain[10:]...) // Go's writer adds no optional fields: the deflate data starts at byte 10
}
