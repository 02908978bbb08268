package seal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/trust"
)

// packTarball writes a minimal npm tarball holding package/package.json.
func packTarball(t *testing.T, dir string, manifest map[string]any) string {
	t.Helper()
	pj, _ := json.Marshal(manifest)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(pj)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(pj)
	tw.Close()
	gz.Close()
	path := filepath.Join(dir, manifest["name"].(string)+"-"+manifest["version"].(string)+".tgz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// personToken is the ID token of a person's sign-in (an email, no workflow claims), signed by a throwaway key.
func personToken(t *testing.T) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, nil)
	tok, err := jwt.Signed(sig).Claims(map[string]any{"iss": "https://oauth2.sigstore.dev/auth", "sub": "x", "aud": "sigstore",
		"exp": time.Now().Add(time.Minute).Unix(), "email": "dev@example.com", "email_verified": true}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestNPMChecksWithoutCIIdentity(t *testing.T) {
	t.Parallel()
	tb := func(path, name string, private bool, repo string) *npm.Tarball {
		return &npm.Tarball{Path: path, Manifest: npm.Manifest{Name: name, Version: "1.0.0", Private: private, Repository: npm.Repository{URL: repo}}}
	}
	tarballs := []*npm.Tarball{tb("/w/a.tgz", "a", false, ""), tb("/w/b.tgz", "b", true, "git+https://github.com/elsewhere/b.git"),
		tb("/w/c.tgz", "c", false, "git+https://github.com/octo/c.git"), tb("/w/c-again.tgz", "c", false, "")}
	for _, tc := range []struct {
		name string
		ci   bool
		want []string
	}{
		// Without a CI identity: no repository to compare with and no runner, so only "private" and duplicates.
		{name: "personal", want: []string{"", `package.json "private"`, "is also in", "is also in"}},
		// A CI identity (octo/pkg on a self-hosted runner): every check.
		{name: "ci", ci: true, want: []string{`"repository.url"`, `package.json "private"`, `"repository.url"`, `"repository.url"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := &Report{Artifacts: make([]Artifact, len(tarballs))}
			if tc.ci {
				rep.Source.ServerURL, rep.Source.Repository, rep.Source.RunnerEnvironment = "https://github.com", "octo/pkg", "self-hosted"
			}
			npmChecks(npmArtifacts(tarballs...), rep, tc.ci)
			for i, want := range tc.want {
				got := rep.Artifacts[i].Error
				if (want == "") != (got == "") || !strings.Contains(got, want) {
					t.Errorf("package %d error = %q, want one containing %q", i, got, want)
				}
				if !tc.ci && (strings.Contains(got, "runner") || strings.Contains(got, "repository.url")) {
					t.Errorf("package %d: a check that needs a CI identity ran without one: %q", i, got)
				}
			}
			if got := rep.Artifacts[1].Error; tc.ci && (!strings.Contains(got, "runner") || strings.Count(got, "; ") < 2) {
				t.Errorf("with a CI identity, b fails three checks in one line, got %q", got)
			}
		})
	}
}

// TestSignWithoutCIIdentity: a person's sign-in signs without provenance and says so, unless provenance was asked
// for explicitly; the package's own checks still stop the run before anything is signed.
func TestSignWithoutCIIdentity(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := packTarball(t, dir, map[string]any{"name": "mine", "version": "1.0.0"})
	private := packTarball(t, dir, map[string]any{"name": "secret", "version": "1.0.0", "private": true})
	// Trust material that cannot be read: a run that gets past the checks stops there, before any network.
	noTrust := trust.Options{TrustedRootPath: filepath.Join(dir, "missing.json"), SigningConfigPath: filepath.Join(dir, "missing.json")}
	for _, tc := range []struct {
		name        string
		files       []string
		optional    bool
		wantErr     string
		wantSkipped int
		wantFailed  string
	}{
		{name: "provenance asked for", files: []string{ok}, wantErr: "provenance needs a CI identity, a GitHub Actions job's token (this one is from https://oauth2.sigstore.dev/auth)"},
		{name: "first run", files: []string{ok}, optional: true, wantErr: "reading trusted root", wantSkipped: 2},
		// A package npm refuses whoever signs it stops the run before the sign-in: nothing to skip yet.
		{name: "private package", files: []string{ok, private}, optional: true, wantSkipped: 0, wantFailed: `package.json "private"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var progress bytes.Buffer
			rep, err := Sign(t.Context(), Options{Artifacts: npmInputs(tc.files...), Provenance: true, ProvenanceOptional: tc.optional, Trust: noTrust,
				Tokens: &oidc.StaticSource{Value: personToken(t)}, Progress: &progress})
			if err == nil || tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Sign() error = %v, want %q", err, tc.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
			skipped := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "skipped ") {
					skipped++
				}
			}
			if skipped != tc.wantSkipped {
				t.Errorf("%d skipped lines, want %d:\n%s", skipped, tc.wantSkipped, progress.String())
			}
			if tc.wantSkipped > 0 && (!strings.HasPrefix(lines[0], "skipped provenance: it needs a CI identity") ||
				!strings.HasPrefix(lines[1], "skipped npm's provenance checks that need a CI identity")) {
				t.Errorf("progress:\n%s", progress.String())
			}
			if tc.wantFailed == "" {
				return
			}
			if rep == nil || !strings.Contains(rep.Artifacts[1].Error, tc.wantFailed) || rep.Artifacts[0].Error != "" || len(rep.Skipped) != 0 {
				t.Fatalf("report %+v, want the private package refused before the sign-in", rep)
			}
			for _, f := range tc.files {
				if _, err := os.Stat(f + ".sigstore.json"); !os.IsNotExist(err) {
					t.Errorf("%s.sigstore.json exists after a refused run", f)
				}
			}
		})
	}
}

func TestCheckIdentity(t *testing.T) {
	t.Parallel()
	gh := func(vis, issuer string) *oidc.Claims {
		return &oidc.Claims{Issuer: issuer, Repository: "octo/pkg", WorkflowRef: "octo/pkg/.github/workflows/r.yml@refs/tags/v1", SHA: "abc",
			RepositoryVisibility: vis}
	}
	custom := trust.Options{TrustedRootPath: "root.json", SigningConfigPath: "sc.json"}
	for _, tc := range []struct {
		name        string
		opts        Options
		claims      *oidc.Claims
		wantErr     string
		wantWarning string
		wantRemedy  string // the remedies as the command line words them
	}{
		{name: "public repository", opts: Options{Provenance: true}, claims: gh("public", oidc.GitHubIssuer)},
		{name: "private repository with npm provenance", opts: Options{Provenance: true}, claims: gh("private", oidc.GitHubIssuer),
			wantErr: `"Unsupported GitHub Actions source repository visibility: private"`, wantRemedy: "--provenance=false"},
		{name: "internal repository with npm provenance", opts: Options{Provenance: true}, claims: gh("internal", oidc.GitHubIssuer),
			wantErr: "visibility: internal"},
		{name: "private repository on a private instance still cannot give npm provenance", opts: Options{Provenance: true, Trust: custom},
			claims: gh("private", oidc.GitHubIssuer), wantErr: "make octo/pkg public"},
		{name: "private repository into the public log", opts: Options{}, claims: gh("private", oidc.GitHubIssuer),
			wantErr: "if that is acceptable, allow it", wantRemedy: "--allow-private-repository; --trusted-root; --signing-config"},
		{name: "private repository into the public log, opted in", opts: Options{AllowPrivateRepository: true}, claims: gh("private", oidc.GitHubIssuer),
			wantWarning: "now in Sigstore's public transparency log"},
		{name: "private repository with the npm checks off, opted in", opts: Options{Provenance: true, SkipNPMChecksUnsafe: true, AllowPrivateRepository: true},
			claims: gh("private", oidc.GitHubIssuer), wantWarning: "(private repositories were allowed)"},
		{name: "private repository on a private instance", opts: Options{Trust: custom}, claims: gh("private", oidc.GitHubIssuer)},
		{name: "GitHub Enterprise Server issuer with npm provenance", opts: Options{Provenance: true},
			claims: gh("public", "https://ghes.example/_services/token"), wantErr: "accepts provenance from GitHub Actions on github.com"},
		{name: "GitHub Enterprise Server issuer without provenance", opts: Options{}, claims: gh("public", "https://ghes.example/_services/token")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			warning, err := tc.opts.checkIdentity(tc.claims)
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.wantRemedy != "" && !strings.HasSuffix(remedy.Explain(err, remedy.Flag).Error(), "("+tc.wantRemedy+")") {
				t.Errorf("err = %v, want the remedies (%s)", remedy.Explain(err, remedy.Flag), tc.wantRemedy)
			}
			if (tc.wantWarning == "") != (warning == "") || !strings.Contains(warning, tc.wantWarning) {
				t.Errorf("warning = %q, want %q", warning, tc.wantWarning)
			}
		})
	}
}
