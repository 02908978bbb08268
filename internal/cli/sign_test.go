package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/oidc"
)

func TestSignRefusesBadInvocations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	noOIDC := filepath.Join(dir, "no-oidc.json")
	sc, _ := root.NewSigningConfig(root.SigningConfigMediaType02, []root.Service{{URL: "http://fulcio", MajorAPIVersion: 1}}, nil,
		[]root.Service{{URL: "http://rekor", MajorAPIVersion: 1}}, root.ServiceConfiguration{}, nil, root.ServiceConfiguration{})
	if raw, err := sc.MarshalJSON(); err != nil || os.WriteFile(noOIDC, raw, 0o600) != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "x-1.0.0.tgz")
	if err := os.WriteFile(bad, []byte("not a tarball"), 0o600); err != nil {
		t.Fatal(err)
	}
	tgz := "../../testdata/example/waxseal-example-1.0.0.tgz" // npm pack's own: passes every local check
	bin, sums := filepath.Join(dir, "app.bin"), filepath.Join(dir, "SHA256SUMS")
	if err := os.WriteFile(bin, []byte("app"), 0o600); err != nil {
		t.Fatal(err)
	}
	// sha256("app"), then a line no sha256sum writes.
	if err := os.WriteFile(sums, []byte("a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333  app.bin\nnot a checksum\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		want       string
		wantErr    error
		wantCode   int
		wantStderr string
	}{
		{name: "nothing to sign", args: []string{"sign"}, want: "nothing to sign: pass the .tgz files", wantCode: 2},
		{name: "a missing file is named before the missing token", args: []string{"sign", "missing.tgz"}, want: `no file matches "missing.tgz"`, wantCode: 1},
		{name: "a missing artifact", args: []string{"sign", "--artifact", "dist/*.zip"}, want: `no file matches "dist/*.zip"`, wantCode: 1},
		{name: "bad concurrency", args: []string{"sign", "--concurrency", "0", "x.tgz"}, want: "--concurrency", wantCode: 2},
		{name: "a trusted root without its signing config", args: []string{"sign", "--trusted-root", "r.json", "missing.tgz"}, want: "pass --trusted-root and --signing-config together", wantCode: 2},
		{name: "staging and trusted root", args: []string{"sign", "--staging", "--trusted-root", "r.json", "x.tgz"}, want: "contradict", wantCode: 2},
		{name: "unknown flag", args: []string{"sign", "--nope", "x.tgz"}, want: "waxseal sign -h", wantCode: 2},
		{name: "no identity", args: []string{"sign", tgz}, wantErr: oidc.ErrNoToken, wantCode: 1},
		{name: "actions without id-token permission", args: []string{"sign", tgz}, env: map[string]string{"GITHUB_ACTIONS": "true"},
			wantErr: oidc.ErrNoIDTokenPermission, wantCode: 1},
		// With no token to be had, the files are still read and checked: their problems come out in the same run.
		{name: "a tarball npm would refuse is named before the missing token", args: []string{"sign", bad},
			want: "nothing was signed", wantStderr: "x-1.0.0.tgz", wantCode: 1},
		{name: "a bad checksums line is named before the missing token", args: []string{"sign", "--artifact", bin, "--checksums", sums},
			want: "nothing was signed", wantStderr: "SHA256SUMS line 2", wantCode: 1},
		{name: "actions without id-token permission, bad checksums", args: []string{"sign", "--artifact", bin, "--checksums", sums},
			env: map[string]string{"GITHUB_ACTIONS": "true"}, want: "nothing was signed", wantStderr: "SHA256SUMS line 2", wantCode: 1},
		{name: "glob matches nothing", args: []string{"sign", filepath.Join(dir, "*-9.9.9.tgz")}, env: map[string]string{"SIGSTORE_ID_TOKEN": "a.b.c"},
			want: "build it first (`npm pack` for a tarball)", wantCode: 1},
		{name: "unknown command", args: []string{"sing"}, want: "unknown command", wantCode: 2},
		{name: "bad sign-in timeout", args: []string{"sign", "--oidc-timeout", "0s", "x.tgz"}, want: "--oidc-timeout must be positive", wantCode: 2},
		// A device sign-in needs no terminal, but a provider: a private instance's config without oidcUrls names none.
		{name: "device sign-in, no provider", args: []string{"sign", "--oidc-device", "--trusted-root", "../../testdata/trust/public-good.trusted_root.json", "--signing-config", noOIDC, bad},
			want: "the config needs an oidcUrls entry valid now; or name the provider, or give a token) (--oidc-issuer; --identity-token)", wantCode: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			// No terminal: a person at one would be offered a browser sign-in instead of ErrNoToken.
			env := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return tc.env[k] }}
			err := env.Run(t.Context(), tc.args)
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if got := ExitCode(err); got != tc.wantCode {
				t.Errorf("ExitCode = %d, want %d", got, tc.wantCode)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// TestEveryCommandHasHelp: each command answers -h and --help with its usage on stdout, nothing on stderr, exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		for _, h := range []string{"-h", "--help"} {
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), []string{c.name, h}, &stdout, &stderr, func(string) string { return "" })
			if err != nil || stderr.Len() != 0 || !strings.Contains(stdout.String(), "waxseal "+c.name) {
				t.Errorf("waxseal %s %s: %v\nstdout: %s\nstderr: %s", c.name, h, err, stdout.String(), stderr.String())
			}
		}
	}
}

func TestSignHelpAndVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), []string{"sign", "-h"}, &stdout, &stderr, os.Getenv); err != nil {
		t.Fatalf("sign -h: %v", err)
	}
	if !strings.Contains(stdout.String(), "-skip-npm-checks") || !strings.Contains(stdout.String(), "UNSAFE") || stderr.Len() != 0 {
		t.Errorf("sign -h does not document --skip-npm-checks as unsafe on stdout:\n%s\nstderr: %s", stdout.String(), stderr.String())
	}
	// A bad flag is one line that says where the flags are listed, not the whole usage.
	stdout.Reset()
	err := Run(t.Context(), []string{"verify", "--nope", "x"}, &stdout, &stderr, os.Getenv)
	if err == nil || ExitCode(err) != 2 || stdout.Len() != 0 || stderr.Len() != 0 || strings.Count(err.Error(), "\n") != 0 ||
		!strings.Contains(err.Error(), "run 'waxseal verify -h' for the flags") {
		t.Errorf("a bad flag: %v; stdout %q; stderr %q", err, stdout.String(), stderr.String())
	}
	for _, v := range []string{"version", "--version", "-v"} {
		stdout.Reset()
		if err := Run(t.Context(), []string{v}, &stdout, &stderr, os.Getenv); err != nil || !strings.HasPrefix(stdout.String(), "waxseal ") {
			t.Errorf("%s printed %q, %v", v, stdout.String(), err)
		}
	}
	stdout.Reset()
	if err := Run(t.Context(), []string{"version"}, &stdout, &stderr, os.Getenv); err != nil || !strings.HasPrefix(stdout.String(), "waxseal ") {
		t.Errorf("version printed %q, %v", stdout.String(), err)
	}
}

func TestActionFailureIsReportedOnce(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	// An Actions job with a bad boolean input: the runner annotates it; main must not print it again.
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": t.TempDir(), "INPUT_PROVENANCE": "maybe"}
	err := (&Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }}).Run(t.Context(), []string{"action"})
	if err == nil {
		t.Fatal("action with an invalid input succeeded")
	}
	if ShouldPrint(err) {
		t.Errorf("ShouldPrint(%v) = true, want false: the action already reported it", err)
	}
	if !strings.Contains(stdout.String(), "::error") || !strings.Contains(stdout.String(), "maybe") {
		t.Errorf("the action did not annotate the bad input:\n%s", stdout.String())
	}
	if !ShouldPrint(errors.New("x")) {
		t.Error("ShouldPrint(plain error) = false")
	}
}
