package npm

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The packers' own output: testdata/npm/packers/<packer>-<version>/ holds what npm 10, 11 and 12,
// yarn 1 and 4, pnpm and bun wrote for the workspace make.sh builds (see the NOTICE there). Every
// tarball is read as every judged npm reads it, except the one holding a 700-byte non-ASCII path,
// which every packer writes in a form npm can misread and waxseal refuses, saying so.

// packerTarballs lists the committed packer tarballs.
func packerTarballs(tb testing.TB) []string {
	tb.Helper()
	m, err := filepath.Glob("../../testdata/npm/packers/*/*.tgz")
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// refusedPack reports the packages waxseal refuses whatever packed them.
func refusedPack(p string) bool { return strings.Contains(filepath.Base(p), "packers-long") }

// checkPackerTarball reads one packer tarball: accepted with the name and version its file name says,
// or, for the long-path package, refused naming the entry and the reason.
func checkPackerTarball(t *testing.T, p string) {
	t.Helper()
	got, err := ReadTarball(t.Context(), p, DefaultLimits())
	if refusedPack(p) {
		var te *TarballError
		if !errors.Is(err, ErrNotCanonical) || !errors.As(err, &te) || te.Entry == "" ||
			!strings.Contains(err.Error(), "piece by piece") || !strings.Contains(err.Error(), "shorten the path") {
			t.Fatalf("ReadTarball = %v; want a refusal naming the long non-ASCII path, why, and the fix", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("ReadTarball: %v", err)
	}
	m := got.Manifest
	if want := PackFileName(m.Name, m.Version); filepath.Base(p) != want {
		t.Errorf("read %s@%s from %s", m.Name, m.Version, filepath.Base(p))
	}
}

// TestPackerTarballs reads every committed packer tarball; every packer and npm major is there.
func TestPackerTarballs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, p := range packerTarballs(t) {
		seen[strings.SplitN(filepath.Base(filepath.Dir(p)), "-", 2)[0]] = true
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			checkPackerTarball(t, p)
		})
	}
	for _, want := range []string{"npm10", "npm11", "npm12", "yarn1", "yarn4", "pnpm", "bun"} {
		if !seen[want] {
			t.Errorf("testdata/npm/packers has no %s output", want)
		}
	}
}

// TestPackerDifferential: every accepted packer tarball is published and installed by every judged npm
// exactly as waxseal read it, and node-tar reads the same entries however its bytes arrive. For the
// refused long path, some npm does read it differently depending on how the bytes arrive, so the
// refusal is needed.
func TestPackerDifferential(t *testing.T) {
	js := judgesFor(t)
	for _, p := range packerTarballs(t) {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			if refusedPack(p) {
				if !slices.ContainsFunc(tarJudges(js), func(j *npmJudge) bool { return j.readings(t, p) > 1 }) {
					t.Errorf("every npm reads %s the same way however its bytes arrive, so refusing it is not needed", p)
				}
				return
			}
			if d := disagreement(t, js, p, DefaultLimits()); d != "" {
				t.Error(d)
			}
			for _, j := range tarJudges(js) {
				if n := j.readings(t, p); n != 1 {
					t.Errorf("%s reads %d different entry lists depending on how the bytes arrive", j.name, n)
				}
			}
		})
	}
}

// TestPackersLive runs the installed packers (test/packers/install.sh; `make packers`) on the workspace
// and reads their output as the committed one: so a new packer version that writes a new form shows up.
// It is skipped when they are not installed, and fails then if WAXSEAL_REQUIRE_PACKERS=1.
func TestPackersLive(t *testing.T) {
	env := os.Getenv("WAXSEAL_PACKERS")
	if env == "" {
		cache := os.Getenv("WAXSEAL_STACK_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "waxseal-stack")
		}
		env = filepath.Join(cache, "packers", "packers.env")
	}
	if _, err := os.Stat(env); err != nil {
		msg := "the packers are not installed (" + env + "): run `make packers`"
		if os.Getenv("WAXSEAL_REQUIRE_PACKERS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	js := judgesFor(t)
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "../../testdata/npm/packers/make.sh", env, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make.sh: %v\n%s", err, b)
	}
	tarballs, err := filepath.Glob(filepath.Join(out, "*", "*.tgz"))
	if err != nil || len(tarballs) < 8 {
		t.Fatalf("the packers wrote %d tarballs (%v)", len(tarballs), err)
	}
	for _, p := range tarballs {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			checkPackerTarball(t, p)
			if d := disagreement(t, js, p, DefaultLimits()); d != "" {
				t.Error(d)
			}
		})
	}
}
