package provenance

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/provenance/golden")

const testdata = "../../testdata/provenance"

// sigstoreJS is the GitHub context of the npm publish that made the real statement in testdata:
// sigstore@2.0.0 from sigstore/sigstore-js, run 5904696764.
var sigstoreJS = GitHub{
	ServerURL: "https://github.com", Repository: "sigstore/sigstore-js", RepositoryID: "495574555",
	RepositoryOwnerID: "71096353", WorkflowRef: "sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
	SHA: "f0b49a04e5a62250e0f60fb128004a73110fe311", Ref: "refs/heads/main", EventName: "push",
	RunID: "5904696764", RunAttempt: "1", RunnerEnvironment: "github-hosted",
}

var sigstoreJSSubject = Subject{Name: "pkg:npm/sigstore@2.0.0",
	SHA512: "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"}

// realPayload returns the DSSE payload of the real npm provenance bundle.
func realPayload(t *testing.T) (payloadType string, payload []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, "npm-sigstore-2.0.0.provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSE struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	p, err := base64.StdEncoding.DecodeString(b.DSSE.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return b.DSSE.PayloadType, p
}

func TestStatementMatchesRealNPMStatement(t *testing.T) {
	t.Parallel()
	payloadType, want := realPayload(t)
	if payloadType != PayloadType {
		t.Errorf("real bundle payloadType = %q, PayloadType = %q", payloadType, PayloadType)
	}
	st, err := Statement(sigstoreJS, sigstoreJSSubject)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	// Every field, compared semantically...
	var wantDoc, gotDoc any
	if err := json.Unmarshal(want, &wantDoc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &gotDoc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantDoc, gotDoc); diff != "" {
		t.Errorf("statement differs from npm's (-want +got):\n%s", diff)
	}
	// ...and byte for byte, since Marshal promises npm's layout.
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("encoding differs from npm's (-want +got):\n%s", diff)
	}
}

func TestStatementGolden(t *testing.T) {
	t.Parallel()
	scoped := Subject{Name: "pkg:npm/%40waxseal-example/hello@1.0.0", SHA512: strings.Repeat("ab", 64)}
	tests := []struct {
		name     string
		gh       GitHub
		subjects []Subject
	}{
		{name: "scoped-tag-release", gh: GitHub{
			ServerURL: "https://github.com", Repository: "waxseal/example", RepositoryID: "123", RepositoryOwnerID: "456",
			WorkflowRef: "waxseal/example/.github/workflows/release.yml@refs/tags/v1.0.0", SHA: strings.Repeat("1", 40),
			Ref: "refs/tags/v1.0.0", EventName: "release", RunID: "789", RunAttempt: "2", RunnerEnvironment: "github-hosted",
		}, subjects: []Subject{scoped}},
		{name: "enterprise-server-self-hosted-no-optional", gh: GitHub{
			ServerURL: "https://ghe.example.com", Repository: "team/app", WorkflowRef: "team/app/.github/workflows/ci.yml@refs/heads/main",
			SHA: strings.Repeat("2", 40), Ref: "refs/heads/main", RunID: "1", RunAttempt: "1", RunnerEnvironment: "self-hosted",
		}, subjects: []Subject{{Name: "pkg:npm/app@0.1.0-rc.1", SHA512: strings.Repeat("cd", 64)}}},
		{name: "html-characters-unescaped", gh: GitHub{
			ServerURL: "https://github.com", Repository: "o/r", RepositoryID: "1", RepositoryOwnerID: "2",
			WorkflowRef: "o/r/.github/workflows/a&b<c>.yml@refs/heads/feat/x@y", SHA: strings.Repeat("3", 40),
			Ref: "refs/heads/feat/x@y", EventName: "workflow_dispatch", RunID: "5", RunAttempt: "1", RunnerEnvironment: "github-hosted",
		}, subjects: []Subject{scoped, {Name: "pkg:npm/b@2.0.0", SHA512: strings.Repeat("ef", 64)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := Statement(tt.gh, tt.subjects...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(testdata, "golden", tt.name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(strings.TrimSuffix(string(want), "\n"), string(got)); diff != "" {
				t.Errorf("golden mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatementFieldDerivation spells out how each field comes from the context, independent of
// the golden files, including npm's split of the workflow ref at the first "@".
func TestStatementFieldDerivation(t *testing.T) {
	t.Parallel()
	gh := sigstoreJS
	gh.WorkflowRef = "sigstore/sigstore-js/.github/workflows/re@lease.yml@refs/tags/v1@2"
	gh.EventName, gh.RepositoryID = "", ""
	st, err := Statement(gh, sigstoreJSSubject)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Predicate struct {
			BuildDefinition struct {
				ExternalParameters struct {
					Workflow map[string]string `json:"workflow"`
				} `json:"externalParameters"`
				InternalParameters struct {
					GitHub map[string]string `json:"github"`
				} `json:"internalParameters"`
			} `json:"buildDefinition"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	bd := doc.Predicate.BuildDefinition
	wantWorkflow := map[string]string{"path": ".github/workflows/re", "ref": "lease.yml@refs/tags/v1@2",
		"repository": "https://github.com/sigstore/sigstore-js"}
	if diff := cmp.Diff(wantWorkflow, bd.ExternalParameters.Workflow); diff != "" {
		t.Errorf("workflow (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"repository_owner_id": "71096353"}, bd.InternalParameters.GitHub); diff != "" {
		t.Errorf("github: empty values must be omitted as npm omits unset variables (-want +got):\n%s", diff)
	}
}

func TestStatementRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mutate   func(*GitHub)
		subjects []Subject
		wantErr  error
		wantMsg  string
	}{
		{name: "no server", mutate: func(g *GitHub) { g.ServerURL = "" }, wantErr: ErrIncomplete, wantMsg: "GITHUB_SERVER_URL"},
		{name: "no sha", mutate: func(g *GitHub) { g.SHA = "" }, wantErr: ErrIncomplete, wantMsg: "GITHUB_SHA"},
		{name: "no runner env", mutate: func(g *GitHub) { g.RunnerEnvironment = "" }, wantErr: ErrIncomplete, wantMsg: "RUNNER_ENVIRONMENT"},
		{name: "no attempt", mutate: func(g *GitHub) { g.RunAttempt = "" }, wantErr: ErrIncomplete, wantMsg: "GITHUB_RUN_ATTEMPT"},
		{name: "foreign workflow ref", mutate: func(g *GitHub) { g.WorkflowRef = "other/repo/.github/workflows/x.yml@refs/heads/main" },
			wantErr: ErrIncomplete, wantMsg: "workflow_ref"},
		{name: "workflow ref without @", mutate: func(g *GitHub) { g.WorkflowRef = "sigstore/sigstore-js/.github/workflows/x.yml" },
			wantErr: ErrIncomplete, wantMsg: "workflow_ref"},
		{name: "commit not hex", mutate: func(g *GitHub) { g.SHA = "main" }, wantMsg: "gitCommit"},
		{name: "no subjects", subjects: []Subject{}, wantErr: ErrSubject},
		{name: "subject without name", subjects: []Subject{{SHA512: sigstoreJSSubject.SHA512}}, wantErr: ErrSubject},
		{name: "short digest", subjects: []Subject{{Name: "pkg:npm/a@1.0.0", SHA512: "abcd"}}, wantErr: ErrSubject},
		{name: "uppercase digest", subjects: []Subject{{Name: "pkg:npm/a@1.0.0", SHA512: strings.ToUpper(sigstoreJSSubject.SHA512)}}, wantErr: ErrSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := sigstoreJS
			if tt.mutate != nil {
				tt.mutate(&gh)
			}
			subjects := []Subject{sigstoreJSSubject}
			if tt.subjects != nil {
				subjects = tt.subjects
			}
			st, err := Statement(gh, subjects...)
			if err == nil {
				t.Fatalf("Statement = %v, want an error", st)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err %q lacks %q", err, tt.wantMsg)
			}
		})
	}
}

func TestMarshalDeterministic(t *testing.T) {
	t.Parallel()
	st, err := Statement(sigstoreJS, sigstoreJSSubject)
	if err != nil {
		t.Fatal(err)
	}
	first, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(first) {
			t.Fatalf("Marshal is not deterministic:\n%s\n%s", first, again)
		}
	}
	if strings.ContainsAny(string(first), " \n\t") {
		t.Errorf("Marshal output is not compact: %s", first)
	}
}
