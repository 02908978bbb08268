package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/root"
)

var validFrom = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

func selfSigned(t *testing.T, cn string, notBefore time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"test"}},
		NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func leaf(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, notBefore time.Time) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "tsa leaf"},
		NotBefore: notBefore, NotAfter: notBefore.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func pemPub(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// TestAssemble feeds mkroot fake services and checks the trusted root's log
// ids against the formulas the verifiers use, computed independently here.
func TestAssemble(t *testing.T) {
	t.Parallel()
	caRoot, _ := selfSigned(t, "fulcio root", validFrom.Add(-time.Hour))
	tsaRoot, tsaKey := selfSigned(t, "tsa root", validFrom.Add(-2*time.Hour))
	tsaLeaf := leaf(t, tsaRoot, tsaKey, validFrom.Add(-30*time.Minute))
	rekorV1Key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ctKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rekorV2Pub, _, _ := ed25519.GenerateKey(rand.Reader)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/trustBundle", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"chains": []any{map[string]any{"certificates": []string{pemCert(caRoot)}}}})
	})
	mux.HandleFunc("GET /api/v1/timestamp/certchain", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(pemCert(tsaLeaf) + pemCert(tsaRoot)))
	})
	mux.HandleFunc("GET /api/v1/log/publicKey", func(w http.ResponseWriter, _ *http.Request) {
		w.Write(pemPub(t, &rekorV1Key.PublicKey))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	ctPath, v2Path := filepath.Join(dir, "ct.pem"), filepath.Join(dir, "rekor2.pem")
	os.WriteFile(ctPath, pemPub(t, &ctKey.PublicKey), 0o600)
	os.WriteFile(v2Path, pemPub(t, rekorV2Pub), 0o600)

	o := options{outDir: dir, validFrom: validFrom, fulcioURL: srv.URL, ctURL: "http://127.0.0.1:6962", ctPubKey: ctPath,
		rekorV2URL: "http://127.0.0.1:3003", rekorV2PubKey: v2Path, rekorV2Origin: "127.0.0.1",
		rekorV1URL: srv.URL, tsaURL: srv.URL, oidcURL: "http://127.0.0.1:8089"}
	if err := assemble(t.Context(), srv.Client(), o); err != nil {
		t.Fatalf("assemble: %v", err)
	}
	tr, err := root.NewTrustedRootFromPath(filepath.Join(dir, trustedRootFile))
	if err != nil {
		t.Fatalf("loading the written trusted root: %v", err)
	}

	der := func(pub any) string {
		b, _ := x509.MarshalPKIXPublicKey(pub)
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	// Rekor v2: sha256(origin || "\n" || 0x01 || raw ed25519 key).
	v2 := sha256.Sum256(append([]byte("127.0.0.1\n\x01"), rekorV2Pub...))
	got := map[string]string{}
	for id, l := range tr.RekorLogs() {
		got["tlog "+l.BaseURL] = id
		if !l.ValidityPeriodStart.Equal(validFrom) {
			t.Errorf("tlog %s validity start = %v, want %v", l.BaseURL, l.ValidityPeriodStart, validFrom)
		}
	}
	for id, l := range tr.CTLogs() {
		got["ctlog "+l.BaseURL] = id
	}
	want := map[string]string{
		"tlog http://127.0.0.1:3003":  hex.EncodeToString(v2[:]),
		"tlog " + srv.URL:             der(&rekorV1Key.PublicKey),
		"ctlog http://127.0.0.1:6962": der(&ctKey.PublicKey),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log ids (-want +got):\n%s", diff)
	}

	cas := tr.FulcioCertificateAuthorities()
	tsas := tr.TimestampingAuthorities()
	if len(cas) != 1 || len(tsas) != 1 {
		t.Fatalf("%d CAs and %d TSAs, want 1 each", len(cas), len(tsas))
	}
	fca := cas[0].(*root.FulcioCertificateAuthority)
	sta := tsas[0].(*root.SigstoreTimestampingAuthority)
	if !fca.Root.Equal(caRoot) || !fca.ValidityPeriodStart.Equal(caRoot.NotBefore) {
		t.Errorf("Fulcio CA root %q from %v, want %q from %v", fca.Root.Subject, fca.ValidityPeriodStart, caRoot.Subject, caRoot.NotBefore)
	}
	if !sta.Leaf.Equal(tsaLeaf) || !sta.Root.Equal(tsaRoot) || !sta.ValidityPeriodStart.Equal(tsaLeaf.NotBefore) {
		t.Errorf("TSA chain or validity wrong: leaf %q root %q from %v", sta.Leaf.Subject, sta.Root.Subject, sta.ValidityPeriodStart)
	}

	// The Rekor API versions each profile lists, in order: V2 lists Rekor v2 then Rekor v1, as Sigstore's staging
	// config does (npm provenance goes to the v1 log); V2_ONLY has no Rekor v1.
	for file, wantVersions := range map[string][]uint32{signingConfigV1File: {1}, signingConfigV2File: {2, 1}, signingConfigV2OnlyFile: {2}} {
		sc, err := root.NewSigningConfigFromPath(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("loading %s: %v", file, err)
		}
		rekors, tsaURLs, cas := sc.RekorLogURLs(), sc.TimestampAuthorityURLs(), sc.FulcioCertificateAuthorityURLs()
		var got []uint32
		for _, r := range rekors {
			got = append(got, r.MajorAPIVersion)
		}
		if !slices.Equal(got, wantVersions) || len(tsaURLs) != 1 || len(cas) != 1 {
			t.Errorf("%s: rekor %+v, tsa %+v, ca %+v; want Rekor API versions %v, one TSA and one CA", file, rekors, tsaURLs, cas, wantVersions)
		}
		if o := sc.OIDCProviderURLs(); len(o) != 1 || o[0].URL != "http://127.0.0.1:8089" || o[0].MajorAPIVersion != 1 {
			t.Errorf("%s: oidcUrls %+v, want the sign-in provider, API version 1", file, o)
		}
		if len(tsaURLs) == 1 && !strings.HasSuffix(tsaURLs[0].URL, "/api/v1/timestamp") {
			t.Errorf("%s: TSA URL %q lacks the /api/v1/timestamp path", file, tsaURLs[0].URL)
		}
	}
}

func TestAssembleFailsOnDeadService(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	o := options{outDir: t.TempDir(), fulcioURL: srv.URL, tsaURL: srv.URL}
	err := assemble(t.Context(), srv.Client(), o)
	if err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("assemble error = %v, want one naming status 404", err)
	}
	if _, statErr := os.Stat(filepath.Join(o.outDir, trustedRootFile)); statErr == nil {
		t.Errorf("a trusted root was written despite the error")
	}
}
