package verifier

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/waxseal/waxseal/internal/provenance"
)

// Predicate types of the SLSA provenance npm accepts.
const (
	PredicateSLSAv1  = provenance.PredicateType
	PredicateSLSAv02 = "https://slsa.dev/provenance/v0.2"
)

// githubRunnerPrefix is the SLSA v1 builder id prefix of GitHub Actions; the runner environment follows it.
const githubRunnerPrefix = "https://github.com/actions/runner"

// VerifyProvenance verifies a DSSE bundle of SLSA provenance for the npm package purl whose tarball has this
// SHA-512 digest, then makes the npm registry's checks: the statement names the package and digest, and the
// statement's source claims agree with the signing certificate's extensions.
func (v *Verifier) VerifyProvenance(b *bundle.Bundle, purl string, sha512 []byte) (*Result, error) {
	res, st, err := v.verifyStatement(b, "sha512", sha512)
	if err != nil {
		return nil, err
	}
	// npm: the subject must be the package's purl with the tarball's sha512.
	if err := checkSubject(st, purl, sha512); err != nil {
		return nil, err
	}
	return v.checkProvenance(b, res, st)
}

// VerifyProvenanceOf verifies a DSSE bundle of SLSA provenance about an artifact whose digests are given (the
// statement's subjects may name it by any of them; the strongest they use is the one checked), and checks the
// statement's source claims against the signing certificate. When name is not empty, the subject that carries the
// artifact's digest must also carry that name. It returns the subject's name, which is how the provenance names
// the artifact (a file name; a checksums file's provenance names many).
func (v *Verifier) VerifyProvenanceOf(b *bundle.Bundle, name string, digests map[string][]byte) (*Result, string, error) {
	if err := isAttestation(b); err != nil {
		return nil, "", err
	}
	alg, err := signedAlgorithm(b, digests)
	if err != nil {
		return nil, "", err
	}
	res, st, err := v.verifyStatement(b, alg, digests[alg])
	if err != nil {
		return nil, "", err
	}
	subject, err := subjectFor(st, name, alg, digests[alg])
	if err != nil {
		return nil, "", err
	}
	out, err := v.checkProvenance(b, res, st)
	return out, subject, err
}

func isAttestation(b *bundle.Bundle) error {
	if b != nil && b.Bundle != nil && b.GetDsseEnvelope() == nil {
		return verdict(ErrPredicateType, errors.New("the bundle holds a plain signature, not a DSSE attestation: pass the .provenance.sigstore.json (or .intoto.jsonl) bundle"))
	}
	return nil
}

// verifyStatement verifies b over the artifact digest and returns its in-toto statement.
func (v *Verifier) verifyStatement(b *bundle.Bundle, alg string, digest []byte) (*verify.VerificationResult, *intoto.Statement, error) {
	if err := isAttestation(b); err != nil {
		return nil, nil, err
	}
	res, err := v.verify(b, alg, digest)
	if err != nil {
		return nil, nil, err
	}
	if res.Statement == nil {
		return nil, nil, verdict(ErrPredicateType, errors.New("the envelope holds no in-toto statement"))
	}
	return res, res.Statement, nil
}

// checkProvenance requires SLSA provenance, signed with a Fulcio certificate whose extensions back its claims.
func (v *Verifier) checkProvenance(b *bundle.Bundle, res *verify.VerificationResult, st *intoto.Statement) (*Result, error) {
	if pt := st.GetPredicateType(); pt != PredicateSLSAv1 && pt != PredicateSLSAv02 {
		return nil, verdict(ErrPredicateType, fmt.Errorf("predicate type %q: want %s (or %s)", pt, PredicateSLSAv1, PredicateSLSAv02))
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return nil, verdict(ErrProvenanceMismatch, errors.New("provenance must be signed with a Fulcio certificate, not a key"))
	}
	if err := checkPredicate(st, res.Signature.Certificate); err != nil {
		return nil, err
	}
	return newResult(b, res), nil
}

// subjectFor finds the subject that names the artifact: the one with its digest (and, when name is given, that
// name).
func subjectFor(st *intoto.Statement, name, alg string, digest []byte) (string, error) {
	want := hex.EncodeToString(digest)
	var names []string
	for _, s := range st.GetSubject() {
		if !strings.EqualFold(s.GetDigest()[alg], want) {
			continue
		}
		if name == "" || s.GetName() == name {
			return s.GetName(), nil
		}
		names = append(names, s.GetName())
	}
	if len(names) > 0 {
		return "", verdict(ErrSubjectMismatch, fmt.Errorf("the statement names the artifact's %s as %s, not %s", alg, strings.Join(names, ", "), name))
	}
	return "", verdict(ErrDigestMismatch, fmt.Errorf("no statement subject has the artifact's %s %s", alg, want))
}

// CheckStatement applies, before anything is signed, the registry's comparison of a provenance statement (the
// in-toto JSON) with the certificate that will sign it: every field the certificate backs (repository, ref,
// commit, workflow, runner) must equal its extension. npm's registry refuses provenance where any differs.
func CheckStatement(statement []byte, cert *x509.Certificate) error {
	var st intoto.Statement
	if err := protojson.Unmarshal(statement, &st); err != nil {
		return verdict(ErrPredicateType, fmt.Errorf("decoding the statement: %w", err))
	}
	sum, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return verdict(ErrCertificate, err)
	}
	return checkPredicate(&st, &sum)
}

func checkSubject(st *intoto.Statement, purl string, sha512 []byte) error {
	want := hex.EncodeToString(sha512)
	var names []string
	for _, s := range st.GetSubject() {
		if s.GetName() != purl {
			names = append(names, s.GetName())
			continue
		}
		if got := s.GetDigest()["sha512"]; !strings.EqualFold(got, want) {
			return verdict(ErrDigestMismatch, fmt.Errorf("subject %s has sha512 %s, the tarball's is %s", purl, got, want))
		}
		return nil
	}
	return verdict(ErrSubjectMismatch, fmt.Errorf("statement names %s, not %s", strings.Join(names, ", "), purl))
}

func checkPredicate(st *intoto.Statement, cert *certificate.Summary) error {
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return verdict(ErrPredicateType, fmt.Errorf("encoding predicate: %w", err))
	}
	var claims sourceClaims
	switch st.GetPredicateType() {
	case PredicateSLSAv1:
		claims, err = slsaV1Claims(raw)
	case PredicateSLSAv02:
		claims, err = slsaV02Claims(raw)
	default:
		return verdict(ErrPredicateType, fmt.Errorf("predicate type %q: want %s (or %s)", st.GetPredicateType(), PredicateSLSAv1, PredicateSLSAv02))
	}
	if err != nil {
		return err
	}
	return claims.match(cert)
}

// sourceClaims are what a statement says about where the build came from.
type sourceClaims struct {
	repository, ref, commit, workflowPath string
	runnerEnvironment                     string // empty when the predicate does not say (SLSA v0.2)
	dependencyURI                         string
}

type slsaV1 struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Workflow struct {
				Ref        string `json:"ref"`
				Repository string `json:"repository"`
				Path       string `json:"path"`
			} `json:"workflow"`
		} `json:"externalParameters"`
		ResolvedDependencies []struct {
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
	} `json:"runDetails"`
}

func slsaV1Claims(raw []byte) (sourceClaims, error) {
	var p slsaV1
	if err := json.Unmarshal(raw, &p); err != nil {
		return sourceClaims{}, verdict(ErrPredicateType, fmt.Errorf("decoding SLSA v1 predicate: %w", err))
	}
	w := p.BuildDefinition.ExternalParameters.Workflow
	if w.Repository == "" || w.Ref == "" || w.Path == "" {
		return sourceClaims{}, verdict(ErrProvenanceMismatch, fmt.Errorf("build type %q: externalParameters.workflow lacks repository, ref or path; only GitHub Actions provenance is supported", p.BuildDefinition.BuildType))
	}
	c := sourceClaims{repository: w.Repository, ref: w.Ref, workflowPath: w.Path}
	// npm (GitHub workflow build type): resolvedDependencies[0] is git+REPOSITORY@REF with the commit.
	if len(p.BuildDefinition.ResolvedDependencies) > 0 {
		d := p.BuildDefinition.ResolvedDependencies[0]
		c.dependencyURI, c.commit = d.URI, d.Digest["gitCommit"]
	}
	// npm (GitHub workflow build type): builder.id is https://github.com/actions/runner/<runner environment>.
	id := p.RunDetails.Builder.ID
	env, ok := strings.CutPrefix(id, githubRunnerPrefix+"/")
	if !ok || env == "" {
		return sourceClaims{}, verdict(ErrProvenanceMismatch, fmt.Errorf("builder id %q is not a GitHub Actions runner", id))
	}
	c.runnerEnvironment = env
	return c, nil
}

type slsaV02 struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	Invocation struct {
		ConfigSource struct {
			URI        string            `json:"uri"`
			Digest     map[string]string `json:"digest"`
			EntryPoint string            `json:"entryPoint"`
		} `json:"configSource"`
	} `json:"invocation"`
}

func slsaV02Claims(raw []byte) (sourceClaims, error) {
	var p slsaV02
	if err := json.Unmarshal(raw, &p); err != nil {
		return sourceClaims{}, verdict(ErrPredicateType, fmt.Errorf("decoding SLSA v0.2 predicate: %w", err))
	}
	cs := p.Invocation.ConfigSource
	// npm (SLSA v0.2): configSource.uri is git+REPOSITORY@REF, digest.sha1 the commit, entryPoint the workflow.
	repo, ref, ok := splitGitURI(cs.URI)
	if !ok || cs.EntryPoint == "" {
		return sourceClaims{}, verdict(ErrProvenanceMismatch, fmt.Errorf("invocation.configSource %q is not a GitHub source; only GitHub Actions provenance is supported", cs.URI))
	}
	if !strings.HasPrefix(p.Builder.ID, githubRunnerPrefix) {
		return sourceClaims{}, verdict(ErrProvenanceMismatch, fmt.Errorf("builder id %q is not a GitHub Actions runner", p.Builder.ID))
	}
	return sourceClaims{repository: repo, ref: ref, commit: cs.Digest["sha1"], workflowPath: cs.EntryPoint, dependencyURI: cs.URI}, nil
}

// splitGitURI splits git+https://github.com/o/r@refs/heads/main.
func splitGitURI(uri string) (repo, ref string, ok bool) {
	rest, ok := strings.CutPrefix(uri, "git+")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "@")
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// match compares the statement's claims with the certificate Fulcio issued from the workflow's OIDC token.
func (c sourceClaims) match(cert *certificate.Summary) error {
	var errs []error
	mismatch := func(what, stmt, certVal string) {
		errs = append(errs, fmt.Errorf("%s: statement says %q, certificate says %q", what, stmt, certVal))
	}
	// npm: source repository URI (1.3.6.1.4.1.57264.1.12) = the statement's repository.
	if got := certRepository(cert); got != c.repository {
		mismatch("source repository", c.repository, got)
	}
	// npm: source repository ref (1.3.6.1.4.1.57264.1.14) = the statement's ref.
	if got := firstNonEmpty(cert.SourceRepositoryRef, cert.GithubWorkflowRef); got != c.ref {
		mismatch("source ref", c.ref, got)
	}
	// npm: source repository digest (1.3.6.1.4.1.57264.1.13) = the resolved dependency's commit.
	if got := firstNonEmpty(cert.SourceRepositoryDigest, cert.GithubWorkflowSHA); got != c.commit {
		mismatch("source commit", c.commit, got)
	}
	if want := "git+" + c.repository + "@" + c.ref; c.dependencyURI != want {
		mismatch("source dependency", c.dependencyURI, want)
	}
	// npm: build config URI (1.3.6.1.4.1.57264.1.18) = REPOSITORY/PATH@REF. Certificates issued before the
	// extension existed (early 2023) carry the same value as their SAN.
	wantConfig := c.repository + "/" + c.workflowPath + "@" + c.ref
	if got := firstNonEmpty(cert.BuildConfigURI, cert.SubjectAlternativeName); got != wantConfig {
		mismatch("build config (workflow)", wantConfig, got)
	}
	// npm: runner environment (1.3.6.1.4.1.57264.1.11) = the builder id's suffix (SLSA v1 only).
	if c.runnerEnvironment != "" && cert.RunnerEnvironment != c.runnerEnvironment {
		mismatch("runner environment", c.runnerEnvironment, cert.RunnerEnvironment)
	}
	if len(errs) > 0 {
		return verdict(ErrProvenanceMismatch, errors.Join(errs...))
	}
	return nil
}
