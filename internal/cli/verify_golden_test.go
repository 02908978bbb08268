package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the verify golden files in testdata/npm-real/golden")

// TestVerifyGolden pins what verify prints for people and for machines: one package verified, one refused.
func TestVerifyGolden(t *testing.T) {
	t.Parallel()
	args := []string{"verify", "--no-signature", "--trusted-root", publicGoodRoot,
		"--repository", "sigstore/sigstore-js", "--ref", "refs/heads/main", "--source-commit", "f0b49a04e5a62250e0f60fb128004a73110fe311",
		npmRealDir + "/sigstore-2.0.0.tgz", npmRealDir + "/sigstore-1.3.0.tgz"}
	for _, tt := range []struct{ name, golden string }{{"human", "verify.txt"}, {"json", "verify.json"}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := args
			if tt.name == "json" {
				a = append([]string{}, args...)
				a = append(a, "--json")
			}
			env, out, _ := testEnv(&offlineTransport{}, nil)
			err := env.Run(t.Context(), a)
			if err == nil || ExitCode(err) != 1 {
				t.Fatalf("got %v, want exit 1 (sigstore 1.3.0 was built at another commit)", err)
			}
			path := filepath.Join(npmRealDir, "golden", tt.golden)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.golden, diff)
			}
		})
	}
}
