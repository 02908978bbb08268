package npm

import (
	"fmt"
	"strings"
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

// metaHeaderCases are the hostile tarballs of the meta-header class.
func metaHeaderCases() []hostileCase {
	return []hostileCase{
		{name: "PAX header without a name", tar: tarOf(pathlessPAXSmuggle),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "empty name field"},
	}
}
