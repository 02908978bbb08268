package seal

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/provenance"
)

// Kind says how an artifact is read and checked, and how its provenance names it. Every kind is signed the same
// way: a message signature over its bytes (ARTIFACT.sigstore.json) and SLSA v1 provenance whose subjects the kind
// names (ARTIFACT.provenance.sigstore.json and .intoto.jsonl).
type Kind string

const (
	// NPM is an npm tarball: read exactly as npm reads it (package npm), held to npm's checks, and named in its
	// provenance by its package URL and sha512, as `npm publish --provenance` names it.
	NPM Kind = "npm"
	// File is any file, signed as its bytes and nothing more: named in its provenance by its file name and sha256,
	// as GitHub's own provenance for an Actions build (actions/attest-build-provenance) names a file.
	File Kind = "file"
	// Checksums is a checksums file (sha256sum's or sha512sum's output, goreleaser's checksums.txt): signed as its
	// bytes like a File, and its provenance names, beside the file itself, every file it lists with the digest it
	// lists, each checked against the file of that name this run signs (like actions/attest's subject-checksums).
	Checksums Kind = "checksums"
)

// Input is one file to sign, and how. A file has one kind: naming it twice with different kinds is refused, so no
// file silently gets or loses npm's treatment.
type Input struct {
	Path string
	Kind Kind
}

// artifact is an input read once: its digests and what its provenance names.
type artifact struct {
	Input
	sha256, sha512 []byte
	tarball        *npm.Tarball // NPM
	listed         []listed     // Checksums
}

// subject is how the artifact's own provenance names it.
func (a *artifact) subject() provenance.Subject {
	if a.Kind == NPM {
		return provenance.Subject{Name: a.tarball.Purl(), SHA512: a.tarball.SHA512Hex()}
	}
	return provenance.Subject{Name: filepath.Base(a.Path), SHA256: hex.EncodeToString(a.sha256)}
}

// subjects are what its provenance statement names: the artifact, and what a checksums file lists.
func (a *artifact) subjects() []provenance.Subject {
	out := []provenance.Subject{a.subject()}
	for _, l := range a.listed {
		out = append(out, l.subject())
	}
	return out
}

// maxChecksumsBytes bounds a checksums file, which is read whole: a line a file, a thousand files in 200 KB.
const maxChecksumsBytes = 16 << 20

// readAll reads every artifact, as many at a time as Go may run threads (a read keeps about one core busy; more
// would only contend). An artifact that cannot be read is nil, with its error in the report.
func readAll(ctx context.Context, inputs []Input, lim npm.Limits, rep *Report) []*artifact {
	out := make([]*artifact, len(inputs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, in := range inputs {
		rep.Artifacts[i].Path, rep.Artifacts[i].Kind = in.Path, in.Kind
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			a, err := read(ctx, in, lim)
			if err != nil {
				rep.Artifacts[i].Error = message(err)
				return
			}
			out[i] = a
			rep.Artifacts[i].describe(a)
		})
	}
	wg.Wait()
	return out
}

// read reads one input by its kind.
func read(ctx context.Context, in Input, lim npm.Limits) (*artifact, error) {
	a := &artifact{Input: in}
	switch in.Kind {
	case NPM:
		t, err := npm.ReadTarball(ctx, in.Path, lim)
		if err != nil {
			return nil, err
		}
		a.tarball, a.sha256, a.sha512 = t, t.SHA256[:], t.SHA512[:]
		return a, nil
	case File:
		if _, err := a.hash(ctx, -1); err != nil {
			return nil, err
		}
		return a, nil
	case Checksums:
		content, err := a.hash(ctx, maxChecksumsBytes)
		if err != nil {
			return nil, err
		}
		if a.listed, err = parseChecksums(a.Path, content); err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("%s: unknown kind %q", in.Path, in.Kind)
}

// hash streams the file once through SHA-256 and SHA-512. With a limit (a checksums file) the file is read whole
// and its content returned, so it is parsed from the very bytes hashed. It refuses what is not a regular file.
func (a *artifact) hash(ctx context.Context, limit int64) ([]byte, error) {
	f, err := os.Open(a.Path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w (check the path)", a.Path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", a.Path, err)
	case st.IsDir():
		return nil, fmt.Errorf("%s is a directory: name the files in it (a glob such as %s)", a.Path, filepath.Join(a.Path, "*"))
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file (%s): sign the file itself", a.Path, st.Mode().Type())
	case limit >= 0 && st.Size() > limit:
		return nil, fmt.Errorf("%s is %d bytes, more than a checksums file of %d: is it the right file?", a.Path, st.Size(), limit)
	}
	h256, h512 := sha256.New(), sha512.New()
	w := io.MultiWriter(h256, h512)
	var content []byte
	if limit >= 0 {
		if content, err = io.ReadAll(io.LimitReader(f, limit+1)); err == nil {
			_, err = w.Write(content)
		}
	} else {
		_, err = io.CopyBuffer(w, &ctxReader{ctx: ctx, r: f}, make([]byte, 1<<20))
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", a.Path, err)
	}
	a.sha256, a.sha512 = h256.Sum(nil), h512.Sum(nil)
	return content, nil
}

// ctxReader stops a long read when the run is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}
