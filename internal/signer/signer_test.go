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
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"
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
	c := &certificates{fulcio: f, key: k, tokens: tokens, audience: "sigstore", renewBefore: 3 * time.Minute, now: now,
		retry: retryPolicy{attempts: 1}}

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

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	refused := fmt.Errorf("dial tcp 127.0.0.1:1: %w", syscall.ECONNREFUSED)
	for _, tc := range []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   string
		wantWait  time.Duration
	}{
		{name: "success", wantCalls: 1},
		{name: "transient then success", errs: []error{refused, errors.New("Fulcio returned 503: busy")}, wantCalls: 3, wantWait: 3 * time.Second},
		{name: "permanent", errs: []error{errors.New("Fulcio returned 401: bad token")}, wantCalls: 1, wantErr: "returned 401"},
		{name: "gives up", errs: []error{refused, refused, refused, refused}, wantCalls: 4, wantErr: "tried 4 times", wantWait: 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				calls := 0
				err := retryPolicy{attempts: 4, base: time.Second, max: 30 * time.Second}.do(t.Context(), "doing it", func() error {
					calls++
					if calls <= len(tc.errs) {
						return tc.errs[calls-1]
					}
					return nil
				})
				if calls != tc.wantCalls {
					t.Errorf("calls = %d, want %d", calls, tc.wantCalls)
				}
				if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
					t.Errorf("err = %v, want containing %q", err, tc.wantErr)
				}
				if waited := time.Since(start); waited != tc.wantWait {
					t.Errorf("waited %v, want %v (exponential backoff)", waited, tc.wantWait)
				}
			})
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		err := retryPolicy{attempts: 10, base: time.Minute, max: time.Hour}.do(ctx, "doing it", func() error {
			calls++
			cancel()
			return syscall.ECONNRESET
		})
		if calls != 1 || !errors.Is(err, syscall.ECONNRESET) || !strings.Contains(err.Error(), "canceled") {
			t.Fatalf("after cancel: calls = %d, err = %v; want 1 call and an error naming the cancellation", calls, err)
		}
	})
}
