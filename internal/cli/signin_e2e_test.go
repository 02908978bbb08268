//go:build e2e

package cli

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/testing/signin"
)

// atTerminal runs waxseal as a person on a laptop would: a terminal, no CI, no token; the browser is the stack's
// test browser playing behaviour b (set as BROWSER, the command waxseal runs with the authorization URL, as
// oauthflow runs xdg-open); the npm registry is the e2e one.
func atTerminal(t *testing.T, b signin.Behaviour, stderr *signin.Screen, args ...string) error {
	t.Helper()
	env := map[string]string{"npm_config_registry": testRegistry(),
		"BROWSER": stackVar(t, "WAXSEAL_STACK_BROWSER") + " -behaviour " + string(b)}
	e := &Env{Stdout: stderr, Stderr: stderr, Getenv: func(k string) string { return env[k] },
		Interactive: func() bool { return true }}
	return e.Run(t.Context(), args)
}

var deviceCode = regexp.MustCompile(`enter the code ([A-Z]{4}-[A-Z]{4})`)

// decideDevice plays the person at the other device: once waxseal shows the code, they decide.
func decideDevice(t *testing.T, out *signin.Screen, d signin.Decision) {
	done := make(chan struct{})
	t.Cleanup(func() { <-done }) // t.Context() has ended by then, which ends the wait
	go func() {
		defer close(done)
		m := out.WaitFor(t.Context(), deviceCode)
		if m == nil {
			return
		}
		if err := signin.Decide(t.Context(), http.DefaultClient, stackVar(t, "WAXSEAL_STACK_SIGNIN_ISSUER"), m[1], d); err != nil {
			t.Errorf("deciding on the device code: %v", err)
		}
	}()
}

// TestSignInE2E signs from "a laptop" with the browser and the device sign-in against the stack's provider
// (derived from the stack's signing config, as public-good's names oauth2.sigstore.dev), and checks the bundles
// carry the person's email and the provider as issuer, verified by waxseal and by cosign.
func TestSignInE2E(t *testing.T) {
	email, issuer := stackVar(t, "WAXSEAL_STACK_SIGNIN_EMAIL"), stackVar(t, "WAXSEAL_STACK_SIGNIN_ISSUER")
	trustedRoot := stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT")
	for _, tc := range []struct {
		name   string
		p      profile
		device bool
		want   string // what the person was shown
	}{
		{name: "browser", p: profiles(t)[1], want: "Signing in at " + issuer + ": your browser opens now. If it does not, visit:\n    " + issuer + "/authorize?"},
		{name: "device", p: profiles(t)[0], device: true, want: "To sign in, open " + issuer + "/device on any device and enter the code "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tarballs := copyPackages(t)[:2]
			out := signin.NewScreen()
			args := []string{"sign", "--trusted-root", trustedRoot, "--signing-config", tc.p.signingConfig, "--output-json", filepath.Join(t.TempDir(), "r.json")}
			if tc.device {
				args = append(args, "--oidc-device")
				decideDevice(t, out, signin.Approve)
			}
			if err := atTerminal(t, signin.Follow, out, append(args, tarballs...)...); err != nil {
				t.Fatalf("waxseal sign: %v\n%s", err, out)
			}
			said := out.String()
			t.Logf("waxseal sign said:\n%s", said)
			for _, want := range []string{tc.want,
				"skipped provenance: it needs a CI identity (a GitHub Actions job's token)",
				"skipped npm's provenance checks that need a CI identity (runner environment, repository.url against the workflow's repository); package.json \"private\" and duplicate name@version were checked",
				"signed 2 artifact(s) as " + email + " (issuer " + issuer + ")",
				"verify with: waxseal verify ",
			} {
				if !strings.Contains(said, want) {
					t.Errorf("waxseal sign did not say %q", want)
				}
			}
			// The verify command it printed works as pasted: both files, the signer, and this private instance.
			_, line, _ := strings.Cut(said, "verify with: ")
			line, _, _ = strings.Cut(line, "\n")
			words := shellWords(t, line)
			if len(words) < 2 || words[0] != "waxseal" || !slices.Contains(words, tarballs[0]) || !slices.Contains(words, tarballs[1]) ||
				!slices.Contains(words, trustedRoot) {
				t.Errorf("the printed verify command does not name both files and the trusted root: %q", line)
			} else if vout, _, err := runCLI(t, func(string) string { return "" }, words[1:]...); err != nil {
				t.Errorf("the printed verify command %q: %v\n%s", line, err, vout)
			}
			if strings.Contains(said, "eyJ") {
				t.Error("the output shows a token")
			}
			for _, tb := range tarballs {
				if _, err := os.Stat(tb + ".provenance.sigstore.json"); !os.IsNotExist(err) {
					t.Errorf("%s.provenance.sigstore.json was written without a CI identity", tb)
				}
				checkEmailCertificate(t, tb+".sigstore.json", email, issuer)
				vout, _, err := runCLI(t, func(string) string { return "" }, "verify", tb, "--no-provenance", "--trusted-root", trustedRoot,
					"--certificate-identity", email, "--certificate-oidc-issuer", issuer)
				if err != nil {
					t.Errorf("waxseal verify %s: %v\n%s", tb, err, vout)
				}
				cosign(t, tc.p, "verify-blob", "--bundle", tb+".sigstore.json", "--new-bundle-format", "--trusted-root", trustedRoot,
					"--certificate-identity", email, "--certificate-oidc-issuer", issuer, tb)
			}
		})
	}
}

// checkEmailCertificate checks the bundle's certificate names the person (an email SAN) and the provider.
func checkEmailCertificate(t *testing.T, path, email, issuer string) {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := b.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	cert := vc.Certificate()
	sum, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.EmailAddresses) != 1 || cert.EmailAddresses[0] != email || sum.Issuer != issuer || sum.SourceRepositoryURI != "" {
		t.Errorf("%s: certificate emails %q, issuer %q, repository %q; want %q from %q and no repository",
			path, cert.EmailAddresses, sum.Issuer, sum.SourceRepositoryURI, email, issuer)
	}
}

// TestSignInRefusesE2E: each way a sign-in can go wrong ends with one clear message and nothing written.
func TestSignInRefusesE2E(t *testing.T) {
	issuer := stackVar(t, "WAXSEAL_STACK_SIGNIN_ISSUER")
	for _, tc := range []struct {
		name    string
		browser signin.Behaviour
		device  signin.Decision // with --oidc-device
		extra   []string
		wantErr error
		want    string
	}{
		{name: "browser: declined", browser: signin.Refuse, wantErr: oidc.ErrSignInDeclined,
			want: `signing in at ` + issuer + `: the sign-in was declined: the provider answered access_denied: "the test user denied the request"; run waxseal again and approve the request, or pass --identity-token`},
		{name: "browser: state does not match", browser: signin.ForgeState, extra: []string{"--oidc-timeout", "3s"}, wantErr: oidc.ErrSignInMismatch,
			want: `signing in at ` + issuer + `: the sign-in timed out: nobody finished signing in within 3s (--oidc-timeout), and the browser came back 1 time(s) with another state than waxseal sent, which it ignored`},
		{name: "browser: PKCE verifier does not match", browser: signin.ForgeChallenge, wantErr: oidc.ErrSignInMismatch,
			want: `signing in at ` + issuer + `: the sign-in answer does not belong to this sign-in: the provider refused to trade its code for a token (invalid_grant: "code_verifier does not match the code_challenge")`},
		{name: "browser: timed out", browser: signin.WalkAway, extra: []string{"--oidc-timeout", "3s"}, wantErr: oidc.ErrSignInTimedOut,
			want: `signing in at ` + issuer + `: the sign-in timed out: nobody finished signing in within 3s (--oidc-timeout): run waxseal again and use --oidc-device if the browser is on another machine`},
		{name: "device: declined", device: signin.Deny, wantErr: oidc.ErrSignInDeclined,
			want: `signing in at ` + issuer + `: the sign-in was declined: the provider answered access_denied`},
		{name: "device: code expired", device: signin.Expire, wantErr: oidc.ErrSignInTimedOut,
			want: `signing in at ` + issuer + `: the sign-in timed out: the code `},
		{name: "provenance asked for explicitly", browser: signin.Follow, extra: []string{"--provenance"},
			want: "provenance needs a CI identity, a GitHub Actions job's token (this one is from " + issuer + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tarballs := copyPackages(t)[:2]
			out := signin.NewScreen()
			result := filepath.Join(t.TempDir(), "r.json")
			args := append([]string{"sign", "--trusted-root", stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"),
				"--signing-config", stackVar(t, "WAXSEAL_STACK_SIGNING_CONFIG_V1"), "--output-json", result}, tc.extra...)
			if tc.device != "" {
				args = append(args, "--oidc-device")
				decideDevice(t, out, tc.device)
			}
			began := time.Now()
			err := atTerminal(t, tc.browser, out, append(args, tarballs...)...)
			if err == nil {
				t.Fatalf("waxseal sign succeeded, want %q\n%s", tc.want, out)
			}
			t.Logf("after %s: %v", time.Since(began).Round(time.Millisecond), err)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %v\nwant one line, %v, containing %q", err, tc.wantErr, tc.want)
			}
			if strings.Contains(out.String(), "eyJ") || strings.Contains(err.Error(), "eyJ") {
				t.Error("the output shows a token")
			}
			if strings.Contains(out.String(), "skipped ") {
				t.Errorf("a refused run says it skipped something:\n%s", out)
			}
			for _, f := range append([]string{result}, tarballs[0]+".sigstore.json", tarballs[1]+".sigstore.json",
				tarballs[0]+".provenance.sigstore.json", tarballs[1]+".provenance.sigstore.json") {
				if _, err := os.Stat(f); !os.IsNotExist(err) {
					t.Errorf("%s exists after a refused run", f)
				}
			}
		})
	}
}

// shellWords splits a command line as a POSIX shell reads it (bash does the reading).
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "bash", "-c", `eval "set -- $1"; printf '%s\0' "$@"`, "_", line).Output()
	if err != nil {
		t.Fatalf("bash could not read %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}
