package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/waxseal/waxseal/internal/ghactions"
	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/release"
	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
	"github.com/waxseal/waxseal/internal/seal"
	"github.com/waxseal/waxseal/internal/trust"
)

// Runner runs the action. Its fields are the seams tests replace; Run fills the production ones.
type Runner struct {
	Getenv func(string) string
	Stdout io.Writer // workflow commands and log lines
	// Transport carries every request (ID token, TUF, Fulcio, Rekor, GitHub, the npm registry); nil means
	// http.DefaultTransport. The retry policy bounds each try and each request.
	Transport http.RoundTripper
	// Sign is seal.Sign.
	Sign func(context.Context, seal.Options) (*seal.Report, error)
	// Retry is the base of the run's retry policy: tests set its Clock. The `retry-for` input sets For, and a nil
	// Log means one log line per wait.
	Retry retry.Policy
}

// Run runs the action. A nil Sign means seal.Sign.
func (r *Runner) Run(ctx context.Context) error {
	rr := *r // never mutate the caller's Runner
	if rr.Sign == nil {
		rr.Sign = seal.Sign
	}
	return rr.runLogged(ctx)
}

func (r *Runner) runLogged(ctx context.Context) error {
	cmds := ghactions.NewCommands(r.Stdout)
	// The runner masks secrets it passed in, but not a token given through another path: mask before anything.
	cmds.Mask(input(r.Getenv, "github-token"))
	cmds.Mask(r.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	err := explain(r.run(ctx, cmds))
	if err != nil {
		var pe *packageErrors
		if !errors.As(err, &pe) { // per-package errors were annotated already
			cmds.Error(ghactions.Annotation{Title: "waxseal", Message: err.Error()})
		}
	}
	return err
}

// packageErrors marks a run whose failures were annotated per package.
type packageErrors struct{ err error }

func (e *packageErrors) Error() string { return e.err.Error() }
func (e *packageErrors) Unwrap() error { return e.err }

func (r *Runner) run(ctx context.Context, cmds *ghactions.Commands) error {
	cfg, err := Load(r.Getenv)
	if err != nil {
		return err
	}
	r.Retry.For = cfg.RetryFor
	if r.Retry.Log == nil {
		var mu sync.Mutex // requests wait concurrently; keep their lines whole
		r.Retry.Log = func(w retry.Wait) {
			mu.Lock()
			defer mu.Unlock()
			cmds.Infof("%s", w)
		}
	}
	ws, err := NewWorkspace(cfg.Workspace)
	if err != nil {
		return err
	}
	out, err := ghactions.NewOutputFile(cfg.OutputPath)
	if err != nil {
		return err
	}
	inputs, err := resolveInputs(cfg, ws)
	if err != nil {
		return err
	}
	bases, err := assetBases(inputs)
	if err != nil {
		return err
	}
	topts, err := r.trustOptions(cfg, ws)
	if err != nil {
		return err
	}
	// Find the release before signing: a missing or frozen release should not cost a transparency-log entry.
	pace := release.NewPacer(r.Retry) // one pace for everything the run creates on GitHub
	up, note, err := r.prepareUpload(ctx, cfg, bases, pace)
	if err != nil {
		return err
	}

	rep, signErr := r.Sign(ctx, seal.Options{
		Artifacts: inputs, Provenance: cfg.Provenance, SkipNPMChecksUnsafe: !cfg.NPMChecks, Trust: topts,
		Tokens: &maskingSource{src: &oidc.ActionsSource{Getenv: r.Getenv, Transport: r.Transport, Retry: r.Retry},
			cmds: cmds},
		Audience: cfg.Audience, Getenv: r.Getenv, Transport: r.Transport, Retry: r.Retry,
		RegistryPreflight: cfg.RegistryPreflight, AllowPrivateRepository: cfg.AllowPrivateRepository,
		// The registry npm would publish to from the workspace: its .npmrc, the job's npm_config_* settings.
		RegistryFor: func(name string) (string, error) { return registry.URLFor(name, ws.Root(), r.Getenv) },
		Words:       remedy.Input,
	})
	if rep == nil {
		return signErr
	}
	logArtifacts(cmds, ws, rep)
	err = r.finish(ctx, cfg, ws, out, up, pace, note, rep, bases, signErr)
	if herr := handOver(ws, written(ws, rep)); herr != nil {
		cmds.Warning(ghactions.Annotation{Title: "waxseal", Message: herr.Error() + ": later steps may not move or delete these files; chown them in a step of your own"})
	}
	return err
}

// finish uploads (when every package was signed), then writes the results file, the summary and the outputs,
// whatever happened, so a failed run still says what it did.
func (r *Runner) finish(ctx context.Context, cfg *Config, ws *Workspace, out *ghactions.OutputFile, up *uploader,
	pace *release.Pacer, note string, rep *seal.Report, bases map[string]string, signErr error) error {
	assets := map[string]string{}
	var results []uploadResult
	var attests []attestResult
	var upErr, attErr error
	if signErr == nil && cfg.Attest {
		// Before the release: an attestation cannot be taken back, so the release changes only once all are stored.
		if attests, attErr = r.attest(ctx, cfg, ws, rep, pace); attErr != nil {
			note = "Nothing was uploaded: " + code(explain(attErr).Error())
		}
	}
	if signErr == nil && attErr == nil && up != nil {
		if results, upErr = up.publish(ctx, cfg, rep, bases); upErr != nil {
			note = "The upload failed: " + code(explain(upErr).Error())
		}
		for _, res := range results {
			assets[res.path] = res.Asset.DownloadURL
		}
	}
	attested := map[string]string{}
	for _, a := range attests {
		attested[a.path] = a.URL
	}
	resultsPath, werr := writeResults(ws, rep, results, attests)
	serr := ghactions.AppendSummary(cfg.SummaryPath, RenderSummary(SummaryData{Report: rep, Assets: assets, Rel: ws.Rel,
		Staging: cfg.Staging, TrustedRoot: cfg.TrustedRoot, Note: note, Attestations: attested}))
	oerr := setOutputs(out, ws, rep, resultsPath, results, attests)
	err := errors.Join(signErr, attErr, upErr, werr, serr, oerr)
	if errors.Is(signErr, seal.ErrPackagesFailed) {
		return &packageErrors{err}
	}
	return err
}

// resolveInputs expands the `paths`, `artifacts` and `checksums` inputs into the files to sign, each with its
// kind, confined to the workspace. A file matched by two of them is refused here, naming both inputs, before any
// request (seal.Sign refuses it too, in its own words): it would get, or lose, npm's treatment by accident.
func resolveInputs(cfg *Config, ws *Workspace) ([]seal.Input, error) {
	var out []seal.Input
	matchedBy := map[string]string{} // file → the input that matched it
	for _, in := range []struct {
		name     string
		patterns []string
		kind     seal.Kind
	}{{"paths", cfg.Patterns, seal.NPM}, {"artifacts", cfg.ArtifactPatterns, seal.File}, {"checksums", cfg.ChecksumsPatterns, seal.Checksums}} {
		if len(in.patterns) == 0 {
			continue
		}
		files, err := ws.Glob(in.name, in.patterns)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if other, ok := matchedBy[f]; ok {
				return nil, fmt.Errorf("input `%s` matches %s, which `%s` matches too: a file is signed one way (an npm tarball through `paths`, any other file through `artifacts`, a checksums file through `checksums`); narrow the patterns",
					in.name, ws.Rel(f), other)
			}
			matchedBy[f] = in.name
			out = append(out, seal.Input{Path: f, Kind: in.kind})
		}
	}
	return out, nil
}

func (r *Runner) trustOptions(cfg *Config, ws *Workspace) (trust.Options, error) {
	o := trust.Options{Staging: cfg.Staging, Transport: r.Transport, Retry: r.Retry}
	var err error
	if cfg.TrustedRoot != "" {
		if o.TrustedRootPath, err = ws.File("trusted-root", cfg.TrustedRoot); err != nil {
			return o, err
		}
	}
	if cfg.SigningConfig != "" {
		if o.SigningConfigPath, err = ws.File("signing-config", cfg.SigningConfig); err != nil {
			return o, err
		}
	}
	return o, o.Validate()
}

// maskingSource masks each identity token before returning it, so no later log line can show it.
type maskingSource struct {
	src  oidc.Source
	cmds *ghactions.Commands
}

func (m *maskingSource) Token(ctx context.Context, audience string) (string, error) {
	tok, err := m.src.Token(ctx, audience)
	m.cmds.Mask(tok)
	return tok, err
}

// logArtifacts writes one log group per artifact, and an ::error file=...:: annotation for each failure.
func logArtifacts(cmds *ghactions.Commands, ws *Workspace, rep *seal.Report) {
	for _, w := range rep.Warnings {
		cmds.Warning(ghactions.Annotation{Title: "waxseal", Message: w})
	}
	for _, a := range rep.Artifacts {
		title := a.Label(ws.Rel(a.Path))
		end := cmds.Group(title)
		cmds.Infof("%s: %s", describeKind(a.Kind), ws.Rel(a.Path))
		if a.Error != "" {
			end()
			cmds.Error(ghactions.Annotation{File: ws.Rel(a.Path), Title: "waxseal: " + title + " not signed", Message: a.Error})
			continue
		}
		if a.Kind == seal.NPM {
			cmds.Infof("sha512: %s", a.SHA512)
		} else {
			cmds.Infof("sha256: %s", a.SHA256)
		}
		cmds.Infof("bundle: %s (Rekor log index %d)", ws.Rel(a.Bundle), a.RekorLogIndex)
		if a.ProvenanceBundle != "" {
			cmds.Infof("provenance: %s (Rekor log index %d)", ws.Rel(a.ProvenanceBundle), a.ProvenanceRekorLogIndex)
			if n := len(a.Subjects) - 1; n > 0 {
				cmds.Infof("provenance subjects: the file and the %d file(s) it lists", n)
			}
		}
		if a.RekorEntryURL != "" {
			cmds.Infof("transparency log: %s", a.RekorEntryURL)
		}
		end()
	}
}

func describeKind(k seal.Kind) string {
	switch k {
	case seal.NPM:
		return "tarball"
	case seal.Checksums:
		return "checksums file"
	}
	return "file"
}

// resultFile is the JSON document the `results` output names.
type resultFile struct {
	seal.Document
	ReleaseAssets []release.Result `json:"releaseAssets"`
	Attestations  []attestResult   `json:"attestations"`
}

// writeResults writes .waxseal/results.json in the workspace. It goes through os.Root, so a `.waxseal` (or a
// results.json) committed as a symbolic link that leaves the workspace cannot redirect the write.
func writeResults(ws *Workspace, rep *seal.Report, results []uploadResult, attests []attestResult) (string, error) {
	doc := resultFile{Document: rep.Document(), ReleaseAssets: []release.Result{}, Attestations: append([]attestResult{}, attests...)}
	for _, r := range results {
		doc.ReleaseAssets = append(doc.ReleaseAssets, r.Result)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the results file: %w", err)
	}
	if err := ws.WriteFile(resultsFile, append(b, '\n')); err != nil {
		return "", fmt.Errorf("writing the results file: %w", err)
	}
	return filepath.Join(ws.Root(), resultsFile), nil
}

func setOutputs(out *ghactions.OutputFile, ws *Workspace, rep *seal.Report, resultsPath string, results []uploadResult,
	attests []attestResult) error {
	bundles, provs, indexes, urls, pkgs := []string{}, []string{}, []int64{}, []string{}, []string{}
	attIDs, attURLs := []int64{}, []string{}
	for _, a := range attests {
		attIDs, attURLs = append(attIDs, a.ID), append(attURLs, a.URL)
	}
	// The npm packages' outputs, as before other kinds were signed: a publish step loops over them.
	for _, p := range rep.Packages() {
		if p.Error != "" {
			continue
		}
		bundles = append(bundles, ws.Rel(p.Bundle))
		indexes = append(indexes, p.RekorLogIndex)
		pkgs = append(pkgs, p.Name+"@"+p.Version)
		if p.ProvenanceBundle != "" {
			provs = append(provs, ws.Rel(p.ProvenanceBundle))
		}
	}
	for _, r := range results {
		urls = append(urls, r.Asset.DownloadURL)
	}
	vals := []struct {
		name string
		v    any
	}{{"bundles", bundles}, {"provenance-bundles", provs}, {"rekor-log-indexes", indexes}, {"release-assets", urls},
		{"attestation-ids", attIDs}, {"attestation-urls", attURLs}, {"packages", pkgs}, {"artifacts", artifactOutputs(ws, rep, results)}}
	var errs []error
	for _, kv := range vals {
		b, _ := json.Marshal(kv.v)
		errs = appendErr(errs, out.Set(kv.name, string(b)))
	}
	if resultsPath != "" {
		errs = appendErr(errs, out.Set("results", ws.Rel(resultsPath)))
	}
	errs = appendErr(errs, out.Set("certificate-identity", rep.CertificateIdentity))
	return errors.Join(errs...)
}

// artifactOutput is one entry of the `artifacts` output: every artifact signed, whatever its kind, with its bundles
// and where the release holds them.
type artifactOutput struct {
	Path             string   `json:"path"`
	Kind             string   `json:"kind"`
	Name             string   `json:"name"`
	SHA256           string   `json:"sha256"`
	Bundle           string   `json:"bundle"`
	ProvenanceBundle string   `json:"provenanceBundle,omitempty"`
	IntotoJSONL      string   `json:"intotoJsonl,omitempty"`
	RekorLogIndex    int64    `json:"rekorLogIndex"`
	ReleaseAssets    []string `json:"releaseAssets,omitempty"`
}

func artifactOutputs(ws *Workspace, rep *seal.Report, results []uploadResult) []artifactOutput {
	out := []artifactOutput{}
	for _, a := range rep.Artifacts {
		if a.Error != "" {
			continue
		}
		o := artifactOutput{Path: ws.Rel(a.Path), Kind: string(a.Kind), Name: a.Label(filepath.Base(a.Path)), SHA256: a.SHA256,
			Bundle: ws.Rel(a.Bundle), RekorLogIndex: a.RekorLogIndex}
		if a.ProvenanceBundle != "" {
			o.ProvenanceBundle, o.IntotoJSONL = ws.Rel(a.ProvenanceBundle), ws.Rel(a.ProvenanceJSONL)
		}
		for _, r := range results {
			if r.artifact == a.Path {
				o.ReleaseAssets = append(o.ReleaseAssets, r.Asset.DownloadURL)
			}
		}
		out = append(out, o)
	}
	return out
}
