package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// entry describes one tar entry for makeTGZ.
type entry struct {
	name string
	typ  byte
	body []byte
	link string
}

func file(name, body string) entry { return entry{name: name, typ: tar.TypeReg, body: []byte(body)} }

const goodManifest = `{"name":"@waxseal-example/hello","version":"1.0.0",` +
	`"repository":{"type":"git","url":"git+https://github.com/waxseal/example.git"}}`

// makeTGZ builds a gzip-compressed tar the way a (possibly malicious) packer would.
func makeTGZ(tb testing.TB, entries ...entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatalf("writing header %q: %v", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			tb.Fatalf("writing body %q: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// gzBest compresses raw bytes at gzip's best level, which takes runs of zeros to deflate's ratio of about 1030:1,
// over node-tar's 1000:1 limit, whatever Go's default encoder does (Go 1.27's default gives 510:1).
func gzBest(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(raw); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// gz compresses raw bytes (not necessarily a tar).
func gz(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// writeTemp writes b to a fresh file and returns its path.
func writeTemp(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}
