package actionimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

const dockerfile = "../../Dockerfile"

// finalStageByBuildKit reads the final stage of the repository's Dockerfile as BuildKit parses and expands it (not
// through ReadFinalStage's checks), the way `docker build` reads it.
func finalStageByBuildKit(t *testing.T) instructions.Stage {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	stages, err := parseStages(f)
	if err != nil {
		t.Fatal(err)
	}
	return stages[len(stages)-1]
}

// files lists an image's file system after all layers, with each entry's header.
func files(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out["/"+strings.TrimSuffix(h.Name, "/")] = h
	}
}

// TestImageMatchesDockerfile builds the offline image from the repository's Dockerfile and checks it against what
// `docker build` makes of that Dockerfile's final stage: its labels, entrypoint and user (no USER line: the base's
// root), the binary where COPY puts it, and the files of distroless static-debian12 (static.bzl's packages, CA
// bundle, passwd, group, /tmp 1777, the nonroot home) and no shell.
func TestImageMatchesDockerfile(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "waxseal")
	binary := []byte("\x7fELF a stand-in for the static binary: only its bytes and place are checked here")
	if err := os.WriteFile(bin, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := Build(Options{Dockerfile: dockerfile, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	stage := finalStageByBuildKit(t)
	wantLabels := map[string]string{}
	var wantEntrypoint []string
	wantUser, wantBinary := "0", ""
	for _, c := range stage.Commands {
		switch c := c.(type) {
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				wantLabels[kv.Key] = kv.Value
			}
		case *instructions.EntrypointCommand:
			wantEntrypoint = c.CmdLine
		case *instructions.UserCommand:
			wantUser = c.User
		case *instructions.CopyCommand:
			wantBinary = c.DestPath
		}
	}
	if len(wantLabels) == 0 || wantBinary == "" || len(wantEntrypoint) == 0 {
		t.Fatalf("the Dockerfile's final stage has no labels, COPY or ENTRYPOINT: %+v", stage.Commands)
	}
	if diff := cmp.Diff(wantLabels, cf.Config.Labels); diff != "" {
		t.Errorf("labels (-Dockerfile +image):\n%s", diff)
	}
	for k, v := range cf.Config.Labels {
		if strings.ContainsAny(v, `"'`) { // docker build removes the Dockerfile's quoting
			t.Errorf("label %s = %s: the Dockerfile's quotes were kept", k, v)
		}
	}
	if diff := cmp.Diff(wantEntrypoint, cf.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-Dockerfile +image):\n%s", diff)
	}
	if cf.Config.User != wantUser || cf.Config.WorkingDir != "/" || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("user %q, workdir %q, platform %s/%s: want %q (distroless static's root), /, linux/amd64",
			cf.Config.User, cf.Config.WorkingDir, cf.OS, cf.Architecture, wantUser)
	}
	if !strings.HasPrefix(stage.BaseName, DistrolessStatic+":") {
		t.Errorf("the final stage is FROM %s, not %s", stage.BaseName, DistrolessStatic)
	}

	fs := files(t, img)
	for _, want := range []struct {
		path string
		mode int64
		uid  int
		kind byte
	}{
		{wantBinary, 0o755, 0, tar.TypeReg},
		{"/etc/ssl/certs/ca-certificates.crt", 0o644, 0, tar.TypeReg},
		{"/usr/share/zoneinfo/Etc/UTC", 0o644, 0, tar.TypeReg},
		{"/etc/passwd", 0o644, 0, tar.TypeReg},
		{"/etc/group", 0o644, 0, tar.TypeReg},
		{"/etc/nsswitch.conf", 0o644, 0, tar.TypeReg},
		{"/etc/services", 0o644, 0, tar.TypeReg},
		{"/etc/mime.types", 0o644, 0, tar.TypeReg},
		{"/etc/os-release", 0o644, 0, tar.TypeReg},
		{"/var/lib/dpkg/status.d/tzdata", 0o644, 0, tar.TypeReg},
		{"/tmp", 0o1777, 0, tar.TypeDir},
		{"/root", 0o700, 0, tar.TypeDir},
		{"/home/nonroot", 0o700, nonroot, tar.TypeDir},
	} {
		h, ok := fs[want.path]
		if !ok {
			t.Errorf("%s is missing from the image", want.path)
			continue
		}
		if h.Typeflag != want.kind || h.Mode != want.mode || h.Uid != want.uid {
			t.Errorf("%s: type %q mode %o uid %d, want %q %o %d", want.path, h.Typeflag, h.Mode, h.Uid, want.kind, want.mode, want.uid)
		}
	}
	for _, shell := range []string{"/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/busybox"} {
		if _, ok := fs[shell]; ok {
			t.Errorf("the image has %s; distroless static has no shell", shell)
		}
	}
	passwd := fileContent(t, img, "etc/passwd")
	for _, user := range []string{"root:x:0:0:", "nonroot:x:65532:65532:"} {
		if !strings.Contains(passwd, user) {
			t.Errorf("/etc/passwd lacks %q:\n%s", user, passwd)
		}
	}
	if got := fileContent(t, img, strings.TrimPrefix(wantBinary, "/")); got != string(binary) {
		t.Errorf("%s is not the binary given", wantBinary)
	}
}

func fileContent(t *testing.T, img v1.Image, name string) string {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h.Name == name {
			var b bytes.Buffer
			if _, err := io.Copy(&b, tr); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
	}
}

// TestReadFinalStageRefusesWhatItCannotBuild: a final-stage instruction the offline builder does not reproduce
// fails the build, naming it, instead of an image that differs from GitHub's.
func TestReadFinalStageRefusesWhatItCannotBuild(t *testing.T) {
	t.Parallel()
	const build = "FROM golang:1.26.8 AS build\nRUN go build -o /out/waxseal ./cmd/waxseal\n"
	const from = "FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2\n"
	const ok = "COPY --from=build /out/waxseal /waxseal\nENTRYPOINT [\"/waxseal\"]\n"
	for _, tc := range []struct{ name, dockerfile, want string }{
		{"another base", build + "FROM gcr.io/distroless/base-debian12\n" + ok, "reproduces only gcr.io/distroless/static-debian12"},
		{"a RUN", build + from + "RUN [\"/waxseal\", \"version\"]\n" + ok, "RUN"},
		{"an ENV", build + from + "ENV HOME=/tmp\n" + ok, "ENV HOME=/tmp"},
		{"a shell-form entrypoint", build + from + "COPY --from=build /out/waxseal /waxseal\nENTRYPOINT /waxseal action\n", "shell form"},
		{"a COPY from the context", build + from + "COPY waxseal /waxseal\nENTRYPOINT [\"/waxseal\"]\n", "COPY waxseal /waxseal"},
		{"a chmod", build + from + "COPY --from=build --chmod=700 /out/waxseal /waxseal\nENTRYPOINT [\"/waxseal\"]\n", "--chmod"},
		{"no entrypoint", build + from + "COPY --from=build /out/waxseal /waxseal\n", "lacks"},
		{"one stage", from + ok, "1 stage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadFinalStage(strings.NewReader(tc.dockerfile))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	st, err := ReadFinalStage(strings.NewReader(build + from + "LABEL a=\"x y\" b=2\nUSER nonroot\n" + ok))
	if err != nil {
		t.Fatal(err)
	}
	want := &Stage{Base: strings.TrimPrefix(strings.TrimSpace(from), "FROM "), Labels: map[string]string{"a": "x y", "b": "2"},
		Entrypoint: []string{"/waxseal"}, User: "nonroot", Binary: "/waxseal"}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stage (-want +got):\n%s", diff)
	}
}
