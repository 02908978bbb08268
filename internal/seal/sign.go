package seal

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/waxseal/waxseal/internal/atomicfile"
	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/signer"
)

// signAll signs every artifact at once (the signer bounds the log submissions in flight), reporting each as it
// is done.
func signAll(ctx context.Context, s *signer.Signer, tm *trustInfo, arts []*artifact, statements [][]byte, rep *Report, w io.Writer) {
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises progress lines
	for i, a := range arts {
		wg.Go(func() {
			r := &rep.Artifacts[i]
			var statement []byte
			if statements != nil {
				statement = statements[i]
			}
			if err := signOne(ctx, s, a, statement, r); err != nil {
				r.Error = message(err)
			} else {
				r.RekorEntryURL = entryURL(tm.rekorURL, tm.rekorVersion, r.RekorLogIndex, rep.PublicGood)
				if r.ProvenanceBundle != "" {
					r.ProvenanceRekorEntryURL = entryURL(tm.npmRekorURL, 1, r.ProvenanceRekorLogIndex, rep.PublicGood)
				}
			}
			mu.Lock()
			progress(w, r)
			mu.Unlock()
		})
	}
	wg.Wait()
}

// signOne signs one artifact's bytes and its provenance, verifies both, and writes its bundles: all of them, or
// (when the run is stopped first) none.
func signOne(ctx context.Context, s *signer.Signer, a *artifact, statement []byte, r *Artifact) error {
	// The two signatures are independent log submissions: make them at once, so an artifact costs one log round
	// trip rather than two.
	var prov *signer.Signed
	var provErr error
	var wg sync.WaitGroup
	if statement != nil {
		wg.Go(func() {
			if prov, provErr = s.SignProvenance(ctx, statement, a.subject()); provErr != nil {
				provErr = fmt.Errorf("signing provenance for %s: %w", a.Path, provErr)
			}
		})
	}
	art, err := s.SignArtifact(ctx, a.sha256)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("signing %s: %w", a.Path, err)
	}
	if provErr != nil {
		return provErr
	}
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("signing %s: stopped before writing its bundles: %w", a.Path, err)
	}
	return writeBundles(a, art, prov, r)
}

// writeBundles writes an artifact's bundle files beside it: all of them, or none.
func writeBundles(a *artifact, art, prov *signer.Signed, r *Artifact) error {
	type file struct {
		path string
		data []byte
	}
	files := []file{{bundlefile.SignatureOf(a.Path), art.JSON}}
	if prov != nil {
		line, err := bundlefile.Line(prov.JSON)
		if err != nil {
			return err
		}
		files = append(files, file{bundlefile.ProvenanceOf(a.Path), prov.JSON}, file{bundlefile.JSONLOf(a.Path), line})
	}
	for i, f := range files {
		if err := atomicfile.Write(f.path, f.data, 0o644); err != nil {
			for _, done := range files[:i] {
				_ = os.Remove(done.path) // best effort: keep an artifact's bundles whole
			}
			return err
		}
	}
	r.Bundle, r.RekorLogIndex = files[0].path, art.LogIndex
	if prov != nil {
		r.ProvenanceBundle, r.ProvenanceJSONL, r.ProvenanceRekorLogIndex = files[1].path, files[2].path, prov.LogIndex
		r.Subjects = a.subjects()
	}
	return nil
}

func entryURL(rekorURL string, version uint32, index int64, publicGood bool) string {
	switch {
	case publicGood && version == 1:
		return fmt.Sprintf("https://search.sigstore.dev/?logIndex=%d", index)
	case version == 1:
		return fmt.Sprintf("%s/api/v1/log/entries?logIndex=%d", strings.TrimSuffix(rekorURL, "/"), index)
	default:
		return "" // Rekor v2 serves tiles, not entries by index
	}
}

// progress is one line for an artifact: what was signed, or why not.
func progress(w io.Writer, r *Artifact) {
	if r.Error != "" {
		if strings.Contains(r.Error, r.Path) { // the error names the file already
			fmt.Fprintf(w, "FAILED  %s\n", r.Error)
		} else {
			fmt.Fprintf(w, "FAILED  %s: %s\n", printable.Line(r.Path), r.Error)
		}
		return
	}
	line := fmt.Sprintf("signed  %s  sha256:%s  rekor #%d", printable.Line(r.Path), printable.Abbrev(r.SHA256, 16), r.RekorLogIndex)
	if r.Kind == NPM {
		line = fmt.Sprintf("signed  %s@%s  sha512:%s  rekor #%d", r.Name, r.Version, printable.Abbrev(r.SHA512, 16), r.RekorLogIndex)
	}
	if r.ProvenanceBundle != "" {
		line += fmt.Sprintf("  provenance #%d", r.ProvenanceRekorLogIndex)
		if n := len(r.Subjects); n > 1 {
			line += fmt.Sprintf(" (%d subjects)", n)
		}
	}
	fmt.Fprintln(w, line)
}

// stopBeforeSigning reports every artifact that failed a check, and returns the run's error: nothing was signed.
func stopBeforeSigning(w io.Writer, rep *Report) error {
	for i := range rep.Artifacts {
		if rep.Artifacts[i].Error != "" {
			progress(w, &rep.Artifacts[i])
		}
	}
	return fmt.Errorf("%w: nothing was signed; fix the problems above and re-run", ErrPackagesFailed)
}
