package seal

import (
	"context"
	"fmt"
	"sync"

	"github.com/waxseal/waxseal/internal/npm"
	"github.com/waxseal/waxseal/internal/printable"
	"github.com/waxseal/waxseal/internal/registry"
	"github.com/waxseal/waxseal/internal/remedy"
)

// preflightConcurrency bounds the registry requests in flight.
const preflightConcurrency = 8

// preflight asks each readable package's registry what it knows of name@version. A version already published (or
// unpublished, which npm never lets be used again) fails the package before anything is signed: npm would refuse
// the publish after the signatures were logged. A package the registry does not have yet is a warning: the first
// publish creates it, but not through trusted publishing. A registry that cannot answer fails the package with the
// opt-out.
func (o Options) preflight(ctx context.Context, arts []*artifact, rep *Report, ci bool) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, preflightConcurrency)
	for i, a := range arts {
		if a == nil || a.Kind != NPM || rep.Artifacts[i].Error != "" {
			continue
		}
		t := a.tarball
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			problem, warning := o.preflightOne(ctx, t, ci)
			mu.Lock()
			defer mu.Unlock()
			if problem != "" {
				rep.Artifacts[i].Error = problem
			}
			if warning != "" {
				rep.Warnings = append(rep.Warnings, warning)
			}
		})
	}
	wg.Wait()
}

func (o Options) preflightOne(ctx context.Context, t *npm.Tarball, ci bool) (problem, warning string) {
	m := t.Manifest
	base, err := o.RegistryFor(m.Name)
	if err != nil {
		return message(err), ""
	}
	c, err := registry.New(o.Transport, o.Retry, base)
	if err != nil {
		return message(err), ""
	}
	at := fmt.Sprintf("%s@%s", m.Name, m.Version)
	avail, err := c.Preflight(ctx, m.Name, m.Version)
	switch {
	case err != nil:
		err = remedy.With(fmt.Errorf("%s: checking the registry failed: %w; if this runner cannot reach %s, turn the registry preflight off",
			t.Path, err, registry.Redact(base)), remedy.Set(remedy.RegistryPreflight, "false"))
		return printable.Line(remedy.Text(err, o.Words)), ""
	case avail == registry.VersionExists:
		err := remedy.With(fmt.Errorf("%s: %s is already published on %s, and npm refuses to publish over a version: bump \"version\" in package.json "+
			"(or, to sign a version already on the registry without publishing it again, turn the registry preflight off)", t.Path, at, registry.Redact(base)),
			remedy.Set(remedy.RegistryPreflight, "false"))
		return printable.Line(remedy.Text(err, o.Words)), ""
	case avail == registry.VersionUnpublished:
		return fmt.Sprintf("%s: %s was published and unpublished on %s, and npm never allows a version number again: bump \"version\" in package.json", t.Path, at, registry.Redact(base)), ""
	case avail == registry.NewPackage && !ci:
		return "", fmt.Sprintf("%s does not exist on %s yet: its first publish creates it (publishing from CI later needs it to exist: "+
			"trusted publishing cannot create a package)", m.Name, registry.Redact(base))
	case avail == registry.NewPackage:
		return "", fmt.Sprintf("%s does not exist on %s yet: trusted publishing (OIDC) cannot create a package, so publish its first version by hand "+
			"(npm publish --access public), then add this repository and workflow as its trusted publisher on npmjs.com", m.Name, registry.Redact(base))
	}
	return "", ""
}
