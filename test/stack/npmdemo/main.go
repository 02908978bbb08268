// Command npmdemo gives `make demo` an npm registry and an unmodified npm that trusts the local Sigstore stack.
//
//	npmdemo serve -url-file F [-published NAME@VERSION]...
//	    serves an npm registry (internal/testing/npmregistry, answering as registry.npmjs.org does) until killed,
//	    holding the versions given as already published; writes its URL to F when it is ready.
//	npmdemo publish -trusted-root F -npm NPM-CLI.JS -registry URL TARBALL BUNDLE
//	    serves a TUF repository for the stack's trusted root as tuf-repo-cdn.sigstore.dev (internal/testing/npmtrust),
//	    runs `npm publish TARBALL --provenance-file BUNDLE` with that npm, then checks the registry serves BUNDLE
//	    byte for byte as the version's provenance.
//
// Run it inside the stack's network namespace (test/stack/run.sh), as root.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/waxseal/waxseal/internal/testing/npmregistry"
	"github.com/waxseal/waxseal/internal/testing/npmtrust"
	"github.com/waxseal/waxseal/test/stack/internal/command"
)

// token is the demo registry's publish token.
const token = "waxseal-demo"

func main() { command.Main("npmdemo", os.Stdout, run) }

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: npmdemo serve|publish [flags]")
	}
	fs := flag.NewFlagSet("npmdemo "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "serve":
		urlFile := fs.String("url-file", "", "write the registry's URL here when ready")
		var published list
		fs.Var(&published, "published", "NAME@VERSION the registry already has (repeatable)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return serve(ctx, *urlFile, published)
	case "publish":
		root := fs.String("trusted-root", "", "the stack's trusted_root.json")
		npm := fs.String("npm", "", "npm-cli.js of the npm to run")
		reg := fs.String("registry", "", "the registry's URL")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 || *root == "" || *npm == "" || *reg == "" {
			return errors.New("usage: npmdemo publish -trusted-root F -npm NPM-CLI.JS -registry URL TARBALL BUNDLE")
		}
		return publish(ctx, out, *root, *npm, *reg, fs.Arg(0), fs.Arg(1))
	}
	return fmt.Errorf("unknown command %q: serve or publish", args[0])
}

func serve(ctx context.Context, urlFile string, published []string) error {
	reg := npmregistry.New(token)
	defer reg.Close()
	for _, p := range published {
		at := strings.LastIndex(p, "@")
		if at <= 0 {
			return fmt.Errorf("-published %q is not NAME@VERSION", p)
		}
		reg.AddVersion(p[:at], p[at+1:], []byte("a tarball published earlier"))
	}
	if err := os.WriteFile(urlFile, []byte(reg.URL+"\n"), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func publish(ctx context.Context, out io.Writer, rootFile, npmCLI, registry, tarball, bundle string) error {
	trustedRoot, err := os.ReadFile(rootFile)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "npmdemo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	// npm reads a relative dir/file.tgz as a GitHub owner/repo: pass it absolute.
	if tarball, err = filepath.Abs(tarball); err != nil {
		return err
	}
	if bundle, err = filepath.Abs(bundle); err != nil {
		return err
	}
	tr, err := npmtrust.Start(trustedRoot, dir)
	if err != nil {
		return err
	}
	defer func() { _ = tr.Close() }()
	cmd, err := tr.Publish(ctx, npmCLI, registry, token, tr.Root, dir, tarball, "--provenance-file", bundle, "--access", "public")
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm publish: %w", err)
	}
	return checkRegistry(ctx, out, registry, bundle)
}

// checkRegistry asks the registry for the provenance of the version the bundle names, and compares it with the
// bundle.
func checkRegistry(ctx context.Context, out io.Writer, registry, bundle string) error {
	want, err := os.ReadFile(bundle)
	if err != nil {
		return err
	}
	var b struct {
		DSSE struct {
			Payload []byte `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	var st struct {
		Subject []struct{ Name string } `json:"subject"`
	}
	if err := json.Unmarshal(want, &b); err != nil || json.Unmarshal(b.DSSE.Payload, &st) != nil || len(st.Subject) != 1 {
		return errors.New("the bundle holds no in-toto statement with one subject")
	}
	purl := strings.TrimPrefix(st.Subject[0].Name, "pkg:npm/")
	spec, err := url.PathUnescape(purl) // pkg:npm/%40scope/name@1.0.0 -> @scope/name@1.0.0
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(registry, "/")+"/-/npm/v1/attestations/"+url.PathEscape(spec), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var doc struct {
		Attestations []struct {
			Bundle json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || len(doc.Attestations) == 0 {
		return fmt.Errorf("the registry has no provenance for %s (%s)", spec, resp.Status)
	}
	if !bytes.Equal(doc.Attestations[0].Bundle, bytes.TrimSpace(want)) {
		return fmt.Errorf("the registry's provenance for %s is not the bundle", spec)
	}
	fmt.Fprintf(out, "the registry holds %s's provenance: the bundle, byte for byte (%d bytes)\n", spec, len(want))
	return nil
}
