package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The assets of a finished release, uploaded an hour before the hand-made journals below.
var finished = map[string]string{"app-linux-amd64.tar.gz": "the app", "SHA256SUMS": "sums", "notes.txt": "the notes"}

const forgedRun = "0123456789abcdef"

// TestForgedJournalsTouchNothing: a journal asset anyone with `contents: write` can upload must not make the check
// that runs before signing (Recover) delete or overwrite the assets of a finished release. The first case is the
// one from the security review: no digests, a zero start time, and temporary and backup names of its own choosing.
func TestForgedJournalsTouchNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		journal string
		extra   map[string]string // assets the forger uploads beside the journal
		wantErr bool              // the journal is refused, and the run fails
	}{
		{name: "no digests, no start time, names of its own",
			journal: `{"waxseal":"publish journal","run":"` + forgedRun + `","uploads":["app-linux-amd64.tar.gz","SHA256SUMS"],` +
				`"replaces":[{"name":"notes.txt","temp":"x","backup":"evil.txt"}]}`,
			extra: map[string]string{"evil.txt": "evil notes"}, wantErr: true},
		{name: "digests of the finished assets, as an earlier attempt of this run",
			journal: `{"waxseal":"publish journal","run":"` + forgedRun + `","workflowRun":{"id":"77","attempt":0},` +
				`"uploads":["app-linux-amd64.tar.gz","SHA256SUMS"],"digests":{"app-linux-amd64.tar.gz":"` + sha256Hex("the app") +
				`","SHA256SUMS":"` + sha256Hex("sums") + `"},"replaces":[{"name":"notes.txt","temp":"notes.txt.waxseal-new-` + forgedRun +
				`","backup":"notes.txt.waxseal-old-` + forgedRun + `","digest":"` + sha256Hex("the notes") + `"}]}`,
			extra: map[string]string{"notes.txt.waxseal-old-" + forgedRun: "evil notes"}},
		{name: "digests of the finished assets, stale by its own clock",
			journal: `{"waxseal":"publish journal","run":"` + forgedRun + `","started":"2001-01-01T00:00:00Z",` +
				`"uploads":["SHA256SUMS"],"digests":{"SHA256SUMS":"` + sha256Hex("sums") + `"},"replaces":[]}`},
		{name: "a backup name of another run",
			journal: `{"waxseal":"publish journal","run":"` + forgedRun + `","workflowRun":{"id":"77","attempt":0},"uploads":[],` +
				`"replaces":[{"name":"notes.txt","temp":"notes.txt.waxseal-new-` + forgedRun + `","backup":"notes.txt.waxseal-old-fedcba9876543210","digest":"` +
				sha256Hex("the notes") + `"}]}`,
			extra: map[string]string{"notes.txt.waxseal-old-fedcba9876543210": "evil notes"}, wantErr: true},
		{name: "a run ID other than its asset's",
			journal: `{"waxseal":"publish journal","run":"fedcba9876543210","workflowRun":{"id":"77","attempt":0},"uploads":["SHA256SUMS"],` +
				`"digests":{"SHA256SUMS":"` + sha256Hex("sums") + `"}}`, wantErr: true},
		{name: "a name GitHub never stores",
			journal: `{"waxseal":"publish journal","run":"` + forgedRun + `","workflowRun":{"id":"77","attempt":0},"uploads":["../SHA256SUMS"],` +
				`"digests":{"../SHA256SUMS":"` + sha256Hex("sums") + `"}}`, wantErr: true},
		{name: "a digest that is not one",
			journal: `{"waxseal":"publish journal","run":"` + forgedRun + `","workflowRun":{"id":"77","attempt":0},"uploads":["SHA256SUMS"],` +
				`"digests":{"SHA256SUMS":"x"}}`, wantErr: true},
		{name: "not JSON", journal: `{"waxseal":`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fake, _ := newTestClient(t)
			relID := fake.AddRelease("v1", false, false)
			for name, data := range finished {
				fake.AddAssetAt(relID, name, []byte(data), "", time.Now().Add(-time.Hour))
			}
			for name, data := range tc.extra {
				fake.AddAssetAt(relID, name, []byte(data), "", time.Now().Add(-time.Minute))
			}
			fake.AddAsset(relID, journalFile(forgedRun), []byte(tc.journal), "")
			rel, err := c.FindRelease(t.Context(), "v1")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Recover(t.Context(), c, rel, PublishOptions{Run: RunInfo{ID: "77", Attempt: 1, Job: "sign"}})
			if tc.wantErr != errors.Is(err, ErrBadJournal) {
				t.Errorf("Recover: %v, want ErrBadJournal: %v", err, tc.wantErr)
			}
			got := map[string]string{}
			for n, d := range fake.Assets(relID) {
				if _, ok := finished[n]; ok {
					got[n] = string(d)
				}
			}
			if diff := cmp.Diff(finished, got); diff != "" {
				t.Errorf("the finished release's assets (-want +got):\n%s", diff)
			}
			if all := fake.Assets(relID); tc.wantErr && len(all) != len(finished)+len(tc.extra)+1 {
				t.Errorf("assets %v: a refused journal must leave everything as it was", slices.Sorted(maps.Keys(all)))
			}
		})
	}
}

// TestInterruptedReplaceIsPutBack: a run killed between moving the earlier version aside and deleting it is undone
// exactly: the new version goes, the earlier one is back under its name (and not then swept away as a leftover).
func TestInterruptedReplaceIsPutBack(t *testing.T) {
	t.Parallel()
	const id = "00000000000000aa"
	j := journal{Kind: journalKind, Run: id, Owner: RunInfo{ID: "77", Attempt: 1, Job: "sign"}, Release: "v1", Uploads: []string{},
		Digests: map[string]string{}, Replaces: []journalEntry{{Name: "notes.txt", Temp: tempName("notes.txt", id),
			Backup: backupName("notes.txt", id), Digest: sha256Hex("new notes")}}}
	raw, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		assets map[string]string // besides the earlier version, moved aside
	}{
		{name: "the new version in place", assets: map[string]string{"notes.txt": "new notes"}},
		{name: "the new version still under its temporary name", assets: map[string]string{tempName("notes.txt", id): "new notes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, fake, _ := newTestClient(t)
			relID := fake.AddRelease("v1", false, false)
			now := time.Now()
			fake.AddAssetAt(relID, backupName("notes.txt", id), []byte("the notes"), "", now.Add(-time.Hour))
			fake.AddAssetAt(relID, journalFile(id), raw, "", now.Add(-time.Minute))
			for n, d := range tc.assets {
				fake.AddAssetAt(relID, n, []byte(d), "", now.Add(-time.Minute))
			}
			rel, err := c.FindRelease(t.Context(), "v1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Recover(t.Context(), c, rel, PublishOptions{Run: RunInfo{ID: "77", Attempt: 2, Job: "sign"}}); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for n, d := range fake.Assets(relID) {
				got[n] = string(d)
			}
			if diff := cmp.Diff(map[string]string{"notes.txt": "the notes"}, got); diff != "" {
				t.Errorf("assets after the undo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJournalAgeIsGitHubs: whether another run's journal is over is judged by GitHub's created_at, never by the
// journal's own start time, and an earlier attempt of this run is one whose journal came no later than this run's.
func TestJournalAgeIsGitHubs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	run := RunInfo{ID: "77", Attempt: 2, Job: "sign"}
	tests := []struct {
		name    string
		owner   RunInfo
		started time.Time
		created time.Time
		mine    time.Time
		want    bool
	}{
		{name: "fresh, with no start time", created: now.Add(-time.Minute)},
		{name: "fresh, with a start time long ago", started: now.Add(-30 * 24 * time.Hour), created: now.Add(-time.Minute)},
		{name: "stale, with a start time of now", started: now, created: now.Add(-StaleJournal - time.Minute), want: true},
		{name: "another workflow run's, fresh", owner: RunInfo{ID: "76", Attempt: 1}, created: now.Add(-time.Minute)},
		{name: "an earlier attempt of this run", owner: RunInfo{ID: "77", Attempt: 1}, created: now.Add(-time.Minute), want: true},
		{name: "an earlier attempt, before this run's journal", owner: RunInfo{ID: "77", Attempt: 1}, created: now.Add(-time.Minute),
			mine: now.Add(-30 * time.Second), want: true},
		{name: "claims an earlier attempt, but came after this run's journal", owner: RunInfo{ID: "77", Attempt: 1},
			created: now.Add(-10 * time.Second), mine: now.Add(-30 * time.Second)},
		{name: "a later attempt", owner: RunInfo{ID: "77", Attempt: 3}, created: now.Add(-time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := &journal{Owner: tc.owner, Started: tc.started, created: tc.created}
			if got := j.over(run, now, tc.mine); got != tc.want {
				t.Errorf("over = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestForgedJournalMessage: the refusal names the asset and says what to do, and prints nothing the forger wrote
// raw.
func TestForgedJournalMessage(t *testing.T) {
	t.Parallel()
	c, fake, _ := newTestClient(t)
	relID := fake.AddRelease("v1", false, false)
	fake.AddAsset(relID, journalFile(forgedRun), []byte(`{"waxseal":"publish journal","run":"`+forgedRun+`","uploads":["a\u001b[2Jb"]}`), "")
	rel, err := c.FindRelease(t.Context(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Publish(t.Context(), c, rel, writeFiles(t, map[string]string{"a.tgz.sigstore.json": "bundle"}), PublishOptions{})
	if !errors.Is(err, ErrBadJournal) {
		t.Fatalf("Publish: %v, want ErrBadJournal", err)
	}
	for _, want := range []string{"waxseal-run-" + forgedRun + ".json on release v1 is not a journal waxseal wrote", `"a\x1b[2Jb"`,
		"check the release's assets by hand", "then delete waxseal-run-" + forgedRun + ".json and re-run"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\x1b") {
		t.Errorf("err = %q prints a terminal escape", err)
	}
	if got := fake.Assets(relID); len(got) != 1 {
		t.Errorf("assets %v: nothing may be uploaded past a refused journal", slices.Sorted(maps.Keys(got)))
	}
}

// FuzzParseJournal: whatever a journal asset holds, a journal that is accepted is one Recover can act on safely:
// every file has a digest, every name is one waxseal gives, and the temporary and backup names are its run's.
func FuzzParseJournal(f *testing.F) {
	f.Add([]byte(`{"waxseal":"publish journal","run":"`+forgedRun+`","uploads":["a.tgz"],"digests":{"a.tgz":"`+sha256Hex("x")+`"},`+
		`"replaces":[{"name":"b.tgz","temp":"b.tgz.waxseal-new-`+forgedRun+`","backup":"b.tgz.waxseal-old-`+forgedRun+`","digest":"`+sha256Hex("y")+`"}]}`), forgedRun)
	f.Add([]byte(`{"waxseal":"publish journal","run":"`+forgedRun+`","uploads":["x"]}`), forgedRun)
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		j, err := parseJournal(bytes.NewReader(data), id)
		if err != nil {
			return
		}
		for _, n := range j.Uploads {
			if ownName(n) != nil || len(j.Digests[n]) != 64 {
				t.Errorf("accepted upload %q with digest %q", n, j.Digests[n])
			}
		}
		for _, r := range j.Replaces {
			if ownName(r.Name) != nil || r.Temp != tempName(r.Name, id) || r.Backup != backupName(r.Name, id) || len(r.Digest) != 64 {
				t.Errorf("accepted replacement %+v of run %q", r, id)
			}
		}
		if j.Run != id || !j.created.IsZero() {
			t.Errorf("accepted run %q for %q (created %v)", j.Run, id, j.created)
		}
	})
}
