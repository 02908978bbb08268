package signer

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/retry"
)

// certificates hands out the run's one Fulcio certificate, fetching a new one (for the same key) only when the
// current one would expire within renewBefore. It satisfies sign.CertificateProvider and is safe for concurrent use.
type certificates struct {
	fulcio      sign.CertificateProvider
	key         *keypair
	tokens      oidc.Source
	audience    string
	renewBefore time.Duration
	now         func() time.Time

	mu      sync.Mutex
	der     []byte
	cert    *x509.Certificate
	fetches int
}

var _ sign.CertificateProvider = (*certificates)(nil)

// GetCertificate returns the current certificate. The keypair sigstore-go passes may be the digest-signing view of
// the run key; proof of possession is always made with the key itself.
func (c *certificates) GetCertificate(ctx context.Context, _ sign.Keypair, _ *sign.CertificateProviderOptions) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert != nil && c.now().Add(c.renewBefore).Before(c.cert.NotAfter) {
		return c.der, nil
	}
	token, err := c.tokens.Token(ctx, c.audience)
	if err != nil {
		return nil, err
	}
	der, err := c.fulcio.GetCertificate(ctx, c.key, &sign.CertificateProviderOptions{IDToken: token})
	if err != nil {
		return nil, explainFulcio(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate Fulcio issued: %w", err)
	}
	c.der, c.cert = der, cert
	c.fetches++
	return der, nil
}

// current returns the certificate and how many were fetched so far.
func (c *certificates) current() (*x509.Certificate, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert, c.fetches
}

// explainFulcio turns Fulcio's refusals into what to do next.
func explainFulcio(err error) error {
	var re *retry.Error
	if !errors.As(err, &re) {
		return fmt.Errorf("requesting a signing certificate from Fulcio: %w", err)
	}
	switch re.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("Fulcio refused the identity token: %w (the token must be fresh, for audience \"sigstore\", from an issuer this Fulcio trusts)", re)
	case http.StatusBadRequest:
		return fmt.Errorf("Fulcio rejected the certificate request: %w (check the token's claims and that the signing config names the right Fulcio)", re)
	}
	return fmt.Errorf("requesting a signing certificate: %w", re)
}
