package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/printable"
)

// A run's journal is an asset named waxseal-run-ID.json, uploaded before the run changes anything and deleted
// as its last step (the commit). It names what the run adds and replaces, so that the next run can undo a run
// that was killed, and tell the leftovers of an interrupted run from the assets of a finished one. The names are
// made of characters GitHub keeps as they are (see StoredName).
//
// Anyone who may upload to the release (`contents: write`) can also upload a journal, so a journal is read as a
// claim to check, never as an order (see check and undoRun): it must be in waxseal's own forms, name a digest for
// every file, and an undo deletes only assets GitHub created after the journal that still hold those digests, and
// puts an earlier version back only where the name holds that run's new bytes or nothing. Its age is GitHub's, never
// its own clock's.
type journal struct {
	Kind  string  `json:"waxseal"`
	Run   string  `json:"run"`
	Owner RunInfo `json:"workflowRun"`
	// Started is the writer's clock, for people reading the asset; waxseal never judges a journal by it.
	Started time.Time `json:"started"`
	Release string    `json:"release"`
	Uploads []string  `json:"uploads"`
	// Digests are the sha256 of each upload's bytes: an undo deletes an asset of that name only if it holds them,
	// never another run's file that took the name since.
	Digests  map[string]string `json:"digests"`
	Replaces []journalEntry    `json:"replaces"`

	// created is when GitHub created the journal's asset (its created_at).
	created time.Time
}

// over reports whether the run that wrote j has certainly ended, seen from run at now: an earlier attempt of the
// same workflow run (GitHub starts a re-run only once every job of the earlier attempt has ended), whose journal
// was therefore on the release no later than this run's own (mine, zero while this run has none; GitHub's times
// are to the second); or a journal GitHub has held for longer than StaleJournal.
func (j *journal) over(run RunInfo, now, mine time.Time) bool {
	if j.Owner.ID != "" && j.Owner.ID == run.ID && j.Owner.Attempt < run.Attempt && (mine.IsZero() || !j.created.After(mine)) {
		return true
	}
	return now.Sub(j.created) > StaleJournal
}

func (j *journal) describe() string {
	who := "run " + j.Run
	if j.Owner.ID != "" {
		who = fmt.Sprintf("workflow run %s, attempt %d, job %s", j.Owner.ID, j.Owner.Attempt, printable.Line(j.Owner.Job))
	}
	return fmt.Sprintf("%s, uploading since %s", who, j.created.UTC().Format(time.RFC3339))
}

type journalEntry struct {
	Name   string `json:"name"`
	Temp   string `json:"temp"`
	Backup string `json:"backup"`
	// Digest is the sha256 of the new version's bytes.
	Digest string `json:"digest"`
}

// ErrBadJournal means an asset named as a waxseal journal is not one waxseal wrote (no digest for a file, a name
// waxseal never gives, another run's temporary names): nothing is done on its word, and the run stops.
var ErrBadJournal = errors.New("is not a journal waxseal wrote, so waxseal does not act on it")

// maxJournal bounds what is read of a journal.
const maxJournal = 1 << 20

// parseJournal reads the journal of run id (the ID in its asset's name) and checks it is in waxseal's own forms.
func parseJournal(r io.Reader, id string) (*journal, error) {
	var j journal
	if err := json.NewDecoder(io.LimitReader(r, maxJournal)).Decode(&j); err != nil {
		return nil, fmt.Errorf("it is not a JSON journal: %w", err)
	}
	if err := j.check(id); err != nil {
		return nil, err
	}
	return &j, nil
}

// check holds j to the forms writeJournal gives it.
func (j *journal) check(id string) error {
	switch {
	case j.Kind != journalKind:
		return errors.New("it does not say it is a publish journal")
	case j.Run != id:
		return fmt.Errorf("it names run %s, not run %s of its asset name", printable.Quote(printable.Abbrev(j.Run, 40)), id)
	case !runID.MatchString(j.Owner.ID) || j.Owner.Attempt < 0 || len(j.Owner.Job) > 100:
		return errors.New("its workflow run is not a GitHub workflow run's ID, attempt and job")
	}
	for _, n := range j.Uploads {
		if err := ownName(n); err != nil {
			return err
		}
		if !digest.MatchString(j.Digests[n]) {
			return fmt.Errorf("it gives no sha256 for %s", printable.Quote(n))
		}
	}
	for _, r := range j.Replaces {
		if err := ownName(r.Name); err != nil {
			return err
		}
		if r.Temp != tempName(r.Name, id) || r.Backup != backupName(r.Name, id) {
			return fmt.Errorf("its temporary and backup names for %s are not the ones run %s gives", printable.Quote(r.Name), id)
		}
		if !digest.MatchString(r.Digest) {
			return fmt.Errorf("it gives no sha256 for the new %s", printable.Quote(r.Name))
		}
	}
	return nil
}

// ownName accepts the names waxseal gives the files it publishes: names as GitHub stores them, and not its own
// journal, temporary or backup names.
func ownName(n string) error {
	if n == "" || len(n) > 255 || github.StoredName(n) != n || journalName.MatchString(n) || runName.MatchString(n) {
		return fmt.Errorf("it names %s, which is not a name waxseal gives a file", printable.Quote(printable.Abbrev(n, 100)))
	}
	return nil
}

const journalKind = "publish journal"

var (
	journalName = regexp.MustCompile(`^waxseal-run-([0-9a-f]{16})\.json$`)
	// runName matches the temporary (new) and backup (old) names of a replacement.
	runName = regexp.MustCompile(`\.waxseal-(new|old)-([0-9a-f]{16})$`)
	digest  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// runID is GITHUB_RUN_ID, or nothing outside Actions.
	runID = regexp.MustCompile(`^[0-9]{0,20}$`)
)

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}

func journalFile(id string) string        { return "waxseal-run-" + id + ".json" }
func tempName(stored, id string) string   { return stored + ".waxseal-new-" + id }
func backupName(stored, id string) string { return stored + ".waxseal-old-" + id }

// writeJournal uploads the run's journal; nothing else is changed before it is on the release.
func (p *publisher) writeJournal(ctx context.Context, pl *plan) error {
	j := journal{Kind: journalKind, Run: p.id, Owner: p.opts.Run, Started: p.clock.Now().UTC(), Release: p.rel.TagName,
		Uploads: []string{}, Digests: map[string]string{}, Replaces: []journalEntry{}}
	for _, e := range pl.uploads {
		j.Uploads = append(j.Uploads, e.stored)
		j.Digests[e.stored] = hex.EncodeToString(e.sha256)
	}
	for _, e := range pl.replaces {
		j.Replaces = append(j.Replaces, journalEntry{Name: e.stored, Temp: tempName(e.stored, p.id), Backup: backupName(e.stored, p.id),
			Digest: hex.EncodeToString(e.sha256)})
	}
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encoding the journal: %w", err)
	}
	dir, err := os.MkdirTemp("", "waxseal-journal-")
	if err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory of our own
	path := filepath.Join(dir, journalFile(p.id))
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	a, err := p.upload(ctx, journalFile(p.id), path, false)
	if err != nil {
		return fmt.Errorf("uploading the journal %s (before any file): %w", journalFile(p.id), err)
	}
	p.journal = &a
	return nil
}

// Recover undoes the runs of Publish on rel that were interrupted (killed before their last step), exactly:
// what they added is deleted, what they replaced is put back. Their journals say what that is. It also deletes
// the backups a finished run could not delete. It returns the names it deleted or restored. Publish calls it
// first; the Action calls it before signing, so an interrupted run's bundles do not count as a finished run's.
func Recover(ctx context.Context, svc Service, rel *github.Release, opts PublishOptions) ([]string, error) {
	cleaned, err := newPublisher(svc, rel, opts).recover(ctx)
	var out []string
	for n := range cleaned {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, err
}

func (p *publisher) recover(ctx context.Context) (map[string]bool, error) {
	assets, err := p.svc.ListAssets(ctx, p.rel.ID)
	if err != nil {
		return nil, err
	}
	journals, err := p.readJournals(ctx, assets)
	if err != nil {
		return nil, err
	}
	var mine time.Time
	if p.journal != nil {
		mine = p.journal.Created
	}
	cleaned := map[string]bool{}
	restored := map[int64]bool{} // earlier versions put back under their names: not leftovers
	live := map[string]bool{}    // runs with a journal that may still be uploading
	for _, f := range journals {
		a, jr, id := f.asset, f.journal, f.run
		if jr == nil { // the journal's own upload has not finished
			if p.clock.Now().Sub(a.Created) < inFlight {
				live[id] = true // that run may be starting: it has changed nothing yet
				continue
			}
			if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
				return nil, fmt.Errorf("deleting %s, an unfinished journal upload: %w", a.Name, err)
			}
			continue
		}
		if !jr.over(p.opts.Run, p.clock.Now(), mine) {
			// Another run, which may still be uploading: leave it alone, and keep off the names it is placing.
			live[id] = true
			for _, n := range jr.Uploads {
				p.claimed[n] = jr.describe()
			}
			for _, r := range jr.Replaces {
				p.claimed[r.Name] = jr.describe()
			}
			continue
		}
		if err := p.undoRun(ctx, a, jr, assets, cleaned, restored); err != nil {
			return nil, fmt.Errorf("undoing the interrupted waxseal run %s on release %s: %w", id, p.rel.TagName, err)
		}
	}
	for _, a := range assets {
		m := runName.FindStringSubmatch(a.Name)
		if m == nil || m[2] == p.id || live[m[2]] || restored[a.ID] {
			continue
		}
		// No journal: the run finished, so this is the earlier version it replaced (or a temporary name of a run
		// that never got to rename it, which cannot happen without a journal). Either way, not a file.
		if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("deleting %s, left by an earlier waxseal run: %w", a.Name, err)
		}
		cleaned[a.Name] = true
	}
	return cleaned, nil
}

// journalAsset is another run's journal on the release; journal is nil while its upload has not finished.
type journalAsset struct {
	asset   github.Asset
	run     string
	journal *journal
}

// readJournals reads every other run's journal on the release, before anything is changed: one that is not in
// waxseal's forms stops the run.
func (p *publisher) readJournals(ctx context.Context, assets []github.Asset) ([]journalAsset, error) {
	var out []journalAsset
	for _, a := range assets {
		m := journalName.FindStringSubmatch(a.Name)
		if m == nil || m[1] == p.id {
			continue
		}
		jr, err := p.readJournal(ctx, a, m[1])
		if err != nil {
			return nil, err
		}
		out = append(out, journalAsset{asset: a, run: m[1], journal: jr})
	}
	return out, nil
}

// readJournal reads the journal asset a of run id; nil when its upload never finished (it holds nothing yet).
func (p *publisher) readJournal(ctx context.Context, a github.Asset, id string) (*journal, error) {
	if !a.Complete() {
		return nil, nil
	}
	rc, err := p.svc.OpenAsset(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	jr, err := parseJournal(rc, id)
	_ = rc.Close() // read-only
	if err == nil && a.Created.IsZero() {
		err = errors.New("GitHub did not say when it was uploaded")
	}
	if err != nil {
		return nil, fmt.Errorf("%s on release %s %w (%v): check the release's assets by hand (an interrupted run may have left "+
			"files there), then delete %s and re-run", a.Name, p.rel.TagName, ErrBadJournal, err, a.Name)
	}
	jr.created = a.Created
	return jr, nil
}

// undoRun undoes the run whose journal jr is (the asset j). What it deletes is that run's by GitHub's record, not
// only by the journal's word: an upload is deleted only if GitHub created it after the journal and it holds the
// journal's digest, and an earlier version is put back only if the name holds that run's new bytes (or nothing).
// Anything else is another run's and stays. (The backup itself is not judged by its created_at: whether GitHub keeps
// it through a rename is not documented, and a wrong guess would lose the earlier version to the sweep of leftover
// names; a backup name holding other bytes can only come from someone who could upload them under the name itself.)
func (p *publisher) undoRun(ctx context.Context, j github.Asset, jr *journal, assets []github.Asset, cleaned map[string]bool, restored map[int64]bool) error {
	named := func(name string) []github.Asset {
		var out []github.Asset
		for _, a := range assets {
			if a.Name == name {
				out = append(out, a)
			}
		}
		return out
	}
	// ours: uploaded by that run (a rename keeps created_at), with the bytes it uploaded.
	ours := func(a github.Asset, digest string) bool {
		return !a.Created.Before(jr.created) && p.holds(ctx, a, digest)
	}
	del := func(a github.Asset) error {
		if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
			return fmt.Errorf("deleting %s: %w", a.Name, err)
		}
		cleaned[a.Name] = true
		return nil
	}
	for _, n := range jr.Uploads {
		for _, a := range named(n) {
			if ours(a, jr.Digests[n]) {
				if err := del(a); err != nil {
					return err
				}
			}
		}
	}
	for _, r := range jr.Replaces {
		for _, a := range named(r.Temp) { // a name of that run's own, never another's file
			if err := del(a); err != nil {
				return err
			}
		}
		backup, current := named(r.Backup), named(r.Name)
		if len(backup) == 0 {
			continue // nothing was moved aside: the earlier version is still in place
		}
		if len(current) > 0 && !ours(current[0], r.Digest) {
			continue // another run placed its own file since: it stays, and the backup is a finished run's leftover
		}
		for _, a := range current { // the new version, already renamed into place
			if err := del(a); err != nil {
				return err
			}
		}
		if _, err := p.svc.RenameAsset(ctx, backup[0].ID, r.Name); err != nil {
			return fmt.Errorf("restoring the earlier %s: %w", r.Name, err)
		}
		restored[backup[0].ID] = true
		cleaned[r.Name] = true
	}
	return p.svc.DeleteAsset(ctx, j.ID)
}

// holds reports whether asset a's content has the sha256 want (GitHub's digest when it reports one, else the
// download's). A starter asset holds nothing of value: true. One that cannot be read is kept: false.
func (p *publisher) holds(ctx context.Context, a github.Asset, want string) bool {
	if !a.Complete() {
		return true
	}
	got, _, err := assetSHA256(ctx, p.svc, a, 1<<30)
	return err == nil && got == want
}
