package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waxseal/waxseal/internal/github"
)

// rollback undoes everything this run changed, newest first (with a context of its own: the run's may be what
// failed, and the rollback is throttled like any other writes), and says what it did. When the release was
// published immutable mid-run nothing can be undone, and the error says exactly which files made it.
func (p *publisher) rollback(ctx context.Context, pl *plan, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.budget+2*time.Minute)
	defer cancel()
	u := &undo{}
	for _, e := range slices.Backward(pl.replaces) {
		if a, ok := p.placed[e.stored]; ok {
			u.do(p.svc.DeleteAsset(ctx, a.ID), "", "the new "+e.stored)
		}
		if a, ok := p.aside[e.stored]; ok {
			_, err := p.svc.RenameAsset(ctx, a.ID, e.stored)
			u.do(err, "restored the earlier "+e.stored, "the earlier "+e.stored+" (now named "+a.Name+")")
		}
		if a, ok := p.temps[e.stored]; ok {
			u.do(p.svc.DeleteAsset(ctx, a.ID), "", a.Name)
		}
	}
	var left []string
	for _, e := range slices.Backward(pl.uploads) {
		if a, ok := p.adopted[e.stored]; ok && p.uploaded[e.stored].ID == a.ID {
			// Found, not created: it may be another job's (only asset IDs this run created are deleted).
			left = append(left, e.stored)
			continue
		}
		if a, ok := p.uploaded[e.stored]; ok {
			u.do(p.svc.DeleteAsset(ctx, a.ID), "deleted "+e.stored, e.stored)
		}
		if a, ok := p.stray[e.stored]; ok {
			u.do(p.svc.DeleteAsset(ctx, a.ID), "deleted "+e.stored+" (GitHub had stored it although its upload failed)", e.stored)
		}
	}
	if len(left) > 0 {
		u.failed = append(u.failed, fmt.Errorf("%s: %w", strings.Join(left, ", "), errAdopted))
	}
	if p.journal != nil && len(u.failed) == 0 {
		u.do(p.svc.DeleteAsset(ctx, p.journal.ID), "", p.journal.Name)
	}
	if u.frozen {
		return p.frozenError(pl, cause)
	}
	return u.err(cause, p)
}

// errAdopted explains an asset the rollback leaves: GitHub said it existed and it has this run's bytes, so it is
// most likely this run's own upload whose answer was lost, but it may be another job's.
var errAdopted = errors.New("found on the release with this run's bytes after GitHub reported it existed; left in place, since it may be another job's upload")

// undo collects what the rollback did and could not do.
type undo struct {
	done   []string
	failed []error
	frozen bool
}

func (u *undo) do(err error, did, what string) {
	switch {
	case u.frozen:
		u.failed = append(u.failed, fmt.Errorf("%s: %w", what, github.ErrImmutableRelease))
	case errors.Is(err, github.ErrImmutableRelease):
		u.frozen = true
		u.failed = append(u.failed, fmt.Errorf("%s: %w", what, err))
	case err != nil:
		u.failed = append(u.failed, fmt.Errorf("%s: %w", what, err))
	case did != "":
		u.done = append(u.done, did)
	}
}

func (u *undo) err(cause error, p *publisher) error {
	msg := "nothing on the release was changed"
	if len(u.done) > 0 {
		msg = "undid this run: " + strings.Join(u.done, "; ")
	}
	if len(u.failed) == 0 {
		if len(u.done) > 0 {
			msg += "; the release is as it was before the run"
		}
		return fmt.Errorf("%w; %s", cause, msg)
	}
	next := "delete them by hand on the release page"
	if p.journal != nil {
		next = fmt.Sprintf("the journal %s stays on the release, so the next waxseal run on it finishes the undoing; or %s", p.journal.Name, next)
	}
	return fmt.Errorf("%w; %s; could not undo: %w (%s)", cause, msg, errors.Join(u.failed...), next)
}

// frozenError says what a release published immutable mid-run holds, and what can still be done.
func (p *publisher) frozenError(pl *plan, cause error) error {
	var has, lacks []string
	for _, e := range pl.all {
		_, up := p.uploaded[e.stored]
		_, placed := p.placed[e.stored]
		_, stray := p.stray[e.stored]
		switch {
		case e.kept:
			has = append(has, e.stored+" (already there)")
		case up, placed:
			has = append(has, e.stored+" (from this run)")
		case stray:
			has = append(has, e.stored+" (stored by GitHub although its upload failed; it may be incomplete)")
		default:
			lacks = append(lacks, e.stored)
		}
	}
	if p.journal != nil {
		has = append(has, p.journal.Name+" (waxseal's journal of this run)")
	}
	return fmt.Errorf("%w; release %s was published while waxseal was uploading, and it is immutable: GitHub now refuses to add, rename or delete its assets, so it stays as it is. It has: %s. It lacks: %s. "+
		"What you can still do: the files it lacks are in the workspace (the `results` output lists them) for `npm publish --provenance-file` and for verifiers; "+
		"to have them all on a release, delete this release and release under a new tag (GitHub does not let the tag of a deleted immutable release be used again). "+
		"Publish the release only after waxseal has finished",
		cause, p.rel.TagName, listOrNone(has), listOrNone(lacks))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
