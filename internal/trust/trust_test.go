package trust

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/waxseal/waxseal/internal/remedy"
)

const pgRoot = "../../testdata/trust/public-good.trusted_root.json"

// failingTransport fails and counts every request: with trust files nothing may reach the network.
type failingTransport struct{ calls atomic.Int32 }

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, errors.New("network disabled in this test")
}

func TestTrustedRootFromFileIsOffline(t *testing.T) {
	t.Parallel()
	ft := &failingTransport{}
	tr, err := TrustedRoot(t.Context(), Options{TrustedRootPath: pgRoot, Transport: ft})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.RekorLogs()) == 0 || len(tr.CTLogs()) == 0 {
		t.Errorf("public-good root loaded without CAs, Rekor logs or CT logs")
	}
	if n := ft.calls.Load(); n != 0 {
		t.Errorf("loading a trusted root file made %d network requests, want 0", n)
	}
}

func TestTrustedRootErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
		{"not json", write("bad.json", "{"), "trusted_root.json"},
		{"wrong media type", write("mt.json", `{"mediaType":"application/x"}`), "trusted root"},
		{"empty", write("empty.json", `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), "names no certificate authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := TrustedRoot(t.Context(), Options{TrustedRootPath: tc.path, Transport: &failingTransport{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("TrustedRoot(%s) = %v; want an error naming the file and containing %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
		inst Instance
	}{
		{"default", Options{}, true, PublicGood},
		{"staging", Options{Staging: true}, true, Staging},
		{"files", Options{TrustedRootPath: "a", SigningConfigPath: "b"}, true, Custom},
		{"staging and root", Options{Staging: true, TrustedRootPath: "a"}, false, Staging},
	} {
		if err := tc.o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if got := tc.o.Instance(); got != tc.inst {
			t.Errorf("%s: Instance() = %q, want %q", tc.name, got, tc.inst)
		}
	}
}

func service(url string, v uint32) root.Service {
	return root.Service{URL: url, MajorAPIVersion: v, ValidityPeriodStart: time.Unix(0, 0)}
}

func TestSelectServices(t *testing.T) {
	t.Parallel()
	now := time.Now()
	pg, err := root.NewSigningConfigFromPath("../../testdata/trust/public-good.signing_config.v0.2.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := SelectServices(pg, now)
	if err != nil {
		t.Fatal(err)
	}
	want := &Services{
		FulcioURL: "https://fulcio.sigstore.dev",
		Rekor:     []root.Service{{URL: "https://rekor.sigstore.dev", MajorAPIVersion: 1}},
		TSA:       []root.Service{{URL: "https://timestamp.sigstore.dev/api/v1/timestamp", MajorAPIVersion: 1}},
		NPMRekor:  &root.Service{URL: "https://rekor.sigstore.dev", MajorAPIVersion: 1},
	}
	opt := cmp.Transformer("urlVersion", func(s root.Service) [2]any { return [2]any{s.URL, s.MajorAPIVersion} })
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("SelectServices(public-good) (-want +got):\n%s", diff)
	}

	// A config with no tsaConfig and no rekorTlogConfig: sigstore-go v1.3.0 would dereference nil here.
	bare, err := root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{service("http://fulcio", 1)}, nil, []root.Service{service("http://rekor", 1)},
		root.ServiceConfiguration{}, nil, root.ServiceConfiguration{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SelectServices(bare, now); err != nil {
		t.Errorf("SelectServices(no configs) = %v, want the one Rekor and no TSA", err)
	}

	v2NoTSA, _ := root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{service("http://fulcio", 1)}, nil, []root.Service{service("http://rekor2", 2)},
		root.ServiceConfiguration{}, nil, root.ServiceConfiguration{})
	if _, err := SelectServices(v2NoTSA, now); err == nil || !strings.Contains(err.Error(), "add tsaUrls") {
		t.Errorf("SelectServices(Rekor v2, no TSA) = %v, want a refusal that says to add tsaUrls", err)
	}

	noFulcio, _ := root.NewSigningConfig(root.SigningConfigMediaType02, nil, nil,
		[]root.Service{service("http://rekor", 1)}, root.ServiceConfiguration{}, nil, root.ServiceConfiguration{})
	if _, err := SelectServices(noFulcio, now); err == nil || !strings.Contains(err.Error(), "caUrls") {
		t.Errorf("SelectServices(no Fulcio) = %v, want an error naming caUrls", err)
	}
}

// TestNPMRekorIsAlwaysV1: whatever the config prefers, npm provenance goes to a Rekor v1 log of the config
// (staging lists Rekor v2 first); a config without one has none.
func TestNPMRekorIsAlwaysV1(t *testing.T) {
	t.Parallel()
	now := time.Now()
	staging, err := root.NewSigningConfigFromPath("../../testdata/conformance/staging.signing_config.v0.2.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := SelectServices(staging, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rekor) != 1 || got.Rekor[0].MajorAPIVersion != 2 {
		t.Errorf("staging's preferred log = %+v, want its Rekor v2", got.Rekor)
	}
	if got.NPMRekor == nil || got.NPMRekor.URL != "https://rekor.sigstage.dev" || got.NPMRekor.MajorAPIVersion != 1 {
		t.Errorf("staging's npm log = %+v, want https://rekor.sigstage.dev (v1)", got.NPMRekor)
	}
	v2only, _ := root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{service("http://fulcio", 1)}, nil, []root.Service{service("http://rekor2", 2)},
		root.ServiceConfiguration{}, []root.Service{service("http://tsa", 1)}, root.ServiceConfiguration{})
	if got, err := SelectServices(v2only, now); err != nil || got.NPMRekor != nil {
		t.Errorf("Rekor v2 only: NPMRekor = %+v, %v; want none", got.NPMRekor, err)
	}
}

func TestSigningServicesNeedsConfigWithRoot(t *testing.T) {
	t.Parallel()
	_, err := SigningServices(t.Context(), Options{TrustedRootPath: pgRoot, Transport: &failingTransport{}}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "signing_config.v0.2.json") {
		t.Fatalf("SigningServices(root without config) = %v, want an error that asks for the signing config", err)
	}
	if got, want := remedy.Hints(err), []remedy.Hint{remedy.Give(remedy.SigningConfig)}; !slices.Equal(got, want) {
		t.Errorf("remedies = %v, want %v", got, want)
	}
}

// TestSignInProvider: a person signs in at the provider the instance's own signing config names, read here from
// the public-good and staging configs shipped in testdata, with no network.
func TestSignInProvider(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ name, config, want string }{
		{"public-good", "../../testdata/trust/public-good.signing_config.v0.2.json", "https://oauth2.sigstore.dev/auth"},
		{"public-good (conformance copy)", "../../testdata/conformance/public-good.signing_config.v0.2.json", "https://oauth2.sigstore.dev/auth"},
		{"staging", "../../testdata/conformance/staging.signing_config.v0.2.json", "https://oauth2.sigstage.dev/auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft := &failingTransport{}
			got, err := SignInProvider(t.Context(), Options{SigningConfigPath: tc.config, Transport: ft}, now)
			if err != nil || got != tc.want || ft.calls.Load() != 0 {
				t.Errorf("SignInProvider(%s) = %q, %v after %d requests; want %q offline", tc.config, got, err, ft.calls.Load(), tc.want)
			}
		})
	}
	none, _ := root.NewSigningConfig(root.SigningConfigMediaType02, []root.Service{service("http://fulcio", 1)}, nil,
		[]root.Service{service("http://rekor", 1)}, root.ServiceConfiguration{}, nil, root.ServiceConfiguration{})
	if _, err := SelectSignInProvider(none, now); err == nil || !strings.Contains(err.Error(), "oidcUrls") ||
		!strings.Contains(remedy.Explain(err, remedy.Flag).Error(), "--oidc-issuer") {
		t.Errorf("SelectSignInProvider(no oidcUrls) = %v, want an error naming oidcUrls, with --oidc-issuer as the command line's remedy", err)
	}
	future := root.Service{URL: "https://later", MajorAPIVersion: 1, ValidityPeriodStart: now.Add(time.Hour)}
	current := root.Service{URL: "https://now", MajorAPIVersion: 1, ValidityPeriodStart: now.Add(-time.Hour)}
	two, _ := root.NewSigningConfig(root.SigningConfigMediaType02, []root.Service{service("http://fulcio", 1)}, []root.Service{future, current},
		[]root.Service{service("http://rekor", 1)}, root.ServiceConfiguration{}, nil, root.ServiceConfiguration{})
	if got, err := SelectSignInProvider(two, now); got != "https://now" || err != nil {
		t.Errorf("SelectSignInProvider(one valid later) = %q, %v; want the one valid now", got, err)
	}
}
