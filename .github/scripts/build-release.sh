#!/usr/bin/env bash
# Builds waxseal the way the Dockerfile does (same flags), for GOOS/GOARCH from the environment, into $1
# (default .cache/bin/waxseal-$GOOS-$GOARCH), and prints its size. CI uses it to check the image stays small and
# that the released binaries match what the image holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
goos=${GOOS:-linux} goarch=${GOARCH:-amd64}
out=${1:-.cache/bin/waxseal-$goos-$goarch}
CGO_ENABLED=0 GOTOOLCHAIN=local GOOS=$goos GOARCH=$goarch \
  go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$out" ./cmd/waxseal
size=$(stat -c %s "$out")
echo "$out $size bytes ($((size / 1024 / 1024)) MiB)"
limit=${WAXSEAL_MAX_BINARY_BYTES:-$((18 * 1024 * 1024))}
if (( size > limit )); then
  echo "the binary is over ${limit} bytes; with distroless static (~2 MiB) the image would miss the 20 MB target" >&2
  exit 1
fi
