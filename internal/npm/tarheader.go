package npm

import (
	"bytes"
	"fmt"
	"strconv"
)

// The tar headers are parsed here from the raw 512-byte blocks, not with archive/tar, because the
// question is not "what does this archive hold" but "can two readers disagree about it", and Go's
// reader hides the answer: it merges PAX records, GNU long names ('L'/'K') and GNU sparse records
// ("GNU.sparse.name" renames the entry) into one Header, returns PAX global headers ('g') as
// entries without applying them, accepts checksums over signed bytes, reads the prefix field for
// any "ustar\x00" magic whatever the version, and ignores a regular file's link name. node-tar, which
// npm reads with, differs on each point: it applies 'g' records to every later entry, lets a later
// 'x' override an 'L', skips a header it finds invalid (bad checksum, no path, a link name on a file,
// a number it cannot decode) and reads that entry's body as more headers. From the merged Header such
// an archive looks plain. So every block is checked here, meta headers ('x', 'L') as strictly as
// file headers, and only the forms every npm reads the same way are accepted: the layouts npm pack
// (node-tar), pnpm, yarn 1 and 4 and bun write, with every field in a spelling node-tar 6 and 7 and
// archive/tar parse alike.

// blockSize is the tar block size.
const blockSize = 512

// ustar header field offsets and sizes (POSIX.1-1988 ustar).
const (
	offName, lenName         = 0, 100
	offMode, lenMode         = 100, 8
	offUID, lenUID           = 108, 8
	offGID, lenGID           = 116, 8
	offSize, lenSize         = 124, 12
	offMtime, lenMtime       = 136, 12
	offChksum, lenChksum     = 148, 8
	offType                  = 156
	offLinkname, lenLinkname = 157, 100
	offMagic, lenMagic       = 257, 8 // magic "ustar\x00" and version "00"
	offUname, lenUname       = 265, 32
	offGname, lenGname       = 297, 32
	offDevmaj, lenDevmaj     = 329, 8
	offDevmin, lenDevmin     = 337, 8
	offPrefix, lenPrefix     = 345, 155
	offPad                   = 500
)

// The typeflags accepted: files, directories (yarn 1 writes them), PAX extended headers (npm, yarn and
// bun write them for paths the ustar fields cannot hold) and GNU long names (pnpm writes them instead).
const (
	typeFile     = '0'
	typeDir      = '5'
	typePAX      = 'x'
	typeLongName = 'L'
)

// The magics accepted: POSIX ustar everywhere, and GNU's on a long-name header (pnpm, like GNU tar,
// writes its 'L' headers that way). node-tar reads the prefix field only after the POSIX one.
const (
	magicUstar = "ustar\x0000"
	magicGNU   = "ustar  \x00"
)

// header is one validated ustar header block.
type header struct {
	typ    byte
	name   []byte // name field, without its NUL padding
	prefix []byte // prefix field, without its NUL padding
	size   int64
}

// headerProblem is why a header block is refused; the caller adds the entry name it can recover.
type headerProblem struct {
	problem, fix string
	err          error
}

func (p *headerProblem) Error() string { return p.problem }

// isZeroBlock reports an all-zero block, the only end-of-archive marker accepted.
func isZeroBlock(b *[blockSize]byte) bool {
	return *b == [blockSize]byte{}
}

// parseHeader validates one non-zero header block field by field.
func parseHeader(b *[blockSize]byte) (header, *headerProblem) {
	rewrite := &headerProblem{fix: repack, err: ErrNotCanonical}
	// node-tar (Header.decode) reads the checksum from 12 bytes starting at 148, so digits in the
	// typeflag can run into it, and accepts only the unsigned sum; archive/tar reads 8 bytes and
	// accepts the signed sum too. Requiring digits then a terminator inside the 8 bytes, and the
	// unsigned sum, leaves one value both agree on.
	sum, ok := octalField(b[offChksum:offChksum+lenChksum], false)
	if !ok {
		return header{}, &headerProblem{problem: fmt.Sprintf("has an unreadable header checksum %q", b[offChksum:offChksum+lenChksum]),
			fix: rewrite.fix, err: ErrCorrupt}
	}
	if unsigned, signed := checksums(b); sum != unsigned {
		what := "a wrong header checksum"
		if sum == signed {
			what = "a header checksum computed over signed bytes, which node-tar (npm) rejects while other readers accept it"
		}
		return header{}, &headerProblem{problem: "has " + what, fix: rewrite.fix, err: ErrCorrupt}
	}
	h := header{typ: b[offType]}
	// node-tar reads the prefix field only for "ustar\x0000"; archive/tar for any "ustar\x00". A GNU
	// magic is accepted on a long-name header whose prefix area is empty, where no reader looks.
	magic := string(b[offMagic : offMagic+lenMagic])
	gnuLong := magic == magicGNU && h.typ == typeLongName && isZero(b[offPrefix:offPad])
	if magic != magicUstar && !gnuLong {
		rewrite.problem = fmt.Sprintf("is not a POSIX ustar header (magic %q)", magic)
		return header{}, rewrite
	}
	if p := checkType(h.typ); p != nil {
		if link, _ := nulField(b[offLinkname : offLinkname+lenLinkname]); len(link) > 0 && p.err == ErrLink {
			p.problem = "is a link to " + quote(string(link))
		}
		return header{}, p
	}
	for _, f := range []struct {
		what     string
		off, len int
	}{{"mode", offMode, lenMode}, {"uid", offUID, lenUID}, {"gid", offGID, lenGID},
		{"mtime", offMtime, lenMtime}, {"devmajor", offDevmaj, lenDevmaj}, {"devminor", offDevmin, lenDevmin}} {
		if _, ok := octalField(b[f.off:f.off+f.len], true); !ok {
			rewrite.problem = fmt.Sprintf("has a %s field %q that is not a plain octal number", f.what, b[f.off:f.off+f.len])
			return header{}, rewrite
		}
	}
	size, ok := octalField(b[offSize:offSize+lenSize], false)
	if !ok {
		rewrite.problem = fmt.Sprintf("has a size field %q that is not a plain octal number "+
			"(node-tar and archive/tar parse such fields differently)", b[offSize:offSize+lenSize])
		return header{}, rewrite
	}
	h.size = size
	var strs [5][]byte
	for i, f := range []struct {
		what     string
		off, len int
	}{{"name", offName, lenName}, {"prefix", offPrefix, lenPrefix}, {"linkname", offLinkname, lenLinkname},
		{"uname", offUname, lenUname}, {"gname", offGname, lenGname}} {
		s, ok := nulField(b[f.off : f.off+f.len])
		if !ok {
			// node-tar strips from the first NUL to the next newline only (/\0.*/), so bytes after the
			// NUL can reappear in the name it reads; archive/tar stops at the NUL.
			rewrite.problem = fmt.Sprintf("has bytes after the NUL that ends its %s field", f.what)
			return header{}, rewrite
		}
		strs[i] = s
	}
	h.name, h.prefix = strs[0], strs[1]
	if len(h.name) == 0 {
		// node-tar skips a header without a path ("path is required") and reads its body as more
		// headers, a PAX or long-name header's too; every other reader takes the header as it is.
		rewrite.problem = "has an empty name field, which makes node-tar (npm) skip the header and read what follows it as other entries"
		if h.typ == typePAX || h.typ == typeLongName {
			rewrite.problem = "is a " + metaName(h.typ) + " with an empty name field, which node-tar (npm) skips, reading " +
				"its body as other entries while other readers take the path it holds"
		}
		return header{}, rewrite
	}
	if len(strs[2]) > 0 {
		// node-tar skips a file header with a link name ("linkpath forbidden") and reads its body as
		// headers; archive/tar ignores the link name.
		rewrite.problem = fmt.Sprintf("has a link name %q although it is not a link", strs[2])
		return header{}, rewrite
	}
	if [blockSize - offPad]byte(b[offPad:]) != [blockSize - offPad]byte{} {
		// archive/tar reads a "tar\x00" trailer here as the star format, with a shorter prefix.
		rewrite.problem = "has data in the unused bytes at the end of the header"
		return header{}, rewrite
	}
	return h, nil
}

// metaName names a meta header's kind for messages.
func metaName(t byte) string {
	if t == typeLongName {
		return "GNU long-name header"
	}
	return "PAX header"
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkType admits the typeflags the packers write and names every other one.
func checkType(t byte) *headerProblem {
	fix := repack
	switch t {
	case typeFile, typeDir, typePAX, typeLongName:
		return nil
	case '1', '2':
		return &headerProblem{problem: "is a link", fix: "packers never store links, and npm skips them: " + fix, err: ErrLink}
	case 'g':
		return &headerProblem{problem: "is a PAX global header, which node-tar (npm) applies to every later entry " +
			"and archive/tar ignores", fix: fix, err: ErrNotCanonical}
	case 'K', 'N':
		return &headerProblem{problem: fmt.Sprintf("is a GNU long-link or old long-name header (type %q), which "+
			"node-tar (npm) and other readers combine differently", t), fix: fix, err: ErrNotCanonical}
	case 0:
		return &headerProblem{problem: "has the pre-POSIX file type '\\x00', which node-tar never writes",
			fix: fix, err: ErrNotCanonical}
	}
	return &headerProblem{problem: fmt.Sprintf("has tar type %q", t),
		fix: "packers store only files and directories: " + fix, err: ErrEntryType}
}

// checksums returns the header checksum computed over unsigned and over signed bytes, with the
// checksum field counted as spaces.
func checksums(b *[blockSize]byte) (unsigned, signed int64) {
	for i, c := range b {
		if offChksum <= i && i < offChksum+lenChksum {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return unsigned, signed
}

// octalField parses a numeric field as node-tar writes it: octal digits followed by at least one
// space or NUL (and nothing else), or, if allowEmpty, all NULs (a field node-tar leaves unset). Base-256
// numbers, signs, leading spaces and trailing junk are refused: each is read differently by
// node-tar (parseInt stops at junk, base-256 everywhere) and archive/tar.
func octalField(f []byte, allowEmpty bool) (int64, bool) {
	if allowEmpty && len(bytes.Trim(f, "\x00")) == 0 {
		return 0, true
	}
	end := bytes.IndexAny(f, " \x00")
	if end <= 0 || len(bytes.Trim(f[end:], " \x00")) != 0 {
		return 0, false
	}
	for _, c := range f[:end] {
		if c < '0' || c > '7' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(f[:end]), 8, 64)
	return n, err == nil
}

// nulField returns a NUL-padded string field's value; it is refused if anything but NULs
// follows the first NUL.
func nulField(f []byte) ([]byte, bool) {
	i := bytes.IndexByte(f, 0)
	if i < 0 {
		return f, true
	}
	return f[:i], len(bytes.Trim(f[i:], "\x00")) == 0
}
