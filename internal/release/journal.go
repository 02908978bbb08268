package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/waxseal/waxseal/internal/github"
)

// A run's journal is an asset named waxseal-run-ID.json, uploaded before the run changes anything and deleted
// as its last step (the commit). It names what the run adds and replaces, so that the next run can undo a run
// that was killed, and tell the leftovers of an interrupted run from the assets of a finished one. The names are
// made of characters GitHub keeps as they are (see StoredName).
type journal struct {
	Kind    string    `json:"waxseal"`
	Run     string    `json:"run"`
	Owner   RunInfo   `json:"workflowRun"`
	Started time.Time `json:"started"`
	Release string    `json:"release"`
	Uploads []string  `json:"uploads"`
	// Digests are the sha256 of each upload's bytes: an undo deletes an asset of that name only if it holds them,
	// never another run's file that took the name since.
	Digests  map[string]string `json:"digests"`
	Replaces []journalEntry    `json:"replaces"`
}

// over reports whether the run that wrote j has certainly ended, seen from run (at now): an earlier attempt of the
// same workflow run (GitHub starts a re-run only once every job of the earlier attempt has ended), or a journal
// older than StaleJournal.
func (j *journal) over(run RunInfo, now time.Time) bool {
	if j.Owner.ID != "" && j.Owner.ID == run.ID && j.Owner.Attempt < run.Attempt {
		return true
	}
	return j.Started.IsZero() || now.Sub(j.Started) > StaleJournal // no start time: not a journal a live run writes
}

func (j *journal) describe() string {
	who := "run " + j.Run
	if j.Owner.ID != "" {
		who = fmt.Sprintf("workflow run %s, attempt %d, job %s", j.Owner.ID, j.Owner.Attempt, j.Owner.Job)
	}
	return fmt.Sprintf("%s, uploading since %s", who, j.Started.UTC().Format(time.RFC3339))
}

type journalEntry struct {
	Name   string `json:"name"`
	Temp   string `json:"temp"`
	Backup string `json:"backup"`
}

const journalKind = "publish journal"

var (
	journalName = regexp.MustCompile(`^waxseal-run-([0-9a-f]{16})\.json$`)
	// runName matches the temporary (new) and backup (old) names of a replacement.
	runName = regexp.MustCompile(`\.waxseal-(new|old)-([0-9a-f]{16})$`)
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
		_, sum, err := fileSHA256(e.file.Path)
		if err != nil {
			return err
		}
		j.Digests[e.stored] = hex.EncodeToString(sum)
	}
	for _, e := range pl.replaces {
		j.Replaces = append(j.Replaces, journalEntry{Name: e.stored, Temp: tempName(e.stored, p.id), Backup: backupName(e.stored, p.id)})
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
	cleaned := map[string]bool{}
	live := map[string]bool{} // runs with a journal that may still be uploading
	for _, a := range assets {
		m := journalName.FindStringSubmatch(a.Name)
		if m == nil || m[1] == p.id {
			continue
		}
		jr, err := p.readJournal(ctx, a)
		if err != nil {
			return nil, err
		}
		if jr == nil { // the journal's own upload has not finished
			if p.clock.Now().Sub(a.Created) < inFlight {
				live[m[1]] = true // that run may be starting: it has changed nothing yet
				continue
			}
			if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
				return nil, fmt.Errorf("deleting %s, an unfinished journal upload: %w", a.Name, err)
			}
			continue
		}
		if !jr.over(p.opts.Run, p.clock.Now()) {
			// Another run, which may still be uploading: leave it alone, and keep off the names it is placing.
			live[m[1]] = true
			for _, n := range jr.Uploads {
				p.claimed[n] = jr.describe()
			}
			for _, r := range jr.Replaces {
				p.claimed[r.Name] = jr.describe()
			}
			continue
		}
		if err := p.undoRun(ctx, a, jr, assets, cleaned); err != nil {
			return nil, fmt.Errorf("undoing the interrupted waxseal run %s on release %s: %w", m[1], p.rel.TagName, err)
		}
	}
	for _, a := range assets {
		m := runName.FindStringSubmatch(a.Name)
		if m == nil || m[2] == p.id || live[m[2]] {
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

// readJournal reads a journal asset; nil when its upload never finished (it holds nothing yet).
func (p *publisher) readJournal(ctx context.Context, j github.Asset) (*journal, error) {
	if j.State != stateUploaded && j.State != "" {
		return nil, nil
	}
	rc, err := p.svc.OpenAsset(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	var jr journal
	err = json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&jr)
	_ = rc.Close() // read-only
	if err != nil || jr.Kind != journalKind {
		return nil, fmt.Errorf("%s is not a waxseal journal (%v): delete it, and check the release by hand", j.Name, err)
	}
	return &jr, nil
}

// undoRun undoes the run whose journal jr is (the asset j).
func (p *publisher) undoRun(ctx context.Context, j github.Asset, jr *journal, assets []github.Asset, cleaned map[string]bool) error {
	byName := func(name string) []github.Asset {
		var out []github.Asset
		for _, a := range assets {
			if a.Name == name {
				out = append(out, a)
			}
		}
		return out
	}
	del := func(name string) error {
		for _, a := range byName(name) {
			if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
				return fmt.Errorf("deleting %s: %w", name, err)
			}
			cleaned[name] = true
		}
		return nil
	}
	for _, n := range jr.Uploads {
		for _, a := range byName(n) {
			// Only the bytes that run uploaded: another run may have taken the name since.
			if want, ok := jr.Digests[n]; ok && !p.holds(ctx, a, want) {
				continue
			}
			if err := p.svc.DeleteAsset(ctx, a.ID); err != nil {
				return fmt.Errorf("deleting %s: %w", n, err)
			}
			cleaned[n] = true
		}
	}
	for _, r := range jr.Replaces {
		if err := del(r.Temp); err != nil {
			return err
		}
		backup := byName(r.Backup)
		if len(backup) == 0 {
			continue // the earlier version was never moved aside: it is still in place
		}
		if err := del(r.Name); err != nil { // the new version, already renamed into place
			return err
		}
		if _, err := p.svc.RenameAsset(ctx, backup[0].ID, r.Name); err != nil {
			return fmt.Errorf("restoring the earlier %s: %w", r.Name, err)
		}
		cleaned[r.Name] = true
	}
	return p.svc.DeleteAsset(ctx, j.ID)
}

// holds reports whether asset a's content has the sha256 want (GitHub's digest when it reports one, else the
// download's). A starter asset holds nothing of value: true. One that cannot be read is kept: false.
func (p *publisher) holds(ctx context.Context, a github.Asset, want string) bool {
	if a.State != stateUploaded && a.State != "" {
		return true
	}
	got, _, err := assetSHA256(ctx, p.svc, a, 1<<30)
	return err == nil && got == want
}
