package action

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/testing/filecommands"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/retrytest"
)

const (
	ghToken   = "ghs_0123456789abcdefghij"
	oidcToken = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ0ZXN0In0.c2lnbmF0dXJl"
	identity  = "https://github.com/octo/pkg/.github/workflows/release.yml@refs/tags/v1.0.0"
)

// runnerEnv lays out what the runner gives a container action: a workspace holding a packed tarball, the
// file-command files and an event payload, and the environment naming them.
func runnerEnv(t *testing.T, fake *githubfake.Server) (map[string]string, string) {
	t.Helper()
	root := t.TempDir()
	ws := filepath.Join(root, "workspace")
	files := filepath.Join(root, "file_commands")
	for _, d := range []string{filepath.Join(ws, "dist"), files} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "dist", "pkg-1.0.0.tgz"), []byte("tarball bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(root, "event.json")
	if err := os.WriteFile(event, []byte(`{"ref":"refs/tags/v1.0.0","release":{"tag_name":"v1.0.0"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer request-token" {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		_, _ = fmt.Fprintf(w, `{"value":%q}`, oidcToken)
	}))
	t.Cleanup(idp.Close)
	env := map[string]string{
		"INPUT_PATHS": "dist/*.tgz", "INPUT_GITHUB-TOKEN": ghToken, "INPUT_PROVENANCE": "true", "INPUT_UPLOAD": "",
		"GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": filepath.Join(files, "set_output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(files, "step_summary"), "GITHUB_EVENT_PATH": event,
		"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.0.0", "GITHUB_REPOSITORY": "octo/pkg",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": fake.API.URL,
		"ACTIONS_ID_TOKEN_REQUEST_URL": idp.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
	}
	return env, ws
}

// fakeSign stands in for seal.Sign: it takes a token as seal does, writes the bundles beside the tarballs and
// reports them.
func fakeSign(calls *int) func(context.Context, seal.Options) (*seal.Report, error) {
	return func(ctx context.Context, o seal.Options) (*seal.Report, error) {
		*calls++
		if _, err := o.Tokens.Token(ctx, o.Audience); err != nil {
			return nil, err
		}
		rep := &seal.Report{CertificateIdentity: identity, CertificateIssuer: "https://token.actions.githubusercontent.com",
			Source: provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", SHA: "0123456789abcdef0123456789abcdef01234567",
				Ref: "refs/tags/v1.0.0", WorkflowRef: "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0.0"}, PublicGood: true}
		for i, in := range o.Artifacts {
			p := in.Path
			content, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(content)
			r := seal.Artifact{Path: p, Kind: in.Kind, Tarball: p, Name: "pkg", Version: "1.0.0", SHA512: strings.Repeat("ab", 64), SHA256: hex.EncodeToString(sum[:]),
				Bundle: p + ".sigstore.json", RekorLogIndex: int64(42 + i), RekorEntryURL: fmt.Sprintf("https://search.sigstore.dev/?logIndex=%d", 42+i)}
			// Like real keyless signing, every run makes new bytes.
			if err := os.WriteFile(r.Bundle, []byte(fmt.Sprintf(`{"bundle":%d}`, *calls)), 0o644); err != nil {
				return nil, err
			}
			if o.Provenance {
				r.ProvenanceBundle, r.ProvenanceJSONL = p+".provenance.sigstore.json", p+".intoto.jsonl"
				b := fmt.Sprintf(`{"provenance":%d}`, *calls)
				if err := os.WriteFile(r.ProvenanceBundle, []byte(b), 0o644); err != nil {
					return nil, err
				}
				if err := os.WriteFile(r.ProvenanceJSONL, []byte(b+"\n"), 0o644); err != nil {
					return nil, err
				}
			}
			rep.Artifacts = append(rep.Artifacts, r)
		}
		return rep, nil
	}
}

func runAction(t *testing.T, env map[string]string, sign func(context.Context, seal.Options) (*seal.Report, error)) (string, error) {
	t.Helper()
	var stdout bytes.Buffer
	r := &Runner{Getenv: envFunc(env), Stdout: &stdout, Sign: sign,
		Retry: retry.Policy{Clock: &retrytest.Clock{}}}
	err := r.Run(t.Context())
	return stdout.String(), err
}

func outputs(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := filecommands.Parse(string(b))
	if err != nil {
		t.Fatalf("the runner would reject GITHUB_OUTPUT: %v", err)
	}
	return got
}

func TestRunUploadsNextToTheRelease(t *testing.T) {
	t.Parallel()
	fake := githubfake.New("octo", "pkg", ghToken)
	defer fake.Close()
	relID := fake.AddRelease("v1.0.0", true, true) // an immutable-to-be draft: the recommended flow
	env, ws := runnerEnv(t, fake)
	env["INPUT_UPLOAD-TARBALLS"] = "true"
	var calls int
	stdout, err := runAction(t, env, fakeSign(&calls))
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stdout)
	}
	assets := map[string]string{}
	for n, d := range fake.Assets(relID) {
		assets[n] = string(d)
	}
	if diff := cmp.Diff(map[string]string{"pkg-1.0.0.tgz.sigstore.json": `{"bundle":1}`,
		"pkg-1.0.0.tgz.provenance.sigstore.json": `{"provenance":1}`, "pkg-1.0.0.tgz": "tarball bytes",
		"pkg-1.0.0.tgz.intoto.jsonl": "{\"provenance\":1}\n"}, assets); diff != "" {
		t.Errorf("release assets (-want +got):\n%s", diff)
	}
	out := outputs(t, env)
	var urls []string
	if err := json.Unmarshal([]byte(out["release-assets"]), &urls); err != nil || len(urls) != 4 || urls[1] != "https://github.com/octo/pkg/releases/download/v1.0.0/pkg-1.0.0.tgz.sigstore.json" {
		t.Fatalf("release-assets = %q, want four tag-based download URLs (%v)", out["release-assets"], err)
	}
	delete(out, "release-assets")
	var arts []artifactOutput
	if err := json.Unmarshal([]byte(out["artifacts"]), &arts); err != nil || len(arts) != 1 || len(arts[0].ReleaseAssets) != 4 ||
		arts[0].Name != "pkg@1.0.0" || arts[0].Kind != "npm" || arts[0].IntotoJSONL != "dist/pkg-1.0.0.tgz.intoto.jsonl" {
		t.Errorf("artifacts = %s (%v), want the tarball with its three bundles and four release assets", out["artifacts"], err)
	}
	delete(out, "artifacts")
	if diff := cmp.Diff(map[string]string{
		"bundles": `["dist/pkg-1.0.0.tgz.sigstore.json"]`, "provenance-bundles": `["dist/pkg-1.0.0.tgz.provenance.sigstore.json"]`,
		"results": ".waxseal/results.json", "certificate-identity": identity, "rekor-log-indexes": "[42]",
		"attestation-ids": "[]", "attestation-urls": "[]", "packages": `["pkg@1.0.0"]`,
	}, out); diff != "" {
		t.Errorf("outputs as the runner reads them (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(ws, ".waxseal", "results.json")); err != nil {
		t.Errorf("results file: %v", err)
	}
	lines := strings.Split(stdout, "\n")
	if lines[0] != "::add-mask::"+ghToken || lines[1] != "::add-mask::request-token" {
		t.Errorf("the tokens are not masked first; stdout begins %q", lines[:2])
	}
	if !strings.Contains(stdout, "::add-mask::"+oidcToken+"\n") {
		t.Errorf("the identity token was not masked:\n%s", stdout)
	}
	if !strings.Contains(stdout, "::group::pkg@1.0.0\n") || !strings.Contains(stdout, "::endgroup::") {
		t.Errorf("no log group for the package:\n%s", stdout)
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(summary), "[signature]("+urls[1]+")") || !strings.Contains(string(summary), "gh attestation verify") {
		t.Errorf("summary lacks the asset link or the verify commands:\n%s", summary)
	}

	// A re-run signs afresh, so its bundles differ: without overwrite it stops before signing.
	before := len(fake.Requests())
	if _, err := runAction(t, env, fakeSign(&calls)); err == nil || !strings.Contains(err.Error(), "set `overwrite: true`") {
		t.Fatalf("re-run without overwrite: err = %v, want advice to set overwrite", err)
	}
	if calls != 1 {
		t.Errorf("the refused re-run signed anyway (%d signing runs)", calls)
	}
	for _, r := range fake.Requests()[before:] {
		if strings.HasPrefix(r, "POST") || strings.HasPrefix(r, "DELETE") {
			t.Errorf("the refused re-run changed the release: %s", r)
		}
	}

	// With overwrite the bundles are replaced and the unchanged tarball is kept.
	env["INPUT_OVERWRITE"] = "true"
	if _, err := runAction(t, env, fakeSign(&calls)); err != nil {
		t.Fatalf("re-run with overwrite: %v", err)
	}
	if got := string(fake.Assets(relID)["pkg-1.0.0.tgz.sigstore.json"]); got != `{"bundle":2}` {
		t.Errorf("after overwrite the bundle asset is %s, want the second run's", got)
	}
	b, _ := os.ReadFile(filepath.Join(ws, ".waxseal", "results.json"))
	var res struct {
		ReleaseAssets []release.Result `json:"releaseAssets"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range res.ReleaseAssets {
		outcomes = append(outcomes, r.Name+" "+string(r.Outcome))
	}
	if diff := cmp.Diff([]string{"pkg-1.0.0.tgz kept", "pkg-1.0.0.tgz.sigstore.json replaced",
		"pkg-1.0.0.tgz.provenance.sigstore.json replaced", "pkg-1.0.0.tgz.intoto.jsonl replaced"}, outcomes); diff != "" {
		t.Errorf("re-run outcomes (-want +got):\n%s", diff)
	}
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		release   func(f *githubfake.Server)
		wantErr   string
		wantSigns int
	}{
		{name: "upload true without a tag", env: map[string]string{"INPUT_UPLOAD": "true", "GITHUB_REF": "refs/heads/main"},
			wantErr: "set the `release-tag` input, or run on a release"},
		{name: "no release for the release-tag input", env: map[string]string{"INPUT_RELEASE-TAG": "v9"},
			wantErr: "create the release (a draft is best) before this step"},
		{name: "no token", env: map[string]string{"INPUT_GITHUB-TOKEN": ""}, wantErr: "set the `github-token` input"},
		{name: "path outside the workspace", env: map[string]string{"INPUT_PATHS": "../../etc/*"}, wantErr: "outside the workspace"},
		{name: "immutable published release", release: func(f *githubfake.Server) { f.AddRelease("v1.0.0", false, true) },
			wantErr: "sign while the release is still a draft"},
		{name: "no id-token permission", env: map[string]string{"INPUT_UPLOAD": "false", "ACTIONS_ID_TOKEN_REQUEST_URL": ""},
			wantErr: "add `permissions: id-token: write` to the job", wantSigns: 1},
		{name: "bad boolean", env: map[string]string{"INPUT_OVERWRITE": "yes"}, wantErr: "use one of true, false"},
		{name: "upload auto, and the token cannot see the draft", release: func(f *githubfake.Server) {
			f.AddRelease("v1.0.0", true, false)
			f.SetModes(githubfake.Modes{ReadOnly: true})
		}, wantErr: "the token cannot see drafts"},
		{name: "attest without provenance", env: map[string]string{"INPUT_ATTEST": "true", "INPUT_PROVENANCE": "false"},
			wantErr: "set `provenance: true`, or drop `attest`"},
		{name: "a file matched by two inputs", env: map[string]string{"INPUT_ARTIFACTS": "dist/*", "INPUT_CHECKSUMS": "dist/pkg-*"},
			wantErr: "input `artifacts` matches dist/pkg-1.0.0.tgz, which `paths` matches too"},
		{name: "the release event's release is not found", env: map[string]string{"GITHUB_EVENT_NAME": "release", "GITHUB_REF": "refs/heads/main"},
			wantErr: "create the release (a draft is best) before this step"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := githubfake.New("octo", "pkg", ghToken)
			defer fake.Close()
			if tc.release != nil {
				tc.release(fake)
			}
			env, _ := runnerEnv(t, fake)
			for k, v := range tc.env {
				env[k] = v
			}
			var calls int
			stdout, err := runAction(t, env, fakeSign(&calls))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run err = %v, want it to say %q", err, tc.wantErr)
			}
			if calls != tc.wantSigns {
				t.Errorf("signed %d times, want %d (nothing should be logged before the inputs are known good)", calls, tc.wantSigns)
			}
			if !strings.Contains(stdout, "::error title=waxseal::") {
				t.Errorf("no error annotation:\n%s", stdout)
			}
			if strings.Contains(strings.ReplaceAll(stdout, "::add-mask::"+ghToken, ""), ghToken) {
				t.Errorf("the GitHub token appears in the log:\n%s", stdout)
			}
		})
	}
}

func TestRunAnnotatesFailedPackages(t *testing.T) {
	t.Parallel()
	fake := githubfake.New("octo", "pkg", ghToken)
	defer fake.Close()
	relID := fake.AddRelease("v1.0.0", true, false)
	env, _ := runnerEnv(t, fake)
	sign := func(ctx context.Context, o seal.Options) (*seal.Report, error) {
		return &seal.Report{Artifacts: []seal.Artifact{{Path: o.Artifacts[0].Path, Kind: seal.NPM, Tarball: o.Artifacts[0].Path, Name: "pkg", Version: "1.0.0",
				Error: "package.json has no repository.url: set it to https://github.com/octo/pkg"}}},
			fmt.Errorf("%w: nothing was signed", seal.ErrPackagesFailed)
	}
	stdout, err := runAction(t, env, sign)
	if err == nil {
		t.Fatal("Run succeeded with a failed package")
	}
	// ':' is escaped in properties (title) but not in the message.
	want := "::error file=dist/pkg-1.0.0.tgz,title=waxseal%3A pkg@1.0.0 not signed::package.json has no repository.url: set it"
	if !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	if n := strings.Count(stdout, "::error "); n != 1 {
		t.Errorf("%d error annotations, want exactly the package's one:\n%s", n, stdout)
	}
	if len(fake.Assets(relID)) != 0 {
		t.Errorf("a failed run uploaded %v", fake.Assets(relID))
	}
}

// TestRunReRunAfterAnInterruptedRun lays out what a run that was killed mid-upload leaves (its journal, one
// bundle, a starter asset from a failed upload) and re-runs without overwrite: the leftovers are undone before
// signing, and the re-run's bundles go up.
func TestRunReRunAfterAnInterruptedRun(t *testing.T) {
	t.Parallel()
	fake := githubfake.New("octo", "pkg", ghToken)
	defer fake.Close()
	relID := fake.AddRelease("v1.0.0", true, false)
	// Attempt 1 of workflow run 555 was killed a minute ago; this is attempt 2 of the same run.
	sum := sha256.Sum256([]byte(`{"bundle":"killed run"}`))
	fake.AddAsset(relID, "waxseal-run-0123456789abcdef.json", []byte(`{"waxseal":"publish journal","run":"0123456789abcdef",`+
		`"workflowRun":{"id":"555","attempt":1,"job":"publish"},"started":"`+time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)+`","release":"v1.0.0",`+
		`"uploads":["pkg-1.0.0.tgz.sigstore.json","pkg-1.0.0.tgz.provenance.sigstore.json"],"digests":{"pkg-1.0.0.tgz.sigstore.json":"`+
		hex.EncodeToString(sum[:])+`","pkg-1.0.0.tgz.provenance.sigstore.json":"`+strings.Repeat("ab", 32)+`"},"replaces":[]}`), "")
	fake.AddAsset(relID, "pkg-1.0.0.tgz.sigstore.json", []byte(`{"bundle":"killed run"}`), "")
	fake.AddAsset(relID, "pkg-1.0.0.tgz.provenance.sigstore.json", nil, "starter")
	env, _ := runnerEnv(t, fake)
	env["GITHUB_RUN_ID"], env["GITHUB_RUN_ATTEMPT"], env["GITHUB_JOB"] = "555", "2", "publish"
	var calls int
	if stdout, err := runAction(t, env, fakeSign(&calls)); err != nil {
		t.Fatalf("re-run after an interrupted run: %v\n%s", err, stdout)
	}
	got := map[string]string{}
	for n, d := range fake.Assets(relID) {
		got[n] = string(d)
	}
	want := map[string]string{"pkg-1.0.0.tgz.sigstore.json": `{"bundle":1}`, "pkg-1.0.0.tgz.provenance.sigstore.json": `{"provenance":1}`,
		"pkg-1.0.0.tgz.intoto.jsonl": "{\"provenance\":1}\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("release assets after the re-run (-want +got):\n%s", diff)
	}
	// A finished run's bundles are still protected: the next run without overwrite is refused before signing.
	if _, err := runAction(t, env, fakeSign(&calls)); err == nil || !strings.Contains(err.Error(), "set `overwrite: true`") || calls != 1 {
		t.Errorf("run after a finished run: err = %v, signing runs %d; want a refusal before signing", err, calls)
	}
}
