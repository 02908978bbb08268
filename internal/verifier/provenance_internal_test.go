package verifier

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	repo   = "https://github.com/o/r"
	ref    = "refs/tags/v1.0.0"
	commit = "0123456789abcdef0123456789abcdef01234567"
)

// githubCert is the certificate Fulcio issues to .github/workflows/release.yml of o/r at v1.0.0.
func githubCert() *certificate.Summary {
	return &certificate.Summary{
		SubjectAlternativeName: repo + "/.github/workflows/release.yml@" + ref,
		Extensions: certificate.Extensions{
			Issuer: "https://token.actions.githubusercontent.com", SourceRepositoryURI: repo, SourceRepositoryRef: ref,
			SourceRepositoryDigest: commit, RunnerEnvironment: "github-hosted",
			BuildConfigURI: repo + "/.github/workflows/release.yml@" + ref,
		},
	}
}

// slsaV1Statement is npm's SLSA v1 statement for that build; edit changes the predicate's JSON first.
func slsaV1Statement(t *testing.T, edit func(p map[string]any)) *intoto.Statement {
	t.Helper()
	var p map[string]any
	err := json.Unmarshal([]byte(`{
	  "buildDefinition": {
	    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
	    "externalParameters": {"workflow": {"ref": "`+ref+`", "repository": "`+repo+`", "path": ".github/workflows/release.yml"}},
	    "resolvedDependencies": [{"uri": "git+`+repo+`@`+ref+`", "digest": {"gitCommit": "`+commit+`"}}]
	  },
	  "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}
	}`), &p)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(p)
	}
	s, err := structpb.NewStruct(p)
	if err != nil {
		t.Fatal(err)
	}
	return &intoto.Statement{PredicateType: PredicateSLSAv1, Predicate: s}
}

func workflow(p map[string]any) map[string]any {
	return p["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)["workflow"].(map[string]any)
}

func TestCheckPredicate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stmt    func(t *testing.T) *intoto.Statement
		cert    func(c *certificate.Summary)
		wantErr error
		says    string
	}{
		{"npm's statement for the certificate's build", func(t *testing.T) *intoto.Statement { return slsaV1Statement(t, nil) }, nil, nil, ""},
		{"repository", func(t *testing.T) *intoto.Statement {
			return slsaV1Statement(t, func(p map[string]any) { workflow(p)["repository"] = "https://github.com/o/evil" })
		}, nil, ErrProvenanceMismatch, "source repository"},
		{"ref", func(t *testing.T) *intoto.Statement {
			return slsaV1Statement(t, func(p map[string]any) { workflow(p)["ref"] = "refs/heads/main" })
		}, nil, ErrProvenanceMismatch, "source ref"},
		{"workflow path", func(t *testing.T) *intoto.Statement {
			return slsaV1Statement(t, func(p map[string]any) { workflow(p)["path"] = ".github/workflows/other.yml" })
		}, nil, ErrProvenanceMismatch, "build config (workflow)"},
		{"commit", func(t *testing.T) *intoto.Statement { return slsaV1Statement(t, nil) }, func(c *certificate.Summary) {
			c.SourceRepositoryDigest = strings.Repeat("f", 40)
		}, ErrProvenanceMismatch, "source commit"},
		{"runner environment", func(t *testing.T) *intoto.Statement { return slsaV1Statement(t, nil) }, func(c *certificate.Summary) {
			c.RunnerEnvironment = "self-hosted"
		}, ErrProvenanceMismatch, "runner environment"},
		{"builder is not a GitHub runner", func(t *testing.T) *intoto.Statement {
			return slsaV1Statement(t, func(p map[string]any) {
				p["runDetails"].(map[string]any)["builder"].(map[string]any)["id"] = "https://gitlab.com/runner"
			})
		}, nil, ErrProvenanceMismatch, "not a GitHub Actions runner"},
		{"not GitHub provenance", func(t *testing.T) *intoto.Statement {
			return slsaV1Statement(t, func(p map[string]any) { delete(p["buildDefinition"].(map[string]any), "externalParameters") })
		}, nil, ErrProvenanceMismatch, "only GitHub Actions provenance"},
		{"dependency at another ref", func(t *testing.T) *intoto.Statement {
			return slsaV1Statement(t, func(p map[string]any) {
				p["buildDefinition"].(map[string]any)["resolvedDependencies"].([]any)[0].(map[string]any)["uri"] = "git+" + repo + "@refs/heads/x"
			})
		}, nil, ErrProvenanceMismatch, "source dependency"},
		{"not SLSA", func(t *testing.T) *intoto.Statement {
			s := slsaV1Statement(t, nil)
			s.PredicateType = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
			return s
		}, nil, ErrPredicateType, "npm/attestation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cert := githubCert()
			if tt.cert != nil {
				tt.cert(cert)
			}
			err := checkPredicate(tt.stmt(t), cert)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("checkPredicate: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("got %v, want %v saying %q", err, tt.wantErr, tt.says)
			}
		})
	}
}

func TestCheckSubject(t *testing.T) {
	t.Parallel()
	sha := make([]byte, 64)
	sha[0] = 0xab
	st := &intoto.Statement{Subject: []*intoto.ResourceDescriptor{
		{Name: "pkg:npm/%40scope/a@1.0.0", Digest: map[string]string{"sha512": "ab" + strings.Repeat("00", 63)}},
	}}
	tests := []struct {
		name, purl string
		sha        []byte
		wantErr    error
	}{
		{"match", "pkg:npm/%40scope/a@1.0.0", sha, nil},
		{"other version", "pkg:npm/%40scope/a@1.0.1", sha, ErrSubjectMismatch},
		{"unescaped scope is another name", "pkg:npm/@scope/a@1.0.0", sha, ErrSubjectMismatch},
		{"other digest", "pkg:npm/%40scope/a@1.0.0", make([]byte, 64), ErrDigestMismatch},
	}
	for _, tt := range tests {
		if err := checkSubject(st, tt.purl, tt.sha); !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestNewRefusesWeakPolicies(t *testing.T) {
	t.Parallel()
	tm := &emptyTrust{}
	tests := []struct {
		name string
		id   Identity
		opts []Option
		says string
	}{
		{"no identity", Identity{}, nil, "no certificate identity"},
		{"no issuer", Identity{SAN: "x"}, nil, "no OIDC issuer"},
		{"bad regexp", Identity{SANRegexp: "(", Issuer: "x"}, nil, "SAN pattern"},
		{"nil key", Identity{}, []Option{WithPublicKey(nil)}, "nil public key"},
	}
	for _, tt := range tests {
		if _, err := New(tm, tt.id, tt.opts...); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.says)
		}
	}
	if _, err := New(nil, Identity{SAN: "x", Issuer: "y"}); err == nil {
		t.Error("New accepted a nil trusted root")
	}
}

// emptyTrust is trusted material that trusts nothing.
type emptyTrust struct{ root.BaseTrustedMaterial }

// TestCheckStatementAgainstCertificate: the pre-signing check takes a statement and a certificate alone; with npm's
// own statement and certificate it passes, and with one field changed it names that field.
func TestCheckStatementAgainstCertificate(t *testing.T) {
	t.Parallel()
	b, err := LoadBundle("../../testdata/npm-real/sigstore-2.0.0.tgz.provenance.sigstore.json")
	if err != nil {
		t.Fatal(err)
	}
	vc, err := b.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	payload := b.GetDsseEnvelope().GetPayload()
	if err := CheckStatement(payload, vc.Certificate()); err != nil {
		t.Fatalf("npm's own statement: %v", err)
	}
	for field, swap := range map[string][2]string{
		"source ref":         {`"ref":"refs/heads/main"`, `"ref":"refs/heads/evil"`},
		"runner environment": {"actions/runner/github-hosted", "actions/runner/self-hosted"},
	} {
		changed := strings.Replace(string(payload), swap[0], swap[1], 1)
		if changed == string(payload) {
			t.Fatalf("%s: the statement does not hold %s", field, swap[0])
		}
		if err := CheckStatement([]byte(changed), vc.Certificate()); !errors.Is(err, ErrProvenanceMismatch) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s changed: %v, want ErrProvenanceMismatch naming it", field, err)
		}
	}
}

// TestFillIdentityOfAPerson: a certificate with an email SAN (a person signed in from a laptop) names no
// repository and so no workflow; the verdict must not show the email as a workflow.
func TestFillIdentityOfAPerson(t *testing.T) {
	t.Parallel()
	var r Result
	fillIdentity(&r, &certificate.Summary{SubjectAlternativeName: "signer@example.com", Extensions: certificate.Extensions{Issuer: "https://oauth2.sigstore.dev/auth"}})
	if r.SAN != "signer@example.com" || r.Workflow != "" || r.Repository != "" {
		t.Errorf("result = %+v, want the email as the signer and no workflow", r)
	}
}
