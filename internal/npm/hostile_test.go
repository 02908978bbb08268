package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"testing"
)

// Hostile tarballs: one per way an archive can make waxseal and npm read different things. Each
// says what waxseal read before the canonical-form rules (legacyRead: archive/tar, path.Clean and
// encoding/json, as internal/npm did), what npm publish reads (checked against npm's own code in
// TestDifferential) and what waxseal says now.

const (
	goodJSON = `{"name":"good-pkg","version":"1.0.0"}`
	evilJSON = `{"name":"evil-pkg","version":"6.6.6","scripts":{"install":"node -e process.exit(66)"}}`
)

type hostileCase struct {
	name string
	tar  func() []byte // the uncompressed archive, gzipped by tgz
	gz   []byte        // or the whole file, for gzip-level cases
	// legacy is what waxseal read before: "name@version", or "refused".
	legacy string
	// npm is what npm publish reads ("name@version", or "refused"); chunked, if set, is what
	// npm install writes as the root package.json when the bytes arrive in pieces.
	npm, chunked string
	// npmByAlias overrides npm for the judged npms (by their alias in test/npmjs/package.json) that
	// read the tarball differently from the rest.
	npmByAlias map[string]string
	// want is waxseal's verdict: "name@version" if accepted, else a refusal with wantErr and a
	// message containing wantMsg.
	want    string
	wantErr error
	wantMsg string
	// noEntry marks refusals of the file as a whole (its gzip layer or end), which name no entry.
	noEntry bool
}

func (c hostileCase) tgz(tb testing.TB) []byte {
	if c.gz != nil {
		return c.gz
	}
	return gz(tb, c.tar())
}

// npmFor is what the judge's npm publish should read.
func (c hostileCase) npmFor(j *npmJudge) string {
	if v, ok := c.npmByAlias[j.alias]; ok {
		return v
	}
	return c.npm
}

func tarOf(build func(t *rawTar)) func() []byte {
	return func() []byte {
		var t rawTar
		build(&t)
		return t.end()
	}
}

// smuggle is a file whose body is another entry: node-tar skips the header (or reads it as a
// directory) and reads the body as the evil package.json's header and body; archive/tar reads a
// file.
func smuggle(h hdr) func(t *rawTar) {
	return func(t *rawTar) {
		t.file(manifestEntry, []byte(goodJSON))
		inner := innerEntry(manifestEntry, []byte(evilJSON))
		h.size = int64(len(inner))
		t.header(h)
		t.body(inner)
	}
}

// paxThen writes the good manifest, the given meta headers, then a file whose ustar name is name
// and whose body is the evil manifest.
func paxThen(name string, metas ...func(t *rawTar)) func(t *rawTar) {
	return func(t *rawTar) {
		t.file(manifestEntry, []byte(goodJSON))
		for _, m := range metas {
			m(t)
		}
		t.header(hdr{name: name, size: int64(len(evilJSON))})
		t.body([]byte(evilJSON))
	}
}

func metaOf(typ byte, recs ...string) func(t *rawTar) {
	return func(t *rawTar) { t.meta(typ, "PaxHeader/x", paxRecords(recs...)) }
}

func manifestOnly(doc string) func() []byte {
	return func() []byte { return packTar(manifestEntry, doc) }
}

func hostileCases(tb testing.TB) []hostileCase {
	tb.Helper()
	splitMembers := func() []byte {
		raw := packTar(manifestEntry, goodJSON, "package/index.js", strings.Repeat("x", 3000))
		return append(gz(tb, raw[:1536]), gz(tb, raw[1536:])...)
	}
	cjk := pseudoCJK(400) // 1200 bytes: a PAX body over one block, which node-tar may receive in pieces
	return append(metaHeaderCases(tb), []hostileCase{
		// Paths: npm extracts with strip: 1, whatever the first component is.
		{name: "second top-level directory", tar: manifestOnlyPlus("evil/package.json", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: `under "evil/"`},
		{name: "dot-slash entry", tar: manifestOnlyPlus("./package.json", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: `under "./"`},
		{name: "dot-slash package and index.js manifest", tar: func() []byte {
			return packTar("./package/package.json", goodJSON, "x/index.js", "/**package\n"+evilJSON+"\n**/\n")
		}, legacy: "good-pkg@1.0.0", npm: "refused", wantErr: ErrNotCanonical, wantMsg: `under "./"`},
		{name: "backslash separator", tar: manifestOnlyPlus(`package\package.json`, evilJSON),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "backslash"},
		{name: "dot segment", tar: manifestOnlyPlus("package/./package.json", evilJSON),
			legacy: "refused", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: `"." path segment`},
		{name: "file name ending in slash", tar: tarOf(smuggle(hdr{name: "package/a/"})),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: `ends in "/"`},
		// Header fields node-tar and archive/tar read differently.
		{name: "signed checksum", tar: tarOf(smuggle(hdr{name: "package/\xc3\xa9.txt", chksum: "signed"})),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrCorrupt, wantMsg: "signed"},
		{name: "checksum without terminator", tar: tarOf(smuggle(hdr{name: "package/a.txt", chksum: "8digits"})),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrCorrupt, wantMsg: "unreadable header checksum"},
		{name: "link name on a file", tar: tarOf(smuggle(hdr{name: "package/a.txt", link: "b"})),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "link name"},
		{name: "ustar version not 00", tar: tarOf(func(t *rawTar) {
			t.file(manifestEntry, []byte(goodJSON))
			t.header(hdr{name: manifestEntry, prefix: "evil", magic: "ustar\x00xx", size: int64(len(evilJSON))})
			t.body([]byte(evilJSON))
		}), legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "magic"},
		{name: "size field with junk", tar: tarOf(func(t *rawTar) {
			t.file(manifestEntry, []byte(goodJSON))
			t.header(hdr{name: "package/a.txt", sizeField: "00000000012x"})
			t.body(make([]byte, 10))
		}), legacy: "refused", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "size field"},
		{name: "star trailer", tar: tarOf(func(t *rawTar) {
			t.header(hdr{name: "package.json", prefix: strings.Repeat("p", 131), trailer: "\x00\x00\x00\x00\x00\x00\x00\x00tar\x00",
				size: int64(len(goodJSON))})
			t.body([]byte(goodJSON))
		}), legacy: "refused", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "unused bytes"},
		{name: "single zero block", tar: func() []byte {
			var t rawTar
			t.file(manifestEntry, []byte(goodJSON))
			t.buf.Write(make([]byte, blockSize))
			t.file(manifestEntry, []byte(evilJSON))
			return t.end()
		}, legacy: "refused", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "single zero block"},
		{name: "entry after the end marker", tar: func() []byte {
			return append(packTar(manifestEntry, goodJSON), packTar(manifestEntry, evilJSON)...)
		}, legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "after the end of the tar archive", noEntry: true},
		{name: "pre-POSIX file type", tar: tarOf(func(t *rawTar) {
			t.header(hdr{name: manifestEntry, typ: 'Z', size: int64(len(goodJSON))})
			t.body([]byte(goodJSON))
		}), legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: `'\x00'`},
		{name: "contiguous file type", tar: tarOf(func(t *rawTar) {
			t.file(manifestEntry, []byte(goodJSON))
			t.header(hdr{name: manifestEntry, typ: '7', size: int64(len(evilJSON))})
			t.body([]byte(evilJSON))
		}), legacy: "refused", npm: "evil-pkg@6.6.6", wantErr: ErrEntryType, wantMsg: `'7'`},
		// PAX and GNU extension headers.
		{name: "PAX global header between PAX header and entry", tar: tarOf(paxThen("package/README.md",
			metaOf('x', "path="+manifestEntry), metaOf('g', "comment=hi"))),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "PAX global header"},
		// A global size record gives every later entry that size for node-tar: it reads one block of
		// README.md where archive/tar reads three, and takes the next block for a header.
		{name: "PAX global size record", tar: tarOf(func(t *rawTar) {
			t.meta('g', "pax_global_header", paxRecords(fmt.Sprintf("size=%d", len(evilJSON))))
			t.file(manifestEntry, []byte(goodJSON))
			var inner rawTar
			inner.body([]byte("filler"))
			inner.header(hdr{name: manifestEntry, size: int64(len(evilJSON))})
			inner.body([]byte(evilJSON))
			t.header(hdr{name: "package/README.md", size: int64(inner.buf.Len())})
			t.body(inner.buf.Bytes())
		}), legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "PAX global header"},
		{name: "GNU long name then PAX path", tar: tarOf(paxThen("package/x.js",
			func(t *rawTar) { t.meta('L', "././@LongLink", []byte("package/readme.md\x00")) },
			metaOf('x', "path="+manifestEntry))),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "GNU long-name"},
		{name: "two PAX headers in a row", tar: tarOf(paxThen("package/README.md",
			metaOf('x', "path="+manifestEntry), metaOf('x', "comment=hi"))),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "followed by a PAX header"},
		{name: "PAX path holding a newline", tar: tarOf(paxThen(manifestEntry, metaOf('x', "path=package/a\nb"))),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: "newline"},
		{name: "PAX linkpath on a file", tar: tarOf(func(t *rawTar) {
			t.file(manifestEntry, []byte(goodJSON))
			inner := innerEntry(manifestEntry, []byte(evilJSON))
			t.meta('x', "PaxHeader/a.txt", paxRecords("linkpath=b"))
			t.header(hdr{name: "package/a.txt", size: int64(len(inner))})
			t.body(inner)
		}), legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: `"linkpath"`},
		{name: "GNU sparse name record", tar: tarOf(paxThen(manifestEntry, metaOf('x', "GNU.sparse.major=0",
			"GNU.sparse.minor=1", "GNU.sparse.name=package/sparse.txt", fmt.Sprintf("GNU.sparse.realsize=%d", len(evilJSON)),
			"GNU.sparse.numblocks=1", fmt.Sprintf("GNU.sparse.map=0,%d", len(evilJSON))))),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", wantErr: ErrNotCanonical, wantMsg: `"GNU.sparse.major"`},
		{name: "PAX size differing from header", tar: tarOf(func(t *rawTar) {
			t.file(manifestEntry, []byte(goodJSON))
			t.meta('x', "PaxHeader/a.txt", paxRecords("path=package/\xc3\xa9.txt", "size=0x10"))
			t.header(hdr{name: "package/\xc3\xa9.txt", size: 16})
			t.body(make([]byte, 16))
		}), legacy: "refused", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "PAX size"},
		{name: "PAX path the ustar name contradicts", tar: tarOf(paxThen(manifestEntry,
			metaOf('x', "path=package/"+cjk[:240]+"/"+cjk[240:480]+"/"+cjk[480:720]+"/"+cjk[720:960]+"/"+cjk[960:]+"/x.txt"))),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", chunked: "evil-pkg@6.6.6",
			wantErr: ErrNotCanonical, wantMsg: "piece by piece"},
		// The same, written as node-tar writes it: npm install from the registry may put the file under
		// the truncated ustar name.
		{name: "non-ASCII path in a multi-block PAX header", tar: func() []byte {
			return packTar(manifestEntry, goodJSON, "package/"+cjk[:240]+"/"+cjk[240:480]+"/"+cjk[480:720]+"/"+
				cjk[720:960]+"/"+cjk[960:]+"/x.txt", "x")
		}, legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "piece by piece"},
		// Names that are one file on case-insensitive or normalizing file systems (macOS, Windows).
		{name: "case collision", tar: manifestOnlyPlus("package/PACKAGE.JSON", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "case and Unicode"},
		{name: "Kelvin sign collision", tar: manifestOnlyPlus("package/pac\u212aage.json", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "case and Unicode"},
		{name: "NFC and NFD collision", tar: func() []byte {
			return packTar(manifestEntry, goodJSON, "package/caf\u00e9.js", "1", "package/cafe\u0301.js", "2")
		}, legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "case and Unicode"},
		{name: "trailing dot collision", tar: manifestOnlyPlus("package/package.json.", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "case and Unicode"},
		{name: "Windows short name", tar: manifestOnlyPlus("package/PACKAG~1.JSO", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "8.3"},
		{name: "file used as a directory", tar: manifestOnlyPlus("package/package.json/x", evilJSON),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "inside a directory"},
		{name: "deeper than node-tar extracts", tar: manifestOnlyPlus("package/"+strings.Repeat("d/", 1025)+"x", "x"),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "1024"},
		// The gzip layer.
		{name: "archive split over two gzip members", gz: splitMembers(),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrNotCanonical, wantMsg: "after its gzip stream", noEntry: true},
		{name: "bytes after the gzip stream", gz: append(gz(tb, packTar(manifestEntry, goodJSON)), "junk"...),
			legacy: "refused", npm: "refused", wantErr: ErrNotCanonical, wantMsg: "after its gzip stream", noEntry: true},
		{name: "uncompressed tar", gz: packTar(manifestEntry, goodJSON),
			legacy: "refused", npm: "good-pkg@1.0.0", wantErr: ErrNotGzip, noEntry: true},
		{name: "over node-tar's decompression ratio", gz: gzBest(tb, manifestOnlyPlus("package/zeros", string(make([]byte, 16<<20)))()),
			legacy: "good-pkg@1.0.0", npm: "refused", wantErr: ErrBomb, wantMsg: "1000 times", noEntry: true,
			npmByAlias: map[string]string{"npm10-tar6": "good-pkg@1.0.0"}}, // node-tar 6 has no ratio limit
		// package.json as JavaScript reads it.
		{name: "case variants of keys", tar: manifestOnly(`{"name":"evil-pkg","version":"6.6.6","NAME":"good-pkg","Version":"1.0.0"}`),
			legacy: "good-pkg@1.0.0", npm: "evil-pkg@6.6.6", want: "evil-pkg@6.6.6"},
		{name: "Unicode-folded key", tar: manifestOnly(`{"name":"good-pkg","version":"6.6.6","ver\u017fion":"1.0.0"}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@6.6.6", want: "good-pkg@6.6.6"},
		{name: "duplicate key", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","name":"evil-pkg"}`),
			legacy: "evil-pkg@1.0.0", npm: "evil-pkg@1.0.0", wantErr: ErrManifest, wantMsg: `key "name" twice`},
		{name: "duplicate nested key", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","scripts":{"test":"true","test":"x"}}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: `in "scripts"`},
		{name: "__proto__ key", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","__proto__":{"private":true}}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: "__proto__"},
		{name: "lone surrogate", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","description":"\ud800"}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: "surrogate"},
		{name: "invalid UTF-8", tar: manifestOnly("{\"name\":\"good-pkg\",\"version\":\"1.0.0\",\"description\":\"\xff\"}"),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: "UTF-8"},
		{name: "name with white space", tar: manifestOnly(`{"name":" good-pkg\u00a0","version":"1.0.0"}`),
			legacy: "refused", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: `set "name" to "good-pkg"`},
		{name: "v-prefixed version", tar: manifestOnly(`{"name":"good-pkg","version":"v1.0.0"}`),
			legacy: "refused", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: `set "version" to "1.0.0"`},
		{name: "version with leading zeros", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0-01"}`),
			legacy: "refused", npm: "good-pkg@1.0.0-1", wantErr: ErrManifest, wantMsg: `set "version" to "1.0.0-1"`},
		{name: "version npm cannot publish", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0-09007199254740993"}`),
			legacy: "refused", npm: "refused", wantErr: ErrManifest, wantMsg: "not a semantic version"},
		{name: "private underflowing to zero", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","private":1e-400}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", want: "good-pkg@1.0.0"},
		{name: "repositories object", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","repository":"good/repo","repositories":{"0":"evil/repo"}}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", want: "good-pkg@1.0.0"},
		{name: "deep nesting", tar: manifestOnly(`{"name":"good-pkg","version":"1.0.0","x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`),
			legacy: "good-pkg@1.0.0", npm: "good-pkg@1.0.0", wantErr: ErrManifest, wantMsg: "deep"},
	}...)
}

// pseudoCJK is n CJK ideographs from a fixed linear congruential sequence.
func pseudoCJK(n int) string {
	var b strings.Builder
	x := uint32(7)
	for range n {
		x = x*1664525 + 1013904223
		b.WriteRune(rune(0x4e00 + (x>>8)%0x5000))
	}
	return b.String()
}

func manifestOnlyPlus(name, body string) func() []byte {
	return func() []byte { return packTar(manifestEntry, goodJSON, name, body) }
}

// TestHostileTarballs checks waxseal's verdict on every hostile tarball, and that each one that
// shows a divergence did fool the reader waxseal had before.
func TestHostileTarballs(t *testing.T) {
	t.Parallel()
	for _, c := range hostileCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw := c.tgz(t)
			p := writeTemp(t, "hostile.tgz", raw)
			got, err := ReadTarball(t.Context(), p, Limits{})
			if c.want != "" {
				if err != nil {
					t.Fatalf("ReadTarball: %v; want %s", err, c.want)
				}
				if s := got.Manifest.Name + "@" + got.Manifest.Version; s != c.want {
					t.Fatalf("ReadTarball read %s, want %s", s, c.want)
				}
			} else {
				var te *TarballError
				if !errors.Is(err, c.wantErr) || !errors.As(err, &te) || te.Fix == "" || te.Path != p {
					t.Fatalf("ReadTarball = %v; want a %v refusal naming the file, with a fix", err, c.wantErr)
				}
				if (te.Entry == "") != c.noEntry {
					t.Errorf("refusal %q names entry %q", err, te.Entry)
				}
				if !strings.Contains(err.Error(), c.wantMsg) || strings.ContainsAny(err.Error(), "\r\n") {
					t.Errorf("refusal %q lacks %q or spans lines", err, c.wantMsg)
				}
			}
			if legacy := legacyRead(raw); legacy != c.legacy {
				t.Errorf("legacy reader read %s, want %s", legacy, c.legacy)
			}
		})
	}
}

// legacyRead is the reader waxseal had before the canonical-form rules, reduced to what it named:
// archive/tar, every entry name checked only for traversal, package.json found by path.Clean, and
// "name" and "version" read with encoding/json. It returns "name@version" or "refused".
func legacyRead(raw []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return "refused"
	}
	tr := tar.NewReader(zr)
	var manifest []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil || legacyBadName(h.Name) {
			return "refused"
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeDir, tar.TypeXGlobalHeader:
		default:
			return "refused"
		}
		if path.Clean(h.Name) == manifestEntry {
			if manifest != nil || h.Typeflag == tar.TypeDir {
				return "refused"
			}
			if manifest, err = io.ReadAll(tr); err != nil {
				return "refused"
			}
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil || manifest == nil {
		return "refused"
	}
	var doc struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if json.Unmarshal(bytes.TrimPrefix(manifest, []byte("\xef\xbb\xbf")), &doc) != nil || doc.Name == "" || doc.Version == "" {
		return "refused"
	}
	if strings.TrimSpace(doc.Name) != doc.Name || !legacyCleanVersion(doc.Version) {
		return "refused"
	}
	return doc.Name + "@" + doc.Version
}

func legacyBadName(name string) bool {
	if name == "" || strings.ContainsRune(name, 0) || strings.HasPrefix(name, "/") || hasDrive(name) {
		return true
	}
	for _, seg := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return true
		}
	}
	return false
}

// legacyCleanVersion is the version rule waxseal had: a semantic version with no "v", build
// metadata or leading zeros (golang.org/x/mod/semver's Canonical form).
func legacyCleanVersion(v string) bool {
	core, pre, _ := strings.Cut(v, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 || strings.ContainsAny(v, "+ v=") {
		return false
	}
	for _, p := range append(parts, strings.Split(pre, ".")...) {
		if len(p) > 1 && p[0] == '0' && allDigits([]byte(p)) {
			return false
		}
	}
	_, r := parseSemver(v, false)
	return r == semverOK
}
