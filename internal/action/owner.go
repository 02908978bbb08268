package action

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/waxseal/waxseal/internal/seal"
)

// resultsFile is where the results document goes, relative to the workspace.
const resultsFile = ".waxseal/results.json"

// written lists what a run wrote in the workspace: each artifact's bundles (its signature, provenance and
// .intoto.jsonl), and the results file.
func written(ws *Workspace, rep *seal.Report) []string {
	out := []string{filepath.Join(ws.Root(), resultsFile)}
	if rep == nil {
		return out
	}
	for _, a := range rep.Artifacts {
		for _, f := range []string{a.Bundle, a.ProvenanceBundle, a.ProvenanceJSONL} {
			if f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// handOver gives paths (files in the workspace, absolute) and the root-owned directories between them and the
// workspace to the workspace's owner, when waxseal runs as root in a workspace root does not own. That is how
// GitHub runs a container action: as root, with the workspace bind-mounted from the runner, owned by the runner's
// user, who runs every later step. Files root made in the user's directories are only a nuisance (the user can
// still move and delete them), but a directory root made locks the user out of it: `mv .waxseal/results.json`,
// `git clean -ffdx` and the next checkout of a self-hosted runner fail with "Permission denied". Paths that do
// not exist are skipped; symbolic links are not followed, and nothing outside the workspace is touched.
func handOver(ws *Workspace, paths []string) error {
	if os.Geteuid() != 0 {
		return nil // not root: what waxseal wrote is its user's already
	}
	st, err := os.Stat(ws.Root())
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Uid == 0 {
		return nil // a root-owned workspace: nobody else to hand it to
	}
	uid, gid := int(sys.Uid), int(sys.Gid)
	root, err := os.OpenRoot(ws.Root())
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }() // a directory handle
	var errs []error
	for _, p := range paths {
		rel, err := filepath.Rel(ws.Root(), p)
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		if err := root.Lchown(rel, uid, gid); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			if err := handOverDir(root, d, uid, gid); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("giving the files waxseal wrote to the workspace's owner (uid %d): %w", uid, errors.Join(errs...))
	}
	return nil
}

// handOverDir gives dir to uid:gid if root owns it: a directory a container made in the user's workspace.
func handOverDir(root *os.Root, dir string, uid, gid int) error {
	st, err := root.Lstat(dir)
	if err != nil {
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid == 0 && st.IsDir() {
		return root.Lchown(dir, uid, gid)
	}
	return nil
}
