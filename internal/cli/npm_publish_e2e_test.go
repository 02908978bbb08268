//go:build e2e

package cli

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/npmtrust"
	"github.com/waxseal/waxseal/internal/testing/tufrepo"
)

// npmPublish runs `npm publish TARBALL --provenance-file BUNDLE` with an unmodified npm against reg, trusting
// the stack through tr; anchor is the TUF root npm's cache is seeded with.
func npmPublish(t *testing.T, npmCLI string, tr *npmtrust.Trust, anchor []byte, reg *npmregistry.Server, tarball, bundle string) (string, error) {
	t.Helper()
	cmd, err := tr.Publish(t.Context(), npmCLI, reg.URL, reg.Token, anchor, t.TempDir(), tarball, "--provenance-file", bundle, "--access", "public")
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestNPMPublishE2E: unmodified npm CLIs (the newest 11.x and 12.x) publish waxseal's output with
// --provenance-file, verifying it against the trusted root they fetch through TUF (here, the stack's), on every
// profile waxseal offers. The registry must receive the bundle byte for byte as the <name>-<version>.sigstore
// attachment, from the .sigstore.json and from the .intoto.jsonl upload. npm must refuse the provenance of another
// tarball and of another version, a bundle whose signature was tampered with, and any bundle when its TUF anchor
// is not the repository's.
func TestNPMPublishE2E(t *testing.T) {
	trustedRoot, err := os.ReadFile(stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := npmtrust.Start(trustedRoot, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	foreign, err := tufrepo.New(map[string][]byte{"trusted_root.json": trustedRoot})
	if err != nil {
		t.Fatal(err)
	}
	npms := map[string]string{"npm 11": stackVar(t, "WAXSEAL_STACK_NPM_11"), "npm 12": stackVar(t, "WAXSEAL_STACK_NPM_12")}
	for _, p := range profiles(t) {
		t.Run(p.name, func(t *testing.T) {
			dir := t.TempDir()
			version, otherVersion := map[bool]string{false: "1.0.0", true: "2.0.0"}[p.rekorV2], map[bool]string{false: "1.0.1", true: "2.0.1"}[p.rekorV2]
			scoped := npmPack(t, dir, "@waxseal-e2e/npm-publish", version, map[string][]byte{"index.js": []byte("module.exports = 1\n")})
			plain := npmPack(t, dir, "waxseal-e2e-npm-plain", version, map[string][]byte{"index.js": []byte("module.exports = 2\n")})
			other := npmPack(t, dir, "@waxseal-e2e/npm-publish", otherVersion, map[string][]byte{"index.js": []byte("module.exports = 3\n")})
			if _, stderr, err := runCLI(t, stackGetenv(t, nil), "sign", "--trusted-root", stackVar(t, "WAXSEAL_STACK_TRUSTED_ROOT"),
				"--signing-config", p.signingConfig, scoped, plain, other); err != nil {
				t.Fatalf("waxseal sign: %v\n%s", err, stderr)
			}
			// The Scorecard asset: the same bundle as one line of JSON.
			intoto := plain + ".intoto.jsonl"
			b, _ := os.ReadFile(plain + ".provenance.sigstore.json")
			if err := os.WriteFile(intoto, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			for name, cli := range npms {
				t.Run(name, func(t *testing.T) {
					reg := npmregistry.New("e2e-token")
					t.Cleanup(reg.Close)
					for _, c := range []struct{ tarball, bundle, name, version string }{
						{scoped, scoped + ".provenance.sigstore.json", "@waxseal-e2e/npm-publish", version},
						{plain, intoto, "waxseal-e2e-npm-plain", version},
					} {
						out, err := npmPublish(t, cli, tr, tr.Root, reg, c.tarball, c.bundle)
						if err != nil {
							t.Fatalf("%s publish %s --provenance-file %s: %v\n%s", name, filepath.Base(c.tarball), filepath.Base(c.bundle), err, out)
						}
						t.Logf("%s publish %s --provenance-file %s:\n%s", name, filepath.Base(c.tarball), filepath.Base(c.bundle), out)
						checkAttachment(t, reg, c.name, c.version, c.tarball+".provenance.sigstore.json")
					}
					tampered := filepath.Join(t.TempDir(), "tampered.sigstore.json")
					tamperSignature(t, other+".provenance.sigstore.json", tampered)
					for _, neg := range []struct {
						what, bundle string
						anchor       []byte
						want         string
					}{
						{"provenance of another package", plain + ".provenance.sigstore.json", tr.Root, "does not match the package"},
						{"provenance of another version", scoped + ".provenance.sigstore.json", tr.Root, "does not match the package"},
						{"a bundle whose signature was changed", tampered, tr.Root, "signature"},
						{"a TUF anchor that is not the repository's", other + ".provenance.sigstore.json", foreign.Root, "TUF"},
					} {
						before := len(reg.Publishes())
						out, err := npmPublish(t, cli, tr, neg.anchor, reg, other, neg.bundle)
						if err == nil || len(reg.Publishes()) != before || !strings.Contains(out, neg.want) {
							t.Errorf("%s accepted %s (or refused it without saying %q): %v\n%s", name, neg.what, neg.want, err, out)
						}
						t.Logf("%s refuses %s:\n%s", name, neg.what, lastLines(out, 4))
					}
					// The same tarball with its own provenance goes through: the refusals were for their reasons.
					if out, err := npmPublish(t, cli, tr, tr.Root, reg, other, other+".provenance.sigstore.json"); err != nil {
						t.Fatalf("%s publish %s with its own provenance: %v\n%s", name, filepath.Base(other), err, out)
					}
					checkAttachment(t, reg, "@waxseal-e2e/npm-publish", otherVersion, other+".provenance.sigstore.json")
				})
			}
		})
	}
}

// checkAttachment checks the registry received bundle byte for byte as NAME-VERSION.sigstore, with the bundle's
// media type.
func checkAttachment(t *testing.T, reg *npmregistry.Server, name, version, bundle string) {
	t.Helper()
	want, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	pubs := reg.Publishes()
	if len(pubs) == 0 {
		t.Fatal("the registry received no publish")
	}
	att, ok := pubs[len(pubs)-1].Attachments[name+"-"+version+".sigstore"]
	if !ok {
		t.Fatalf("the publish of %s@%s has no %s-%s.sigstore attachment: %v", name, version, name, version, slices.Collect(maps.Keys(pubs[len(pubs)-1].Attachments)))
	}
	var mt struct{ MediaType string }
	_ = json.Unmarshal(want, &mt)
	if !bytes.Equal(att.Data, bytes.TrimSpace(want)) || att.ContentType != mt.MediaType {
		t.Errorf("the registry received %d bytes (%s) as the provenance, want the bundle's %d bytes (%s)", len(att.Data), att.ContentType, len(want), mt.MediaType)
	}
}

// tamperSignature copies a bundle with one bit of its DSSE signature flipped.
func tamperSignature(t *testing.T, src, dst string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	sigs := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)
	sig := sigs[0].(map[string]any)
	s := []byte(sig["sig"].(string))
	s[10] ^= 0x01
	if s[10] == '+' || s[10] == '/' || s[10] == '=' {
		s[10] = 'A'
	}
	sig["sig"] = string(s)
	out, _ := json.Marshal(b)
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
