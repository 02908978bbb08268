package npm

import (
	"fmt"
	"strconv"
	"strings"
)

// The structure-aware generator. Byte-level mutation of a seed corpus almost never rewrites a whole
// header field and fixes its checksum, so it cannot reach the forms where readers part ways. Here the
// fuzzer's bytes are choices instead: which packer's layout to write (npm's node-tar, pnpm, yarn 1,
// yarn 4, bun), which files, and, for any header block, PAX record or gzip field, which value from the
// field's whole range, valid and invalid, with every checksum recomputed afterwards unless the choice
// was to break it. An empty input is the plainest npm pack tarball; every byte moves away from it.

// choices reads decisions from fuzzer bytes; once they run out every decision is 0, the plain one.
type choices struct {
	b []byte
}

// byte returns the next choice byte.
func (c *choices) byte() byte {
	if len(c.b) == 0 {
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

// intn returns a choice in [0, n).
func (c *choices) intn(n int) int {
	if n <= 256 {
		return int(c.byte()) % n
	}
	return int(uint16(c.byte())<<8|uint16(c.byte())) % n
}

// chance reports true with probability about k/16 (and never once the bytes run out).
func (c *choices) chance(k int) bool {
	v := c.byte()
	return v != 0 && int(v>>4) < k
}

// packer is a packer whose tar layout the generator reproduces.
type packer int

const (
	packNpm packer = iota
	packPnpm
	packYarn1
	packYarn4
	packBun
	packerCount
)

func (p packer) String() string {
	return [...]string{"npm", "pnpm", "yarn1", "yarn4", "bun"}[p]
}

// genFile is one file of a generated package.
type genFile struct {
	name string
	body []byte
}

// genNames are the names a packer has to store in its different ways: short, split over the ustar
// prefix and name, a long base name, deep, non-ASCII (short and in a PAX body over one block), a
// Windows short-name shape, and names differing only in case.
var genNames = []string{
	"package/index.js",
	"package/lib/" + strings.Repeat("d", 60) + "/" + strings.Repeat("e", 40) + "/split.js",
	"package/lib/" + strings.Repeat("x", 117) + ".js",
	"package/" + strings.Repeat("deep/", 40) + "deep.js",
	"package/lib/\u00fcn\u00efc\u00f6d\u00e9.js",
	"package/lib/" + strings.Repeat("\u00fc", 60) + "/" + strings.Repeat("\u00f1", 50) + ".js",
	"package/lib/" + strings.Repeat("\u65e5\u672c\u8a9e", 25) + "/" + strings.Repeat("\u8aac\u660e", 30) + "/x.md",
	"package/file~1.js",
	"package/README.md",
	"package/readme.md",
	"package/lib/",
	"package/.gitignore",
}

// genFiles picks the package's files: package.json first or last, and a few others, one of which may
// carry a whole tar entry (an evil package.json) as its body, for a desynchronized reader to find.
func genFiles(c *choices) []genFile {
	manifest := genFile{manifestEntry, []byte(goodJSON)}
	files := []genFile{}
	n := c.intn(4)
	for range n + 1 {
		name := genNames[c.intn(len(genNames))]
		body := []byte("module.exports = " + strconv.Quote(name) + "\n")
		if c.chance(3) {
			body = innerEntry(manifestEntry, []byte(evilJSON))
		}
		files = append(files, genFile{name, body})
	}
	if c.chance(8) {
		return append(files, manifest)
	}
	return append([]genFile{manifest}, files...)
}

// genArchive writes the files in a packer's layout, with header, record and block choices applied.
func genArchive(c *choices) (packer, []byte) {
	p := packer(c.intn(int(packerCount)))
	g := &genTar{c: c, p: p}
	files := genFiles(c)
	if p == packYarn1 {
		g.dir("package")
	}
	for _, f := range files {
		if p == packYarn1 {
			g.parents(f.name)
		}
		g.entry(f)
	}
	g.end()
	return p, g.buf
}

// genTar is a tar stream being generated.
type genTar struct {
	c    *choices
	p    packer
	buf  []byte
	dirs map[string]bool
}

// parents writes yarn 1's directory entries (no trailing slash) before a file's first use of them.
func (g *genTar) parents(name string) {
	segs := strings.Split(strings.TrimSuffix(name, "/"), "/")
	for i := 2; i < len(segs); i++ {
		g.dir(strings.Join(segs[:i], "/"))
	}
}

func (g *genTar) dir(name string) {
	if g.dirs == nil {
		g.dirs = map[string]bool{}
	}
	if g.dirs[name] {
		return
	}
	g.dirs[name] = true
	g.entry(genFile{name: name + "/"})
}

// entry writes one file or directory (a name ending in "/") with the meta headers its packer writes.
func (g *genTar) entry(f genFile) {
	dir := strings.HasSuffix(f.name, "/")
	name := f.name
	if dir && g.p == packYarn1 {
		name = strings.TrimSuffix(name, "/")
	}
	l := layoutFor(g.p, name)
	typ := byte(typeFile)
	if dir {
		typ = typeDir
		f.body = nil
	}
	if g.c.chance(1) {
		g.extraMeta() // a meta header where the packer writes none
	}
	switch {
	case l.pax != nil:
		recs := l.pax
		if g.p == packNpm {
			recs = append(recs, "mtime=499162500", "size="+strconv.Itoa(len(f.body)))
		}
		g.meta(typePAX, l.paxName, l.paxPrefix, paxRecords(g.records(recs)...))
	case l.long != "":
		g.meta('L', "././@LongLink", "", []byte(l.long+"\x00"))
	}
	b := g.block(typ, l.name, l.prefix, int64(len(f.body)))
	g.emit(b)
	g.data(f.body)
}

// meta writes a meta header and its body.
func (g *genTar) meta(typ byte, name, prefix string, body []byte) {
	if (typ == typePAX || typ == 'g') && len(body) > 0 && g.c.chance(1) {
		body[0] ^= 1 // a record length one off
	}
	b := g.block(typ, name, prefix, int64(len(body)))
	if typ == 'L' && g.p == packPnpm {
		copy(b[offMagic:], "ustar  \x00")
		copy(b[offMtime:], "00000000000\x00")
	}
	g.emit(b)
	g.data(body)
}

// extraMeta is a meta header no packer writes before this entry: a PAX global or local header, a GNU
// long name or long link name, with a few records.
func (g *genTar) extraMeta() {
	typ := []byte{'x', 'g', 'L', 'K'}[g.c.intn(4)]
	body := []byte("package/package.json\x00")
	if typ == 'x' || typ == 'g' {
		body = paxRecords(g.records([]string{"path=" + manifestEntry})...)
	}
	g.meta(typ, "PaxHeader/extra", "", body)
}

// block is the packer's header block for an entry, before field choices.
func (g *genTar) block(typ byte, name, prefix string, size int64) *[blockSize]byte {
	var b [blockSize]byte
	copy(b[offName:offName+lenName], name)
	copy(b[offPrefix:offPrefix+lenPrefix], prefix)
	mode := int64(0o644)
	if typ == typeDir {
		mode = 0o755
	}
	num := nodeOctal
	if g.p == packPnpm {
		num = func(n int64, size int) string { return fmt.Sprintf("%0*o\x00", size-1, n) }
	}
	copy(b[offMode:], num(mode, lenMode))
	copy(b[offUID:], num(0, lenUID))
	copy(b[offGID:], num(0, lenGID))
	copy(b[offSize:], num(size, lenSize))
	copy(b[offMtime:], num(499162500, lenMtime))
	b[offType] = typ
	copy(b[offMagic:], "ustar\x0000")
	if g.p != packPnpm {
		copy(b[offDevmaj:], num(0, lenDevmaj))
		copy(b[offDevmin:], num(0, lenDevmin))
	}
	return &b
}

// emit applies field choices to a header block, recomputes its checksum (unless a choice breaks it)
// and appends it; a choice may also put a zero block or a stray block before it.
func (g *genTar) emit(b *[blockSize]byte) {
	if g.c.chance(1) {
		g.buf = append(g.buf, make([]byte, blockSize)...)
	}
	sum := g.mutateFields(b)
	unsigned, signed := checksums(b)
	switch sum {
	case sumSigned:
		copy(b[offChksum:], nodeOctal(signed, lenChksum))
	case sumWrong:
		copy(b[offChksum:], nodeOctal(unsigned+1, lenChksum))
	case sumKeep:
	default:
		format := [...]string{"%06o \x00", "%07o\x00", "%06o\x00 ", "%08o", "%o\x00\x00\x00\x00\x00\x00"}[sum%5]
		copy(b[offChksum:offChksum+lenChksum], fmt.Sprintf(format, unsigned))
	}
	g.buf = append(g.buf, b[:]...)
}

// data appends an entry's body and its padding, which a choice may fill.
func (g *genTar) data(body []byte) {
	g.buf = append(g.buf, body...)
	pad := make([]byte, padding(int64(len(body))))
	if len(pad) > 0 && g.c.chance(1) {
		pad[g.c.intn(len(pad))] = g.c.byte() | 1
	}
	g.buf = append(g.buf, pad...)
}

// end writes the end-of-archive marker, and maybe what follows it.
func (g *genTar) end() {
	g.buf = append(g.buf, make([]byte, 2*blockSize)...)
	switch g.c.intn(8) {
	case 1:
		g.buf = append(g.buf, make([]byte, 8*blockSize)...) // zero padding, as GNU tar writes
	case 2:
		g.buf = append(g.buf, innerEntry(manifestEntry, []byte(evilJSON))...)
	}
}
