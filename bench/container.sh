#!/usr/bin/env bash
# bench/container.sh: the Action's image size, and how long its container takes from `docker run` to its first
# request, beside a JavaScript action's start (setup-node's cached path, then node or npx) on the same machine.
# The container runs as the runner starts it (internal/testing/actionrunner), with podman and runc in docker's
# place; see bench/README.md for what that does and does not stand for. Needs root, podman, runc, node and npm,
# and the npm registry once (bench/startup's @actions packages, pinned by its package-lock.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=go1.27.3
runs=${RUNS:-15}
make --no-print-directory image
js=.cache/bench-startup
mkdir -p "$js"
cp -R bench/startup/. "$js/"
npm ci --prefix "$js" --ignore-scripts --no-audit --no-fund --silent
go run ./bench/cmd/startup -image .cache/image/waxseal.tar -js "$js" -runs "$runs"
