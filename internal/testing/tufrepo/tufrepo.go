// Package tufrepo builds a real TUF repository for tests, the way Sigstore's mirror (tuf-repo-cdn.sigstore.dev)
// is laid out: consistent snapshots, ed25519 keys, signatures over canonical JSON (go-tuf's metadata package),
// metadata at the root (1.root.json, timestamp.json, N.snapshot.json, N.targets.json) and targets under
// targets/<sha256>.<name>. A TUF client seeded with its root.json trusts its targets, so unmodified clients
// (sigstore-js in npm) can be given a local Sigstore stack's trusted_root.json the way they fetch public-good's.
package tufrepo

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Repo is a signed repository: every file a mirror serves, by path.
type Repo struct {
	// Files maps a path under the mirror's base URL (e.g. "1.root.json", "targets/<hash>.trusted_root.json") to
	// its bytes.
	Files map[string][]byte
	// Root is 1.root.json, the anchor a client must be seeded with.
	Root []byte
}

// New builds a repository whose targets are the given files, valid for a year, signed by one fresh ed25519 key
// for every role.
func New(targets map[string][]byte) (*Repo, error) {
	expires := time.Now().Add(365 * 24 * time.Hour)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the TUF key: %w", err)
	}
	key, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
	if err != nil {
		return nil, err
	}
	r := &Repo{Files: map[string][]byte{}}

	tg := metadata.Targets(expires)
	for name, data := range targets {
		tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
		if err != nil {
			return nil, err
		}
		tg.Signed.Targets[name] = tf
		sum := sha256.Sum256(data)
		r.Files["targets/"+hex.EncodeToString(sum[:])+"."+name] = data
	}
	root := metadata.Root(expires)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := root.Signed.AddKey(key, role); err != nil {
			return nil, err
		}
	}
	sn := metadata.Snapshot(expires)
	ts := metadata.Timestamp(expires)
	if _, err := tg.Sign(signer); err != nil {
		return nil, err
	}
	tgBytes, err := tg.ToBytes(false)
	if err != nil {
		return nil, err
	}
	sn.Signed.Meta["targets.json"] = metadata.MetaFile(tg.Signed.Version)
	if _, err := sn.Sign(signer); err != nil {
		return nil, err
	}
	snBytes, err := sn.ToBytes(false)
	if err != nil {
		return nil, err
	}
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(sn.Signed.Version)
	if _, err := ts.Sign(signer); err != nil {
		return nil, err
	}
	tsBytes, err := ts.ToBytes(false)
	if err != nil {
		return nil, err
	}
	if _, err := root.Sign(signer); err != nil {
		return nil, err
	}
	if r.Root, err = root.ToBytes(false); err != nil {
		return nil, err
	}
	r.Files[fmt.Sprintf("%d.root.json", root.Signed.Version)] = r.Root
	r.Files[fmt.Sprintf("%d.targets.json", tg.Signed.Version)] = tgBytes
	r.Files[fmt.Sprintf("%d.snapshot.json", sn.Signed.Version)] = snBytes
	r.Files["timestamp.json"] = tsBytes
	return r, nil
}

// ServeHTTP serves the repository as a mirror does: the files by path, 404 for anything else (a client asks
// for N+1.root.json until it gets one).
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	data, ok := r.Files[strings.TrimPrefix(req.URL.Path, "/")]
	if !ok || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(data)
}
