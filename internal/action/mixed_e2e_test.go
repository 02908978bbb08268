//go:build e2e

package action

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/waxseal/waxseal/internal/bundlefile"
	"github.com/waxseal/waxseal/internal/github"
	"github.com/waxseal/waxseal/internal/testing/filecommands"
	"github.com/waxseal/waxseal/internal/testing/ghoidc"
	"github.com/waxseal/waxseal/internal/testing/githubfake"
)

// TestMixedReleaseE2E signs a whole release in one run of the Action's binary (as the container's entrypoint runs
// it): three binaries, the checksums file that lists them, an SBOM and two npm tarballs, with one certificate. The
// bundles go next to the release in the GitHub fake and the provenance into its attestation store. A consumer then
// downloads the release and runs every command the job summary prints, exactly as printed, with the real waxseal,
// cosign and gh (with --bundle, and online against the store), and checks every bundle with sigstore-js as npm 12
// bundles it and with sigstore-go's conformance client. A tampered binary, a binary's bundles moved onto another
// binary, and a binary signed by another repository are each refused by every one of them.
func TestMixedReleaseE2E(t *testing.T) {
	const token = "ghs_mixedE2E0123456789"
	fake := githubfake.New("waxseal", "waxseal", token)
	defer fake.Close()
	claims := ghoidc.DefaultClaims() // the repository's IDs, which verify --release learns from GitHub and pins
	fake.SetIDs(githubfake.IDs{Repository: atoi(t, claims["repository_id"]), Owner: atoi(t, claims["repository_owner_id"])})
	relID := fake.AddRelease("v1.2.3", true, true)
	home := t.TempDir()
	ws := filepath.Join(home, "workspace")
	dist := filepath.Join(ws, "dist")
	bins := []string{"app-darwin-arm64", "app-linux-amd64", "app-windows-amd64.exe"}
	var sums strings.Builder
	for _, b := range bins {
		data := make([]byte, 96<<10)
		_, _ = rand.Read(data)
		writeFile(t, filepath.Join(dist, b), data)
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(data), b)
	}
	writeFile(t, filepath.Join(dist, "SHA256SUMS"), []byte(sums.String()))
	writeFile(t, filepath.Join(dist, "app.spdx.json"), []byte(`{"spdxVersion":"SPDX-2.3","name":"app","packages":[]}`+"\n"))
	tarballs := []string{packAs(t, ws, "@waxseal-e2e/mixed", "1.0.0", "waxseal/waxseal"), packAs(t, ws, "waxseal-e2e-mixed", "2.0.0", "waxseal/waxseal")}

	env := e2eRunnerEnv(t, home, ws, token, fake.API.URL, "WAXSEAL_STACK_SIGNING_CONFIG_V1")
	for k, v := range map[string]string{"INPUT_PATHS": "dist/*.tgz", "INPUT_ARTIFACTS": "dist/app-*\ndist/*.spdx.json",
		"INPUT_CHECKSUMS": "dist/SHA256SUMS", "INPUT_ATTEST": "true", "INPUT_UPLOAD": "true", "INPUT_REGISTRY-PREFLIGHT": "false"} {
		env[k] = v
	}
	runActionBinary(t, ws, env)

	raw, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	out, err := filecommands.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	var arts []artifactOutput
	if err := json.Unmarshal([]byte(out["artifacts"]), &arts); err != nil || len(arts) != 7 {
		t.Fatalf("artifacts output = %s (%v), want 7", out["artifacts"], err)
	}
	san := out["certificate-identity"]
	issuer := stackVar(t, "WAXSEAL_STACK_OIDC_ISSUER")

	// One certificate for all 14 bundles, and the release holds every artifact (the tarballs stay for npm) with its
	// three bundle files.
	assets := fake.Assets(relID)
	var cert []byte
	var wantAssets []string
	for _, a := range arts {
		base := filepath.Base(a.Path)
		if a.Kind != "npm" {
			wantAssets = append(wantAssets, base)
		}
		wantAssets = append(wantAssets, bundlefile.Names(base, true)...)
		for _, name := range []string{bundlefile.SignatureOf(base), bundlefile.ProvenanceOf(base)} {
			var b bundle.Bundle
			if err := b.UnmarshalJSON(assets[name]); err != nil {
				t.Fatalf("%s on the release: %v", name, err)
			}
			der := b.GetVerificationMaterial().GetCertificate().GetRawBytes()
			if cert == nil {
				cert = der
			} else if string(der) != string(cert) {
				t.Errorf("%s has another certificate: one run, one certificate", name)
			}
		}
	}
	var gotAssets []string
	for n := range assets {
		gotAssets = append(gotAssets, n)
	}
	sort.Strings(gotAssets)
	sort.Strings(wantAssets)
	if !slices.Equal(gotAssets, wantAssets) {
		t.Errorf("release assets = %q\nwant %q", gotAssets, wantAssets)
	}
	if n := len(fake.Attestations()); n != 7 {
		t.Errorf("%d attestations stored, want one per artifact (7)", n)
	}

	// The release is published (the draft-first flow), and the consumer downloads it (and the tarballs, as npm
	// would fetch them), with the stack's root.
	fake.Publish(relID)
	consumer := t.TempDir()
	copyFile(t, stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"), filepath.Join(consumer, ".sigstore", "trusted_root.json"))
	for name, data := range assets {
		writeFile(t, filepath.Join(consumer, "dist", name), data)
	}
	for _, tgz := range tarballs {
		copyFile(t, tgz, filepath.Join(consumer, "dist", filepath.Base(tgz)))
	}
	tools := newToolbox(t, fake, token)
	blocks := summaryBlocks(t, env["GITHUB_STEP_SUMMARY"], len(arts))
	used := map[string]int{}
	for artifact, lines := range blocks {
		for _, line := range lines {
			used[strings.Join(strings.Fields(line)[:2], " ")]++
			if out, err := tools.run(consumer, line); err != nil {
				t.Errorf("%s: the printed command fails on the release as downloaded:\n%s\n%v\n%s", artifact, line, err, out)
			}
		}
	}
	for _, w := range []string{"waxseal verify", "cosign verify-blob", "cosign verify-blob-attestation", "gh attestation", "(cd dist"} {
		if used[w] == 0 {
			t.Errorf("no %q command was printed (printed %v)", w, used)
		}
	}
	if used["gh attestation"] != 14 {
		t.Errorf("%d gh commands, want two per artifact (with --bundle, and online)", used["gh attestation"])
	}
	// The whole release, and the downloaded directory, verify with waxseal too.
	for _, line := range []string{
		"waxseal verify dist --trusted-root .sigstore/trusted_root.json --repository waxseal/waxseal --certificate-oidc-issuer " + issuer,
		"GITHUB_TOKEN=" + token + " waxseal verify --release waxseal/waxseal@v1.2.3 --github-api-url " + fake.API.URL +
			" --ref refs/heads/main --trusted-root .sigstore/trusted_root.json --certificate-oidc-issuer " + issuer,
	} {
		if out, err := tools.run(consumer, line); err != nil || strings.Count(out, "VERIFIED ") < 5 {
			t.Errorf("%s\n%v\n%s", line, err, out)
		}
	}
	// Every bundle, by the two other clients.
	for _, a := range arts {
		file := filepath.Join(consumer, "dist", filepath.Base(a.Path))
		for _, b := range []string{bundlefile.SignatureOf(file), bundlefile.ProvenanceOf(file), bundlefile.JSONLOf(file)} {
			if out, err := tools.otherClients(consumer, b, file, san, issuer); err != nil {
				t.Errorf("%s: %v\n%s", b, err, out)
			}
		}
	}

	// The attacks: each must be refused by every command printed for the binary, and by both other clients.
	victim, neighbour := "dist/app-linux-amd64", "dist/app-darwin-arm64"
	tampered := copyDir(t, consumer)
	flipByte(t, filepath.Join(tampered, victim))
	moved := copyDir(t, consumer)
	for _, n := range bundlefile.Names("", true) {
		copyFile(t, filepath.Join(moved, victim+n), filepath.Join(moved, neighbour+n))
	}
	foreign := foreignBinary(t, consumer, victim, fake, token)
	for _, attack := range []struct {
		name, dir, artifact string
		bundleOnly          bool // the online check, which takes no bundle file, is not what this attack changes
	}{
		{"a tampered binary", tampered, victim, false},
		{"bundles moved to another binary", moved, neighbour, true},
		{"a binary signed by another repository", foreign, victim, false},
	} {
		refused := 0
		for _, line := range blocks[attack.artifact] {
			if attack.bundleOnly && strings.HasPrefix(line, "gh ") && !strings.Contains(line, "--bundle") {
				continue
			}
			refused++
			if out, err := tools.run(attack.dir, line); err == nil {
				t.Errorf("%s is accepted:\n%s\n%s", attack.name, line, out)
			} else if strings.Contains(out, "no attestations found") && attack.name == "a binary signed by another repository" {
				t.Errorf("%s: the online check found no attestation, so its refusal proves nothing:\n%s\n%s", attack.name, line, out)
			}
		}
		if refused < 4 {
			t.Errorf("%s: only %d printed commands were tried (block %q)", attack.name, refused, attack.artifact)
		}
		file := filepath.Join(attack.dir, attack.artifact)
		for _, b := range []string{bundlefile.SignatureOf(file), bundlefile.ProvenanceOf(file)} {
			if out, err := tools.otherClients(attack.dir, b, file, san, issuer); err == nil {
				t.Errorf("%s is accepted by sigstore-js or sigstore-go (%s):\n%s", attack.name, b, out)
			}
		}
	}
}

// toolbox runs the real clients: waxseal, cosign and gh on PATH (gh reaching the GitHub fake as github.localhost),
// sigstore-js from npm 12's own node_modules, and sigstore-go's conformance client.
type toolbox struct {
	t        *testing.T
	env      []string
	npmMods  string
	sgClient string
}

func newToolbox(t *testing.T, store *githubfake.Server, token string) *toolbox {
	t.Helper()
	path := strings.Join([]string{filepath.Dir(buildBinary(t)), filepath.Dir(stackVar(t, "WAXSEAL_STACK_COSIGN")),
		filepath.Dir(stackVar(t, "WAXSEAL_STACK_GH")), os.Getenv("PATH")}, string(os.PathListSeparator))
	home := t.TempDir()
	env := []string{"PATH=" + path, "HOME=" + home, "GH_CONFIG_DIR=" + filepath.Join(home, "gh"), "GH_NO_UPDATE_NOTIFIER=1",
		"GH_PROMPT_DISABLED=1", "TUF_ROOT=" + filepath.Join(home, "tuf"), "SIGSTORE_NO_CACHE=1", "NO_COLOR=1",
		"GH_HOST=github.localhost", "HTTP_PROXY=" + store.API.URL, "GH_TOKEN=" + token}
	sg := filepath.Join(t.TempDir(), "sigstore-go-conformance")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", sg, "github.com/sigstore/sigstore-go/test/conformance")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building sigstore-go's conformance client: %v\n%s", err, out)
	}
	npm12 := stackVar(t, "WAXSEAL_STACK_NPM_12") // .../node_modules/npm/bin/npm-cli.js
	return &toolbox{t: t, env: env, npmMods: filepath.Join(filepath.Dir(filepath.Dir(npm12)), "node_modules"), sgClient: sg}
}

func (tb *toolbox) run(dir, line string) (string, error) {
	cmd := exec.CommandContext(tb.t.Context(), "bash", "-c", line)
	cmd.Dir, cmd.Env = dir, tb.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// otherClients verifies bundle over file with sigstore-js and with sigstore-go's conformance client; it fails
// unless both accept.
func (tb *toolbox) otherClients(dir, bundlePath, file, san, issuer string) (string, error) {
	root := filepath.Join(dir, ".sigstore", "trusted_root.json")
	js := exec.CommandContext(tb.t.Context(), "node", "../../test/sigstorejs/verify.mjs", tb.npmMods, root, bundlePath, file, san, issuer)
	jsOut, jsErr := js.CombinedOutput()
	sg := exec.CommandContext(tb.t.Context(), tb.sgClient, "verify-bundle", "--bundle", bundlePath, "--certificate-identity", san,
		"--certificate-oidc-issuer", issuer, "--trusted-root", root, file)
	sgOut, sgErr := sg.CombinedOutput()
	out := "sigstore-js: " + string(jsOut) + "\nsigstore-go: " + string(sgOut)
	if jsErr != nil || sgErr != nil {
		return out, fmt.Errorf("sigstore-js: %v, sigstore-go: %v", jsErr, sgErr)
	}
	return out, nil
}

// summaryBlocks reads the step summary's verify commands: artifact (as its <summary> names it, the workspace path
// for a file) -> lines. It requires one block per artifact.
func summaryBlocks(t *testing.T, path string, want int) map[string][]string {
	t.Helper()
	summary := string(mustRead(t, path))
	out := map[string][]string{}
	for _, part := range strings.Split(summary, "<details")[1:] {
		title, _, _ := strings.Cut(strings.SplitN(part, "<summary>", 2)[1], "</summary>")
		m := shBlock.FindStringSubmatch(part)
		if m == nil {
			t.Fatalf("no sh block for %s:\n%s", title, summary)
		}
		out[title] = strings.Split(m[2], "\n")
	}
	if len(out) != want {
		t.Fatalf("the summary has %d verify blocks, want %d:\n%s", len(out), want, summary)
	}
	return out
}

// foreignBinary is a copy of the consumer's directory where victim is another binary, signed by mallory/evil's own
// release workflow (another repository, another certificate identity), its provenance also in the attestation store.
func foreignBinary(t *testing.T, consumer, victim string, store *githubfake.Server, token string) string {
	t.Helper()
	dir := copyDir(t, consumer)
	evil := make([]byte, 4096)
	_, _ = rand.Read(evil)
	writeFile(t, filepath.Join(dir, victim), evil)
	evilToken := mintToken(t, ghoidc.Claims{"repository": "mallory/evil", "repository_id": "666000666", "repository_owner": "mallory",
		"repository_owner_id": "666000667", "workflow_ref": "mallory/evil/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_ref": "mallory/evil/.github/workflows/release.yml@refs/heads/main"})
	cmd := exec.CommandContext(t.Context(), buildBinary(t), "sign", "--trusted-root", ".sigstore/trusted_root.json",
		"--signing-config", stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V1"), "--registry-preflight=false", "--artifact", victim)
	cmd.Dir, cmd.Env = dir, []string{"SIGSTORE_ID_TOKEN=" + evilToken, "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mallory signs: %v\n%s", err, out)
	}
	copyFile(t, filepath.Join(dir, bundlefile.ProvenanceOf(victim)), filepath.Join(dir, bundlefile.JSONLOf(victim)))
	ghc, err := github.New(github.Config{APIURL: store.API.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := ghc.Repo("waxseal/waxseal")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Attest(t.Context(), mustRead(t, filepath.Join(dir, bundlefile.ProvenanceOf(victim)))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b := mustRead(t, path)
	b[len(b)/2] ^= 0x01
	writeFile(t, path, b)
}

// copyDir copies src (files and directories) into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		copyFile(t, p, filepath.Join(dst, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func atoi(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(v.(string), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
