package npm

import (
	"archive/tar"
	"compress/gzip"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadTarball measures ReadTarball over a 64 MiB tarball; b.SetBytes makes `go test
// -bench` report MB/s of tarball digested. "stored" holds incompressible data (gzip stores it, as
// with binaries and images); "text" holds compressible data, where inflating dominates.
func BenchmarkReadTarball(b *testing.B) {
	for _, kind := range []string{"stored", "text"} {
		b.Run(kind, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "bench.tgz")
			writeBenchTarball(b, p, 64<<20, kind == "text")
			fi, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadTarball(b.Context(), p, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func writeBenchTarball(b *testing.B, p string, size int64, text bool) {
	b.Helper()
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	level := gzip.NoCompression
	src := io.LimitReader(rand.Reader, size)
	if text {
		level = gzip.DefaultCompression
		src = io.LimitReader(&lorem{}, size)
	}
	zw, _ := gzip.NewWriterLevel(f, level)
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(goodManifest))}
	if err := tw.WriteHeader(hdr); err != nil {
		b.Fatal(err)
	}
	io.WriteString(tw, goodManifest)
	if err := tw.WriteHeader(&tar.Header{Name: "package/data", Mode: 0o644, Size: size}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(tw, src); err != nil {
		b.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// lorem yields endless JavaScript-like text that compresses about 5:1 under gzip -6.
type lorem struct{ n uint32 }

func (l *lorem) Read(p []byte) (int, error) {
	words := []string{"const ", "function ", "return ", "module.exports", " = ", "require('", "'); ", "\n", "if (", ") {", "}", "x", "y", "value", "promise", "await "}
	i := 0
	for i < len(p) {
		l.n = l.n*1664525 + 1013904223
		i += copy(p[i:], words[(l.n>>24)%uint32(len(words))])
	}
	return len(p), nil
}
