// Package trust loads the Sigstore trust material waxseal signs and verifies against: a trusted root (which keys
// and certificate authorities to believe) and a signing config (which services to use), from public-good or
// staging through TUF, or from files for a private Sigstore instance.
package trust

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/waxseal/waxseal/internal/remedy"
	"github.com/waxseal/waxseal/internal/retry"
)

// Instance names a Sigstore deployment.
type Instance string

// The deployments waxseal knows by name.
const (
	PublicGood Instance = "public-good"
	Staging    Instance = "staging"
	Custom     Instance = "custom"
)

// Options says where trust material comes from. The zero value means public-good through TUF.
type Options struct {
	// TrustedRootPath is a trusted_root.json file. When set, TUF is not used for the trusted root and nothing is
	// fetched for it.
	TrustedRootPath string
	// SigningConfigPath is a signing_config.v0.2.json file naming the services to sign with.
	SigningConfigPath string
	// Staging selects Sigstore's staging deployment instead of public-good. It contradicts the paths above.
	Staging bool
	// CachePath is the directory of the TUF caches, one per repository (root for public-good, staging-root,
	// mirror-<hash> for a TUF mirror of one's own); default $HOME/.sigstore.
	CachePath string
	// TUFMirror and TUFRootPath name a private instance's TUF repository: its base URL and the root.json to trust
	// it from. Together they replace public-good's mirror; they contradict Staging and the file paths above.
	TUFMirror, TUFRootPath string
	// Transport carries TUF requests; default http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is the run's retry policy for TUF requests.
	Retry retry.Policy
}

// tufService is a TUF mirror as the retry policy sees it. go-tuf reads a 404 (or 403) for the next root version
// as "no newer root", so final 4xx answers go back to it as they are. go-tuf caps each metadata file itself (5 MB
// for targets, its largest) and each target at the length its metadata names; a trusted root is tens of KB.
var tufService = retry.Service{Name: "the TUF mirror", Pass: func(status int) bool { return status < 500 }, MaxBody: 8 << 20,
	Hint: "check https://status.sigstore.dev, or work offline with the instance's trusted root in a file"}

// Validate rejects contradictory options.
func (o Options) Validate() error {
	if (o.TUFMirror == "") != (o.TUFRootPath == "") {
		return remedy.With(errors.New("a TUF mirror is trusted from its root.json: give the mirror's URL and its root.json together"),
			remedy.Give(remedy.TUFMirror), remedy.Give(remedy.TUFRoot))
	}
	if o.TUFMirror != "" && (o.Staging || o.TrustedRootPath != "" || o.SigningConfigPath != "") {
		return remedy.With(errors.New("a TUF mirror of your own, and Sigstore's staging instance or an instance's files, were both asked for, and they contradict each other: choose one"),
			remedy.Give(remedy.TUFMirror), remedy.Give(remedy.Staging), remedy.Give(remedy.TrustedRoot))
	}
	if o.Staging && (o.TrustedRootPath != "" || o.SigningConfigPath != "") {
		return remedy.With(errors.New("Sigstore's staging instance and the files of another instance (a trusted root, a signing config) were both asked for, and they contradict each other: choose one"),
			remedy.Give(remedy.Staging), remedy.Give(remedy.TrustedRoot), remedy.Give(remedy.SigningConfig))
	}
	return nil
}

// Instance reports which deployment the options select.
func (o Options) Instance() Instance {
	switch {
	case o.Staging:
		return Staging
	case o.TrustedRootPath != "" || o.SigningConfigPath != "" || o.TUFMirror != "":
		return Custom
	default:
		return PublicGood
	}
}

func (o Options) tufOptions(ctx context.Context) (*tuf.Options, error) {
	opts := tuf.DefaultOptions()
	leaf := "root" // public-good's cache, where sigstore-go and cosign keep it
	if o.Staging {
		opts = opts.WithRoot(tuf.StagingRoot()).WithRepositoryBaseURL(tuf.StagingMirror)
		leaf = "staging-root"
	}
	if o.TUFMirror != "" {
		anchor, err := os.ReadFile(o.TUFRootPath)
		if err != nil {
			return nil, fmt.Errorf("reading the TUF root %q: %w (give the root.json the mirror's operators publish)", o.TUFRootPath, describeFileErr(err))
		}
		sum := sha256.Sum256([]byte(o.TUFMirror))
		opts = opts.WithRoot(anchor).WithRepositoryBaseURL(o.TUFMirror)
		leaf = "mirror-" + hex.EncodeToString(sum[:8])
	}
	// One cache per repository, under CachePath (TUF_ROOT on the command line) or ~/.sigstore.
	opts.CachePath = filepath.Join(cmp.Or(o.CachePath, filepath.Dir(opts.CachePath)), leaf)
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPUserAgent("waxseal")
	if err := f.SetTransport(o.Retry.Transport(o.Transport, tufService)); err != nil {
		return nil, fmt.Errorf("configuring TUF transport: %w", err)
	}
	opts = opts.WithFetcher(f).WithContext(ctx)
	return opts, nil
}

// TrustedRoot loads the trusted root the options select.
func TrustedRoot(ctx context.Context, o Options) (*root.TrustedRoot, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TrustedRootPath != "" {
		tr, err := root.NewTrustedRootFromPath(o.TrustedRootPath)
		if err != nil {
			return nil, fmt.Errorf("reading trusted root %q: %w (pass a Sigstore trusted_root.json, media type application/vnd.dev.sigstore.trustedroot+json)", o.TrustedRootPath, describeFileErr(err))
		}
		if len(tr.FulcioCertificateAuthorities()) == 0 && len(tr.RekorLogs()) == 0 {
			return nil, fmt.Errorf("reading trusted root %q: it names no certificate authority and no transparency log: pass the trusted_root.json of the Sigstore instance that signed", o.TrustedRootPath)
		}
		return tr, nil
	}
	client, err := o.tufClient(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := root.GetTrustedRoot(client)
	if err != nil {
		return nil, remedy.With(fmt.Errorf("fetching the %s trusted root through TUF: %w (check network access, or work offline with the instance's trusted_root.json in a file)", o.Instance(), retry.Cause(err)),
			remedy.Give(remedy.TrustedRoot))
	}
	return tr, nil
}

// TrustedRootJSON returns the instance's trusted_root.json as its TUF repository serves it (verified against the
// TUF root: the bytes to keep for verifying offline). It is for instances reached through TUF, not files.
func TrustedRootJSON(ctx context.Context, o Options) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TrustedRootPath != "" || o.SigningConfigPath != "" {
		return nil, errors.New("the trusted root is already a file: there is nothing to fetch")
	}
	client, err := o.tufClient(ctx)
	if err != nil {
		return nil, err
	}
	b, err := client.GetTarget("trusted_root.json")
	if err != nil {
		return nil, fmt.Errorf("fetching the %s trusted root through TUF: %w (check network access to the TUF mirror)", o.Instance(), retry.Cause(err))
	}
	if _, err := root.NewTrustedRootFromJSON(b); err != nil {
		return nil, fmt.Errorf("the %s TUF repository's trusted_root.json is not a Sigstore trusted root: %w", o.Instance(), err)
	}
	return b, nil
}

func (o Options) tufClient(ctx context.Context) (*tuf.Client, error) {
	opts, err := o.tufOptions(ctx)
	if err != nil {
		return nil, err
	}
	client, err := tuf.New(opts)
	if err != nil {
		return nil, remedy.With(fmt.Errorf("updating the %s TUF metadata: %w (check network access to the TUF mirror, or work offline with the instance's trusted_root.json in a file)", o.Instance(), retry.Cause(err)),
			remedy.Give(remedy.TrustedRoot))
	}
	return client, nil
}

func describeFileErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file")
	}
	return err
}

// Services are the service endpoints chosen from a signing config for one signing run.
type Services struct {
	// FulcioURL is the certificate authority's base URL.
	FulcioURL string
	// Rekor are the transparency logs to write each entry to.
	Rekor []root.Service
	// TSA are the timestamp authorities to ask for a signed timestamp; may be empty.
	TSA []root.Service
	// NPMRekor is the log npm provenance goes to: a Rekor v1 log of the config, chosen whatever the config's
	// preference, because npm 10 and 11 refuse provenance logged to Rekor v2 (npm 11 with TLOG_BODY_ERROR, npm
	// 10 with TLOG_INCLUSION_PROOF_ERROR) and npm's own provenance is a Rekor v1 dsse entry with an inclusion
	// promise. Nil when the config lists no Rekor v1 log valid now.
	NPMRekor *root.Service
}

// SigningServices loads the signing config the options select and picks the services to use at time now.
func SigningServices(ctx context.Context, o Options, now time.Time) (*Services, error) {
	sc, err := signingConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return SelectServices(sc, now)
}

func signingConfig(ctx context.Context, o Options) (*root.SigningConfig, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.SigningConfigPath != "" {
		sc, err := root.NewSigningConfigFromPath(o.SigningConfigPath)
		if err != nil {
			return nil, fmt.Errorf("reading signing config %q: %w (pass a Sigstore signing_config.v0.2.json)", o.SigningConfigPath, describeFileErr(err))
		}
		return sc, nil
	}
	if o.TrustedRootPath != "" {
		return nil, remedy.With(fmt.Errorf("the trusted root %q was given without a signing config: signing needs the service URLs of the same instance, give its signing_config.v0.2.json too", o.TrustedRootPath),
			remedy.Give(remedy.SigningConfig))
	}
	client, err := o.tufClient(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := root.GetSigningConfig(client)
	if err != nil {
		return nil, remedy.With(fmt.Errorf("fetching the %s signing config through TUF: %w (check network access, or give the instance's signing_config.v0.2.json in a file)", o.Instance(), retry.Cause(err)),
			remedy.Give(remedy.SigningConfig))
	}
	return sc, nil
}

// SignInProvider returns the OpenID Connect provider the selected instance's signing config names for people
// signing in (its oidcUrls): https://oauth2.sigstore.dev/auth for public-good, https://oauth2.sigstage.dev/auth for
// staging.
func SignInProvider(ctx context.Context, o Options, now time.Time) (string, error) {
	sc, err := signingConfig(ctx, o)
	if err != nil {
		return "", err
	}
	return SelectSignInProvider(sc, now)
}

// SelectSignInProvider picks the sign-in provider of a signing config valid at now.
func SelectSignInProvider(sc *root.SigningConfig, now time.Time) (string, error) {
	s, err := root.SelectService(sc.OIDCProviderURLs(), []uint32{1}, now)
	if err != nil {
		return "", remedy.With(fmt.Errorf("choosing the sign-in provider from the signing config: %w (the config needs an oidcUrls entry valid now; or name the provider, or give a token)", err),
			remedy.Give(remedy.OIDCIssuer), remedy.Give(remedy.IdentityToken))
	}
	return s.URL, nil
}

// SelectServices validates a signing config and picks the services valid at now. It never dereferences parts the
// config lacks (sigstore-go v1.3.0 would, for a missing tsaConfig).
func SelectServices(sc *root.SigningConfig, now time.Time) (*Services, error) {
	fulcio, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, now)
	if err != nil {
		return nil, fmt.Errorf("choosing a Fulcio certificate authority from the signing config: %w (the config needs a caUrls entry valid now)", err)
	}
	pb := &prototrustroot.SigningConfig{}
	if raw, err := sc.MarshalJSON(); err == nil {
		pb, _ = root.NewSigningConfigProtobuf(raw)
	}
	rekorCfg := serviceConfig(pb.GetRekorTlogConfig())
	rekor, err := root.SelectServices(sc.RekorLogURLs(), rekorCfg, sign.RekorAPIVersions, now)
	if err != nil || len(rekor) == 0 {
		return nil, fmt.Errorf("choosing Rekor transparency logs from the signing config: %v (the config needs rekorTlogUrls valid now, with majorApiVersion 1 or 2)", errOrEmpty(err))
	}
	var tsa []root.Service
	if len(sc.TimestampAuthorityURLs()) > 0 {
		tsaCfg := serviceConfig(pb.GetTsaConfig())
		tsa, err = root.SelectServices(sc.TimestampAuthorityURLs(), tsaCfg, sign.TimestampAuthorityAPIVersions, now)
		if err != nil {
			return nil, fmt.Errorf("choosing timestamp authorities from the signing config: %w (fix tsaUrls/tsaConfig, or remove tsaUrls)", err)
		}
	}
	for _, r := range rekor {
		if r.MajorAPIVersion == 2 && len(tsa) == 0 {
			return nil, fmt.Errorf("the signing config selects Rekor v2 (%s) but no timestamp authority: Rekor v2 gives no signing time, add tsaUrls to the signing config", r.URL)
		}
	}
	out := &Services{FulcioURL: fulcio.URL, Rekor: rekor, TSA: tsa}
	if v1, err := root.SelectService(sc.RekorLogURLs(), []uint32{1}, now); err == nil {
		out.NPMRekor = &v1
	}
	return out, nil
}

func errOrEmpty(err error) any {
	if err != nil {
		return err
	}
	return "none selected"
}

// serviceConfig turns an optional selector into a concrete one: a missing config means "any one".
func serviceConfig(c *prototrustroot.ServiceConfiguration) root.ServiceConfiguration {
	if c == nil || c.GetSelector() == prototrustroot.ServiceSelector_SERVICE_SELECTOR_UNDEFINED {
		return root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY, Count: 1}
	}
	return root.ServiceConfiguration{Selector: c.GetSelector(), Count: c.GetCount()}
}
