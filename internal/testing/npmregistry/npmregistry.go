// Package npmregistry is an in-process npm registry for tests, answering as registry.npmjs.org does for the
// endpoints waxseal and the npm CLI use: package documents (full, and abbreviated for an Accept of
// application/vnd.npm.install-v1+json), version documents, tarballs, the attestations endpoint, and publishes
// (PUT), which it records byte for byte. Its 404s carry the registry's bodies; like the registry it keeps the time
// of every version it has ever had, so an unpublished version's number is never allowed again, and a package
// whose versions are all unpublished answers 404 with that record (time.unpublished). Publishes need a bearer token.
package npmregistry

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/waxseal/waxseal/internal/provenance"
)

// Server is the registry.
type Server struct {
	*httptest.Server
	// Token is the bearer token a publish must carry.
	Token string

	mu          sync.Mutex
	packages    map[string]*pkg
	unpublished map[string]*gone
	keys        []map[string]any
	publishes   []Publish
	log         []string
	clock       int // seconds past epoch of the last change; every change moves it on
}

// epoch is the time of the registry's first change.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type pkg struct {
	versions map[string]*version
	latest   string
	// times is the registry's time record: each version ever published (and not since unpublished) at its
	// publish time, each unpublished one at its unpublish time, and created and modified.
	times map[string]string
}

// gone is a package whose versions were all unpublished: what the registry keeps of it.
type gone struct {
	times    map[string]string
	versions []string // the versions it had when the last was unpublished
	at       string
}

type version struct {
	manifest     map[string]any
	tarball      []byte
	attestations []Attestation
}

// Attestation is one entry of the attestations endpoint's answer.
type Attestation struct {
	PredicateType string          `json:"predicateType"`
	Bundle        json.RawMessage `json:"bundle"`
}

// Publish is one recorded PUT: the document npm sent and its decoded attachments.
type Publish struct {
	Name        string
	Document    map[string]any
	Attachments map[string]Attachment
}

// Attachment is one decoded entry of a publish's _attachments.
type Attachment struct {
	ContentType string
	Data        []byte
}

// New starts a registry that accepts publishes bearing token.
func New(token string) *Server {
	s := &Server{Token: token, packages: map[string]*pkg{}, unpublished: map[string]*gone{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddVersion adds name@v with its tarball and attestations (provenance bundles, as the registry keeps them), and
// tags it latest.
func (s *Server) AddVersion(name, v string, tarball []byte, attestations ...Attestation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(name, v, &version{manifest: map[string]any{"name": name, "version": v}, tarball: tarball, attestations: attestations})
}

// AddKey makes the registry serve a signing key at /-/npm/v1/keys, as registry.npmjs.org serves the key of its
// publish attestations: keyid "SHA256:<base64>", key the base64 DER SubjectPublicKeyInfo.
func (s *Server) AddKey(keyID, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, map[string]any{"keyid": keyID, "keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256", "key": key, "expires": nil})
}

// tick moves the registry's clock on and returns the time, as the registry writes it.
func (s *Server) tick() string {
	s.clock++
	return epoch.Add(time.Duration(s.clock) * time.Second).Format("2006-01-02T15:04:05.000Z")
}

func (s *Server) add(name, v string, ver *version) {
	p := s.packages[name]
	now := s.tick()
	if p == nil {
		p = &pkg{versions: map[string]*version{}, times: map[string]string{"created": now}}
		if g := s.unpublished[name]; g != nil { // a new owner: the old versions' times stay
			maps.Copy(p.times, g.times)
			delete(s.unpublished, name)
		}
		s.packages[name] = p
	}
	p.versions[v] = ver
	p.latest = v
	p.times[v], p.times["modified"] = now, now
}

// Unpublish removes name@v as `npm unpublish name@v` does: the version is gone, its number stays in the time
// record (and can never be published again); unpublishing the last version unpublishes the package.
func (s *Server) Unpublish(name, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.packages[name]
	if p == nil || p.versions[v] == nil {
		return
	}
	now := s.tick()
	delete(p.versions, v)
	p.times[v], p.times["modified"] = now, now
	if len(p.versions) > 0 {
		if p.latest == v {
			p.latest = slices.Max(slices.Collect(maps.Keys(p.versions)))
		}
		return
	}
	delete(s.packages, name)
	s.unpublished[name] = &gone{times: p.times, versions: []string{v}, at: now}
}

// SetFields adds package.json fields to name@v's manifest, as a publisher's package.json carries them (readme,
// scripts, dependencies, ...).
func (s *Server) SetFields(name, v string, fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, val := range fields {
		s.packages[name].versions[v].manifest[k] = val
	}
}

// AddUnpublished records a package whose versions were all unpublished at once.
func (s *Server) AddUnpublished(name string, versions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tick()
	g := &gone{times: map[string]string{"created": now, "modified": now}, versions: versions, at: now}
	for _, v := range versions {
		g.times[v] = now
	}
	s.unpublished[name] = g
}

// Publishes returns the publishes received so far.
func (s *Server) Publishes() []Publish {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.publishes)
}

// Requests returns "METHOD path" for every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// notFound is the registry's 404 body.
func notFound(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": msg})
}

// splitPath reads /<name>[/<rest>] where a scoped name's slash may be escaped (%2f or %2F) or not.
func splitPath(escaped string) (name, rest string, err error) {
	p, err := url.PathUnescape(strings.TrimPrefix(escaped, "/"))
	if err != nil {
		return "", "", err
	}
	if strings.HasPrefix(p, "@") {
		scope, after, _ := strings.Cut(p, "/")
		n, r, _ := strings.Cut(after, "/")
		return scope + "/" + n, r, nil
	}
	name, rest, _ = strings.Cut(p, "/")
	return name, rest, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r.Method+" "+r.URL.EscapedPath())
	if r.URL.Path == "/-/npm/v1/keys" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"keys": append([]map[string]any{}, s.keys...)})
		return
	}
	if spec, ok := strings.CutPrefix(r.URL.EscapedPath(), "/-/npm/v1/attestations/"); ok && r.Method == http.MethodGet {
		s.serveAttestations(w, spec)
		return
	}
	name, rest, err := splitPath(r.URL.EscapedPath())
	if err != nil || name == "" {
		notFound(w, "Not found")
		return
	}
	switch {
	case r.Method == http.MethodPut && rest == "":
		s.servePublish(w, r, name)
	case r.Method != http.MethodGet:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	case rest == "":
		s.servePackage(w, r, name)
	case strings.HasPrefix(rest, "-/"):
		s.serveTarball(w, name, strings.TrimPrefix(rest, "-/"))
	default:
		s.serveVersion(w, name, rest)
	}
}

// abbreviated is the Accept of a client that wants the abbreviated document (npm sends
// "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*").
const abbreviated = "application/vnd.npm.install-v1+json"

// installFields are the fields of a version an abbreviated document keeps (npm/registry's
// docs/responses/package-metadata.md, "Abbreviated metadata format", and what registry.npmjs.org adds to it).
var installFields = []string{"name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies",
	"bundleDependencies", "peerDependencies", "peerDependenciesMeta", "bin", "directories", "dist", "engines", "cpu", "os",
	"_hasShrinkwrap", "hasInstallScript"}

func (s *Server) servePackage(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Vary", "Accept")
	p := s.packages[name]
	if p == nil {
		if g, ok := s.unpublished[name]; ok {
			// registry.npmjs.org answers an unpublished package with 404 and a document recording what was removed.
			times := map[string]any{"unpublished": map[string]any{"time": g.at, "versions": g.versions}}
			for k, v := range g.times {
				times[k] = v
			}
			writeJSON(w, http.StatusNotFound, map[string]any{"_id": name, "name": name, "time": times})
			return
		}
		notFound(w, "Not found")
		return
	}
	tags := map[string]string{"latest": p.latest}
	if strings.Contains(r.Header.Get("Accept"), abbreviated) {
		versions := map[string]any{}
		for v, ver := range p.versions {
			full := s.versionDoc(name, v, ver)
			short := map[string]any{}
			for _, f := range installFields {
				if val, ok := full[f]; ok {
					short[f] = val
				}
			}
			versions[v] = short
		}
		w.Header().Set("Content-Type", abbreviated)
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "modified": p.times["modified"], "dist-tags": tags, "versions": versions})
		return
	}
	versions := map[string]any{}
	for v, ver := range p.versions {
		versions[v] = s.versionDoc(name, v, ver)
	}
	doc := map[string]any{"_id": name, "name": name, "dist-tags": tags, "versions": versions, "time": maps.Clone(p.times)}
	if readme, ok := p.versions[p.latest].manifest["readme"]; ok {
		doc["readme"] = readme
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) versionDoc(name, v string, ver *version) map[string]any {
	doc := map[string]any{}
	for k, val := range ver.manifest {
		doc[k] = val
	}
	sum := sha512Sum(ver.tarball)
	file := strings.TrimPrefix(name[strings.LastIndex(name, "/")+1:], "@") + "-" + v + ".tgz"
	dist := map[string]any{"tarball": s.URL + "/" + name + "/-/" + file, "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}
	if len(ver.attestations) > 0 {
		dist["attestations"] = map[string]any{"url": s.URL + "/-/npm/v1/attestations/" + name + "@" + v,
			"provenance": map[string]string{"predicateType": provenance.PredicateType}}
	}
	doc["dist"] = dist
	return doc
}

func (s *Server) serveVersion(w http.ResponseWriter, name, v string) {
	p := s.packages[name]
	if p == nil {
		notFound(w, "Not found")
		return
	}
	ver := p.versions[v]
	if ver == nil {
		// registry.npmjs.org's answer for a version a package does not have.
		writeJSON(w, http.StatusNotFound, "version not found: "+v)
		return
	}
	writeJSON(w, http.StatusOK, s.versionDoc(name, v, ver))
}

func (s *Server) serveTarball(w http.ResponseWriter, name, file string) {
	if p := s.packages[name]; p != nil {
		for v, ver := range p.versions {
			if strings.HasSuffix(file, "-"+v+".tgz") {
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = w.Write(ver.tarball)
				return
			}
		}
	}
	notFound(w, "Not found")
}

// serveAttestations answers GET /-/npm/v1/attestations/<name>@<version> as the registry does:
// {"attestations":[{"predicateType":...,"bundle":{...}}]}, or 404.
func (s *Server) serveAttestations(w http.ResponseWriter, spec string) {
	unescaped, err := url.PathUnescape(spec)
	if err != nil {
		notFound(w, "Not found")
		return
	}
	at := strings.LastIndex(unescaped, "@")
	if at <= 0 {
		notFound(w, "Not found")
		return
	}
	p := s.packages[unescaped[:at]]
	if p == nil || p.versions[unescaped[at+1:]] == nil || len(p.versions[unescaped[at+1:]].attestations) == 0 {
		notFound(w, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"attestations": p.versions[unescaped[at+1:]].attestations})
}

// servePublish takes a publish the way the registry does: a bearer token, a document whose _attachments hold the
// tarball and, with provenance, "<name>-<version>.sigstore". A version that exists is refused with 403, as
// registry.npmjs.org refuses to publish over a version.
func (s *Server) servePublish(w http.ResponseWriter, r *http.Request, name string) {
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "This command requires you to be logged in."})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
		return
	}
	pub := Publish{Name: name, Document: doc, Attachments: map[string]Attachment{}}
	atts, _ := doc["_attachments"].(map[string]any)
	for file, a := range atts {
		m, _ := a.(map[string]any)
		ct, _ := m["content_type"].(string)
		var data []byte
		switch d := m["data"].(type) {
		case string:
			if data, err = base64.StdEncoding.DecodeString(d); err != nil {
				data = []byte(d) // the provenance attachment is the bundle's JSON text itself
			}
		default:
			data, _ = json.Marshal(d)
		}
		pub.Attachments[file] = Attachment{ContentType: ct, Data: data}
	}
	versions, _ := doc["versions"].(map[string]any)
	for v := range versions {
		if s.everHad(name, v) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf("You cannot publish over the previously published versions: %s.", v)})
			return
		}
	}
	for v, man := range versions {
		m, _ := man.(map[string]any)
		ver := &version{manifest: m}
		for file, a := range pub.Attachments {
			switch {
			case strings.HasSuffix(file, ".tgz"):
				ver.tarball = a.Data
			case strings.HasSuffix(file, ".sigstore"):
				ver.attestations = append(ver.attestations, Attestation{PredicateType: provenance.PredicateType, Bundle: a.Data})
			}
		}
		s.add(name, v, ver)
	}
	s.publishes = append(s.publishes, pub)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

// everHad reports whether name@v was ever published, even if it was unpublished since.
func (s *Server) everHad(name, v string) bool {
	if p := s.packages[name]; p != nil {
		_, ok := p.times[v]
		return ok
	}
	if g := s.unpublished[name]; g != nil {
		_, ok := g.times[v]
		return ok
	}
	return false
}

func sha512Sum(b []byte) [64]byte { return sha512.Sum512(b) }
