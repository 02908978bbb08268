package actionimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The config distroless static-debian12 (the root variant, :latest) sets, from static/static.bzl: the user is
// "0" and the working directory "/"; SSL_CERT_FILE "allows openssl to find the certificates by default".
var distrolessConfig = v1.Config{
	Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
	User:       "0",
	WorkingDir: "/",
}

// Options say what to build the image from.
type Options struct {
	// Dockerfile is the Dockerfile whose final stage the image reproduces.
	Dockerfile string
	// Binary is the static linux/amd64 waxseal binary, built as .github/scripts/build-release.sh builds it (the
	// Dockerfile's build stage uses the same flags).
	Binary string
}

// Build builds the image: one layer with distroless static-debian12's files from this machine's Debian 12
// packages (the base), one with the binary where the final stage's COPY puts it (as the Dockerfile adds it), and
// the base's config with the stage's labels, entrypoint and user.
func Build(o Options) (v1.Image, error) {
	f, err := os.Open(o.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	st, err := ReadFinalStage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Dockerfile, err)
	}
	base, err := baseFiles()
	if err != nil {
		return nil, fmt.Errorf("assembling distroless static's files: %w", err)
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading the binary: %w (build it with .github/scripts/build-release.sh)", err)
	}
	app := newLayerFiles()
	app.addDirs(path.Dir(st.Binary))
	// COPY keeps the build stage's mode (go build writes 0755) and gives the file to root.
	app.add(&tar.Header{Name: st.Binary, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin)
	img := empty.Image
	for _, l := range []*layerFiles{base, app} {
		layer, err := layerOf(l)
		if err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return nil, err
		}
	}
	cfg := distrolessConfig
	cfg.Env = append([]string(nil), distrolessConfig.Env...)
	cfg.Labels, cfg.Entrypoint = st.Labels, st.Entrypoint
	if st.User != "" {
		cfg.User = st.User
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Config, cf.Created = "amd64", "linux", cfg, v1.Time{Time: epoch}
	return mutate.ConfigFile(img, cf)
}

func layerOf(l *layerFiles) (v1.Layer, error) {
	b, err := l.tarball()
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithCompressedCaching)
}

// Size is an image's size: what a pull downloads (compressed layers, config) and what it unpacks to.
type Size struct {
	Compressed, Uncompressed int64
}

// SizeOf adds up img's layers, compressed and not, and its config.
func SizeOf(img v1.Image) (Size, error) {
	var s Size
	layers, err := img.Layers()
	if err != nil {
		return s, err
	}
	for _, l := range layers {
		c, err := l.Size()
		if err != nil {
			return s, err
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return s, err
		}
		u, err := io.Copy(io.Discard, rc)
		_ = rc.Close() // an in-memory reader
		if err != nil {
			return s, err
		}
		s.Compressed, s.Uncompressed = s.Compressed+c, s.Uncompressed+u
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return s, err
	}
	s.Compressed += int64(len(cfg))
	return s, nil
}
