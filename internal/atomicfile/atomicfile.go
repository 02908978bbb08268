// Package atomicfile writes a file whole or not at all: into a temporary file beside it, synced, then renamed
// over the destination, so a reader sees the old file or the new one and a crash leaves no half-written file.
// Every step goes through an os.Root on the destination's directory: neither the temporary file nor the
// destination can be redirected by a symbolic link, and a symbolic link at the destination is replaced, never
// followed (a workspace a stranger committed to cannot send a write elsewhere).
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Write writes data to path with mode perm.
func Write(path string, data []byte, perm os.FileMode) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("writing %q: %w (check the directory exists and is writable)", path, err)
	}
	defer func() { _ = root.Close() }() // a directory handle
	if err := WriteIn(root, filepath.Base(path), data, perm); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// WriteIn writes data to name, a path within root, with mode perm. Directories on the way must exist.
func WriteIn(root *os.Root, name string, data []byte, perm os.FileMode) (err error) {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:]) // crypto/rand does not fail on supported platforms
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+"."+hex.EncodeToString(suffix[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// Cleanup after a failure: err is the one to report. f may already be closed.
			_ = f.Close()
			_ = root.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil { // the umask may have narrowed OpenFile's mode
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}
