// Command mkroot assembles the local Sigstore stack's trusted_root.json and
// signing configs (v0.2) from the running services' own keys and endpoints.
//
// It fetches Fulcio's trust bundle, the TSA's certificate chain and Rekor v1's
// public key over HTTP, and reads the CT log's and Rekor v2's public keys from
// the PEM files the stack generated. Log ids follow each log's rules: a CT
// log's and Rekor v1's id is sha256 of the DER public key; Rekor v2's is its
// signed-note key hash over the checkpoint origin.
package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// File names written into -out-dir.
const (
	trustedRootFile     = "trusted_root.json"
	signingConfigV1File = "signing_config_v1.json"
	signingConfigV2File = "signing_config_v2.json"
	// signingConfigV2OnlyFile names Rekor v2 and no Rekor v1 log: the shape npm provenance cannot be made with.
	signingConfigV2OnlyFile = "signing_config_v2_only.json"
	operator                = "waxseal-local-stack"
)

type options struct {
	outDir        string
	validFrom     time.Time
	fulcioURL     string
	ctURL         string
	ctPubKey      string
	rekorV2URL    string
	rekorV2PubKey string
	rekorV2Origin string
	rekorV1URL    string
	tsaURL        string
	oidcURL       string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "mkroot: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	var o options
	var validFrom, rootOut string
	fs := flag.NewFlagSet("mkroot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&rootOut, "fulcio-root-out", "", "only write Fulcio's root certificate (PEM) to this file, for the CT log, and exit")
	fs.StringVar(&o.outDir, "out-dir", "", "directory for trusted_root.json and signing_config_v1.json, signing_config_v2.json, signing_config_v2_only.json (required)")
	fs.StringVar(&validFrom, "valid-from", "", "RFC 3339 start of the logs' validity (default: now)")
	fs.StringVar(&o.fulcioURL, "fulcio-url", "", "Fulcio base URL (required)")
	fs.StringVar(&o.ctURL, "ct-url", "", "CT log base URL (required)")
	fs.StringVar(&o.ctPubKey, "ct-pubkey", "", "CT log public key, PEM (required)")
	fs.StringVar(&o.rekorV2URL, "rekor-v2-url", "", "Rekor v2 base URL (required)")
	fs.StringVar(&o.rekorV2PubKey, "rekor-v2-pubkey", "", "Rekor v2 ed25519 public key, PEM (required)")
	fs.StringVar(&o.rekorV2Origin, "rekor-v2-origin", "", "Rekor v2 checkpoint origin (its --hostname; required)")
	fs.StringVar(&o.rekorV1URL, "rekor-v1-url", "", "Rekor v1 base URL (optional: without it no v1 signing config is written)")
	fs.StringVar(&o.tsaURL, "tsa-url", "", "timestamp authority base URL (required)")
	fs.StringVar(&o.oidcURL, "oidc-url", "", "issuer URL of the OIDC provider people sign in at, the signing configs' oidcUrls (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if rootOut != "" {
		if o.fulcioURL == "" {
			return errors.New("-fulcio-url is required")
		}
		ca, err := fulcioCA(ctx, hc, o.fulcioURL)
		if err != nil {
			return err
		}
		return writeFile(rootOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw}))
	}
	for name, v := range map[string]string{"out-dir": o.outDir, "fulcio-url": o.fulcioURL, "ct-url": o.ctURL,
		"ct-pubkey": o.ctPubKey, "rekor-v2-url": o.rekorV2URL, "rekor-v2-pubkey": o.rekorV2PubKey,
		"rekor-v2-origin": o.rekorV2Origin, "tsa-url": o.tsaURL} {
		if v == "" {
			return fmt.Errorf("-%s is required", name)
		}
	}
	o.validFrom = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	if validFrom != "" {
		t, err := time.Parse(time.RFC3339, validFrom)
		if err != nil {
			return fmt.Errorf("parsing -valid-from: %w: use RFC 3339, e.g. 2026-01-02T15:04:05Z", err)
		}
		o.validFrom = t.UTC()
	}
	return assemble(ctx, hc, o)
}

func assemble(ctx context.Context, hc *http.Client, o options) error {
	ca, err := fulcioCA(ctx, hc, o.fulcioURL)
	if err != nil {
		return err
	}
	tsa, err := timestampAuthority(ctx, hc, o.tsaURL)
	if err != nil {
		return err
	}
	ctlog, err := keyFileLog(o.ctURL, o.ctPubKey, o.validFrom, derLogID)
	if err != nil {
		return err
	}
	rekorV2, err := keyFileLog(o.rekorV2URL, o.rekorV2PubKey, o.validFrom, func(pub crypto.PublicKey) ([]byte, error) {
		_, id, err := note.KeyHash(o.rekorV2Origin, pub)
		return id, err
	})
	if err != nil {
		return err
	}
	tlogs := map[string]*root.TransparencyLog{string(rekorV2.ID): rekorV2}
	if o.rekorV1URL != "" {
		rekorV1, err := rekorV1Log(ctx, hc, o.rekorV1URL, o.validFrom)
		if err != nil {
			return err
		}
		tlogs[string(rekorV1.ID)] = rekorV1
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{ca},
		map[string]*root.TransparencyLog{string(ctlog.ID): ctlog}, []root.TimestampingAuthority{tsa}, tlogs)
	if err != nil {
		return fmt.Errorf("building trusted root: %w", err)
	}
	if err := writeJSON(filepath.Join(o.outDir, trustedRootFile), tr); err != nil {
		return err
	}
	svc := func(url string, major uint32) root.Service {
		return root.Service{URL: url, MajorAPIVersion: major, ValidityPeriodStart: o.validFrom, Operator: operator}
	}
	anyOne := root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY}
	tsaSvc := []root.Service{svc(o.tsaURL+"/api/v1/timestamp", 1)}
	// The V2 profile lists Rekor v2 first and Rekor v1 after it, as Sigstore's staging config (and public-good's
	// opt-in Rekor v2 config) does: signatures follow the preference, npm provenance goes to the v1 log.
	profiles := map[string][]root.Service{signingConfigV2File: {svc(o.rekorV2URL, 2)}, signingConfigV2OnlyFile: {svc(o.rekorV2URL, 2)}}
	if o.rekorV1URL != "" {
		profiles[signingConfigV1File] = []root.Service{svc(o.rekorV1URL, 1)}
		profiles[signingConfigV2File] = append(profiles[signingConfigV2File], svc(o.rekorV1URL, 1))
	}
	var oidc []root.Service // as public-good's and staging's configs name oauth2.sigstore.dev and oauth2.sigstage.dev
	if o.oidcURL != "" {
		oidc = []root.Service{svc(o.oidcURL, 1)}
	}
	for file, rekor := range profiles {
		sc, err := root.NewSigningConfig(root.SigningConfigMediaType02, []root.Service{svc(o.fulcioURL, 1)}, oidc,
			rekor, anyOne, tsaSvc, anyOne)
		if err != nil {
			return fmt.Errorf("building %s: %w", file, err)
		}
		if err := writeJSON(filepath.Join(o.outDir, file), sc); err != nil {
			return err
		}
	}
	return nil
}

func derLogID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

func keyFileLog(url, path string, from time.Time, logID func(crypto.PublicKey) ([]byte, error)) (*root.TransparencyLog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key %q: %w", path, err)
	}
	return pemLog(url, b, from, logID)
}

func pemLog(url string, pemBytes []byte, from time.Time, logID func(crypto.PublicKey) ([]byte, error)) (*root.TransparencyLog, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, fmt.Errorf("reading public key of %s: no PEM block", url)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing public key of %s: %w", url, err)
	}
	id, err := logID(pub)
	if err != nil {
		return nil, fmt.Errorf("computing log id of %s: %w", url, err)
	}
	return &root.TransparencyLog{BaseURL: url, ID: id, ValidityPeriodStart: from, HashFunc: crypto.SHA256,
		PublicKey: pub, SignatureHashFunc: crypto.SHA256}, nil
}

func rekorV1Log(ctx context.Context, hc *http.Client, url string, from time.Time) (*root.TransparencyLog, error) {
	b, err := get(ctx, hc, url+"/api/v1/log/publicKey")
	if err != nil {
		return nil, err
	}
	return pemLog(url, b, from, derLogID)
}

func fulcioCA(ctx context.Context, hc *http.Client, url string) (*root.FulcioCertificateAuthority, error) {
	b, err := get(ctx, hc, url+"/api/v2/trustBundle")
	if err != nil {
		return nil, err
	}
	var tb struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(b, &tb); err != nil {
		return nil, fmt.Errorf("decoding Fulcio trust bundle: %w", err)
	}
	if len(tb.Chains) != 1 {
		return nil, fmt.Errorf("reading Fulcio trust bundle: %d chains, want 1", len(tb.Chains))
	}
	var all []byte
	for _, c := range tb.Chains[0].Certificates {
		all = append(all, c...)
	}
	certs, err := parseChain(all)
	if err != nil {
		return nil, fmt.Errorf("reading Fulcio trust bundle: %w", err)
	}
	// The bundle is ordered leaf-most first; the root is last.
	rootCert := certs[len(certs)-1]
	return &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: certs[:len(certs)-1],
		ValidityPeriodStart: rootCert.NotBefore, URI: url}, nil
}

func timestampAuthority(ctx context.Context, hc *http.Client, url string) (*root.SigstoreTimestampingAuthority, error) {
	b, err := get(ctx, hc, url+"/api/v1/timestamp/certchain")
	if err != nil {
		return nil, err
	}
	certs, err := parseChain(b)
	if err != nil {
		return nil, fmt.Errorf("reading TSA certificate chain: %w", err)
	}
	if len(certs) < 2 {
		return nil, fmt.Errorf("reading TSA certificate chain: %d certificates, want leaf and root", len(certs))
	}
	start := certs[0].NotBefore
	return &root.SigstoreTimestampingAuthority{Leaf: certs[0], Intermediates: certs[1 : len(certs)-1],
		Root: certs[len(certs)-1], ValidityPeriodStart: start, URI: url + "/api/v1/timestamp"}, nil
}

func parseChain(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificates")
	}
	return certs, nil
}

func get(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("requesting %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("requesting %s: %w: is the stack running?", url, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("requesting %s: status %d: %.200s", url, resp.StatusCode, b)
	}
	return b, nil
}

func writeJSON(path string, v json.Marshaler) error {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return writeFile(path, append(b, '\n'))
}

// writeFile writes atomically, so readers never see a partial file.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming into %q: %w", path, err)
	}
	return nil
}
