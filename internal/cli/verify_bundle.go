package cli

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/waxseal/waxseal/internal/trust"
	"github.com/waxseal/waxseal/internal/verifier"
)

const verifyBundleSynopsis = "verify-bundle --bundle FILE (--certificate-identity SAN --certificate-oidc-issuer URL | --key KEY.pub) [--trusted-root FILE | --staging] FILE|sha256:HEX|sha512:HEX"

// verifyBundleFlags are verify-bundle's flags.
type verifyBundleFlags struct {
	tf                  *trustFlags
	idf                 *identityFlags
	bundlePath, keyPath *string
	asJSON              *bool
	retryFor            *time.Duration
}

// registerVerifyBundleFlags defines verify-bundle's flags on fs.
func registerVerifyBundleFlags(fs *flag.FlagSet) *verifyBundleFlags {
	f := &verifyBundleFlags{tf: &trustFlags{}, idf: &identityFlags{}}
	f.bundlePath = fs.String("bundle", "", "the Sigstore bundle to verify")
	f.keyPath = fs.String("key", "", "PEM public key the bundle was signed with (instead of a certificate identity)")
	f.asJSON = fs.Bool("json", false, "print the result as JSON")
	f.retryFor = registerRetryFor(fs)
	f.tf.register(fs, false)
	f.idf.register(fs)
	return f
}

// runVerifyBundle is the Sigstore client conformance protocol: verify one bundle over one artifact, given as a
// file or as sha256:<hex>, against an identity or a public key. Exit 0 only on success.
func (e *Env) runVerifyBundle(ctx context.Context, args []string) error {
	fs := e.newFlagSet("verify-bundle", verifyBundleSynopsis)
	f := registerVerifyBundleFlags(fs.FlagSet)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("verify-bundle: want one FILE or sha256:, sha384: or sha512:DIGEST, got %d arguments", len(pos))
	}
	if *f.bundlePath == "" {
		return usagef("verify-bundle: --bundle FILE is required")
	}
	id := f.idf.identity()
	if *f.keyPath != "" && id != (verifier.Identity{}) {
		return usagef("verify-bundle: --key and --certificate-identity contradict each other: pass one")
	}
	if *f.keyPath == "" && (f.idf.san == "" && f.idf.sanRegexp == "" || f.idf.issuer == "" && f.idf.issuerRegexp == "") {
		return usagef("verify-bundle: no identity, no verification: pass --certificate-identity and --certificate-oidc-issuer, or --key")
	}
	if err := checkRetryFor("verify-bundle", *f.retryFor); err != nil {
		return err
	}
	topts := f.tf.options(e, e.retryPolicy(*f.retryFor))
	if err := topts.Validate(); err != nil {
		return usagef("verify-bundle: %v", err)
	}
	digests, err := artifactDigests(pos[0])
	if err != nil {
		return err
	}
	tr, err := trust.TrustedRoot(ctx, topts)
	if err != nil {
		return err
	}
	var opts []verifier.Option
	if *f.keyPath != "" {
		k, err := readPublicKey(*f.keyPath)
		if err != nil {
			return err
		}
		opts = append(opts, verifier.WithPublicKey(k))
	}
	v, err := verifier.New(tr, id, opts...)
	if err != nil {
		return err
	}
	rep := artifactReport{Artifact: pos[0], Bundle: *f.bundlePath}
	b, err := v.LoadBundle(*f.bundlePath)
	if err == nil {
		rep.Signature, err = v.VerifyArtifactDigests(b, digests)
	}
	rep.setError(err)
	return e.printReports([]artifactReport{rep}, *f.asJSON)
}

// digestArgs are the digest forms verify-bundle accepts in place of a file, and their sizes.
var digestArgs = map[string]int{"sha256": sha256.Size, "sha384": sha512.Size384, "sha512": sha512.Size}

// artifactDigests returns the digest named by sha256:, sha384: or sha512:<hex>, or the file's digests under all
// three (one read), so that whichever a bundle signs can be checked: npm's provenance names its subject by sha512
// only, a message signature is usually over sha256.
func artifactDigests(arg string) (map[string][]byte, error) {
	if alg, h, ok := strings.Cut(arg, ":"); ok {
		if size, known := digestArgs[alg]; known {
			d, err := hex.DecodeString(h)
			if err != nil || len(d) != size {
				return nil, usagef("verify-bundle: %q is not %s:<%d hex digits>", arg, alg, 2*size)
			}
			return map[string][]byte{alg: d}, nil
		}
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, fmt.Errorf("reading artifact %q: %w (pass the signed file, or its digest as sha256:<hex> or sha512:<hex>)", arg, describeOpenErr(err))
	}
	defer func() { _ = f.Close() }() // read-only
	h256, h384, h512 := sha256.New(), sha512.New384(), sha512.New()
	if _, err := io.Copy(io.MultiWriter(h256, h384, h512), f); err != nil {
		return nil, fmt.Errorf("reading artifact %q: %w", arg, err)
	}
	return map[string][]byte{"sha256": h256.Sum(nil), "sha384": h384.Sum(nil), "sha512": h512.Sum(nil)}, nil
}

func readPublicKey(path string) (any, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key %q: %w", path, describeOpenErr(err))
	}
	k, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("reading public key %q: %w (pass a PEM \"PUBLIC KEY\" file)", path, err)
	}
	return k, nil
}

func describeOpenErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file")
	}
	return err
}
