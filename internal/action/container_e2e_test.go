//go:build e2e

package action

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/testing/actionrunner"
	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/verifier"
)

// TestContainerE2E runs the Action the way a GitHub runner runs it: the image built offline from the Dockerfile's
// final stage and the release build of the binary, started by podman with the runner's own `docker run`
// arguments (internal/testing/actionrunner cites the runner's source), the workspace and the runner's
// directories owned by the runner's unprivileged user, against the local Sigstore stack, the GitHub fake and the
// npm registry fake. After the container, the runner's user reads, moves and deletes what it wrote, as the next
// steps and the next job's checkout do.
func TestContainerE2E(t *testing.T) {
	rig := newContainerRig(t)
	issuer := newIssuerRecorder(t, stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_URL"))
	requestToken := stackVar(t, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	// Inputs a bad value cannot show were read (any string is a valid tag, token or audience): each has its own
	// proof, recorded here once it passed.
	proved := map[string]bool{}

	t.Run("signs-uploads-and-reports", func(t *testing.T) {
		containerSigns(t, rig, issuer, proved)
	})
	t.Run("audience", func(t *testing.T) {
		fake, reg, _ := containerFakes(t, "ghs_containerAudience0123")
		job, _ := containerJob(t, reg.URL)
		const audience = "waxseal-container-audience"
		res := rig.run(t, job, runnerStep(t, job, fake, issuer.URL, containerInputs(map[string]string{"audience": audience})))
		auds, toks := issuer.seen()
		if !slices.Contains(auds, audience) {
			t.Errorf("no token request asked for audience %q (asked: %q)", audience, auds)
		}
		if res.exit == 0 || !strings.Contains(res.stdout, "::error") {
			t.Errorf("Fulcio takes only audience sigstore: the step should fail with an annotation; exit %d\n%s", res.exit, res.stdout)
		}
		checkNoSecrets(t, res, append(toks, fake.Token, requestToken)...)
		proved["audience"] = !t.Failed()
	})
	t.Run("every-input-is-read", func(t *testing.T) {
		fake, reg, _ := containerFakes(t, "ghs_containerInputs0123")
		job, _ := containerJob(t, reg.URL)
		for _, input := range slices.Sorted(maps.Keys(readActionYML(t).Inputs)) {
			if proved[input] {
				continue
			}
			t.Run(input, func(t *testing.T) {
				// A value no input accepts: not a boolean, mode or duration, a glob that matches nothing, a file
				// that is not there. The Action must refuse it, naming the input: proof that INPUT_<NAME>, hyphens
				// kept, reached it.
				bad := "not-a-value-for-" + input
				res := rig.run(t, job, runnerStep(t, job, fake, issuer.URL, containerInputs(map[string]string{input: bad})))
				if res.exit == 0 {
					t.Fatalf("the Action accepted %s: %q; if any value is valid for it, prove it is read another way (see proved)\n%s", input, bad, res.stdout)
				}
				if !annotated(res.stdout, "input `"+input+"`") {
					t.Errorf("exit %d, but no ::error annotation names input `%s`:\n%s", res.exit, input, res.stdout)
				}
				_, toks := issuer.seen()
				checkNoSecrets(t, res, append(toks, fake.Token, requestToken)...)
			})
		}
	})
	t.Run("failed-upload", func(t *testing.T) {
		containerFailedUpload(t, rig, issuer)
	})
}

// containerFakes starts the GitHub fake, which serves only token and holds the draft release v1.2.3, and the npm
// registry fake; the test stops them.
func containerFakes(t *testing.T, token string) (*githubfake.Server, *npmregistry.Server, int64) {
	t.Helper()
	fake := githubfake.New("waxseal", "waxseal", token)
	t.Cleanup(fake.Close)
	reg := npmregistry.New("e2e")
	t.Cleanup(reg.Close)
	return fake, reg, fake.AddRelease("v1.2.3", true, false)
}

// containerInputs are the inputs of a run that signs with the local stack, over action.yml's defaults.
func containerInputs(over map[string]string) map[string]string {
	in := map[string]string{"paths": "dist/*.tgz\n# the packed tarballs", "release-tag": "v1.2.3", "upload": "true",
		"trusted-root": ".sigstore/trusted_root.json", "signing-config": ".sigstore/signing_config.json", "retry-for": "45s"}
	maps.Copy(in, over)
	return in
}

// annotated reports whether stdout has an ::error workflow command whose message contains want.
func annotated(stdout, want string) bool {
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "::error") && strings.Contains(line, want) {
			return true
		}
	}
	return false
}

// containerSigns is the full run: every input given (non-default where the stack allows), two packages signed,
// uploaded with the tarballs to the release the release-tag input names (replacing a stale bundle, as overwrite
// allows), attested; outputs, summary, results.json and the journal as the runner and the next steps see them;
// then the runner's user takes the files over.
func containerSigns(t *testing.T, rig *containerRig, issuer *issuerRecorder, proved map[string]bool) {
	const token = "ghs_containerSigns0123456789"
	fake, reg, relID := containerFakes(t, token)
	otherID := fake.AddRelease("v9.9.9", true, false)
	fake.Inject(githubfake.Fault{Method: http.MethodGet, Host: "api", PathPrefix: "/repos/waxseal/waxseal/releases", Status: 502})
	job, tarballs := containerJob(t, reg.URL)
	stale := filepath.Base(tarballs[0]) + ".sigstore.json"
	fake.AddAsset(relID, stale, []byte(`{"stale":true}`), "uploaded")
	step := runnerStep(t, job, fake, issuer.URL, containerInputs(map[string]string{
		"provenance": "True", "upload-tarballs": "true", "overwrite": "TRUE", "attest": "true", "npm-checks": "True",
		"registry-preflight": "true", "staging": "false", "allow-private-repository": "False", "audience": "sigstore"}))
	res := rig.run(t, job, step)
	if res.exit != 0 {
		t.Fatalf("the container exited %d\nstdout:\n%s\nstderr:\n%s", res.exit, res.stdout, res.stderr)
	}
	_, toks := issuer.seen()
	checkNoSecrets(t, res, append(toks, token, step.RuntimeToken)...)

	// Outputs and the summary reached the file-command files the runner reads.
	claims := ghoidc.DefaultClaims()
	if want := "https://github.com/" + claims["job_workflow_ref"].(string); res.outputs["certificate-identity"] != want {
		t.Errorf("certificate-identity = %q, want %q", res.outputs["certificate-identity"], want)
	}
	var bundles, provs, assets []string
	var attIDs []int64
	for name, dst := range map[string]any{"bundles": &bundles, "provenance-bundles": &provs, "release-assets": &assets, "attestation-ids": &attIDs} {
		if err := json.Unmarshal([]byte(res.outputs[name]), dst); err != nil {
			t.Fatalf("output %s = %q: %v", name, res.outputs[name], err)
		}
	}
	var wantBundles []string
	for _, tgz := range tarballs {
		wantBundles = append(wantBundles, "dist/"+filepath.Base(tgz)+".sigstore.json")
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(wantBundles)), slices.Sorted(slices.Values(bundles))); diff != "" {
		t.Errorf("bundles output, relative to the workspace (-want +got):\n%s", diff)
	}
	if len(provs) != 2 || len(assets) != 8 || len(attIDs) != 2 || res.outputs["results"] != ".waxseal/results.json" {
		t.Errorf("provenance-bundles %q, release-assets %q, attestation-ids %v, results %q: want 2, 8 (with the tarballs), 2, .waxseal/results.json",
			provs, assets, attIDs, res.outputs["results"])
	}
	if !strings.Contains(res.summary, "## waxseal: 2 of 2 npm package(s) signed") {
		t.Errorf("the step summary lacks the heading:\n%s", res.summary)
	}
	// retry-for reached the Action: the retried 502 is logged with its budget.
	if !strings.Contains(res.stdout, "of the 45s retry budget used") {
		t.Errorf("no retry line with the 45s budget of retry-for:\n%s", res.stdout)
	}

	// The release the release-tag input names got everything (the ref is a branch: without the input there is no
	// release, and upload: true fails), the stale bundle was replaced, the journal was committed and deleted.
	got := fake.Assets(relID)
	var names []string
	for _, tgz := range tarballs {
		b := filepath.Base(tgz)
		names = append(names, b, b+".sigstore.json", b+".provenance.sigstore.json", b+".intoto.jsonl")
		if !bytes.Equal(got[b+".sigstore.json"], mustRead(t, tgz+".sigstore.json")) {
			t.Errorf("%s.sigstore.json on the release is not the bundle in the workspace", b)
		}
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(names)), slices.Sorted(maps.Keys(got))); diff != "" {
		t.Errorf("assets of %s (-want +got):\n%s", "v1.2.3", diff)
	}
	if len(fake.Assets(otherID)) != 0 {
		t.Errorf("the release of another tag got assets: %v", slices.Collect(maps.Keys(fake.Assets(otherID))))
	}
	checkJournal(t, fake.Requests())
	proved["release-tag"], proved["github-token"] = !t.Failed(), !t.Failed() // the fake serves no other token
	checkResults(t, job, tarballs, stale)
	checkBundlesVerify(t, tarballs, res.outputs["certificate-identity"])
	if len(reg.Requests()) == 0 {
		t.Errorf("registry-preflight is on, yet the registry named by the workspace .npmrc saw no request")
	}
	runnerTakesOver(t, job, tarballs)
}

// checkJournal: the run uploaded its journal before any other file and deleted it at the end, as in the
// binary's tests.
func checkJournal(t *testing.T, reqs []string) {
	t.Helper()
	var firstUpload string
	deleted := false
	for _, r := range reqs {
		if strings.HasPrefix(r, "POST uploads") && firstUpload == "" {
			firstUpload = r
		}
		deleted = deleted || strings.HasPrefix(r, "DELETE api /repos/waxseal/waxseal/releases/assets/")
	}
	if !strings.Contains(firstUpload, "name=waxseal-run-") || !deleted {
		t.Errorf("first upload %q, an asset deleted: %v; want the journal first, then deleted:\n%s", firstUpload, deleted, strings.Join(reqs, "\n"))
	}
}

// checkResults reads .waxseal/results.json as a later step would: both packages with their log indexes, and each
// release asset with its outcome.
func checkResults(t *testing.T, job *actionrunner.Job, tarballs []string, stale string) {
	t.Helper()
	var doc struct {
		Packages []struct {
			Tarball       string `json:"tarball"`
			RekorLogIndex int64  `json:"rekorLogIndex"`
		} `json:"packages"`
		ReleaseAssets []struct{ Name, Outcome string } `json:"releaseAssets"`
		Attestations  []json.RawMessage                `json:"attestations"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(job.Workspace, ".waxseal", "results.json")), &doc); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]string{}
	for _, a := range doc.ReleaseAssets {
		outcomes[a.Name] = a.Outcome
	}
	if len(doc.Packages) != 2 || len(doc.Attestations) != 2 || len(outcomes) != 4*len(tarballs) || outcomes[stale] != "replaced" {
		t.Errorf("results.json: %d packages, %d attestations, outcomes %v; want 2, 2, 8 assets with %s replaced", len(doc.Packages),
			len(doc.Attestations), outcomes, stale)
	}
}

// checkBundlesVerify verifies each signature bundle the container wrote against its tarball.
func checkBundlesVerify(t *testing.T, tarballs []string, san string) {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(tr, verifier.Identity{SAN: san, Issuer: stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tgz := range tarballs {
		var b bundle.Bundle
		if err := b.UnmarshalJSON(mustRead(t, tgz+".sigstore.json")); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(mustRead(t, tgz))
		if _, err := v.VerifyArtifact(&b, sum[:]); err != nil {
			t.Errorf("%s: the container's bundle does not verify: %v", filepath.Base(tgz), err)
		}
	}
}

// runnerTakesOver is what follows a container action on a runner, as the runner's user: a step reads the bundles
// and the results and moves them (npm publish --provenance-file, an upload step), and the next job's checkout
// cleans the workspace (actions/checkout runs `git clean -ffdx`, and deletes the directory when it must start
// over). Files a container writes are root's: this fails if any of them, or a directory it made, locks the
// runner's user out.
func runnerTakesOver(t *testing.T, job *actionrunner.Job, tarballs []string) {
	t.Helper()
	asRunner(t, job, "mkdir", "released")
	for _, tgz := range tarballs {
		rel := "dist/" + filepath.Base(tgz)
		for _, f := range []string{rel + ".sigstore.json", rel + ".provenance.sigstore.json", rel + ".intoto.jsonl"} {
			asRunner(t, job, "cat", f)
			asRunner(t, job, "mv", f, "released/")
		}
	}
	asRunner(t, job, "cat", ".waxseal/results.json")
	asRunner(t, job, "mv", ".waxseal/results.json", "released/")
	asRunner(t, job, "git", "clean", "-ffdx")
	if left := asRunner(t, job, "git", "status", "--porcelain", "--ignored"); left != "" {
		t.Errorf("git clean -ffdx as the runner's user left files behind:\n%s", left)
	}
	if out, err := runnerCommand(t, job, "rm", "-rf", job.Workspace).CombinedOutput(); err != nil {
		t.Errorf("rm -rf of the workspace as the runner's user: %v\n%s", err, out)
	}
	if _, err := os.Stat(job.Workspace); !os.IsNotExist(err) {
		t.Errorf("the workspace is still there after rm -rf: %v", err)
	}
}

// containerFailedUpload: an upload GitHub refuses for good fails the step with an ::error annotation and a
// non-zero exit; the release is left as it was found (the journal undone), and the step still writes its
// results, summary and outputs, as the binary does.
func containerFailedUpload(t *testing.T, rig *containerRig, issuer *issuerRecorder) {
	const token = "ghs_containerFails0123456789"
	fake, reg, relID := containerFakes(t, token)
	fake.Inject(githubfake.Fault{Method: http.MethodPost, Host: "uploads", PathPrefix: "/repos/", Name: ".provenance.sigstore.json",
		Status: http.StatusUnprocessableEntity, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"message":"Validation Failed","errors":[{"resource":"ReleaseAsset","code":"custom","field":"name","message":"name is not allowed"}]}`})
	job, _ := containerJob(t, reg.URL)
	step := runnerStep(t, job, fake, issuer.URL, containerInputs(nil))
	res := rig.run(t, job, step)
	if res.exit == 0 {
		t.Fatalf("the step succeeded although GitHub refused an upload:\n%s", res.stdout)
	}
	if !annotated(res.stdout, "upload") {
		t.Errorf("no ::error annotation says the upload failed:\n%s", res.stdout)
	}
	if left := fake.Assets(relID); len(left) != 0 {
		t.Errorf("the release was not left as found: %v", slices.Collect(maps.Keys(left)))
	}
	if !strings.Contains(res.summary, "The upload failed") || res.outputs["results"] != ".waxseal/results.json" {
		t.Errorf("a failed run should still say what it did: results %q, summary:\n%s", res.outputs["results"], res.summary)
	}
	_, toks := issuer.seen()
	checkNoSecrets(t, res, append(toks, token, step.RuntimeToken)...)
	asRunner(t, job, "git", "clean", "-ffdx")
}
