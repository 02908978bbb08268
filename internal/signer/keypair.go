package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// keypair is the run's one ephemeral ECDSA P-256 key. It never leaves memory.
//
// sigstore-go's EphemeralKeypair always hashes what it is given, so signing a tarball would need the whole tarball
// in memory. keypair can instead sign a SHA-256 digest computed while the tarball was streamed (prehashed), which is
// exactly the hashedrekord a message signature is.
type keypair struct {
	priv      *ecdsa.PrivateKey
	prehashed bool
}

var _ sign.Keypair = (*keypair)(nil)

func newKeypair() (*keypair, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the ephemeral signing key: %w", err)
	}
	return &keypair{priv: priv}, nil
}

// digestSigner returns a view of the same key whose SignData takes a SHA-256 digest rather than data.
func (k *keypair) digestSigner() *keypair { return &keypair{priv: k.priv, prehashed: true} }

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keypair) GetHint() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		return nil
	}
	h := sha256.Sum256(der)
	return h[:]
}

func (k *keypair) GetKeyAlgorithm() string { return "ECDSA" }

func (k *keypair) GetPublicKey() crypto.PublicKey { return k.priv.Public() }

func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.priv.Public())
	return string(b), err
}

// SignData signs data (hashing it with SHA-256 first unless the view is prehashed) and returns the signature and
// the digest signed.
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	digest := data
	if !k.prehashed {
		sum := sha256.Sum256(data)
		digest = sum[:]
	} else if len(digest) != sha256.Size {
		return nil, nil, fmt.Errorf("signing a digest: got %d bytes, want a %d-byte SHA-256 digest", len(digest), sha256.Size)
	}
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest)
	if err != nil {
		return nil, nil, fmt.Errorf("signing: %w", err)
	}
	return sig, digest, nil
}

// digestContent is a message-signature content whose "data" is already its SHA-256 digest.
type digestContent struct{ sha256 []byte }

var _ sign.Content = (*digestContent)(nil)

func (d *digestContent) PreAuthEncoding() []byte { return d.sha256 }

func (d *digestContent) Bundle(b *protobundle.Bundle, sig, digest []byte, alg protocommon.HashAlgorithm) {
	(&sign.PlainData{}).Bundle(b, sig, digest, alg)
}
