package npm

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

// genGzip compresses a tar stream with gzip header choices drawn from every field's range: the flag
// byte (reserved bits included), MTIME, XFL, OS, an extra field, a file name and comment of any
// length, a right or wrong header CRC, a right or wrong trailer, the stream split over two members,
// and bytes after it; or no compression at all.
func genGzip(tb testing.TB, c *choices, tar []byte) []byte {
	tb.Helper()
	if c.intn(32) == 31 {
		return tar // uncompressed
	}
	var out []byte
	if c.chance(1) && len(tar) > blockSize {
		cut := blockSize * (1 + c.intn(len(tar)/blockSize))
		out = append(gzMember(tb, c, tar[:min(cut, len(tar))]), gzMember(tb, c, tar[min(cut, len(tar)):])...)
	} else {
		out = gzMember(tb, c, tar)
	}
	switch c.intn(16) {
	case 1:
		out = append(out, make([]byte, 1+c.intn(1024))...)
	case 2:
		out = append(out, "junk"...)
	case 3:
		out = append(out, 0x1f, 0x8b)
	}
	return out
}

// gzMember is one gzip member holding data.
func gzMember(tb testing.TB, c *choices, data []byte) []byte {
	tb.Helper()
	flg := byte(0)
	if c.chance(4) {
		flg = c.byte()
	}
	h := []byte{0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, []byte{3, 0, 255, 11}[c.intn(4)]}
	if c.chance(2) {
		binary.LittleEndian.PutUint32(h[4:], uint32(c.byte())<<24|uint32(c.byte()))
		h[8] = []byte{0, 2, 4, 0xff}[c.intn(4)]
	}
	if flg&flagExtra != 0 {
		extra := []byte{'A', 'p', 4, 0, 'w', 'a', 'x', 's'}[:[]int{0, 4, 8}[c.intn(3)]]
		h = binary.LittleEndian.AppendUint16(h, uint16(len(extra)))
		h = append(h, extra...)
	}
	for _, f := range []byte{flagName, flagComment} {
		if flg&f != 0 {
			n := []int{0, 12, 511, 512, 513, 1100, 70000}[c.intn(7)]
			h = append(append(h, strings.Repeat("n", n)...), 0)
		}
	}
	if flg&flagHCRC != 0 {
		crc := uint16(crc32.ChecksumIEEE(h))
		if c.chance(4) {
			crc++
		}
		h = binary.LittleEndian.AppendUint16(h, crc)
	}
	var buf bytes.Buffer
	buf.Write(h)
	zw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	crc, size := crc32.ChecksumIEEE(data), uint32(len(data))
	switch c.intn(16) {
	case 1:
		crc++
	case 2:
		size++
	}
	out := binary.LittleEndian.AppendUint32(buf.Bytes(), crc)
	return binary.LittleEndian.AppendUint32(out, size)
}
