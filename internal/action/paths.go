package action

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waxseal/waxseal/internal/atomicfile"
	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/seal"
)

// Workspace resolves user-given paths inside GITHUB_WORKSPACE and refuses any that leave it, after following
// symbolic links (a link in the workspace may point anywhere on the runner).
type Workspace struct {
	root string // the workspace with its own symlinks resolved
}

// NewWorkspace returns the Workspace rooted at dir.
func NewWorkspace(dir string) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving GITHUB_WORKSPACE %q: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("resolving GITHUB_WORKSPACE %q: %w (run actions/checkout first, or check the path)", dir, err)
	}
	return &Workspace{root: root}, nil
}

// Root is the resolved workspace directory.
func (w *Workspace) Root() string { return w.root }

// Rel returns path relative to the workspace, with forward slashes, for outputs and annotations: later steps
// run with the workspace as their working directory, but outside the container it has another absolute path.
func (w *Workspace) Rel(path string) string {
	if r, err := filepath.Rel(w.root, path); err == nil && filepath.IsLocal(r) {
		return filepath.ToSlash(r)
	}
	return path
}

// File resolves one path that must name an existing file in the workspace.
func (w *Workspace) File(input, p string) (string, error) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(w.root, p)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("input `%s`: %q: %w (the path is relative to the workspace)", input, p, err)
	}
	if !w.contains(real) {
		return "", fmt.Errorf("input `%s`: %q resolves to %q, outside the workspace %q: refused; keep files in the workspace", input, p, real, w.root)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("input `%s`: %w", input, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("input `%s`: %q is not a regular file", input, p)
	}
	return real, nil
}

// WriteFile writes data to rel, a path inside the workspace, creating its directories, atomically
// (atomicfile.WriteIn: a temporary file, synced, renamed into place). Every step goes through os.Root, so no symbolic link, wherever it is on the path, can
// take the write out of the workspace.
func (w *Workspace) WriteFile(rel string, data []byte) error {
	root, err := os.OpenRoot(w.root)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }() // a directory handle
	if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return fmt.Errorf("%w (a symbolic link that leaves the workspace is refused: remove it)", err)
	}
	if err := atomicfile.WriteIn(root, rel, data, 0o644); err != nil {
		return fmt.Errorf("%w (a symbolic link that leaves the workspace is refused: remove it)", err)
	}
	return nil
}

func (w *Workspace) contains(real string) bool {
	r, err := filepath.Rel(w.root, real)
	return err == nil && filepath.IsLocal(r)
}

// Glob expands the patterns of an input (paths, artifacts, checksums) into files in the workspace, in pattern
// order without repeats. A pattern that leaves the workspace, a match that resolves outside it and a pattern that
// matches nothing are errors.
func (w *Workspace) Glob(input string, patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(w.root, p)
		}
		if !w.contains(filepath.Clean(abs)) {
			return nil, fmt.Errorf("input `%s`: %q is outside the workspace %q: refused; list files inside the workspace", input, p, w.root)
		}
		matches, err := filepath.Glob(abs)
		if err != nil {
			return nil, fmt.Errorf("input `%s`: %q: %w (fix the glob syntax)", input, p, err)
		}
		if len(matches) == 0 {
			build := "build the files before waxseal"
			if input == "paths" {
				build = "run `npm pack` before waxseal"
			}
			return nil, fmt.Errorf("input `%s`: nothing matches %q in the workspace: %s, or fix the pattern", input, p, build)
		}
		slices.Sort(matches)
		for _, m := range matches {
			if err := seal.CheckPath(w.Rel(m)); err != nil {
				return nil, fmt.Errorf("input `%s`: %w", input, err)
			}
			real, err := w.File(input, m)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, real) {
				out = append(out, real)
			}
		}
	}
	return out, nil
}

// assetBases returns the asset name of each artifact on the release (its file name), refusing two artifacts of the
// same name (or names GitHub would store alike).
func assetBases(artifacts []seal.Input) (map[string]string, error) {
	seen := map[string]string{}
	out := map[string]string{}
	for _, a := range artifacts {
		t := a.Path
		b := filepath.Base(t)
		if other, ok := seen[github.StoredName(b)]; ok {
			return nil, fmt.Errorf("%q and %q would be one release asset (%q), which is named after the file: rename one", other, t, github.StoredName(b))
		}
		seen[github.StoredName(b)] = t
		out[t] = strings.TrimSpace(b)
	}
	return out, nil
}
