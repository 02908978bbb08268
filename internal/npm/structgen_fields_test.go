package npm

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// layout is how one packer stores one path: the ustar name and prefix, and the PAX header or GNU long
// name that carries the path when they cannot.
type layout struct {
	name, prefix string
	pax          []string // PAX records, if the packer writes a PAX header
	paxName      string
	paxPrefix    string
	long         string // GNU long name, if the packer writes one
}

// layoutFor reproduces each packer's choice for path p (as observed in their real output, see
// testdata/npm/packers): node-tar's prefix split and PaxHeader/<base> for npm; a GNU 'L' header and raw
// UTF-8 for pnpm; "PaxHeader" as the name of both headers for yarn; a split that fills the name first
// for yarn 4 and bun; a dir/PaxHeader/<base> header with hdrcharset for bun.
func layoutFor(p packer, path string) layout {
	name, prefix, needPax := nodeTarNameFields(path)
	ascii := isASCII(path)
	switch p {
	case packPnpm:
		if len(path) <= lenName {
			return layout{name: path}
		}
		return layout{name: truncUTF8(path, lenName), prefix: path[:strings.IndexByte(path, '/')], long: path}
	case packYarn1, packYarn4:
		n, pf, ok := fillNameFirst(path)
		if ok && ascii {
			return layout{name: n, prefix: pf}
		}
		return layout{name: "PaxHeader", pax: []string{"path=" + path}, paxName: "PaxHeader"}
	case packBun:
		n, pf, ok := fillNameFirst(path)
		if ok && ascii {
			return layout{name: n, prefix: pf}
		}
		base := posixBasename(path)
		dir := strings.TrimSuffix(path, base)
		return layout{name: truncUTF8(base, lenName), prefix: truncUTF8(strings.TrimSuffix(dir, "/"), lenPrefix),
			pax: []string{"hdrcharset=BINARY", "path=" + path}, paxName: truncUTF8(dir+"PaxHeader/"+base, lenName)}
	}
	if !needPax {
		return layout{name: name, prefix: prefix}
	}
	pn, pp, _ := nodeTarNameFields(jsSlice("PaxHeader/"+posixBasename(path), 99))
	return layout{name: name, prefix: prefix, pax: []string{"path=" + path}, paxName: pn, paxPrefix: pp}
}

// fillNameFirst splits p at the first slash that leaves a name of at most 100 bytes and a prefix of at
// most 155 (tar-stream's and bun's split).
func fillNameFirst(p string) (name, prefix string, ok bool) {
	if len(p) <= lenName {
		return p, "", true
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && len(p)-i-1 <= lenName && i <= lenPrefix {
			return p[i+1:], p[:i], true
		}
	}
	return "", "", false
}

// truncUTF8 cuts s to at most n bytes at a character boundary.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xc0 {
		s = s[:len(s)-1]
	}
	return s
}

// Checksum choices beyond the five correct spellings.
const (
	sumKeep   = 100 // leave whatever the field holds (a field choice wrote it)
	sumSigned = 101 // the sum over signed bytes
	sumWrong  = 102 // off by one
)

// headerFields are a header's fields, each with the choices of value drawn from its whole range.
var headerFields = []struct {
	name     string
	off, len int
	numeric  bool
}{
	{"name", offName, lenName, false}, {"mode", offMode, lenMode, true}, {"uid", offUID, lenUID, true},
	{"gid", offGID, lenGID, true}, {"size", offSize, lenSize, true}, {"mtime", offMtime, lenMtime, true},
	{"chksum", offChksum, lenChksum, true}, {"typeflag", offType, 1, false},
	{"linkname", offLinkname, lenLinkname, false}, {"magic", offMagic, 6, false}, {"version", offMagic + 6, 2, false},
	{"uname", offUname, lenUname, false}, {"gname", offGname, lenGname, false},
	{"devmajor", offDevmaj, lenDevmaj, true}, {"devminor", offDevmin, lenDevmin, true},
	{"prefix", offPrefix, lenPrefix, false}, {"atime", 476, 12, true}, {"pad", offPad, blockSize - offPad, false},
}

// mutateFields rewrites up to three fields of b by choice and returns the checksum choice: 0 to 4
// for a correct checksum in one of the spellings packers use, or sumKeep, sumSigned, sumWrong.
func (g *genTar) mutateFields(b *[blockSize]byte) int {
	sum := 0
	switch g.p {
	case packPnpm:
		sum = 1
	case packBun:
		sum = 2
	}
	for g.c.chance(3) {
		f := headerFields[g.c.intn(len(headerFields))]
		field := b[f.off : f.off+f.len]
		switch {
		case f.name == "chksum":
			sum = []int{0, 1, 2, 3, 4, sumSigned, sumWrong, sumKeep}[g.c.intn(8)]
			if sum == sumKeep {
				fill(field, g.numberValue(f.len, 0))
			}
		case f.name == "typeflag":
			field[0] = "0125x gLKNDA7\x00\xff"[g.c.intn(15)]
		case f.numeric:
			cur, _ := strconv.ParseInt(strings.Trim(string(field), " \x00"), 8, 64)
			fill(field, g.numberValue(f.len, cur))
		default:
			fill(field, g.stringValue(field))
		}
	}
	return sum
}

// fill overwrites a field with v, NUL-padded or cut.
func fill(field, v []byte) {
	clear(field)
	copy(field, v)
}

// numberValue draws a numeric field's value: octal in the spellings packers use and the ones they do
// not (no terminator, leading spaces, signs, junk, too large), base-256 (positive, negative, invalid,
// beyond 2^53), empty, or off by one from the current value.
func (g *genTar) numberValue(size int, cur int64) []byte {
	n := cur
	switch g.c.intn(4) {
	case 1:
		n = cur + 1
	case 2:
		n = cur - 1
	case 3:
		n = int64(g.c.intn(1 << 16))
	}
	oct := strconv.FormatInt(max(n, 0), 8)
	switch g.c.intn(14) {
	case 0:
		return []byte(nodeOctal(n, size))
	case 1:
		return []byte(fmt.Sprintf("%0*s\x00", size-1, oct))
	case 2:
		return []byte(fmt.Sprintf("%0*s", size, oct)) // no terminator
	case 3:
		return []byte(fmt.Sprintf("%*s\x00", size-1, oct)) // leading spaces
	case 4:
		return []byte("+" + oct + "\x00")
	case 5:
		return []byte(oct + "x\x00")
	case 6:
		return []byte(oct + "\x00" + "7")
	case 7:
		return base256(size, n, 0x80)
	case 8:
		return base256(size, -n-1, 0xff)
	case 9:
		return base256(size, n, 0x81) // high bit, not a base-256 marker
	case 10:
		return append([]byte{0x80}, bytes.Repeat([]byte{0xff}, size-1)...) // beyond 2^53
	case 11:
		return nil // all NULs
	case 12:
		return bytes.Repeat([]byte(" "), size)
	}
	return []byte(strconv.FormatInt(n, 10) + " ") // decimal
}

// base256 is n in the GNU base-256 form, with the given first byte.
func base256(size int, n int64, first byte) []byte {
	b := make([]byte, size)
	for i := size - 1; i > 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	b[0] = first
	return b
}

// stringValue draws a string field's value: empty, the current value with a trailing slash, with
// bytes after a NUL, cut to one byte, a path outside package/, non-UTF-8, full length, or another
// packer's magic.
func (g *genTar) stringValue(cur []byte) []byte {
	v, _, _ := bytes.Cut(cur, []byte{0})
	v = bytes.Clone(v)
	switch g.c.intn(12) {
	case 0:
		return nil
	case 1:
		return append(v, '/')
	case 2:
		return append(append(v, 0), "package/package.json"...)
	case 3:
		return v[:min(len(v), 1)]
	case 4:
		return []byte("package/package.json")
	case 5:
		return []byte("evil/package.json")
	case 6:
		return append(v, 0xff, 0xfe)
	case 7:
		return bytes.Repeat([]byte("p"), len(cur))
	case 8:
		return []byte("ustar\x00")
	case 9:
		return []byte("ustar  \x00")
	case 10:
		return []byte("00")
	}
	return []byte("package")
}

// records applies record choices to a PAX header's records: drop, repeat, add a key node-tar or
// archive/tar reads, give a value a newline, NUL or an empty value, or break a length prefix.
func (g *genTar) records(recs []string) []string {
	recs = append([]string(nil), recs...)
	for g.c.chance(3) {
		i := g.c.intn(len(recs) + 1)
		add := []string{"path=" + manifestEntry, "linkpath=x", "size=" + strconv.Itoa(g.c.intn(2048)), "size=-1",
			"mtime=1.5", "hdrcharset=BINARY", "hdrcharset=ISO-IR 10646 2000 UTF-8", "charset=x", "comment=x",
			"uid=0", "mode=0777", "uname=x", "atime=1", "GNU.sparse.name=package/s", "SCHILY.xattr.a=b", "path="}
		switch op := g.c.intn(5); {
		case op == 0 && len(recs) > 0:
			recs = append(recs[:i%len(recs)], recs[i%len(recs)+1:]...)
		case op == 1 && len(recs) > 0:
			recs = append(recs, recs[i%len(recs)])
		case op == 2 && len(recs) > 0:
			recs[i%len(recs)] += []string{"\n", "\x00x", "/", ""}[g.c.intn(4)]
		default:
			recs = append(recs[:i:i], append([]string{add[g.c.intn(len(add))]}, recs[i:]...)...)
		}
	}
	return recs
}
