// Package provenance builds the SLSA v1 build provenance statement that `npm publish --provenance`
// makes on GitHub Actions (libnpmpublish lib/provenance.js), from the GitHub context of the build,
// using the in-toto attestation Go types. GitHub's own provenance for any artifact of an Actions build
// (actions/attest-build-provenance, @actions/attest buildSLSAProvenancePredicate) has the very same
// predicate, field for field; only the subjects differ: npm names its package by purl and sha512, GitHub
// names a file by its name and sha256.
package provenance

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// PredicateType is SLSA provenance v1.
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType is the GitHub Actions workflow build type npm uses.
	BuildType = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	// BuilderIDPrefix is followed by "/" and the runner environment in runDetails.builder.id.
	BuilderIDPrefix = "https://github.com/actions/runner"
)

// ErrIncomplete means the GitHub context lacks a value the statement needs.
var ErrIncomplete = errors.New("incomplete GitHub context")

// ErrSubject means a subject has no name, or no digest, or a digest that is not lowercase hex of its length.
var ErrSubject = errors.New("invalid subject")

// GitHub is the build's GitHub Actions context, as in the GITHUB_* variables and the identity
// token's claims of the same names.
type GitHub struct {
	ServerURL         string `json:"serverUrl"`         // GITHUB_SERVER_URL, e.g. https://github.com
	Repository        string `json:"repository"`        // GITHUB_REPOSITORY: owner/repo
	RepositoryID      string `json:"repositoryId"`      // GITHUB_REPOSITORY_ID (omitted from the statement when empty, as npm omits an unset variable)
	RepositoryOwnerID string `json:"repositoryOwnerId"` // GITHUB_REPOSITORY_OWNER_ID (omitted when empty)
	WorkflowRef       string `json:"workflowRef"`       // GITHUB_WORKFLOW_REF: owner/repo/path/to/workflow.yml@ref
	SHA               string `json:"sha"`               // GITHUB_SHA: the commit built
	Ref               string `json:"ref"`               // GITHUB_REF, e.g. refs/heads/main
	EventName         string `json:"eventName"`         // GITHUB_EVENT_NAME (omitted when empty)
	RunID             string `json:"runId"`             // GITHUB_RUN_ID
	RunAttempt        string `json:"runAttempt"`        // GITHUB_RUN_ATTEMPT
	RunnerEnvironment string `json:"runnerEnvironment"` // RUNNER_ENVIRONMENT: github-hosted or self-hosted
}

// Subject is one artifact the statement is about: its name and at least one digest.
type Subject struct {
	// Name is the package URL of an npm package (pkg:npm/%40scope/name@1.2.3), or the file name of any other
	// artifact (app_linux_amd64.tar.gz).
	Name string `json:"name"`
	// SHA256 and SHA512 are lowercase hex digests of the artifact's bytes; npm names a tarball by sha512 alone,
	// GitHub a file by sha256.
	SHA256 string `json:"sha256,omitempty"`
	SHA512 string `json:"sha512,omitempty"`
}

// Digests is the subject's in-toto digest set.
func (s Subject) Digests() map[string]string {
	d := map[string]string{}
	if s.SHA256 != "" {
		d["sha256"] = s.SHA256
	}
	if s.SHA512 != "" {
		d["sha512"] = s.SHA512
	}
	return d
}

func (s Subject) validate(i int) error {
	if s.Name == "" {
		return fmt.Errorf("building provenance: %w: subject %d has no name; pass the package URL or file name", ErrSubject, i)
	}
	if s.SHA256 == "" && s.SHA512 == "" {
		return fmt.Errorf("building provenance: %w: subject %q has no digest", ErrSubject, s.Name)
	}
	for _, d := range []struct {
		alg, hex string
		size     int
	}{{"sha256", s.SHA256, 32}, {"sha512", s.SHA512, 64}} {
		if b, err := hex.DecodeString(d.hex); d.hex != "" && (err != nil || len(b) != d.size || strings.ToLower(d.hex) != d.hex) {
			return fmt.Errorf("building provenance: %w: subject %q digest %q is not a lowercase hex %s", ErrSubject, s.Name, d.hex, d.alg)
		}
	}
	return nil
}

// Statement returns the in-toto v1 statement with SLSA v1 provenance that npm publish --provenance
// makes on GitHub Actions, field by field. Values npm takes from variables that may be unset
// (event_name, repository_id, repository_owner_id) are left out when empty, as JSON.stringify drops
// undefined; every other value is required, since npm would write "undefined" into it.
func Statement(gh GitHub, subjects ...Subject) (*intoto.Statement, error) {
	if err := gh.validate(); err != nil {
		return nil, err
	}
	if len(subjects) == 0 {
		return nil, fmt.Errorf("building provenance: %w: no subjects; pass at least one artifact", ErrSubject)
	}
	relative := strings.TrimPrefix(gh.WorkflowRef, gh.Repository+"/")
	path, ref, _ := strings.Cut(relative, "@")
	repoURL := gh.ServerURL + "/" + gh.Repository

	external, err := structpb.NewStruct(map[string]any{
		"workflow": map[string]any{"ref": ref, "repository": repoURL, "path": path},
	})
	if err != nil {
		return nil, fmt.Errorf("building externalParameters: %w", err)
	}
	github := map[string]any{}
	for k, v := range map[string]string{"event_name": gh.EventName, "repository_id": gh.RepositoryID,
		"repository_owner_id": gh.RepositoryOwnerID} {
		if v != "" {
			github[k] = v
		}
	}
	internal, err := structpb.NewStruct(map[string]any{"github": github})
	if err != nil {
		return nil, fmt.Errorf("building internalParameters: %w", err)
	}
	pred := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:          BuildType,
			ExternalParameters: external,
			InternalParameters: internal,
			ResolvedDependencies: []*intoto.ResourceDescriptor{{
				Uri:    "git+" + repoURL + "@" + gh.Ref,
				Digest: map[string]string{"gitCommit": gh.SHA},
			}},
		},
		RunDetails: &slsa.RunDetails{
			Builder: &slsa.Builder{Id: BuilderIDPrefix + "/" + gh.RunnerEnvironment},
			Metadata: &slsa.BuildMetadata{
				InvocationId: repoURL + "/actions/runs/" + gh.RunID + "/attempts/" + gh.RunAttempt,
			},
		},
	}
	if err := pred.Validate(); err != nil {
		return nil, fmt.Errorf("validating provenance predicate: %w", err)
	}
	return statement(pred, subjects)
}

func statement(pred *slsa.Provenance, subjects []Subject) (*intoto.Statement, error) {
	predJSON, err := protojson.Marshal(pred)
	if err != nil {
		return nil, fmt.Errorf("encoding provenance predicate: %w", err)
	}
	predStruct := &structpb.Struct{}
	if err := protojson.Unmarshal(predJSON, predStruct); err != nil {
		return nil, fmt.Errorf("decoding provenance predicate: %w", err)
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: PredicateType, Predicate: predStruct}
	for i, s := range subjects {
		if err := s.validate(i); err != nil {
			return nil, err
		}
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: s.Name, Digest: s.Digests()})
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("validating statement: %w", err)
	}
	return st, nil
}

// validate requires every value npm interpolates into a string, and a workflow ref of the form
// owner/repo/path@ref.
func (gh GitHub) validate() error {
	for _, f := range []struct{ name, value string }{
		{"server URL (GITHUB_SERVER_URL)", gh.ServerURL}, {"repository (GITHUB_REPOSITORY)", gh.Repository},
		{"workflow ref (GITHUB_WORKFLOW_REF)", gh.WorkflowRef}, {"commit (GITHUB_SHA)", gh.SHA},
		{"ref (GITHUB_REF)", gh.Ref}, {"run ID (GITHUB_RUN_ID)", gh.RunID},
		{"run attempt (GITHUB_RUN_ATTEMPT)", gh.RunAttempt}, {"runner environment (RUNNER_ENVIRONMENT)", gh.RunnerEnvironment},
	} {
		if f.value == "" {
			return fmt.Errorf("building provenance: %w: the %s is empty; sign from a GitHub Actions job whose "+
				"identity token carries it", ErrIncomplete, f.name)
		}
	}
	if !strings.HasPrefix(gh.WorkflowRef, gh.Repository+"/") || !strings.Contains(gh.WorkflowRef, "@") {
		return fmt.Errorf("building provenance: %w: workflow ref %q is not %s/<path>@<ref>; "+
			"check the token's workflow_ref claim", ErrIncomplete, gh.WorkflowRef, gh.Repository)
	}
	return nil
}
