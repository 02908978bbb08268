package seal

import (
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/trust"
)

func TestCheckIdentity(t *testing.T) {
	t.Parallel()
	gh := func(vis, issuer string) *oidc.Claims {
		return &oidc.Claims{Issuer: issuer, Repository: "octo/pkg", WorkflowRef: "octo/pkg/.github/workflows/r.yml@refs/tags/v1", SHA: "abc",
			RepositoryVisibility: vis}
	}
	custom := trust.Options{TrustedRootPath: "root.json", SigningConfigPath: "sc.json"}
	for _, tc := range []struct {
		name        string
		opts        Options
		claims      *oidc.Claims
		wantErr     string
		wantWarning string
	}{
		{name: "public repository", opts: Options{Provenance: true}, claims: gh("public", oidc.GitHubIssuer)},
		{name: "private repository with npm provenance", opts: Options{Provenance: true}, claims: gh("private", oidc.GitHubIssuer),
			wantErr: `"Unsupported GitHub Actions source repository visibility: private"`},
		{name: "internal repository with npm provenance", opts: Options{Provenance: true}, claims: gh("internal", oidc.GitHubIssuer),
			wantErr: "visibility: internal"},
		{name: "private repository on a private instance still cannot give npm provenance", opts: Options{Provenance: true, Trust: custom},
			claims: gh("private", oidc.GitHubIssuer), wantErr: "make octo/pkg public"},
		{name: "private repository into the public log", opts: Options{}, claims: gh("private", oidc.GitHubIssuer),
			wantErr: "--allow-private-repository"},
		{name: "private repository into the public log, opted in", opts: Options{AllowPrivateRepository: true}, claims: gh("private", oidc.GitHubIssuer),
			wantWarning: "now in Sigstore's public transparency log"},
		{name: "private repository with the npm checks off, opted in", opts: Options{Provenance: true, SkipNPMChecksUnsafe: true, AllowPrivateRepository: true},
			claims: gh("private", oidc.GitHubIssuer), wantWarning: "allow-private-repository is on"},
		{name: "private repository on a private instance", opts: Options{Trust: custom}, claims: gh("private", oidc.GitHubIssuer)},
		{name: "GitHub Enterprise Server issuer with npm provenance", opts: Options{Provenance: true},
			claims: gh("public", "https://ghes.example/_services/token"), wantErr: "accepts provenance from GitHub Actions on github.com"},
		{name: "GitHub Enterprise Server issuer without provenance", opts: Options{}, claims: gh("public", "https://ghes.example/_services/token")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			warning, err := tc.opts.checkIdentity(tc.claims)
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if (tc.wantWarning == "") != (warning == "") || !strings.Contains(warning, tc.wantWarning) {
				t.Errorf("warning = %q, want %q", warning, tc.wantWarning)
			}
		})
	}
}
