# syntax=docker/dockerfile:1
#
# The waxseal container Action. Build: docker build -t waxseal .
#
# Base images are pinned by digest; Dependabot (docker ecosystem) keeps them current. The digests below were
# not pulled on the machine that wrote this file (no Docker engine there): they were taken from public
# Dockerfiles that pin the same tags (golang:1.26.8 and gcr.io/distroless/static-debian12:latest), found through
# code search. Confirm them with `docker buildx imagetools inspect <image:tag>` when you first build.

# Builder: the pinned golang:1.26.8 image, told to build with Go 1.27.3 (sigstore-go v1.4.0 needs Go 1.27), the
# toolchain the Makefile and .ci/run use. The go command fetches that exact toolchain from the Go module proxy and
# checks it against the Go checksum database, so the download is pinned as tightly as the image; naming it here
# also means go.mod's go line can never pick a different one. When a golang:1.27.3 image digest has been
# confirmed, switch the FROM line to it and set GOTOOLCHAIN=local again.
FROM golang:1.26.8@sha256:9d2f36f06329b2a141b9db99ffa32765cf695ee57b813ca29e245e8670bcbfff AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ENV CGO_ENABLED=0 GOTOOLCHAIN=go1.27.3 GOFLAGS=-mod=readonly
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY cmd ./cmd
COPY internal ./internal
# The same flags as .github/scripts/build-release.sh, so CI can rebuild the binary without Docker and compare.
# VERSION and COMMIT are stamped in as build-release.sh stamps them (the release workflow passes them as build args;
# a build at @main has no .git in its context and says "devel").
ARG VERSION=devel
ARG COMMIT=
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
      -ldflags="-s -w -buildid= -X github.com/waxseal/waxseal/internal/cli.version=$VERSION -X github.com/waxseal/waxseal/internal/cli.commit=$COMMIT" \
      -o /out/waxseal ./cmd/waxseal

# Runtime: distroless static (CA certificates, tzdata, /etc/passwd, /tmp; no shell, no libc). `make image` builds
# this stage without Docker (internal/actionimage) for the container tests, and refuses any instruction here it
# does not reproduce: change both together.
FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2
LABEL org.opencontainers.image.title="waxseal" \
      org.opencontainers.image.description="Keyless Sigstore signing of release artifacts, with SLSA provenance, as a GitHub Action" \
      org.opencontainers.image.source="https://github.com/waxseal/waxseal" \
      org.opencontainers.image.documentation="https://github.com/waxseal/waxseal/blob/main/docs/action.md" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/waxseal /waxseal
# No USER line: the image runs as root (uid 0), deliberately. GitHub runs Docker container actions with the
# job's workspace bind-mounted at /github/workspace and its file-command files under /github/file_commands,
# owned by the runner's user, and documents that such actions must run as the default (root) user to write
# there (docs: "Dockerfile support for GitHub Actions", USER). waxseal writes bundles into the workspace, and gives
# them (and .waxseal/) to the workspace's owner, the runner's user, who runs the steps after it.
ENTRYPOINT ["/waxseal"]
