package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/retry"
)

// File is one file to put on the release.
type File struct {
	// Name is the asset name, e.g. "pkg-1.0.0.tgz.sigstore.json".
	Name string
	// Path is the local file.
	Path string
	// SHA256, when set, is the hex digest the file must still have: an artifact that changed since it was signed is
	// refused before anything is uploaded, rather than put on the release beside a signature it fails.
	SHA256 string
}

// Outcome says what happened to one file.
type Outcome string

// The outcomes of [Publish].
const (
	// Uploaded: the release had no asset of that name; it has one now.
	Uploaded Outcome = "uploaded"
	// Kept: the release already had an asset of that name with the same bytes (a re-run); it was left alone.
	Kept Outcome = "kept"
	// Replaced: the release had different bytes under that name and overwrite was on.
	Replaced Outcome = "replaced"
)

// Result is what happened to one file.
type Result struct {
	Name    string       `json:"name"`
	Outcome Outcome      `json:"outcome"`
	Asset   github.Asset `json:"asset"`
}

// PublishOptions tunes [Publish].
type PublishOptions struct {
	// Overwrite replaces an asset of the same name with different bytes; default false, which fails instead.
	Overwrite bool
	// Policy is the run's retry policy: its Clock is what waits above single requests (re-polling a listing,
	// pacing) wait on, and its For bounds them. The zero value means the real clock and retry.DefaultFor.
	Policy retry.Policy
	// Pacer keeps the run's content-creating requests under GitHub's limits; default a new one. Share one across
	// everything a run creates (its attestations too).
	Pacer *Pacer
	// Run says which workflow run publishes. Another run's journal is undone only when that run is certainly
	// over: an earlier attempt of this same run (GitHub starts a re-run only once every job of the earlier
	// attempt has ended), or a journal older than StaleJournal. Any other run may still be uploading.
	Run RunInfo
}

// RunInfo identifies a workflow run: GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB.
type RunInfo struct {
	ID      string `json:"id,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Job     string `json:"job,omitempty"`
}

// StaleJournal is the age (by GitHub's created_at for the journal's asset, never the time written in it) past
// which another run's journal is taken to be an interrupted run's: a run keeps its
// journal only while it uploads, which its retry budget and GitHub's content limits bound far below this.
const StaleJournal = 6 * time.Hour

// inFlight is how long an asset in state "starter" may still be another upload in progress (an upload try is
// bounded by 15 minutes): younger ones are waited for, not deleted.
const inFlight = 20 * time.Minute

// unlistedWait is how long Publish looks for an asset whose upload failed in a way that may have stored it (a
// 502 "may leave an empty asset with a state of `starter`", an answer lost after GitHub kept the file), so that
// the rollback takes it back too. An asset GitHub lists later than that is found by the next run's cleanup,
// through the journal.
const unlistedWait = 30 * time.Second

// Publish puts every file on the release, all or nothing, and survives GitHub's ways of failing:
//
//   - Names are matched as GitHub stores them (StoredName), so a re-run finds what an earlier run uploaded.
//   - An asset already there with the same bytes is kept; different bytes fail before anything is changed,
//     unless Overwrite.
//   - Before changing anything, the run uploads a journal (waxseal-run-ID.json) naming what it will add and
//     replace; it deletes the journal once every file is in place. A run that was killed leaves its journal, and
//     the next Publish (or Recover) undoes that run exactly before starting: leftovers of an interrupted run
//     are recognised as such, while assets a finished run left are protected.
//   - Overwrite never deletes the old asset first: the new one is uploaded under a temporary name, the old one
//     renamed aside, the new one renamed into place, and only then is the old one deleted.
//   - An upload GitHub answers with already_exists, or that fails in a way that may have stored it, is looked
//     for in the listing (with backoff, as listings lag); an asset that is not "uploaded" (a "starter" left by a
//     502) is a leftover to delete, not a file.
//   - If any file cannot be placed, everything this run did is undone and the error names each asset. If the
//     release was published immutable mid-run, nothing can be undone: the error says which files made it.
func Publish(ctx context.Context, svc Service, rel *github.Release, files []File, opts PublishOptions) ([]Result, error) {
	if rel.Immutable && !rel.Draft {
		return nil, fmt.Errorf("release %s: %w", rel.TagName, github.ErrImmutableRelease)
	}
	p := newPublisher(svc, rel, opts)
	if _, err := p.recover(ctx); err != nil {
		return nil, err
	}
	plan, err := p.plan(ctx, files)
	if err != nil {
		return nil, err
	}
	if len(plan.uploads)+len(plan.replaces) == 0 {
		return p.results(plan), nil
	}
	if err := p.run(ctx, plan); err != nil {
		return nil, p.rollback(ctx, plan, err)
	}
	p.cleanup(ctx, plan)
	return p.results(plan), nil
}

// publisher is one Publish call's state: what it found, and everything it changed, for the rollback.
type publisher struct {
	svc    Service
	rel    *github.Release
	opts   PublishOptions
	clock  retry.Clock
	budget time.Duration
	id     string
	// Changes this run made, for the rollback.
	journal  *github.Asset
	uploaded map[string]github.Asset // stored name -> the asset this run placed under it
	stray    map[string]github.Asset // stored name -> an asset GitHub may have kept from a failed upload
	temps    map[string]github.Asset // stored name -> the new asset under its temporary name
	aside    map[string]github.Asset // stored name -> the old asset, renamed to its backup name
	placed   map[string]github.Asset // stored name -> the new asset, renamed into place
	adopted  map[string]github.Asset // stored name -> an asset found after already_exists with this run's bytes
	removed  []string                // leftovers (starter assets) deleted on the way
	// claimed names files another run, still uploading, has in its journal: stored name -> that run.
	claimed map[string]string
}

func newPublisher(svc Service, rel *github.Release, opts PublishOptions) *publisher {
	clock, budget := clockOf(opts.Policy)
	if opts.Pacer == nil {
		opts.Pacer = NewPacer(opts.Policy)
	}
	return &publisher{svc: paced{Service: svc, pace: opts.Pacer}, rel: rel, opts: opts, clock: clock, budget: budget, id: newRunID(),
		uploaded: map[string]github.Asset{}, stray: map[string]github.Asset{}, temps: map[string]github.Asset{}, aside: map[string]github.Asset{},
		placed: map[string]github.Asset{}, adopted: map[string]github.Asset{}, claimed: map[string]string{}}
}

// planned is one file's place on the release.
type planned struct {
	file   File
	stored string
	// size and sha256 are the file's, read once when planning (checked against what was signed, compared with
	// an asset already there, written into the journal).
	size   int64
	sha256 []byte
	old    github.Asset // the asset already there (kept or replaced)
	kept   bool
}

type plan struct {
	all      []*planned
	uploads  []*planned
	replaces []*planned
	starters []github.Asset // leftovers blocking names of this run
}

// plan decides each file's fate from one listing, and refuses a conflict before anything is changed.
func (p *publisher) plan(ctx context.Context, files []File) (*plan, error) {
	assets, err := p.svc.ListAssets(ctx, p.rel.ID)
	if err != nil {
		return nil, err
	}
	out := &plan{}
	var conflicts, busy []string
	for _, f := range files {
		size, sum, err := fileSHA256(f.Path)
		if err != nil {
			return nil, err
		}
		if err := stillSigned(f, sum); err != nil {
			return nil, err
		}
		e := &planned{file: f, stored: github.StoredName(f.Name), size: size, sha256: sum}
		out.all = append(out.all, e)
		if run, ok := p.claimed[e.stored]; ok {
			busy = append(busy, e.stored+" ("+run+")")
			continue
		}
		old, found := complete(assets, e.stored)
		for _, a := range assets {
			if a.Name != e.stored || a.Complete() {
				continue
			}
			if p.clock.Now().Sub(a.Created) < inFlight {
				// Possibly another upload still in progress: taking its name would break it.
				busy = append(busy, e.stored+" (an upload that began at "+a.Created.UTC().Format(time.RFC3339)+" and has not finished)")
				continue
			}
			out.starters = append(out.starters, a)
		}
		if !found {
			out.uploads = append(out.uploads, e)
			continue
		}
		e.old = old
		same, err := sameContent(ctx, p.svc, old, size, sum)
		switch {
		case err != nil:
			return nil, err
		case same:
			e.kept = true
		case p.opts.Overwrite:
			out.replaces = append(out.replaces, e)
		default:
			conflicts = append(conflicts, e.stored)
		}
	}
	if len(busy) > 0 {
		return nil, fmt.Errorf("%w: %s; nothing on the release was changed: wait for it to finish, then re-run (a run that was killed is "+
			"undone by the next run of the same workflow run, or after %s)", ErrBusy, strings.Join(busy, ", "), StaleJournal)
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("asset(s) %s: %w; nothing on the release was changed", strings.Join(conflicts, ", "), ErrAssetConflict)
	}
	return out, nil
}

// stillSigned refuses a file whose bytes (their sha256, sum) are no longer the ones signed.
func stillSigned(f File, sum []byte) error {
	if f.SHA256 == "" {
		return nil
	}
	if got := hex.EncodeToString(sum); got != f.SHA256 {
		return fmt.Errorf("%s changed after it was signed (sha256 %s, signed %s); nothing on the release was changed: sign the final file, and change nothing between signing and uploading", f.Path, got, f.SHA256)
	}
	return nil
}

// complete returns the asset stored as name whose upload finished. A listing never has two assets of one name.
func complete(assets []github.Asset, name string) (github.Asset, bool) {
	for _, a := range assets {
		if a.Name == name && a.Complete() {
			return a, true
		}
	}
	return github.Asset{}, false
}

// run makes the planned changes: journal, leftovers, new files, replacements, then the commit.
func (p *publisher) run(ctx context.Context, pl *plan) error {
	if err := p.writeJournal(ctx, pl); err != nil {
		return err
	}
	for _, a := range pl.starters {
		if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
			return fmt.Errorf("deleting %q, left in state %q by an upload that never finished: %w", a.Name, a.State, err)
		}
		p.removed = append(p.removed, a.Name)
	}
	for _, e := range pl.uploads {
		a, err := p.upload(ctx, e.stored, e.file.Path, true)
		if err != nil {
			return err
		}
		p.uploaded[e.stored] = a
	}
	for _, e := range pl.replaces {
		a, err := p.upload(ctx, tempName(e.stored, p.id), e.file.Path, false)
		if err != nil {
			return fmt.Errorf("uploading the new %s: %w", e.stored, err)
		}
		p.temps[e.stored] = a
	}
	for _, e := range pl.replaces {
		if err := p.swap(ctx, e); err != nil {
			return err
		}
	}
	// The commit: from here on, this run's assets are a finished run's.
	if err := p.svc.DeleteAsset(ctx, p.journal.ID); err != nil {
		return fmt.Errorf("deleting the journal %s (the last step): %w", p.journal.Name, err)
	}
	p.journal = nil
	return nil
}

// swap puts a replacement in place: the old asset aside, the new one under its name.
func (p *publisher) swap(ctx context.Context, e *planned) error {
	old, err := p.svc.RenameAsset(ctx, e.old.ID, backupName(e.stored, p.id))
	if err != nil {
		return fmt.Errorf("renaming the earlier %s aside: %w", e.stored, err)
	}
	p.aside[e.stored] = *old
	a, err := p.svc.RenameAsset(ctx, p.temps[e.stored].ID, e.stored)
	if err != nil {
		return fmt.Errorf("renaming the new %s into place: %w", e.stored, err)
	}
	delete(p.temps, e.stored)
	p.placed[e.stored] = *a
	return nil
}

// cleanup deletes the earlier versions a committed run replaced. One it cannot delete stays as NAME.waxseal-old-ID,
// which the next run's Recover deletes.
func (p *publisher) cleanup(ctx context.Context, pl *plan) {
	for _, e := range pl.replaces {
		if a, ok := p.aside[e.stored]; ok && p.svc.DeleteAsset(ctx, a.ID) == nil {
			delete(p.aside, e.stored)
		}
	}
}

func (p *publisher) results(pl *plan) []Result {
	var out []Result
	for _, e := range pl.all {
		r := Result{Name: e.file.Name, Outcome: Uploaded}
		switch {
		case e.kept:
			r.Outcome, r.Asset = Kept, e.old
		case p.placed[e.stored].ID != 0:
			r.Outcome, r.Asset = Replaced, p.placed[e.stored]
		default:
			r.Asset = p.uploaded[e.stored]
		}
		if u := downloadURL(p.rel, r.Asset.Name); u != "" {
			r.Asset.DownloadURL = u
		}
		out = append(out, r)
	}
	return out
}

// upload uploads path as name and returns the asset GitHub holds. GitHub's already_exists is looked into: an
// asset of that name listed (perhaps only after a while) in another state than "uploaded" is a leftover, deleted
// before trying again; one with the same bytes is this run's own upload whose answer was lost; one with
// different bytes may belong to an interrupted run whose journal was not listed yet (so Recover runs again), or
// else is a conflict. When an upload fails in a way that may have stored it, the asset is looked for, so the
// rollback takes it back.
func (p *publisher) upload(ctx context.Context, name, path string, recoverable bool) (github.Asset, error) {
	for range 3 {
		a, err := p.svc.UploadAsset(ctx, p.rel, name, path)
		if err == nil {
			return *a, nil
		}
		if !errors.Is(err, github.ErrAssetExists) {
			p.lookForStray(ctx, name, err)
			return github.Asset{}, err
		}
		found, err := p.awaitListed(ctx, name, p.budget)
		if err != nil {
			return github.Asset{}, err
		}
		switch same, serr := sameAsFile(ctx, p.svc, found, path); {
		case !found.Complete():
			if err := p.svc.DeleteAsset(ctx, found.ID); err != nil {
				return github.Asset{}, fmt.Errorf("deleting %q, left in state %q by an upload that never finished: %w", name, found.State, err)
			}
			p.removed = append(p.removed, name)
		case serr != nil:
			return github.Asset{}, serr
		case same:
			// Most likely this run's own upload whose answer was lost, but it cannot be told from another job's
			// upload of the same bytes: it is kept as found, never deleted by this run's rollback (the journal
			// stays, so a re-run of this workflow run removes it if it was this run's).
			p.adopted[name] = found
			return found, nil
		case recoverable:
			cleaned, err := p.recover(ctx)
			if err != nil {
				return github.Asset{}, err
			}
			if !cleaned[name] {
				return github.Asset{}, fmt.Errorf("asset %q: %w (it appeared while this run was uploading)", name, ErrAssetConflict)
			}
		default:
			return github.Asset{}, fmt.Errorf("asset %q: %w (it appeared while this run was uploading)", name, ErrAssetConflict)
		}
	}
	return github.Asset{}, fmt.Errorf("uploading %q: GitHub kept answering that it exists", name)
}

// lookForStray records an asset a failed upload may have left (a transient failure: GitHub may have stored the
// file, or an empty "starter" asset, before failing).
func (p *publisher) lookForStray(ctx context.Context, name string, cause error) {
	var re *retry.Error
	if ctx.Err() != nil || !errors.As(cause, &re) || !re.Transient {
		return
	}
	if a, err := p.awaitListed(ctx, name, unlistedWait); err == nil {
		p.stray[name] = a
	}
}

// awaitListed waits, with backoff up to limit, for the listing to show an asset stored as name.
func (p *publisher) awaitListed(ctx context.Context, name string, limit time.Duration) (github.Asset, error) {
	var found github.Asset
	err := poll(ctx, p.clock, limit, func() (bool, error) {
		assets, err := p.svc.ListAssets(ctx, p.rel.ID)
		for _, a := range assets {
			if a.Name == name {
				found = a
				return true, nil
			}
		}
		return false, err
	})
	if err == nil && found.ID == 0 {
		err = fmt.Errorf("GitHub says an asset %q exists but did not list it within %s: re-run later", name, limit)
	}
	return found, err
}

// sameAsFile compares an asset with the local file at path (sameContent, after hashing the file).
func sameAsFile(ctx context.Context, svc Service, a github.Asset, path string) (bool, error) {
	size, local, err := fileSHA256(path)
	if err != nil {
		return false, err
	}
	return sameContent(ctx, svc, a, size, local)
}

// sameContent compares an asset with a local file of the given size and sha256 without holding the asset in
// memory: by size, then by GitHub's digest when it reports one, else by hashing the download (read up to size+1
// bytes).
func sameContent(ctx context.Context, svc Service, a github.Asset, size int64, local []byte) (bool, error) {
	if a.Size != size {
		return false, nil
	}
	remote, n, err := assetSHA256(ctx, svc, a, size+1)
	if err != nil {
		return false, err
	}
	return n == size && remote == hex.EncodeToString(local), nil
}

// assetSHA256 returns asset a's sha256 in hex: GitHub's digest when it reports one, else the hash of its download,
// read up to limit bytes. n is the asset's size: its reported one, or how many bytes were read.
func assetSHA256(ctx context.Context, svc Service, a github.Asset, limit int64) (hexDigest string, n int64, err error) {
	if d, ok := strings.CutPrefix(a.Digest, "sha256:"); ok {
		return d, a.Size, nil
	}
	rc, err := svc.OpenAsset(ctx, a.ID)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = rc.Close() }() // read-only
	h := sha256.New()
	if n, err = io.Copy(h, io.LimitReader(rc, limit)); err != nil {
		return "", 0, fmt.Errorf("downloading asset %q: %w", a.Name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func fileSHA256(path string) (int64, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, fmt.Errorf("reading %q: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, nil, fmt.Errorf("reading %q: %w", path, err)
	}
	return n, h.Sum(nil), nil
}
