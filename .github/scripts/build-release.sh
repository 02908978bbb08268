#!/usr/bin/env bash
# Builds waxseal the way the Dockerfile does (same flags), for GOOS/GOARCH from the environment, into $1
# (default .cache/bin/waxseal-$GOOS-$GOARCH), and prints its size, raw and gzipped. CI uses it to check the image
# stays small, and the release uses it so the released binaries are built exactly as the image's.
set -euo pipefail
cd "$(dirname "$0")/../.."
goos=${GOOS:-linux} goarch=${GOARCH:-amd64}
out=${1:-.cache/bin/waxseal-$goos-$goarch}
# The version and commit are stamped in (waxseal version prints them): VERSION and COMMIT from the environment
# (the release workflow sets them), else what git says of this checkout.
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
pkg=github.com/waxseal/waxseal/internal/cli
CGO_ENABLED=0 GOTOOLCHAIN=go1.27.3 GOOS=$goos GOARCH=$goarch \
  go build -trimpath -buildvcs=false -ldflags="-s -w -buildid= -X $pkg.version=$version -X $pkg.commit=$commit" -o "$out" ./cmd/waxseal
size=$(stat -c %s "$out")
gz=$(gzip -9 -c "$out" | wc -c)
echo "$out: $size bytes ($((size / 1024)) KiB), $gz bytes gzipped"
# The 20 MB image target is for the compressed image people pull: the gzipped binary plus distroless static
# (about 1 MB compressed) must stay under it.
limit=${WAXSEAL_MAX_GZIP_BYTES:-$((18 * 1000 * 1000))}
if (( gz > limit )); then
  echo "the gzipped binary is over $limit bytes: the image would miss the 20 MB target" >&2
  exit 1
fi
