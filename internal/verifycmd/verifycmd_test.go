package verifycmd

import (
	"regexp"
	"strings"
	"testing"

	"github.com/waxseal/waxseal/internal/oidc"
	"github.com/waxseal/waxseal/internal/provenance"
)

func TestForSignerPinsTheSigner(t *testing.T) {
	t.Parallel()
	src := provenance.GitHub{ServerURL: "https://github.com", Repository: "octo/pkg", RepositoryID: "11", RepositoryOwnerID: "22",
		Ref: "refs/tags/v1"}
	tests := []struct {
		name, san, issuer string
		src               provenance.GitHub
		wantArgs          string
		others            []string // SANs of other signers the policy must refuse
	}{
		{name: "a workflow of the repository", san: "https://github.com/octo/pkg/.github/workflows/release.yml@refs/tags/v1",
			issuer: oidc.GitHubIssuer, src: src,
			wantArgs: "--repository octo/pkg --workflow .github/workflows/release.yml --ref refs/tags/v1 --repository-id 11 --repository-owner-id 22",
			others: []string{"https://github.com/octo/pkg/.github/workflows/other.yml@refs/tags/v1",
				"https://github.com/octo/pkg/.github/workflows/release.yml@refs/heads/main",
				"https://github.com/mallory/pkg/.github/workflows/release.yml@refs/tags/v1"}},
		{name: "a reusable workflow of another repository", san: "https://github.com/org/shared/.github/workflows/sign.yml@refs/heads/main",
			issuer: oidc.GitHubIssuer, src: src,
			wantArgs: "--certificate-identity https://github.com/org/shared/.github/workflows/sign.yml@refs/heads/main " +
				"--certificate-oidc-issuer https://token.actions.githubusercontent.com --repository octo/pkg --ref refs/tags/v1 --repository-id 11 --repository-owner-id 22",
			others: []string{"https://github.com/org/shared/.github/workflows/sign.yml@refs/heads/evil"}},
		{name: "another issuer comes after the workflow", san: "https://github.com/octo/pkg/.github/workflows/release.yml@refs/tags/v1",
			issuer: "http://127.0.0.1:8088", src: src,
			wantArgs: "--repository octo/pkg --workflow .github/workflows/release.yml --ref refs/tags/v1 --certificate-oidc-issuer http://127.0.0.1:8088 --repository-id 11 --repository-owner-id 22"},
		{name: "GitHub Enterprise Server pins the SAN", san: "https://ghes.example/octo/pkg/.github/workflows/r.yml@refs/tags/v1",
			issuer: "https://ghes.example/_services/token", src: provenance.GitHub{ServerURL: "https://ghes.example/", Repository: "octo/pkg", Ref: "refs/tags/v1"},
			wantArgs: "--certificate-identity https://ghes.example/octo/pkg/.github/workflows/r.yml@refs/tags/v1 " +
				"--certificate-oidc-issuer https://ghes.example/_services/token --repository octo/pkg --ref refs/tags/v1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ForSigner(tc.san, tc.issuer, tc.src)
			if got := strings.Join(p.Args(), " "); got != tc.wantArgs {
				t.Errorf("Args = %s\nwant   %s", got, tc.wantArgs)
			}
			id, ext, err := p.Identity()
			if err != nil {
				t.Fatal(err)
			}
			match := func(san string) bool {
				if id.SAN != "" {
					return san == id.SAN
				}
				return regexp.MustCompile(id.SANRegexp).MatchString(san)
			}
			if !match(tc.san) || (id.Issuer != tc.issuer && id.IssuerRegexp == "") {
				t.Errorf("the policy refuses its own signer: identity %+v", id)
			}
			for _, o := range tc.others {
				if match(o) {
					t.Errorf("the policy accepts %s", o)
				}
			}
			if ext.SourceRepositoryURI != "https://github.com/octo/pkg" || ext.SourceRepositoryIdentifier != tc.src.RepositoryID {
				t.Errorf("extensions %+v do not pin the repository", ext)
			}
		})
	}
}

func TestIdentityRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{}, "no identity, no verification"},
		{Policy{Repository: "https://github.com/octo/pkg"}, "is not OWNER/REPO"},
		{Policy{SAN: "x", Workflow: "r.yml"}, "drop --workflow"},
		{Policy{Ref: "refs/tags/v1"}, "pass --repository OWNER/REPO too"},
		{Policy{Repository: "o/r", Ref: "v1"}, "not a full git ref"},
		{Policy{Repository: "o/r", RepositoryID: "12a"}, "not a number"},
	} {
		if _, _, err := tc.p.Identity(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Identity(%+v) = %v, want %q", tc.p, err, tc.want)
		}
	}
}
