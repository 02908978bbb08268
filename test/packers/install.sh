#!/usr/bin/env bash
# Installs the packers whose output waxseal must read (yarn 1, yarn 4, pnpm, bun), each at a pinned
# version from the npm registry, into a cache outside the repository:
#
#   ${WAXSEAL_STACK_CACHE:-$HOME/.cache/waxseal-stack}/packers/<name>-<version>/
#
# and prints one line per packer, "<name> <version> <command...>", to packers.env beside them, which
# internal/npm's live packer test reads (WAXSEAL_PACKERS points at it). A packer already installed is
# kept; delete its directory to install it again. Corepack is not used: it downloads from outside the
# npm registry.
set -euo pipefail

cache=${WAXSEAL_STACK_CACHE:-$HOME/.cache/waxseal-stack}/packers
mkdir -p "$cache"

# name version npm-spec command-relative-to-the-prefix
packers=(
	"yarn1 1.22.22 yarn@1.22.22 node_modules/yarn/bin/yarn.js"
	"yarn4 4.18.1 @yarnpkg/cli-dist@4.18.1 node_modules/@yarnpkg/cli-dist/bin/yarn.js"
	"pnpm 12.24.0 pnpm@12.24.0 node_modules/pnpm/pnpm"
	"bun 1.4.5 bun@1.4.5 node_modules/bun/bin/bun.exe"
)

env_file=$cache/packers.env
tmp_env=$(mktemp "$cache/.env.XXXXXX")
trap 'rm -f "$tmp_env"' EXIT
for p in "${packers[@]}"; do
	read -r name version spec bin <<<"$p"
	dir=$cache/$name-$version
	if [[ ! -e $dir/$bin ]]; then
		rm -rf "$dir.partial"
		mkdir -p "$dir.partial"
		# bun's postinstall only links the binary from its platform package (an optional dependency);
		# it runs, the others have no install scripts that matter.
		npm install --prefix "$dir.partial" --no-audit --no-fund --no-save --loglevel=error "$spec" >&2
		rm -rf "$dir"
		mv "$dir.partial" "$dir"
	fi
	case $bin in
	*.js | *.cjs) echo "$name $version node $dir/$bin" ;;
	*) echo "$name $version $dir/$bin" ;;
	esac >>"$tmp_env"
done
mv "$tmp_env" "$env_file"
trap - EXIT
cat "$env_file"
