// Package npmregistry is an in-process npm registry for tests, answering as registry.npmjs.org does for the
// endpoints waxseal and the npm CLI use: package documents (full and abbreviated), version documents, tarballs,
// the attestations endpoint, and publishes (PUT), which it records byte for byte. Its 404s carry the registry's
// bodies, an unpublished package answers 404 with its time.unpublished record, and publishes need a bearer token.
package npmregistry

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/waxseal/waxseal/internal/provenance"
)

// Server is the registry.
type Server struct {
	*httptest.Server
	// Token is the bearer token a publish must carry.
	Token string

	mu          sync.Mutex
	packages    map[string]*pkg
	unpublished map[string][]string
	keys        []map[string]any
	publishes   []Publish
	log         []string
}

type pkg struct {
	versions map[string]*version
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
	s := &Server{Token: token, packages: map[string]*pkg{}, unpublished: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddVersion adds name@v with its tarball and attestations (provenance bundles, as the registry keeps them).
func (s *Server) AddVersion(name, v string, tarball []byte, attestations ...Attestation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.packages[name]
	if p == nil {
		p = &pkg{versions: map[string]*version{}}
		s.packages[name] = p
	}
	p.versions[v] = &version{manifest: map[string]any{"name": name, "version": v}, tarball: tarball, attestations: attestations}
}

// AddKey makes the registry serve a signing key at /-/npm/v1/keys, as registry.npmjs.org serves the key of its
// publish attestations: keyid "SHA256:<base64>", key the base64 DER SubjectPublicKeyInfo.
func (s *Server) AddKey(keyID, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, map[string]any{"keyid": keyID, "keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256", "key": key, "expires": nil})
}

// AddUnpublished records a package whose versions were all unpublished.
func (s *Server) AddUnpublished(name string, versions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unpublished[name] = versions
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

func (s *Server) servePackage(w http.ResponseWriter, r *http.Request, name string) {
	p := s.packages[name]
	if p == nil {
		if vs, ok := s.unpublished[name]; ok {
			// registry.npmjs.org answers an unpublished package with 404 and a document recording what was removed.
			writeJSON(w, http.StatusNotFound, map[string]any{"name": name, "time": map[string]any{
				"unpublished": map[string]any{"time": "2026-01-01T00:00:00.000Z", "versions": vs}}})
			return
		}
		notFound(w, "Not found")
		return
	}
	versions := map[string]any{}
	latest := ""
	for v, ver := range p.versions {
		versions[v] = s.versionDoc(name, v, ver)
		latest = max(latest, v)
	}
	doc := map[string]any{"name": name, "dist-tags": map[string]string{"latest": latest}, "versions": versions}
	if strings.Contains(r.Header.Get("Accept"), "application/vnd.npm.install-v1+json") {
		w.Header().Set("Content-Type", "application/vnd.npm.install-v1+json")
		_ = json.NewEncoder(w).Encode(doc)
		return
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
	for v, man := range versions {
		if p := s.packages[name]; p != nil && p.versions[v] != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf("You cannot publish over the previously published versions: %s.", v)})
			return
		}
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
		if s.packages[name] == nil {
			s.packages[name] = &pkg{versions: map[string]*version{}}
		}
		s.packages[name].versions[v] = ver
	}
	s.publishes = append(s.publishes, pub)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name})
}

func sha512Sum(b []byte) [64]byte { return sha512.Sum512(b) }
