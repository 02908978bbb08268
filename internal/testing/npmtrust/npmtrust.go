// Package npmtrust makes an unmodified npm CLI trust a local Sigstore stack, the way npm trusts public-good: npm's
// sigstore-js fetches trusted_root.json through TUF from tuf-repo-cdn.sigstore.dev, so this serves a real TUF
// repository (internal/testing/tufrepo) whose target is the stack's trusted root over HTTPS as that name on the
// loopback, with a CA for it (NODE_EXTRA_CA_CERTS), a hosts file naming the loopback (bind-mounted over /etc/hosts
// in a private mount namespace: npm 12's fetch ignores proxy settings), and a TUF cache seeded with the
// repository's root, where @sigstore/tuf keeps its anchor. It needs root and a private network namespace (the
// stack's test/stack/run.sh), where port 443 on the loopback is free.
package npmtrust

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/waxseal/waxseal/internal/testing/tufrepo"
)

// Mirror is Sigstore's TUF mirror as sigstore-js reaches it.
const Mirror = "tuf-repo-cdn.sigstore.dev"

// Trust is a running mirror and the files npm needs to trust it.
type Trust struct {
	CAFile, HostsFile string
	// Root is the repository's root.json, the anchor npm's TUF cache must be seeded with.
	Root []byte
	srv  *http.Server
}

// Start serves a TUF repository for trustedRoot as the mirror on 127.0.0.1:443, writing its files in dir.
func Start(trustedRoot []byte, dir string) (*Trust, error) {
	repo, err := tufrepo.New(map[string][]byte{"trusted_root.json": trustedRoot})
	if err != nil {
		return nil, err
	}
	caPEM, cert, err := tlsFor(Mirror)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		return nil, fmt.Errorf("serving the TUF mirror on 127.0.0.1:443 (run as root in the stack's network namespace): %w", err)
	}
	t := &Trust{CAFile: filepath.Join(dir, "ca.pem"), HostsFile: filepath.Join(dir, "hosts"), Root: repo.Root,
		srv: &http.Server{Handler: repo, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			ReadHeaderTimeout: 10 * time.Second}}
	if err := os.WriteFile(t.CAFile, caPEM, 0o644); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if err := os.WriteFile(t.HostsFile, []byte("127.0.0.1 localhost "+Mirror+"\n::1 localhost\n"), 0o644); err != nil {
		_ = ln.Close()
		return nil, err
	}
	go func() { _ = t.srv.ServeTLS(ln, "", "") }()
	return t, nil
}

// Close stops the mirror.
func (t *Trust) Close() error { return t.srv.Close() }

// Publish returns `npm publish ARGS...` run with the npm-cli.js at npmCLI against registry (whose token is
// token), in a fresh home under dir whose TUF cache is seeded with anchor (usually t.Root), in a private mount
// namespace where the mirror's name is the loopback.
func (t *Trust) Publish(ctx context.Context, npmCLI, registry, token string, anchor []byte, dir string, args ...string) (*exec.Cmd, error) {
	cache := filepath.Join(dir, "xdg", "sigstore-js", Mirror)
	if err := os.MkdirAll(filepath.Join(cache, "targets"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cache, "root.json"), anchor, 0o644); err != nil {
		return nil, err
	}
	host := strings.TrimPrefix(strings.TrimPrefix(registry, "http://"), "https://")
	npmrc := filepath.Join(dir, ".npmrc")
	// npm wants a credential for the registry before it publishes (ENEEDAUTH), whatever the registry checks.
	if err := os.WriteFile(npmrc, []byte("//"+strings.TrimSuffix(host, "/")+"/:_authToken="+token+"\n"), 0o600); err != nil {
		return nil, err
	}
	script := `mount --bind "$WAXSEAL_HOSTS" /etc/hosts && exec node "$WAXSEAL_NPM" publish "$@"`
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", script, "sh"},
		append(args, "--registry", strings.TrimSuffix(registry, "/")+"/")...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "xdg"),
		"NODE_EXTRA_CA_CERTS=" + t.CAFile, "WAXSEAL_HOSTS=" + t.HostsFile, "WAXSEAL_NPM=" + npmCLI,
		"npm_config_userconfig=" + npmrc, "npm_config_cache=" + filepath.Join(dir, "npm-cache"),
		"npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false", "NO_COLOR=1"}
	return cmd, nil
}

// tlsFor makes a CA and a leaf certificate for host; it returns the CA's PEM and the leaf.
func tlsFor(host string) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "waxseal test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, nil
}
