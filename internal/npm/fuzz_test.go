package npm

import (
	"archive/tar"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedTarballs are valid and malicious tarballs for FuzzReadTarball and BenchmarkReadTarball.
func seedTarballs(tb testing.TB) [][]byte {
	manifest := file("package/package.json", goodManifest)
	seeds := [][]byte{
		makeTGZ(tb, manifest, file("package/index.js", "module.exports = 1\n")),
		makeTGZ(tb, file("package/../x", ""), manifest),
		makeTGZ(tb, manifest, entry{name: "package/l", typ: tar.TypeSymlink, link: "/"}),
		makeTGZ(tb, manifest, entry{name: "package/h", typ: tar.TypeLink, link: "package/package.json"}),
		makeTGZ(tb, file("package/package.json", `{"name":"a","version":"v1"}`)),
		makeTGZ(tb, file("package/package.json", `{`)),
		makeTGZ(tb, manifest, manifest),
		makeTGZ(tb, file("package/index.js", "x")),
		gz(tb, []byte("not a tar")),
		[]byte("plain"),
	}
	for _, p := range []string{"waxseal-example-1.0.0.tgz", "waxseal-example-hello-1.0.0.tgz",
		"real/npm11/waxseal-example-kitchen-sink-1.2.3-rc.1.tgz"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "npm", p)); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

var sentinels = []error{ErrNotGzip, ErrCorrupt, ErrBomb, ErrTraversal, ErrLink, ErrEntryType, ErrNoManifest, ErrManifest, ErrNotCanonical}

// FuzzReadTarball checks that no input panics or hangs ReadTarball, that an accepted tarball's
// digests are those of the input and its manifest obeys npm's rules, and that every refusal is a
// classified one-line *TarballError naming the file.
func FuzzReadTarball(f *testing.F) {
	for _, s := range seedTarballs(f) {
		f.Add(s)
	}
	lim := Limits{MaxManifestBytes: 4 << 10, MaxEntryCount: 64, MaxDecompressedBytes: 1 << 20, MaxCompressionRatio: 50}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := filepath.Join(dir, "fuzz.tgz")
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadTarball(t.Context(), p, lim)
		if err == nil {
			if got.SHA512 != sha512.Sum512(raw) || got.SHA256 != sha256.Sum256(raw) || got.Size != int64(len(raw)) {
				t.Fatal("digests differ from the input's")
			}
			if ValidateName(got.Manifest.Name) != nil || ValidateVersion(got.Manifest.Version) != nil {
				t.Fatalf("accepted invalid %q@%q", got.Manifest.Name, got.Manifest.Version)
			}
			return
		}
		var te *TarballError
		if !errors.As(err, &te) || te.Path != p || te.Fix == "" || strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("refusal %#v is not a one-line *TarballError naming the file with a fix", err)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("refusal %v matches no sentinel", err)
	})
}
