// Package signer signs with Sigstore: one ephemeral key and one Fulcio certificate for a whole run, however many
// artifacts, each signature logged in Rekor (and timestamped where the signing config says), and every bundle
// verified against the trusted root and the signer's identity before it is handed back.
package signer

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	fulciocert "github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/trust"
	"github.com/waxseal/waxseal/internal/verifier"
)

// Config configures a Signer. Zero values take the documented defaults.
type Config struct {
	// Services are the Fulcio, Rekor and timestamp authority endpoints (from the signing config). Required.
	Services *trust.Services
	// TrustedMaterial verifies every bundle before it is returned. Required.
	TrustedMaterial root.TrustedMaterial
	// Tokens supplies identity tokens for Fulcio. Required.
	Tokens oidc.Source
	// Audience of the tokens; default "sigstore".
	Audience string
	// Transport carries Fulcio, Rekor and timestamp requests; default http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is how long and how often each request is retried (one policy for every service); its zero value
	// means the documented defaults.
	Retry retry.Policy
	// OutageHint is what to do when a service keeps failing, e.g. "check https://status.sigstore.dev"; optional.
	OutageHint string
	// Concurrency bounds signatures in flight (each is a Rekor submission); default DefaultConcurrency.
	Concurrency int
	// RenewBefore renews the certificate when it would expire within this margin; default 3m.
	RenewBefore time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// DefaultConcurrency is how many Rekor submissions run at once by default, chosen by measurement (bench/
// concurrency.sh, 100 packages = 200 entries, local stack): Rekor v2 integrates whatever is pending about once a
// second, so wall time falls with submissions in flight (8: 33.7 s, 16: 18.0 s, 32: 11.0 s, 64: 6.1 s, 128: 3.2 s);
// Rekor v1 levels off from 32 (3.8 s). 128 puts a 100-package monorepo through Rekor v2 in two batches. A service
// that answers 429 or 5xx is backed off exponentially within the run's retry budget (internal/retry).
const DefaultConcurrency = 128

// userAgent prefixes sigstore-go's own User-Agent on every Sigstore request.
const userAgent = "waxseal"

// Signer signs artifacts and provenance with one key and certificate. It is safe for concurrent use.
type Signer struct {
	key      *keypair
	certs    *certificates
	tlogs    []sign.Transparency // where message signatures go: the signing config's preference
	tsas     []*sign.TimestampAuthority
	npmLogs  []sign.Transparency // where provenance goes: a Rekor v1 log, as npm accepts (see trust.Services.NPMRekor)
	verifier *verifier.Verifier
	identity verifier.Identity
	sem      chan struct{}
}

// Signed is one signed, verified bundle.
type Signed struct {
	// JSON is the bundle as written to disk (v0.3, compact).
	JSON []byte
	// Bundle is the parsed bundle.
	Bundle *bundle.Bundle
	// Result is what verification established.
	Result *verifier.Result
	// LogIndex is the index of the bundle's first transparency log entry.
	LogIndex int64
}

// New creates the run's key, obtains its certificate from Fulcio, and prepares the log and timestamp clients.
func New(ctx context.Context, cfg Config) (*Signer, error) {
	cfg = withDefaults(cfg)
	if cfg.Services == nil || cfg.TrustedMaterial == nil || cfg.Tokens == nil {
		return nil, errors.New("signer: Services, TrustedMaterial and Tokens are required")
	}
	key, err := newKeypair()
	if err != nil {
		return nil, err
	}
	s := &Signer{key: key, sem: make(chan struct{}, cfg.Concurrency)}
	svc := services{policy: cfg.Retry, base: cfg.Transport, hint: cfg.OutageHint}
	s.certs = &certificates{
		// Retries 0: the policy's transport is the one retry layer. Timeout -1: the policy bounds each try and the
		// whole request; a client timeout would cut its retries short.
		fulcio: sign.NewFulcio(&sign.FulcioOptions{
			BaseURL: cfg.Services.FulcioURL, Timeout: -1, Transport: svc.transport(fulcioService), UserAgent: userAgent,
		}),
		key: key, tokens: cfg.Tokens, audience: cfg.Audience, renewBefore: cfg.RenewBefore, now: cfg.Now,
	}
	if s.tlogs, err = svc.transparencyLogs(cfg.Services.Rekor); err != nil {
		return nil, err
	}
	if npm := cfg.Services.NPMRekor; npm != nil {
		if s.npmLogs, err = svc.transparencyLogs([]root.Service{*npm}); err != nil {
			return nil, err
		}
	}
	for _, t := range cfg.Services.TSA {
		s.tsas = append(s.tsas, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{
			URL: t.URL, Timeout: -1, Transport: svc.transport(tsaService), UserAgent: userAgent,
		}))
	}
	if _, err := s.certs.GetCertificate(ctx, key, nil); err != nil {
		return nil, err
	}
	if s.identity, err = s.certIdentity(); err != nil {
		return nil, err
	}
	if s.verifier, err = verifier.New(cfg.TrustedMaterial, s.identity); err != nil {
		return nil, fmt.Errorf("preparing verification of what is signed: %w", err)
	}
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Audience == "" {
		cfg.Audience = oidc.DefaultAudience
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.RenewBefore == 0 {
		cfg.RenewBefore = 3 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

func (s *Signer) certIdentity() (verifier.Identity, error) {
	cert, _ := s.certs.current()
	sum, err := fulciocert.SummarizeCertificate(cert)
	if err != nil {
		return verifier.Identity{}, fmt.Errorf("reading the signing certificate: %w", err)
	}
	if sum.SubjectAlternativeName == "" || sum.Issuer == "" {
		return verifier.Identity{}, errors.New("the signing certificate names no identity or issuer: check the signing config points at a Fulcio")
	}
	return verifier.Identity{SAN: sum.SubjectAlternativeName, Issuer: sum.Issuer}, nil
}

// Certificate is the run's signing certificate (the current one, should it have been renewed).
func (s *Signer) Certificate() *x509.Certificate {
	c, _ := s.certs.current()
	return c
}

// Identity is the signer identity every bundle is verified against: the certificate's SAN and OIDC issuer.
func (s *Signer) Identity() verifier.Identity { return s.identity }

// SignArtifact signs an artifact given its SHA-256 digest (a message signature, logged as hashedrekord) and
// verifies the bundle against that digest.
func (s *Signer) SignArtifact(ctx context.Context, sha256 []byte) (*Signed, error) {
	pb, err := s.bundle(ctx, &digestContent{sha256: sha256}, s.key.digestSigner(), s.tlogs, s.tsas)
	if err != nil {
		return nil, err
	}
	return s.check(pb, func(b *bundle.Bundle) (*verifier.Result, error) { return s.verifier.VerifyArtifact(b, sha256) })
}

// ErrNoNPMLog means the signing config lists no Rekor v1 log, so no provenance npm accepts can be made.
var ErrNoNPMLog = remedy.With(errors.New("the signing config lists no Rekor v1 log: npm 10 and 11 refuse provenance logged to Rekor v2, "+
	"so waxseal logs provenance to a Rekor v1 log of the config; use a signing config that lists one (public-good's default does), "+
	"or sign without provenance"), remedy.Set(remedy.Provenance, "false"))

// SignProvenance signs an in-toto statement as a DSSE envelope and verifies it as provenance about the artifact
// subject names (an npm package by purl and sha512, a file by name and sha256). It is logged in npm's own shape: a
// Rekor v1 dsse entry (with its inclusion promise) and no RFC 3161 timestamp, the one shape every npm, the
// registry, gh, cosign and GitHub's attestation store are known to accept.
func (s *Signer) SignProvenance(ctx context.Context, statement []byte, subject provenance.Subject) (*Signed, error) {
	if len(s.npmLogs) == 0 {
		return nil, ErrNoNPMLog
	}
	digests := map[string][]byte{}
	for alg, h := range subject.Digests() {
		if digests[alg], _ = hex.DecodeString(h); len(digests[alg]) == 0 {
			return nil, fmt.Errorf("signing provenance for %s: its %s digest %q is not hex", subject.Name, alg, h)
		}
	}
	pb, err := s.bundle(ctx, &sign.DSSEData{Data: statement, PayloadType: provenance.PayloadType}, s.key, s.npmLogs, nil)
	if err != nil {
		return nil, err
	}
	return s.check(pb, func(b *bundle.Bundle) (*verifier.Result, error) {
		res, _, err := s.verifier.VerifyProvenanceOf(b, subject.Name, digests)
		return res, err
	})
}

func (s *Signer) bundle(ctx context.Context, content sign.Content, key sign.Keypair, tlogs []sign.Transparency, tsas []*sign.TimestampAuthority) (*protobundle.Bundle, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	for try := 1; ; try++ {
		pb, err := sign.Bundle(content, key, sign.BundleOptions{
			CertificateProvider:  s.certs,
			TimestampAuthorities: tsas,
			TransparencyLogs:     tlogs,
			Context:              ctx,
		})
		if err == nil {
			return pb, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("signing: %w", context.Cause(ctx))
		}
		// Rekor v2 answers 409 when a retried submission's first try was logged but its answer was lost. The
		// entry cannot be fetched back without the log's tiles, so sign afresh: ECDSA signatures are randomised,
		// so the new submission is a new entry (the orphan is harmless: it logs a signature nobody will use).
		if re := (*retry.Error)(nil); errors.As(err, &re) && re.Service == rekorV2Service.Name && re.Status == http.StatusConflict && try < maxResign {
			continue
		}
		return nil, fmt.Errorf("signing: %w", retry.Cause(err))
	}
}

// maxResign bounds how often one bundle is signed afresh after Rekor v2 reports its entry already exists.
const maxResign = 3

func (s *Signer) check(pb *protobundle.Bundle, verify func(*bundle.Bundle) (*verifier.Result, error)) (*Signed, error) {
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("assembling the bundle: %w", err)
	}
	res, err := verify(b)
	if err != nil {
		return nil, fmt.Errorf("verifying the bundle just signed (nothing was written): %w", err)
	}
	raw, err := b.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	var idx int64
	if es := pb.GetVerificationMaterial().GetTlogEntries(); len(es) > 0 {
		idx = es[0].GetLogIndex()
	}
	return &Signed{JSON: buf.Bytes(), Bundle: b, Result: res, LogIndex: idx}, nil
}
