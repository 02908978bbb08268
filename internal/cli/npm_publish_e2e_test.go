//go:build e2e

package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"maps"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/tufrepo"
)

// tufMirror is Sigstore's TUF mirror as sigstore-js (inside npm) reaches it.
const tufMirror = "tuf-repo-cdn.sigstore.dev"

// npmTrust makes unmodified npm trust the local stack: a real TUF repository whose trusted_root.json target is the
// stack's, served over HTTPS as tuf-repo-cdn.sigstore.dev on this network namespace's loopback, a CA for that
// name, a hosts file mapping the name to the loopback (bind-mounted over /etc/hosts in a private mount namespace,
// since npm 12's fetch ignores proxy settings), and a TUF cache seeded with the repository's root, where
// @sigstore/tuf keeps its trust anchor.
type npmTrust struct {
	caFile, hostsFile string
	root              []byte // the TUF root to seed
}

func startNPMTrust(t *testing.T, trustedRoot []byte) *npmTrust {
	t.Helper()
	repo, err := tufrepo.New(map[string][]byte{"trusted_root.json": trustedRoot})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, cert := tlsFor(t, tufMirror)
	ln, err := net.Listen("tcp", "127.0.0.1:443") // run.sh's network namespace: port 443 is free, and we are root
	if err != nil {
		t.Fatalf("serving the TUF mirror on 127.0.0.1:443: %v", err)
	}
	srv := &http.Server{Handler: repo, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	tr := &npmTrust{caFile: filepath.Join(dir, "ca.pem"), hostsFile: filepath.Join(dir, "hosts"), root: repo.Root}
	if err := os.WriteFile(tr.caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tr.hostsFile, []byte("127.0.0.1 localhost "+tufMirror+"\n::1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr
}

// tlsFor makes a CA and a leaf certificate for host, returning the CA's PEM and the leaf.
func tlsFor(t *testing.T, host string) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "waxseal e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// npmPublish runs `npm publish TARBALL --provenance-file BUNDLE` with an unmodified npm against reg. anchor is
// the TUF root npm's cache is seeded with.
func npmPublish(t *testing.T, npmCLI string, tr *npmTrust, anchor []byte, reg *npmregistry.Server, tarball, bundle string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cache := filepath.Join(home, "xdg", "sigstore-js", tufMirror)
	if err := os.MkdirAll(filepath.Join(cache, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "root.json"), anchor, 0o644); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(reg.URL, "http://")
	npmrc := filepath.Join(home, ".npmrc")
	// npm wants a credential for the registry before it publishes (ENEEDAUTH), whatever the registry checks.
	if err := os.WriteFile(npmrc, []byte("//"+host+"/:_authToken="+reg.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$WAXSEAL_HOSTS" /etc/hosts && exec node "$WAXSEAL_NPM" publish "$@"`
	cmd := exec.CommandContext(t.Context(), "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
		tarball, "--provenance-file", bundle, "--access", "public", "--registry", reg.URL+"/")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "xdg"),
		"NODE_EXTRA_CA_CERTS=" + tr.caFile, "WAXSEAL_HOSTS=" + tr.hostsFile, "WAXSEAL_NPM=" + npmCLI,
		"npm_config_userconfig=" + npmrc, "npm_config_cache=" + filepath.Join(home, "npm-cache"),
		"npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false", "NO_COLOR=1"}
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
	tr := startNPMTrust(t, trustedRoot)
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
						out, err := npmPublish(t, cli, tr, tr.root, reg, c.tarball, c.bundle)
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
						{"provenance of another package", plain + ".provenance.sigstore.json", tr.root, "does not match the package"},
						{"provenance of another version", scoped + ".provenance.sigstore.json", tr.root, "does not match the package"},
						{"a bundle whose signature was changed", tampered, tr.root, "signature"},
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
					if out, err := npmPublish(t, cli, tr, tr.root, reg, other, other+".provenance.sigstore.json"); err != nil {
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
