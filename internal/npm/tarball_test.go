package npm

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReadTarballRealPacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		path      string
		wantName  string
		wantVer   string
		wantPurl  string
		wantRepo  Repository
		wantSHA   string // hex sha512, when known from an independent source
		wantInteg string
	}{
		{
			name: "scoped npm pack", path: "../../testdata/npm/waxseal-example-hello-1.0.0.tgz",
			wantName: "@waxseal-example/hello", wantVer: "1.0.0",
			wantPurl: "pkg:npm/%40waxseal-example/hello@1.0.0",
			wantRepo: Repository{Type: "git", URL: "git+https://github.com/waxseal/example.git", Directory: "hello"},
		},
		{
			name: "unscoped npm pack", path: "../../testdata/npm/waxseal-example-1.0.0.tgz",
			wantName: "waxseal-example", wantVer: "1.0.0", wantPurl: "pkg:npm/waxseal-example@1.0.0",
			wantRepo: Repository{Type: "git", URL: "git+https://github.com/waxseal/example.git"},
		},
		{
			// The registry's tarball of sigstore@2.0.0: its sha512 is the subject digest of the real
			// provenance statement npm published for it, and its integrity is the registry's dist.integrity.
			name: "registry tarball with real provenance", path: "../../testdata/npm/real/sigstore-2.0.0.tgz",
			wantName: "sigstore", wantVer: "2.0.0", wantPurl: "pkg:npm/sigstore@2.0.0",
			wantRepo:  Repository{Type: "git", URL: "git+https://github.com/sigstore/sigstore-js.git"},
			wantSHA:   "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
			wantInteg: "sha512-RtTi90xIdzFmQAAKb9+Ki1nx4IR2Z5c+mFn3dN0xuPHgk3gTt3f7ZqKsZ9UFQP40ZAlm7un8LMyjhwgrTIXNPA==",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadTarball(t.Context(), tt.path, DefaultLimits())
			if err != nil {
				t.Fatalf("ReadTarball: %v", err)
			}
			want := &Tarball{
				Path: tt.path, Size: int64(len(raw)), SHA512: sha512.Sum512(raw), SHA256: sha256.Sum256(raw),
				Manifest: Manifest{Name: tt.wantName, Version: tt.wantVer, Repository: tt.wantRepo, Tarball: tt.path},
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Manifest{}, "Raw")); diff != "" {
				t.Errorf("ReadTarball mismatch (-want +got):\n%s", diff)
			}
			if !bytes.Contains(got.Manifest.Raw, []byte(tt.wantName)) {
				t.Errorf("Manifest.Raw does not hold package.json: %q", got.Manifest.Raw)
			}
			if diff := cmp.Diff(tt.wantPurl, got.Purl()); diff != "" {
				t.Errorf("Purl (-want +got):\n%s", diff)
			}
			if tt.wantSHA != "" && got.SHA512Hex() != tt.wantSHA {
				t.Errorf("SHA512Hex = %s, want %s", got.SHA512Hex(), tt.wantSHA)
			}
			if tt.wantInteg != "" && got.Integrity() != tt.wantInteg {
				t.Errorf("Integrity = %s, want %s", got.Integrity(), tt.wantInteg)
			}
		})
	}
}

// TestReadTarballDigestsLarge crosses many chunk boundaries, with sizes around the chunk size, and
// checks both digests against the standard library over the file's bytes.
func TestReadTarballDigestsLarge(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, chunkSize - 700, chunkSize, 3*chunkSize + 1, 11 * chunkSize} {
		body := bytes.Repeat([]byte("waxseal\x00\xff"), n/9+1)[:n]
		raw := makeTGZ(t, file("package/package.json", goodManifest), file("package/blob.bin", string(body)))
		p := writeTemp(t, "big.tgz", raw)
		got, err := ReadTarball(t.Context(), p, Limits{})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got.SHA512 != sha512.Sum512(raw) || got.SHA256 != sha256.Sum256(raw) || got.Size != int64(len(raw)) {
			t.Errorf("n=%d: digests or size differ from the file's: size %d want %d", n, got.Size, len(raw))
		}
	}
}

// TestReadTarballLegacyTypeflag: pre-POSIX tars mark regular files with type '\x00' (tar.TypeRegA). Both
// archive/tar and node-tar read it as a file (or, with a trailing slash, a directory), but node-tar never
// writes it, so it is refused as not canonical: waxseal accepts only what npm pack writes.
func TestReadTarballLegacyTypeflag(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var offsets []int
	for _, e := range []entry{file("package/package.json", goodManifest), file("package/index.js", "x")} {
		offsets = append(offsets, buf.Len())
		hdr := &tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body)), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	for _, off := range offsets {
		// tar.Writer never writes '\x00', so set the typeflag (byte 156) by hand and redo the header checksum
		// (bytes 148-155, summed as spaces).
		hdr := raw[off : off+512]
		hdr[156] = '\x00'
		copy(hdr[148:156], "        ")
		sum := 0
		for _, b := range hdr {
			sum += int(b)
		}
		copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	}
	got, err := ReadTarball(t.Context(), writeTemp(t, "legacy.tgz", gz(t, raw)), DefaultLimits())
	if !errors.Is(err, ErrNotCanonical) || !strings.Contains(err.Error(), `'\x00'`) {
		t.Fatalf("ReadTarball = %v, %v; want ErrNotCanonical naming the '\\x00' type", got, err)
	}
}

func TestReadTarballRefuses(t *testing.T) {
	t.Parallel()
	manifest := file("package/package.json", goodManifest)
	// 70 MiB of a 64-byte pattern: about 340:1 under gzip -6, over the 200:1 cap but under node-tar's 1000:1.
	big := bytes.Repeat([]byte("waxseal-ratio-pattern-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"), (70<<20)/64)
	zeros := bytes.Repeat([]byte{0}, 8<<20) // about 1000:1: node-tar aborts past 1000:1
	tests := []struct {
		name    string
		raw     []byte
		lim     Limits
		wantErr error
		wantMsg string // a fragment the one-line message must contain
	}{
		{name: "empty file", raw: nil, wantErr: ErrNotGzip, wantMsg: "npm pack"},
		{name: "plain tar", raw: []byte(strings.Repeat("x", 1024)), wantErr: ErrNotGzip},
		{name: "zip", raw: []byte("PK\x03\x04rest"), wantErr: ErrNotGzip},
		{name: "gzip not tar", raw: gz(t, []byte(strings.Repeat("not a tar ", 100))), wantErr: ErrCorrupt},
		{name: "truncated", raw: makeTGZ(t, manifest, file("package/a.js", strings.Repeat("a", 5000)))[:60], wantErr: ErrCorrupt},
		{name: "bad gzip checksum", raw: corruptCRC(makeTGZ(t, manifest)), wantErr: ErrCorrupt},
		{name: "no manifest", raw: makeTGZ(t, file("package/index.js", "x")), wantErr: ErrNoManifest},
		{name: "empty tar", raw: makeTGZ(t), wantErr: ErrNoManifest},
		// npm strips the first path component of every entry: "package.json" alone becomes nothing.
		{name: "manifest at top level", raw: makeTGZ(t, file("package.json", goodManifest)), wantErr: ErrNotCanonical, wantMsg: "skips"},
		{name: "dotdot", raw: makeTGZ(t, manifest, file("package/../../etc/passwd", "x")), wantErr: ErrTraversal, wantMsg: `"package/../../etc/passwd"`},
		{name: "backslash dotdot", raw: makeTGZ(t, manifest, file(`package\..\..\x`, "x")), wantErr: ErrTraversal},
		{name: "absolute", raw: makeTGZ(t, file("/etc/cron.d/x", "x"), manifest), wantErr: ErrTraversal},
		{name: "drive letter", raw: makeTGZ(t, manifest, file("C:/x", "x")), wantErr: ErrTraversal},
		{name: "symlink", raw: makeTGZ(t, manifest, entry{name: "package/x", typ: tar.TypeSymlink, link: "/etc/passwd"}), wantErr: ErrLink, wantMsg: "/etc/passwd"},
		{name: "hardlink", raw: makeTGZ(t, manifest, entry{name: "package/x", typ: tar.TypeLink, link: "package/package.json"}), wantErr: ErrLink},
		{name: "symlinked manifest", raw: makeTGZ(t, entry{name: "package/package.json", typ: tar.TypeSymlink, link: "/etc/passwd"}), wantErr: ErrLink},
		{name: "fifo", raw: makeTGZ(t, manifest, entry{name: "package/p", typ: tar.TypeFifo}), wantErr: ErrEntryType},
		{name: "char device", raw: makeTGZ(t, manifest, entry{name: "package/d", typ: tar.TypeChar}), wantErr: ErrEntryType},
		{name: "manifest twice", raw: makeTGZ(t, manifest, file("package/package.json", `{"name":"evil","version":"6.6.6"}`)), wantErr: ErrNotCanonical, wantMsg: "twice"},
		{name: "dot segment", raw: makeTGZ(t, manifest, file("package/./package.json", `{"name":"evil","version":"6.6.6"}`)), wantErr: ErrNotCanonical, wantMsg: `"." path segment`},
		{name: "second gzip member", raw: append(makeTGZ(t, manifest), gz(t, make([]byte, 1024))...), wantErr: ErrNotCanonical, wantMsg: "after its gzip stream"},
		{name: "node-tar ratio", raw: gzBest(t, packTar(manifestEntry, goodManifest, "package/zeros", string(zeros))), wantErr: ErrBomb, wantMsg: "1000 times"},
		{name: "manifest is dir", raw: makeTGZ(t, entry{name: "package/package.json/", typ: tar.TypeDir}), wantErr: ErrManifest},
		{name: "manifest over cap", raw: makeTGZ(t, file("package/package.json", `{"name":"a","version":"1.0.0","x":"`+strings.Repeat("y", 2048)+`"}`)), lim: Limits{MaxManifestBytes: 1024}, wantErr: ErrManifest, wantMsg: "larger than 1024 bytes"},
		{name: "invalid json", raw: makeTGZ(t, file("package/package.json", `{"name": "a",`)), wantErr: ErrManifest, wantMsg: "not valid JSON"},
		{name: "missing version", raw: makeTGZ(t, file("package/package.json", `{"name":"a"}`)), wantErr: ErrManifest, wantMsg: `field "version" is missing`},
		{name: "missing name", raw: makeTGZ(t, file("package/package.json", `{"version":"1.0.0"}`)), wantErr: ErrManifest, wantMsg: `field "name" is missing`},
		{name: "v prefix", raw: makeTGZ(t, file("package/package.json", `{"name":"a","version":"v1.0.0"}`)), wantErr: ErrManifest, wantMsg: `set "version" to "1.0.0"`},
		{name: "bad name", raw: makeTGZ(t, file("package/package.json", `{"name":"a b","version":"1.0.0"}`)), wantErr: ErrManifest, wantMsg: "URL-safe"},
		{name: "too many entries", raw: makeTGZ(t, manifest, file("package/a", ""), file("package/b", "")), lim: Limits{MaxEntryCount: 2}, wantErr: ErrBomb, wantMsg: "more than 2 entries"},
		{name: "decompressed cap", raw: makeTGZ(t, manifest, file("package/big", strings.Repeat("z", 1<<20))), lim: Limits{MaxDecompressedBytes: 512 << 10}, wantErr: ErrBomb},
		{name: "ratio bomb", raw: makeTGZ(t, manifest, file("package/zeros", string(big))), wantErr: ErrBomb, wantMsg: "200 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeTemp(t, "pkg.tgz", tt.raw)
			got, err := ReadTarball(t.Context(), p, tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadTarball = %v, %v; want error %v", got, err, tt.wantErr)
			}
			var te *TarballError
			if !errors.As(err, &te) || te.Path != p || te.Fix == "" {
				t.Fatalf("error %#v lacks the path or a fix", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, `"`+p+`": `) || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("message is not one line naming the file: %q", msg)
			}
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q lacks %q", msg, tt.wantMsg)
			}
		})
	}
}

// corruptCRC flips the gzip trailer's CRC-32, which only a reader that reaches the end notices.
func corruptCRC(raw []byte) []byte {
	out := bytes.Clone(raw)
	out[len(out)-8] ^= 0xff
	return out
}

func TestReadTarballFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		wantErr error
		wantFix string
	}{
		{name: "missing", path: filepath.Join(dir, "nope.tgz"), wantErr: fs.ErrNotExist, wantFix: "npm pack"},
		{name: "directory", path: dir, wantErr: ErrNotRegular, wantFix: "npm pack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadTarball(t.Context(), tt.path, Limits{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.wantFix) {
				t.Errorf("message %q lacks the path or the fix %q", err, tt.wantFix)
			}
		})
	}
}

func TestReadTarballCanceled(t *testing.T) {
	t.Parallel()
	p := writeTemp(t, "pkg.tgz", makeTGZ(t, file("package/package.json", goodManifest)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := ReadTarball(ctx, p, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("message %q does not name the file", err)
	}
}

func TestPurl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pkg, version, want string
	}{
		// Subject names from real npm provenance statements.
		{name: "unscoped", pkg: "sigstore", version: "2.0.0", want: "pkg:npm/sigstore@2.0.0"},
		{name: "scoped", pkg: "@sigstore/sign", version: "2.3.2", want: "pkg:npm/%40sigstore/sign@2.3.2"},
		{name: "prerelease", pkg: "@a/b", version: "1.0.0-rc.1", want: "pkg:npm/%40a/b@1.0.0-rc.1"},
		// npm-package-arg's toPurl writes the name raw after the %40; legacy names keep these characters.
		{name: "legacy characters", pkg: "JSONStream!(x)*'", version: "1.0.0", want: "pkg:npm/JSONStream!(x)*'@1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Purl(tt.pkg, tt.version)); diff != "" {
				t.Errorf("Purl(%q, %q) (-want +got):\n%s", tt.pkg, tt.version, diff)
			}
		})
	}
}

func TestIntegrityAndHex(t *testing.T) {
	t.Parallel()
	tb := &Tarball{SHA512: sha512.Sum512([]byte("abc"))}
	// Known answers: sha512("abc") from FIPS 180-2, and its base64 as ssri prints it.
	wantHex := "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
	if got := tb.SHA512Hex(); got != wantHex {
		t.Errorf("SHA512Hex = %s", got)
	}
	if got, want := tb.Integrity(), "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="; got != want {
		t.Errorf("Integrity = %s, want %s", got, want)
	}
}

// TestRealPacksPassRegistryChecks: the tarball the registry accepted with provenance from
// sigstore/sigstore-js passes CheckPublishable against that source, and the example packs pass
// against waxseal/example.
func TestRealPacksPassRegistryChecks(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, repo string }{
		{"../../testdata/npm/real/sigstore-2.0.0.tgz", "https://github.com/sigstore/sigstore-js"},
		{"../../testdata/npm/waxseal-example-1.0.0.tgz", "https://github.com/waxseal/example"},
		{"../../testdata/npm/waxseal-example-hello-1.0.0.tgz", "https://github.com/waxseal/example"},
		{"../../testdata/example/waxseal-example-1.0.0.tgz", "https://github.com/waxseal/waxseal"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			tb, err := ReadTarball(t.Context(), tt.path, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckPublishable(tb.Manifest, Source{RepositoryURL: tt.repo, RunnerEnvironment: "github-hosted"}); err != nil {
				t.Errorf("CheckPublishable = %v, want nil", err)
			}
			if err := CheckPublishable(tb.Manifest, Source{RepositoryURL: "https://github.com/someone/else", RunnerEnvironment: "github-hosted"}); err == nil {
				t.Error("CheckPublishable accepted a foreign repository")
			}
		})
	}
}
