package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/waxseal/waxseal/internal/retry"
)

func TestKeypairDigestSigner(t *testing.T) {
	t.Parallel()
	k, err := newKeypair()
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("the tarball bytes")
	sum := sha256.Sum256(data)
	pub := k.GetPublicKey().(*ecdsa.PublicKey)

	sig, digest, err := k.digestSigner().SignData(t.Context(), sum[:])
	if err != nil {
		t.Fatal(err)
	}
	if string(digest) != string(sum[:]) || !ecdsa.VerifyASN1(pub, sum[:], sig) {
		t.Fatal("digest signer's signature does not verify over the digest it was given")
	}
	// The plain view hashes its input, so both views sign the same message for the same data.
	sig2, digest2, err := k.SignData(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	if string(digest2) != string(sum[:]) || !ecdsa.VerifyASN1(pub, sum[:], sig2) {
		t.Fatal("plain signer's signature does not verify over sha256(data)")
	}
	if _, _, err := k.digestSigner().SignData(t.Context(), data); err == nil {
		t.Fatal("digest signer accepted input that is not a SHA-256 digest")
	}
}

// fakeFulcio issues self-signed certificates valid for ten minutes from the fake clock's now.
type fakeFulcio struct {
	now   func() time.Time
	calls atomic.Int32
	fail  []error // returned by the first calls, in order
}

func (f *fakeFulcio) GetCertificate(_ context.Context, kp sign.Keypair, opts *sign.CertificateProviderOptions) ([]byte, error) {
	n := int(f.calls.Add(1))
	if n <= len(f.fail) {
		return nil, f.fail[n-1]
	}
	if opts.IDToken == "" {
		return nil, errors.New("no token")
	}
	ca, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(n)), Subject: pkix.Name{CommonName: "t"},
		NotBefore: f.now(), NotAfter: f.now().Add(10 * time.Minute)}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, kp.GetPublicKey(), ca)
}

type countingTokens struct{ n atomic.Int32 }

func (c *countingTokens) Token(context.Context, string) (string, error) {
	return fmt.Sprintf("token-%d", c.n.Add(1)), nil
}

func TestCertificatesOneForTheRunRenewedNearExpiry(t *testing.T) {
	t.Parallel()
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { return clock }
	k, _ := newKeypair()
	f := &fakeFulcio{now: now}
	tokens := &countingTokens{}
	c := &certificates{fulcio: f, key: k, tokens: tokens, audience: "sigstore", renewBefore: 3 * time.Minute, now: now}

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := c.GetCertificate(t.Context(), k.digestSigner(), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("50 concurrent signatures fetched %d certificates, want 1", got)
	}
	clock = clock.Add(6 * time.Minute) // 4 minutes left: still more than renewBefore
	c.GetCertificate(t.Context(), k, nil)
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("certificate with 4m left was renewed (fetches = %d)", got)
	}
	clock = clock.Add(2 * time.Minute) // 2 minutes left: renew, with a fresh token
	c.GetCertificate(t.Context(), k, nil)
	if got, toks := f.calls.Load(), tokens.n.Load(); got != 2 || toks != 2 {
		t.Fatalf("near expiry: fetches = %d, tokens = %d; want 2 and 2", got, toks)
	}
	cert, n := c.current()
	if n != 2 || !cert.NotAfter.Equal(clock.Add(10*time.Minute)) {
		t.Fatalf("current() = %v, %d; want the renewed certificate and 2", cert.NotAfter, n)
	}
}

// recordingLog is a transparency log that fails its first answers and records the signatures it was sent.
type recordingLog struct {
	mu   sync.Mutex
	fail []error
	sigs []string
}

func (l *recordingLog) GetTransparencyLogEntry(_ context.Context, _ []byte, b *protobundle.Bundle) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sigs = append(l.sigs, string(b.GetMessageSignature().GetSignature()))
	if len(l.fail) > 0 {
		err := l.fail[0]
		l.fail = l.fail[1:]
		return err
	}
	return nil
}

func TestRekorV2ConflictSignsAfresh(t *testing.T) {
	t.Parallel()
	conflict := &retry.Error{Service: rekorV2Service.Name, Method: "POST", URL: "http://rekor/api/v2/log/entries", Status: 409}
	for _, tc := range []struct {
		name      string
		fail      []error
		wantCalls int
		wantErr   string
	}{
		{name: "success", wantCalls: 1},
		{name: "409 after a lost answer", fail: []error{fmt.Errorf("adding rekor v2 entry: %w", conflict)}, wantCalls: 2},
		{name: "409 every time stops", fail: []error{conflict, conflict, conflict, conflict}, wantCalls: maxResign, wantErr: "answered 409 Conflict"},
		{name: "Rekor v1 409 is not re-signed", fail: []error{&retry.Error{Service: rekorV1Service.Name, Status: 409}}, wantCalls: 1, wantErr: "Rekor"},
		{name: "503 is not re-signed", fail: []error{&retry.Error{Service: rekorV2Service.Name, Status: 503, Transient: true}}, wantCalls: 1, wantErr: "503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := func() time.Time { return time.Now() }
			k, _ := newKeypair()
			log := &recordingLog{fail: tc.fail}
			s := &Signer{key: k, sem: make(chan struct{}, 1), tlogs: []sign.Transparency{log},
				certs: &certificates{fulcio: &fakeFulcio{now: now}, key: k, tokens: &countingTokens{}, renewBefore: time.Minute, now: now}}
			sum := sha256.Sum256([]byte("tarball"))
			_, err := s.bundle(t.Context(), &digestContent{sha256: sum[:]}, k.digestSigner(), s.tlogs, nil)
			if len(log.sigs) != tc.wantCalls {
				t.Errorf("log saw %d submissions, want %d", len(log.sigs), tc.wantCalls)
			}
			for i := 1; i < len(log.sigs); i++ {
				if log.sigs[i] == log.sigs[i-1] {
					t.Error("a re-signed submission repeated the signature, so Rekor would refuse it again")
				}
			}
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestExplainFulcio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   string
	}{
		{401, "Fulcio refused the identity token"},
		{403, "Fulcio refused the identity token"},
		{400, "Fulcio rejected the certificate request"},
		{503, "requesting a signing certificate: Fulcio (POST"},
	} {
		err := explainFulcio(fmt.Errorf("wrapped: %w", &retry.Error{Service: "Fulcio", Method: "POST", URL: "https://fulcio/api/v2/signingCert", Status: tc.status}))
		if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "wrapped") {
			t.Errorf("%d: %q, want it to start with %q and drop the library's wrapping", tc.status, err, tc.want)
		}
	}
}

func TestTimestampReplyRefusesWhatIsNotDER(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"\x30\x03\x02\x01\x00", true},
		{"<html>502 Bad Gateway</html>", false},
		{"\x30\x05\x02\x01", false}, // cut
		{"\x30\x03\x02\x01\x00trailing", false},
		{"\x02\x01\x00", false}, // not a SEQUENCE
	} {
		if err := timestampReply(retry.Answer{Body: []byte(tc.body)}); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.body, err, tc.ok)
		}
	}
}
