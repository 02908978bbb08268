package bundlefile

import (
	"bytes"
	"testing"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, artifact string
		kind           Kind
		ok             bool
	}{
		{"pkg-1.0.0.tgz.sigstore.json", "pkg-1.0.0.tgz", Signature, true},
		{"pkg-1.0.0.tgz.provenance.sigstore.json", "pkg-1.0.0.tgz", Provenance, true},
		{"app_linux_amd64.tar.gz.intoto.jsonl", "app_linux_amd64.tar.gz", JSONL, true},
		{"SHA256SUMS", "", 0, false},
		{".sigstore.json", "", 0, false},
	} {
		a, k, ok := Split(tc.name)
		if a != tc.artifact || k != tc.kind || ok != tc.ok {
			t.Errorf("Split(%q) = %q, %v, %v; want %q, %v, %v", tc.name, a, k, ok, tc.artifact, tc.kind, tc.ok)
		}
	}
	for _, n := range Names("x.zip", true) {
		if a, _, ok := Split(n); !ok || a != "x.zip" {
			t.Errorf("Split(%q) does not give back x.zip", n)
		}
	}
	if len(Names("x", false)) != 1 {
		t.Error("without provenance there is one bundle file")
	}
}

func TestLine(t *testing.T) {
	t.Parallel()
	got, err := Line([]byte("{\n  \"a\": [1, 2]\n}\n"))
	if err != nil || !bytes.Equal(got, []byte(`{"a":[1,2]}`+"\n")) {
		t.Errorf("Line = %q, %v", got, err)
	}
	if _, err := Line([]byte("{")); err == nil {
		t.Error("Line accepted broken JSON")
	}
}
