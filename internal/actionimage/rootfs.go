package actionimage

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

// What gcr.io/distroless/static-debian12 holds, from its build files (GoogleContainerTools/distroless at
// 11eeda55665c49dfc0918ad4ab9f1cf0b4b3a698: static/static.bzl and common/BUILD.bazel; common/variables.bzl at
// 2bbbfedeee0de1cc8a454196427c55283236cfc0; static/nsswitch.conf at 1d8908e5c48cc27b0e52f67fe8163c6572137506):
// the files of four Debian packages, the CA bundle of ca-certificates, and a few files of its own.
var (
	// debianPackages are the packages static.bzl unpacks into the image.
	debianPackages = []string{"base-files", "netbase", "tzdata", "media-types"}
	// caBundle is what the cacerts rule makes of the ca-certificates package (the bundle
	// update-ca-certificates writes, which this machine's ca-certificates package has written), and its
	// copyright file.
	caBundle = []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/share/doc/ca-certificates/copyright"}
)

// Users: NONROOT and NOBODY of common/variables.bzl.
const (
	nonroot = 65532
	nobody  = 65534
)

// The files common/BUILD.bazel and static/ add, as distroless writes them.
var distrolessFiles = []struct {
	path     string
	mode     int64
	uid, gid int
	content  string
	dir      bool
}{
	{path: "/etc/passwd", mode: 0o644, content: "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
	{path: "/etc/group", mode: 0o644, content: "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"},
	{path: "/etc/nsswitch.conf", mode: 0o644, content: "# /etc/nsswitch.conf\n#\n" +
		"# Example configuration of GNU Name Service Switch functionality.\n" +
		"# If you have the `glibc-doc-reference' and `info' packages installed, try:\n" +
		"# `info libc \"Name Service Switch\"' for information about this file.\n\n" +
		"passwd:         compat\ngroup:          compat\nshadow:         compat\ngshadow:        files\n\n" +
		"hosts:          files dns\nnetworks:       files\n\n" +
		"protocols:      db files\nservices:       db files\nethers:         db files\nrpc:            db files\n\n" +
		"netgroup:       nis\n"},
	{path: "/etc/os-release", mode: 0o644, content: "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\n" +
		"VERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\n" +
		"HOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n" +
		"SUPPORT_URL=\"https://github.com/GoogleContainerTools/distroless/blob/master/README.md\"\n" +
		"BUG_REPORT_URL=\"https://github.com/GoogleContainerTools/distroless/issues/new\"\n"},
	{path: "/root", mode: 0o700, dir: true},
	{path: "/home", mode: 0o755, dir: true},
	{path: "/home/nonroot", mode: 0o700, uid: nonroot, gid: nonroot, dir: true},
	{path: "/tmp", mode: 0o1777, dir: true},
}

// epoch is every entry's modification time, so the same inputs make the same layer digests.
var epoch = time.Unix(0, 0).UTC()

// tree is a layer's entries by absolute path.
type tree map[string]*tar.Header

type layerFiles struct {
	headers tree
	data    map[string][]byte
}

func newLayerFiles() *layerFiles { return &layerFiles{headers: tree{}, data: map[string][]byte{}} }

// add records one entry; parent directories must be added by the caller (dpkg lists them).
func (l *layerFiles) add(h *tar.Header, data []byte) {
	h.ModTime, h.AccessTime, h.ChangeTime = epoch, time.Time{}, time.Time{}
	h.Format = tar.FormatPAX
	l.headers[h.Name] = h
	if data != nil {
		l.data[h.Name] = data
	}
}

// copyFromHost adds the file, directory or symbolic link at p as this machine has it: mode, owner, content.
func (l *layerFiles) copyFromHost(p string) error {
	st, err := os.Lstat(p)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: p, Mode: int64(st.Mode().Perm())}
	if st.Mode()&fs.ModeSetgid != 0 {
		h.Mode |= 0o2000
	}
	if st.Mode()&fs.ModeSticky != 0 {
		h.Mode |= 0o1000
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		h.Uid, h.Gid = int(sys.Uid), int(sys.Gid)
	}
	var data []byte
	switch {
	case st.IsDir():
		h.Typeflag = tar.TypeDir
	case st.Mode()&fs.ModeSymlink != 0:
		h.Typeflag = tar.TypeSymlink
		if h.Linkname, err = os.Readlink(p); err != nil {
			return err
		}
	case st.Mode().IsRegular():
		h.Typeflag = tar.TypeReg
		if data, err = os.ReadFile(p); err != nil {
			return err
		}
		h.Size = int64(len(data))
	default:
		return fmt.Errorf("%s is neither a file, a directory nor a symbolic link", p)
	}
	l.add(h, data)
	return nil
}

// addDebianPackage copies the files dpkg installed for pkg (its .list), as installed here, and writes the
// package's status paragraph to /var/lib/dpkg/status.d/PKG, where distroless puts it for image scanners. Paths
// the list names but the machine lacks (dpkg's path-exclude drops documentation on slim systems) are skipped.
func (l *layerFiles) addDebianPackage(pkg string) error {
	list, err := os.ReadFile("/var/lib/dpkg/info/" + pkg + ".list")
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the Debian package %s is not installed: apt-get install -y %s (the image is built from this machine's packages)", pkg, pkg)
	}
	if err != nil {
		return err
	}
	for _, p := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if p == "/." {
			continue
		}
		if err := l.copyFromHost(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("copying %s of the %s package: %w", p, pkg, err)
		}
	}
	status, err := dpkgStatus(pkg)
	if err != nil {
		return err
	}
	l.addDirs("/var/lib/dpkg/status.d")
	l.add(&tar.Header{Name: "/var/lib/dpkg/status.d/" + pkg, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(status))}, status)
	return nil
}

// dpkgStatus returns pkg's paragraph of /var/lib/dpkg/status.
func dpkgStatus(pkg string) ([]byte, error) {
	b, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return nil, fmt.Errorf("reading dpkg's status: %w", err)
	}
	for para := range strings.SplitSeq(string(b), "\n\n") {
		sc := bufio.NewScanner(strings.NewReader(para))
		if sc.Scan() && sc.Text() == "Package: "+pkg {
			return []byte(strings.TrimSpace(para) + "\n"), nil
		}
	}
	return nil, fmt.Errorf("dpkg's status has no paragraph for %s", pkg)
}

// addDirs adds p and its parents as root-owned 0755 directories, unless they are there already.
func (l *layerFiles) addDirs(p string) {
	for d := p; d != "/"; d = path.Dir(d) {
		if _, ok := l.headers[d]; !ok {
			l.add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, nil)
		}
	}
}

// baseFiles is the distroless static-debian12 file system, from this machine's Debian 12 packages.
func baseFiles() (*layerFiles, error) {
	l := newLayerFiles()
	for _, pkg := range debianPackages {
		if err := l.addDebianPackage(pkg); err != nil {
			return nil, err
		}
	}
	for _, p := range caBundle {
		l.addDirs(path.Dir(p))
		if err := l.copyFromHost(p); err != nil {
			return nil, fmt.Errorf("copying the CA bundle: %w (apt-get install -y ca-certificates)", err)
		}
	}
	for _, f := range distrolessFiles {
		l.addDirs(path.Dir(f.path))
		h := &tar.Header{Name: f.path, Mode: f.mode, Uid: f.uid, Gid: f.gid, Typeflag: tar.TypeReg, Size: int64(len(f.content))}
		if f.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
			l.add(h, nil)
			continue
		}
		l.add(h, []byte(f.content))
	}
	return l, nil
}

// tarball writes the entries in path order (parents before children) with relative names, as image layers
// name them.
func (l *layerFiles) tarball() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range slices.Sorted(maps.Keys(l.headers)) {
		h := *l.headers[p]
		h.Name = strings.TrimPrefix(p, "/")
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("writing %s into the layer: %w", p, err)
		}
		if _, err := tw.Write(l.data[p]); err != nil {
			return nil, fmt.Errorf("writing %s into the layer: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
