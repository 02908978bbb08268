package ghoidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/waxseal/waxseal/internal/atomicfile"
)

// File names inside a state directory.
const (
	KeyFile          = "signing-key.pem"
	RequestTokenFile = "request-token"
)

// State is what an issuer keeps across restarts, so tokens it minted stay
// valid and clients keep their request token.
type State struct {
	Key          *rsa.PrivateKey
	RequestToken string
}

// LoadState reads the signing key and request token from dir, creating
// either (and dir) when missing. Files are written 0600, atomically.
func LoadState(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory %q: %w", dir, err)
	}
	key, err := loadOrCreateKey(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, err
	}
	tok, err := loadOrCreateToken(filepath.Join(dir, RequestTokenFile))
	if err != nil {
		return nil, err
	}
	return &State{Key: key, RequestToken: tok}, nil
}

func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generating RSA key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("encoding RSA key: %w", err)
		}
		if err := atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading issuer key %q: %w", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("reading issuer key %q: no PRIVATE KEY PEM block: delete the file to make a new key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing issuer key %q: %w: delete the file to make a new key", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parsing issuer key %q: %T is not RSA: delete the file to make a new key", path, k)
	}
	return rk, nil
}

func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return "", fmt.Errorf("generating request token: %w", err)
		}
		tok := hex.EncodeToString(raw)
		return tok, atomicfile.Write(path, []byte(tok), 0o600)
	}
	if err != nil {
		return "", fmt.Errorf("reading request token %q: %w", path, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("reading request token %q: file is empty: delete it to make a new token", path)
	}
	return tok, nil
}
