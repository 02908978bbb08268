package npm

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// The gzip member header is parsed here rather than by compress/gzip, which refuses a file name or
// comment longer than its 512-byte buffer and a wrong header CRC alike with ErrHeader, and accepts
// reserved flag bits. zlib, which npm decompresses with (Node.js zlib through minizlib), reads names
// of any length, refuses reserved flag bits ("unknown header flags set") and checks the header CRC
// ("header crc mismatch"). This reader does what zlib does and says which rule a file broke.

// RFC 1952 section 2.3.1: FLG bits; bits 5 to 7 are reserved and "must be zero".
const (
	flagHCRC     = 1 << 1
	flagExtra    = 1 << 2
	flagName     = 1 << 3
	flagComment  = 1 << 4
	flagReserved = 0xe0
)

// gzipMember reads one gzip member's decompressed bytes from src, checking the trailer's CRC-32 and
// ISIZE when the deflate stream ends. It returns io.EOF at the member's end, leaving src just past it.
type gzipMember struct {
	src  *chunkReader
	fr   io.ReadCloser
	crc  hash.Hash32
	size uint32
	end  error // once the trailer was read: io.EOF, or why it is wrong (returned on every later Read)
}

// openGzip reads and checks a gzip member header from src.
func openGzip(src *chunkReader) (*gzipMember, error) {
	h := crc32.NewIEEE()
	var hdr [10]byte
	if _, err := io.ReadFull(io.TeeReader(src, h), hdr[:]); err != nil || hdr[0] != 0x1f || hdr[1] != 0x8b {
		return nil, &TarballError{Problem: "is not gzip-compressed (it does not start with the gzip bytes 1f 8b)",
			Fix: "pass the .tgz file your packer wrote (npm pack, pnpm pack, yarn pack or bun pm pack)", Err: ErrNotGzip}
	}
	fail := func(problem string) error {
		return &TarballError{Problem: problem, Fix: "download or pack it again: no packer writes this, so " +
			"something altered the file", Err: ErrCorrupt}
	}
	switch flg := hdr[3]; {
	case hdr[2] != 8:
		return nil, fail(fmt.Sprintf("has gzip compression method %d in its header; zlib (npm) knows only 8 (deflate)", hdr[2]))
	case flg&flagReserved != 0:
		return nil, fail(fmt.Sprintf("has reserved gzip header flag bits set (FLG %#02x), which zlib refuses "+
			"(\"unknown header flags set\"), so npm could neither publish nor install it", flg))
	}
	if err := skipOptional(src, h, hdr[3]); err != nil {
		return nil, err
	}
	if hdr[3]&flagHCRC != 0 {
		want := uint16(h.Sum32())
		var got [2]byte
		if _, err := io.ReadFull(src, got[:]); err != nil {
			return nil, fail("is corrupt (its gzip header is cut short)")
		}
		if v := binary.LittleEndian.Uint16(got[:]); v != want {
			return nil, fail(fmt.Sprintf("has a gzip header CRC (FHCRC) of %04x where its header bytes give %04x, "+
				"which zlib refuses (\"header crc mismatch\"), so npm could neither publish nor install it", v, want))
		}
	}
	return &gzipMember{src: src, fr: flate.NewReader(src), crc: crc32.NewIEEE()}, nil
}

// skipOptional reads past FEXTRA, FNAME and FCOMMENT, feeding the header CRC. Names and comments of
// any length are read, as zlib reads them.
func skipOptional(src *chunkReader, h hash.Hash32, flg byte) error {
	short := &TarballError{Problem: "is corrupt (its gzip header is cut short)", Fix: "download or pack it again",
		Err: ErrCorrupt}
	r := io.TeeReader(src, h)
	if flg&flagExtra != 0 {
		var n [2]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return short
		}
		if _, err := io.CopyN(io.Discard, r, int64(binary.LittleEndian.Uint16(n[:]))); err != nil {
			return short
		}
	}
	for _, f := range []byte{flagName, flagComment} {
		if flg&f == 0 {
			continue
		}
		for {
			c, err := src.ReadByte()
			if err != nil {
				return short
			}
			h.Write([]byte{c})
			if c == 0 {
				break
			}
		}
	}
	return nil
}

// Read returns decompressed bytes; at the end of the deflate stream it checks the trailer.
func (g *gzipMember) Read(p []byte) (int, error) {
	if g.end != nil {
		return 0, g.end
	}
	n, err := g.fr.Read(p)
	g.crc.Write(p[:n])
	g.size += uint32(n)
	if !errors.Is(err, io.EOF) {
		if err != nil {
			err = fmt.Errorf("inflating: %w", err)
		}
		return n, err
	}
	var tr [8]byte
	g.end = io.EOF
	switch _, err := io.ReadFull(g.src, tr[:]); {
	case err != nil:
		g.end = errors.New("the gzip trailer is cut short")
	case binary.LittleEndian.Uint32(tr[:4]) != g.crc.Sum32() || binary.LittleEndian.Uint32(tr[4:]) != g.size:
		g.end = errors.New("the gzip checksum or length does not match the data (zlib: \"incorrect data check\")")
	}
	return n, g.end
}
