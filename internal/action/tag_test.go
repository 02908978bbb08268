package action

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReleaseTag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"action":"created","release":{"tag_name":"v2.0.0","draft":true}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"release":`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		want    string
		wantErr bool
	}{
		{name: "input wins", cfg: Config{ReleaseTag: "v9", EventName: "release", EventPath: event, Ref: "refs/tags/v1"}, want: "v9"},
		{name: "release event", cfg: Config{EventName: "release", EventPath: event, Ref: "refs/heads/main"}, want: "v2.0.0"},
		{name: "tag push", cfg: Config{EventName: "push", Ref: "refs/tags/v1.2.3"}, want: "v1.2.3"},
		{name: "branch push", cfg: Config{EventName: "push", Ref: "refs/heads/main"}, want: ""},
		{name: "broken payload", cfg: Config{EventName: "release", EventPath: bad}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := releaseTag(&tc.cfg)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("releaseTag = %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
