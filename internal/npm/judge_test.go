package npm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The judges are test/npmjs/judge.mjs, once per npm that test/npmjs/package.json pins (npm 10 with
// node-tar 6, npm 10, 11 and 12 with node-tar 7): each runs that npm's own bundled reading code
// (pacote, node-tar, @npmcli/package-json, npm-package-arg, semver, libnpmpublish) as one long-lived
// node process per test binary and is asked, one JSON line per tarball, what npm publish and npm
// install make of it. A judge works on a few requests at once, so answers are matched to requests by
// id; answers are cached by the tarball's digest, since the corpora overlap. `make npmjs` installs
// them.

const judgeDir = "../../test/npmjs"

// judgedNpms are the npm aliases in test/npmjs/package.json: the last npm 10 that bundles node-tar 6
// (as Node.js 22 shipped for a long time), and the newest npm 10, 11 and 12.
var judgedNpms = []string{"npm10-tar6", "npm10", "npm11", "npm12"}

// judgeAnswer is judge.mjs's answer.
type judgeAnswer struct {
	ID       int               `json:"id"`
	Error    string            `json:"error"`
	Versions map[string]string `json:"versions"`
	Publish  struct {
		OK         bool    `json:"ok"`
		Error      string  `json:"error"`
		Code       string  `json:"code"`
		Name       string  `json:"name"`
		Version    string  `json:"version"`
		Purl       string  `json:"purl"`
		Private    bool    `json:"private"`
		SameBytes  bool    `json:"sameBytes"`
		Repository *string `json:"repository"`
	} `json:"publish"`
	Install struct {
		OK       bool       `json:"ok"`
		Error    string     `json:"error"`
		Manifest []byte     `json:"manifest"` // the root package.json's bytes (base64 in JSON), nil if none
		Files    []npmFile  `json:"files"`
		Chunked  *npmResult `json:"chunked"`
	} `json:"install"`
	Header  []byte         `json:"header"`
	NeedPax bool           `json:"needPax"`
	Parsed  []parsedHeader `json:"parsed"`
	// Readings are node-tar's distinct readings of the tar stream in pieces of 1 to 600 bytes.
	Readings []struct {
		Paths []string `json:"paths"`
		Sizes int      `json:"sizes"`
	} `json:"readings"`
}

// parsedHeader is how node-tar's Parser took one header block (judge.mjs "header").
type parsedHeader struct {
	Valid    bool     `json:"valid"`
	Warnings []string `json:"warnings"`
	Type     string   `json:"type"`
	Path     string   `json:"path"`
	Size     int64    `json:"size"`
}

// npmFile is a file npm's extraction wrote, relative to the package root.
type npmFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// npmResult is an extraction's outcome: the root package.json and the files.
type npmResult struct {
	Manifest []byte    `json:"manifest"`
	Files    []npmFile `json:"files"`
}

// npmJudge is one npm's judge process.
type npmJudge struct {
	alias    string // the npm's alias in test/npmjs/package.json, e.g. "npm11"
	name     string // "npm 11.21.3 (node-tar 7.5.22, pacote 21.5.2, minizlib 3.1.0)"
	versions map[string]string
	mu       sync.Mutex // guards in, next, waiting and cache
	in       io.WriteCloser
	next     int
	waiting  map[int]chan []byte
	cache    map[[sha256.Size]byte]judgeAnswer
	dead     chan struct{} // closed when the judge exits
	stderr   *bytes.Buffer
}

var theJudges = sync.OnceValues(startJudges)

// tarJudges returns one judge per distinct node-tar version, for questions only node-tar answers
// (how it parses a header, how it reads a stream in pieces): npm 10.9.9, 11 and 12 bundle the same one.
func tarJudges(js []*npmJudge) []*npmJudge {
	var out []*npmJudge
	seen := map[string]bool{}
	for _, j := range js {
		if !seen[j.versions["tar"]] {
			seen[j.versions["tar"]] = true
			out = append(out, j)
		}
	}
	return out
}

// judgesFor returns a judge per npm in judgedNpms, or skips the test (fails it if
// WAXSEAL_REQUIRE_NPMJS=1) when node or the judges' node_modules are missing.
func judgesFor(tb testing.TB) []*npmJudge {
	tb.Helper()
	js, err := theJudges()
	if err != nil {
		msg := fmt.Sprintf("npm's own readers are not available (%v): run `make npmjs`", err)
		if os.Getenv("WAXSEAL_REQUIRE_NPMJS") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return js
}

func startJudges() ([]*npmJudge, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not installed")
	}
	var js []*npmJudge
	for _, npm := range judgedNpms {
		for _, dep := range []string{"pacote", "tar", "libnpmpublish", "@npmcli/package-json", "npm-package-arg", "semver"} {
			if _, err := os.Stat(filepath.Join(judgeDir, "node_modules", npm, "node_modules", dep, "package.json")); err != nil {
				return nil, fmt.Errorf("%s/node_modules/%s/node_modules/%s is missing", judgeDir, npm, dep)
			}
		}
		j, err := startJudge(node, npm)
		if err != nil {
			return nil, fmt.Errorf("starting the %s judge: %w", npm, err)
		}
		js = append(js, j)
	}
	return js, nil
}

func startJudge(node, npm string) (*npmJudge, error) {
	cmd := exec.Command(node, "judge.mjs", npm)
	cmd.Dir = judgeDir
	j := &npmJudge{alias: npm, waiting: map[int]chan []byte{}, cache: map[[sha256.Size]byte]judgeAnswer{},
		dead: make(chan struct{}), stderr: &bytes.Buffer{}}
	cmd.Stderr = &limitedBuffer{b: j.stderr, n: 64 << 10}
	var err error
	if j.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	// The first line names the npm and the versions of what it bundles.
	var hello judgeAnswer
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &hello) != nil || hello.Versions["npm"] == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("no version line (stderr: %s)", j.stderr)
	}
	j.versions = hello.Versions
	j.name = fmt.Sprintf("npm %s (node-tar %s, pacote %s, minizlib %s)", hello.Versions["npm"], hello.Versions["tar"],
		hello.Versions["pacote"], hello.Versions["minizlib"])
	// The judge exits when its stdin closes, which happens when the test binary exits.
	go func() {
		for sc.Scan() {
			var a struct{ ID int }
			if json.Unmarshal(sc.Bytes(), &a) != nil {
				continue
			}
			j.mu.Lock()
			ch := j.waiting[a.ID]
			delete(j.waiting, a.ID)
			j.mu.Unlock()
			if ch != nil {
				ch <- bytes.Clone(sc.Bytes())
			}
		}
		close(j.dead)
		_ = cmd.Wait()
	}()
	return j, nil
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
	n  int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// ask sends one request and waits for its answer.
func (j *npmJudge) ask(tb testing.TB, req map[string]any) judgeAnswer {
	tb.Helper()
	ch := make(chan []byte, 1)
	j.mu.Lock()
	j.next++
	id := j.next
	req["id"] = id
	j.waiting[id] = ch
	line, err := json.Marshal(req)
	if err == nil {
		_, err = j.in.Write(append(line, '\n'))
	}
	j.mu.Unlock()
	if err != nil {
		tb.Fatalf("asking the %s judge: %v (stderr: %s)", j.name, err, j.stderr)
	}
	select {
	case out := <-ch:
		var a judgeAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			tb.Fatalf("%s judge answer %q: %v", j.name, out, err)
		}
		if a.Error != "" {
			tb.Fatalf("the %s judge failed: %s", j.name, a.Error)
		}
		return a
	case <-j.dead:
		tb.Fatalf("the %s judge exited (stderr: %s)", j.name, j.stderr)
	case <-time.After(60 * time.Second):
		tb.Fatalf("the %s judge did not answer within 60 seconds (stderr: %s)", j.name, j.stderr)
	}
	return judgeAnswer{}
}

// judgeTarball asks what npm makes of the tarball at path.
func (j *npmJudge) judgeTarball(tb testing.TB, path string) judgeAnswer {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	j.mu.Lock()
	a, ok := j.cache[sum]
	j.mu.Unlock()
	if ok {
		return a
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		tb.Fatal(err)
	}
	a = j.ask(tb, map[string]any{"op": "judge", "path": abs})
	j.mu.Lock()
	j.cache[sum] = a
	j.mu.Unlock()
	return a
}

// tarName asks for the ustar header node-tar writes for path p.
func (j *npmJudge) tarName(tb testing.TB, p string) judgeAnswer {
	tb.Helper()
	return j.ask(tb, map[string]any{"op": "tarname", "path": p})
}

// identity asks which name and version npm publishes for a package.json holding just these.
func (j *npmJudge) identity(tb testing.TB, name, version string) judgeAnswer {
	tb.Helper()
	return j.ask(tb, map[string]any{"op": "identity", "name": name, "version": version})
}

// headers asks how node-tar's Parser takes each of the header blocks.
func (j *npmJudge) headers(tb testing.TB, blocks [][blockSize]byte) []parsedHeader {
	tb.Helper()
	raw := make([][]byte, len(blocks))
	for i := range blocks {
		raw[i] = blocks[i][:]
	}
	a := j.ask(tb, map[string]any{"op": "headers", "blocks": raw})
	if len(a.Parsed) != len(blocks) {
		tb.Fatalf("%s judge: %d parsed headers for %d blocks", j.name, len(a.Parsed), len(blocks))
	}
	return a.Parsed
}

// readings returns how many different entry lists node-tar reads from the tarball at p as its
// decompressed bytes arrive in pieces of every size from 1 to 600 bytes.
func (j *npmJudge) readings(tb testing.TB, p string) int {
	tb.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		tb.Fatal(err)
	}
	return len(j.ask(tb, map[string]any{"op": "pieces", "path": abs}).Readings)
}
