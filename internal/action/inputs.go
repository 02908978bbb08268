// Package action is waxseal's GitHub Action front end: the runner's INPUT_* and GITHUB_* environment in, a
// signing run through package seal, the bundles uploaded next to the release, and outputs, log groups,
// annotations and a step summary out.
package action

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/retry"
)

// Upload modes of the `upload` input.
const (
	UploadAuto  = "auto"  // upload when a release or tag is found (the default)
	UploadTrue  = "true"  // upload, and fail when there is no release to upload to
	UploadFalse = "false" // never upload
)

// Config is the action's inputs and the runner context it needs, validated.
type Config struct {
	// Patterns are the `paths` input lines: npm tarballs (globs, relative to the workspace); default "*.tgz" when
	// neither `artifacts` nor `checksums` is given, else none.
	Patterns []string
	// ArtifactPatterns are the `artifacts` input lines: any files, signed as their bytes (never read as npm
	// tarballs, whatever their names); default none.
	ArtifactPatterns []string
	// ChecksumsPatterns are the `checksums` input lines: checksums files (sha256sum's output, goreleaser's
	// checksums.txt), each signed as bytes and its lines attested; default none.
	ChecksumsPatterns []string
	// UploadArtifacts is the `upload-artifacts` input: also put the `artifacts` and `checksums` files themselves on
	// the release (kept if the same bytes are there already); default true.
	UploadArtifacts bool
	// Provenance is the `provenance` input; default true.
	Provenance bool
	// Upload is the `upload` input: auto, true or false; default auto.
	Upload string
	// UploadTarballs is the `upload-tarballs` input: also put the tarballs on the release; default false.
	UploadTarballs bool
	// ReleaseTag is the `release-tag` input; default: the release event's tag, else the refs/tags/ ref.
	ReleaseTag string
	// Overwrite is the `overwrite` input: replace assets with different bytes; default false.
	Overwrite bool
	// GitHubToken is the `github-token` input; default ${{ github.token }} (set in action.yml).
	GitHubToken string
	// Audience is the `audience` input: the identity token's audience; default "sigstore".
	Audience string
	// Staging is the `staging` input: sign with Sigstore's staging instance; default false.
	Staging bool
	// TrustedRoot and SigningConfig are the `trusted-root` and `signing-config` inputs: files in the workspace
	// naming a private Sigstore instance; default none (public-good).
	TrustedRoot, SigningConfig string
	// NPMChecks is the `npm-checks` input: apply the npm registry's provenance checks before signing; default true.
	NPMChecks bool
	// AllowPrivateRepository is the `allow-private-repository` input: let a private repository sign into Sigstore's
	// public log; default false.
	AllowPrivateRepository bool
	// RegistryPreflight is the `registry-preflight` input: ask each package's registry, before signing, whether
	// the version is already published or the package is new; default true.
	RegistryPreflight bool
	// Attest is the `attest` input: also store each provenance bundle in GitHub's attestation store (needs
	// `permissions: attestations: write`); default false.
	Attest bool
	// RetryFor is the `retry-for` input: how long one request to a failing service is retried; default
	// retry.DefaultFor (5m).
	RetryFor time.Duration

	// Workspace is GITHUB_WORKSPACE, where paths are resolved and which they may not leave.
	Workspace string
	// Repository (owner/name), ServerURL, APIURL, Ref, EventName and EventPath are the GITHUB_* variables.
	Repository, ServerURL, APIURL, Ref, EventName, EventPath string
	// OutputPath and SummaryPath are GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
	OutputPath, SummaryPath string
	// Run is GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB: which run's upload journal is whose.
	Run release.RunInfo
}

// InputError is a bad input value; it names the input and what it accepts.
type InputError struct {
	Input, Value, Want string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("input `%s`: %q is not allowed: use %s", e.Input, e.Value, e.Want)
}

// input reads an input the way the runner passes it, through go-githubactions: INPUT_<NAME> upper-cased,
// spaces as underscores, hyphens kept, trimmed.
func input(getenv func(string) string, name string) string {
	return githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(io.Discard)).GetInput(name)
}

// boolInput accepts the YAML 1.2 core schema booleans, as @actions/core's getBooleanInput does.
func boolInput(getenv func(string) string, name string, def bool) (bool, error) {
	switch v := input(getenv, name); v {
	case "":
		return def, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	default:
		return false, &InputError{Input: name, Value: v, Want: "one of true, false (or True/TRUE, False/FALSE)"}
	}
}

func durationInput(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := input(getenv, name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &InputError{Input: name, Value: v, Want: "a positive duration such as 5m, 90s or 1h"}
	}
	return d, nil
}

func enumInput(getenv func(string) string, name, def string, allowed ...string) (string, error) {
	v := input(getenv, name)
	if v == "" {
		return def, nil
	}
	if !slices.Contains(allowed, v) {
		return "", &InputError{Input: name, Value: v, Want: "one of " + strings.Join(allowed, ", ")}
	}
	return v, nil
}

// Load reads and validates the inputs and the runner context. Paths are not resolved here (see ResolvePaths).
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{
		ReleaseTag:    input(getenv, "release-tag"),
		GitHubToken:   input(getenv, "github-token"),
		Audience:      input(getenv, "audience"),
		TrustedRoot:   input(getenv, "trusted-root"),
		SigningConfig: input(getenv, "signing-config"),
		Workspace:     getenv("GITHUB_WORKSPACE"),
		Repository:    getenv("GITHUB_REPOSITORY"),
		ServerURL:     getenv("GITHUB_SERVER_URL"),
		APIURL:        getenv("GITHUB_API_URL"),
		Ref:           getenv("GITHUB_REF"),
		EventName:     getenv("GITHUB_EVENT_NAME"),
		EventPath:     getenv("GITHUB_EVENT_PATH"),
		OutputPath:    getenv("GITHUB_OUTPUT"),
		SummaryPath:   getenv("GITHUB_STEP_SUMMARY"),
		Run:           release.RunInfo{ID: getenv("GITHUB_RUN_ID"), Job: getenv("GITHUB_JOB")},
	}
	c.Run.Attempt, _ = strconv.Atoi(getenv("GITHUB_RUN_ATTEMPT")) // 0 when unset: then only staleness undoes a journal
	c.Patterns, c.ArtifactPatterns, c.ChecksumsPatterns = lines(getenv, "paths"), lines(getenv, "artifacts"), lines(getenv, "checksums")
	if len(c.Patterns)+len(c.ArtifactPatterns)+len(c.ChecksumsPatterns) == 0 {
		c.Patterns = []string{"*.tgz"} // today's workflows: npm tarballs in the workspace's root
	}
	var errs []error
	for _, b := range []struct {
		name string
		dst  *bool
		def  bool
	}{
		{"provenance", &c.Provenance, true}, {"upload-tarballs", &c.UploadTarballs, false},
		{"overwrite", &c.Overwrite, false}, {"staging", &c.Staging, false}, {"npm-checks", &c.NPMChecks, true},
		{"registry-preflight", &c.RegistryPreflight, true}, {"allow-private-repository", &c.AllowPrivateRepository, false},
		{"attest", &c.Attest, false}, {"upload-artifacts", &c.UploadArtifacts, true},
	} {
		v, err := boolInput(getenv, b.name, b.def)
		*b.dst = v
		errs = appendErr(errs, err)
	}
	var err error
	c.Upload, err = enumInput(getenv, "upload", UploadAuto, UploadAuto, UploadTrue, UploadFalse)
	errs = appendErr(errs, err)
	c.RetryFor, err = durationInput(getenv, "retry-for", retry.DefaultFor)
	errs = appendErr(errs, err)
	if c.Workspace == "" {
		errs = append(errs, fmt.Errorf("GITHUB_WORKSPACE is not set: waxseal's action runs as a step of a GitHub Actions job"))
	}
	if c.Attest && !c.Provenance {
		errs = append(errs, fmt.Errorf("input `attest: true` stores the provenance bundles, but `provenance` is false: set `provenance: true`, or drop `attest`"))
	}
	if c.Staging && (c.TrustedRoot != "" || c.SigningConfig != "") {
		errs = append(errs, fmt.Errorf("inputs `staging` and `trusted-root`/`signing-config` contradict each other: set either `staging: true` or the files of your own instance"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// lines reads a multi-line input: one entry a line, trimmed; empty lines and lines starting with # are left out.
func lines(getenv func(string) string, name string) []string {
	var out []string
	for _, line := range strings.Split(input(getenv, name), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}
