package npm

import (
	"fmt"
	"strings"
	"testing"
)

// The meta-header class (hostile_meta_test.go) was one of header blocks that waxseal reads and
// node-tar skips. These tests close the class as a whole: every block parseHeader accepts, of any type,
// must be a valid header to every judged node-tar's own Parser (no TAR_ENTRY_INVALID), of the same
// kind and size, and a file or directory must have the same ustar path. A header node-tar cannot skip
// is read by both at the same place, so neither can lose its place in the stream.

// readHeader is parseHeader with the per-entry checks the reader applies next: an empty meta header,
// and a file or directory name entryFromHeader refuses (a file ending in "/", invalid UTF-8, ...).
func readHeader(b *[blockSize]byte) (header, bool) {
	h, hp := parseHeader(b)
	switch {
	case hp != nil:
		return h, false
	case h.typ == typePAX || h.typ == typeLongName:
		return h, h.size > 0
	}
	return h, entryFromHeaderErr(h) == nil
}

// headerDisagreements compares the reader's verdict on each block with every judged node-tar's.
func headerDisagreements(tb testing.TB, js []*npmJudge, blocks [][blockSize]byte) []string {
	tb.Helper()
	var accepted [][blockSize]byte
	var hs []header
	for _, b := range blocks {
		if h, ok := readHeader(&b); ok {
			accepted, hs = append(accepted, b), append(hs, h)
		}
	}
	var out []string
	for _, j := range js {
		for i, a := range j.headers(tb, accepted) {
			if d := headerDiff(hs[i], a); d != "" {
				out = append(out, fmt.Sprintf("block %q: %s %s", accepted[i][:], j.name, d))
			}
		}
	}
	return out
}

// headerDiff is how node-tar's reading of a block differs from the reader's.
func headerDiff(h header, a parsedHeader) string {
	kind := map[byte]string{typeFile: "File", typeDir: "Directory", typePAX: "meta", typeLongName: "meta"}[h.typ]
	switch {
	case !a.Valid:
		return fmt.Sprintf("skips a %q header waxseal reads (%s)", h.typ, strings.Join(a.Warnings, "; "))
	case a.Type != kind:
		return fmt.Sprintf("reads a %q header as %s", h.typ, a.Type)
	case kind != "meta" && strings.TrimSuffix(a.Path, "/") != strings.TrimSuffix(ustarPath(h), "/"):
		return fmt.Sprintf("reads the path %q where waxseal reads %q", a.Path, ustarPath(h))
	case kind == "File" && a.Size != h.size:
		return fmt.Sprintf("reads the size %d where waxseal reads %d", a.Size, h.size)
	}
	return ""
}

func entryFromHeaderErr(h header) error {
	_, err := entryFromHeader(h, nil)
	return err
}

// headerSweep is every single-field choice of the generator applied to a file, a directory, a PAX and
// a GNU long-name header as the packers write them, with the checksum recomputed (or broken, for the
// checksum field's own choices): the fields' whole valid and invalid ranges, one at a time.
func headerSweep() [][blockSize]byte {
	var bases []*[blockSize]byte
	for _, p := range []packer{packNpm, packPnpm, packBun} {
		g := &genTar{c: &choices{}, p: p}
		bases = append(bases, g.block(typeFile, "package/index.js", "", 3), g.block(typeDir, "lib", "package", 0),
			g.block(typePAX, "PaxHeader/x.js", "", 40), g.block(typeLongName, "././@LongLink", "", 120))
	}
	var out [][blockSize]byte
	for _, base := range bases {
		for fi, f := range headerFields {
			for _, choice := range fieldChoices(f.name, f.numeric) {
				b := *base
				// No zero block before it, one field choice (the field's index, then its value), no more.
				g := &genTar{c: &choices{b: append([]byte{0, 0x10, byte(fi)}, choice...)}, p: packNpm}
				out = append(out, b)
				g.emitInto(&out[len(out)-1])
			}
		}
	}
	return out
}

// fieldChoices are the choice bytes that select each value a field can be given.
func fieldChoices(name string, numeric bool) [][]byte {
	var cs [][]byte
	switch {
	case name == "chksum":
		for k := range 8 {
			cs = append(cs, []byte{byte(k), 0, 7})
		}
	case name == "typeflag":
		for k := range 15 {
			cs = append(cs, []byte{byte(k)})
		}
	case numeric:
		for d := range 3 {
			for v := range 14 {
				cs = append(cs, []byte{byte(d), byte(v)})
			}
		}
	default:
		for v := range 12 {
			cs = append(cs, []byte{byte(v)})
		}
	}
	return cs
}

// emitInto applies the choices to b as emit does, without appending it to a stream.
func (g *genTar) emitInto(b *[blockSize]byte) {
	g.emit(b)
	copy(b[:], g.buf[len(g.buf)-blockSize:])
}

// TestHeaderAgreement runs the sweep and every header block of the real tarballs past every node-tar.
func TestHeaderAgreement(t *testing.T) {
	js := tarJudges(judgesFor(t))
	blocks := headerSweep()
	for _, p := range append(realTarballs(t), packerTarballs(t)...) {
		blocks = append(blocks, headerBlocks(readRealTar(t, p))...)
	}
	accepted := 0
	for _, b := range blocks {
		if _, ok := readHeader(&b); ok {
			accepted++
		}
	}
	for _, d := range headerDisagreements(t, js, blocks) {
		t.Error(d)
	}
	t.Logf("%d header blocks, %d accepted by waxseal, each judged by node-tar %s", len(blocks), accepted,
		strings.Join(tarVersions(js), " and "))
	if accepted < 100 {
		t.Errorf("only %d blocks were accepted: the sweep compares too little", accepted)
	}
}

// headerBlocks returns the header blocks of a benign tar stream.
func headerBlocks(raw []byte) [][blockSize]byte {
	var out [][blockSize]byte
	tr := newTarReader(strings.NewReader(string(raw)))
	for {
		if err := tr.skip(); err != nil {
			return out
		}
		if err := tr.readBlock(); err != nil || isZeroBlock(&tr.blk) {
			return out
		}
		out = append(out, tr.blk)
		h, hp := parseHeader(&tr.blk)
		if hp != nil {
			return out
		}
		tr.body, tr.pad = h.size, padding(h.size)
	}
}

// FuzzHeaderAgreement fuzzes single header blocks, seeded with the sweep.
func FuzzHeaderAgreement(f *testing.F) {
	for _, b := range headerSweep() {
		if _, ok := readHeader(&b); ok {
			f.Add(b[:])
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b [blockSize]byte
		copy(b[:], raw)
		for _, d := range headerDisagreements(t, tarJudges(judgesFor(t)), [][blockSize]byte{b}) {
			t.Fatal(d)
		}
	})
}

func tarVersions(js []*npmJudge) []string {
	var vs []string
	for _, j := range js {
		vs = append(vs, j.versions["tar"])
	}
	return vs
}
