#!/usr/bin/env bash
# install.sh: build the pinned Sigstore servers and cosign with this machine's
# Go into "${WAXSEAL_STACK_CACHE:-$HOME/.cache/waxseal-stack}/bin/<name>@<version>/",
# skipping whatever is already built at that version; install MariaDB from
# Debian if mariadbd is missing; copy Trillian's MySQL schema into the cache.
# Safe to run again: a finished install does nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

log() { printf 'install.sh: %s\n' "$*" >&2; }

# install.sh --demo installs only what `make demo` runs: the servers and one npm, not the tools only tests use.
demo=0
[[ ${1:-} == --demo ]] && demo=1
test_only=" cosign gh actionlint "

mkdir -p "$STACK_BIN"
for t in "${STACK_TOOLS[@]}"; do
	IFS='|' read -r name pkg ver exe <<<"$t"
	if ((demo)) && [[ $test_only == *" $name "* ]]; then
		continue
	fi
	dest=$STACK_BIN/$name@$ver
	if [[ -x $dest/$exe ]]; then
		log "$name $ver: already built"
		continue
	fi
	start=$SECONDS
	tmp=$(mktemp -d "$STACK_BIN/.tmp-$name-XXXXXX")
	sub=""
	for b in "${BUILD_IN_MODULE[@]}"; do
		[[ ${b%%|*} == "$name" ]] && sub=${b#*|}
	done
	if [[ -n $sub ]]; then
		log "$name $ver: go build $sub in $pkg@$ver"
		moddir=$(cd / && GOFLAGS='' GOTOOLCHAIN=local go mod download -json "$pkg@$ver" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		if [[ -z $moddir ]] || ! (cd "$moddir" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -o "$tmp/$exe" "$sub"); then
			rm -rf "$tmp"
			log "$name $ver: build failed: check the Go module proxy is reachable"
			exit 1
		fi
		rm -rf "$dest"
		mv "$tmp" "$dest"
		log "$name $ver: built in $((SECONDS - start))s"
		continue
	fi
	log "$name $ver: go install $pkg@$ver"
	# The machine's own Go (GOTOOLCHAIN=local): these pinned releases are known to build with Go 1.26.
	if ! GOBIN=$tmp GOFLAGS='' GOTOOLCHAIN=local go install "$pkg@$ver"; then
		rm -rf "$tmp"
		log "$name $ver: go install failed: check the Go module proxy is reachable and Go is $(go env GOVERSION)"
		exit 1
	fi
	rm -rf "$dest"
	mv "$tmp" "$dest"
	log "$name $ver: built in $((SECONDS - start))s"
done

npms=("${NPM_CLIS[@]}")
((demo)) && npms=("${NPM_CLIS[1]}")
for v in "${npms[@]}"; do
	if [[ -f $(npm_cli "$v") ]]; then
		log "npm $v: already installed"
		continue
	fi
	log "npm $v: npm install --prefix $STACK_CACHE/npm/$v npm@$v"
	tmp=$(mktemp -d "$STACK_CACHE/.tmp-npm-XXXXXX")
	if ! npm install --prefix "$tmp" --no-audit --no-fund --silent "npm@$v" >&2; then
		rm -rf "$tmp"
		log "npm $v: install failed: check the npm registry is reachable"
		exit 1
	fi
	rm -rf "$STACK_CACHE/npm/$v"
	mkdir -p "$STACK_CACHE/npm"
	mv "$tmp" "$STACK_CACHE/npm/$v"
done

if [[ ! -s $TRILLIAN_SCHEMA ]]; then
	moddir=$(cd / && GOFLAGS='' go mod download -json "github.com/google/trillian@$TRILLIAN_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	cp "$moddir/storage/mysql/schema/storage.sql" "$TRILLIAN_SCHEMA.tmp"
	mv "$TRILLIAN_SCHEMA.tmp" "$TRILLIAN_SCHEMA"
	log "trillian schema: copied from $moddir"
fi

if ! command -v mariadbd >/dev/null 2>&1 && [[ ! -x /usr/sbin/mariadbd ]]; then
	log "mariadb: installing mariadb-server from Debian"
	if [[ $(id -u) != 0 ]]; then
		log "mariadb: not root: run 'sudo apt-get install mariadb-server' and try again"
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
fi
log "done: binaries in $STACK_BIN"
