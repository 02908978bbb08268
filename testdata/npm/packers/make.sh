#!/usr/bin/env bash
# Packs the test workspace with every packer named in a packers.env (see test/packers/install.sh) and
# writes each packer's tarballs to OUT/<packer>-<version>/ (see NOTICE):
#
#   testdata/npm/packers/make.sh ~/.cache/waxseal-stack/packers/packers.env testdata/npm/packers
#
# A line "npm<N> <version> node <npm-cli.js>" packs with an npm too (test/npmjs installs npm 10, 11, 12).
#
# The workspace is built here, in a temporary directory, because git cannot hold some of what it needs
# (paths over 512 bytes in total, Unicode names in both normal forms). It is one root with two packages:
#
#   packages/lib   @waxseal-example/packers-lib (scoped): long, deep and non-ASCII paths, file~1.js
#   packages/app   waxseal-example-packers-app (unscoped): depends on the lib with a "workspace:^" range
#                  (the packers that understand workspaces rewrite it to the lib's version)
#   packages/long  waxseal-example-packers-long: one non-ASCII path of 700 bytes, which waxseal refuses
#                  (npm can lose it when the bytes arrive in pieces, see splitProblem in tarreader.go)
#
# The lib's file names hold every form the packers store differently: a base name of 120 bytes, a path
# over 100 bytes that fits the ustar prefix and name fields, a directory 12 levels deep, short and long
# non-ASCII names (NFC, NFD, a 4-byte character), a non-ASCII path of 478 bytes (npm's PAX body for it
# is over 512 bytes, with every non-ASCII byte in the first 512), and a name shaped like a Windows 8.3
# short name (file~1.js).
set -euo pipefail

env_file=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
# yarn 4 turns on immutable installs when it sees CI=true (as CI services set it), and then refuses to
# write the lockfile this fresh workspace needs; the workspace is built here, so it is never immutable.
export HOME=$work/home COREPACK_ENABLE_STRICT=0 YARN_ENABLE_TELEMETRY=0 YARN_ENABLE_GLOBAL_CACHE=0 \
	YARN_ENABLE_IMMUTABLE_INSTALLS=false DO_NOT_TRACK=1 BUN_INSTALL_CACHE_DIR=$work/bun-cache \
	npm_config_update_notifier=false
mkdir -p "$HOME"

# run PACKER DIR COMMAND... runs a packer's command in DIR, and shows all it printed (some packers
# print their errors on stdout) only when it fails.
run() {
	local packer=$1 dir=$2 log=$work/log
	shift 2
	if ! (cd "$dir" && "$@") >"$log" 2>&1; then
		echo "make.sh: $packer failed in ${dir#"$work/"}: $*" >&2
		cat "$log" >&2
		return 1
	fi
}

repeat() { printf "$1%.0s" $(seq 1 "$2"); }

# put FILE TEXT writes TEXT and a newline to FILE, making its directories first.
put() { mkdir -p "$(dirname "$1")" && printf '%s\n' "$2" >"$1"; }

workspace() {
	local w=$1 lib=$1/packages/lib app=$1/packages/app long=$1/packages/long
	mkdir -p "$lib" "$app" "$long"
	cat >"$w/package.json" <<'JSON'
{
  "name": "waxseal-example-packers-root",
  "version": "0.0.0",
  "private": true,
  "workspaces": ["packages/*"]
}
JSON
	printf 'packages:\n  - "packages/*"\n' >"$w/pnpm-workspace.yaml"
	printf 'nodeLinker: node-modules\nenableTelemetry: false\n' >"$w/.yarnrc.yml"
	cat >"$lib/package.json" <<'JSON'
{
  "name": "@waxseal-example/packers-lib",
  "version": "2.0.0-beta.1",
  "description": "Paths every packer stores differently, for waxseal's tar reader.",
  "license": "Apache-2.0",
  "main": "index.js",
  "repository": { "type": "git", "url": "git+https://github.com/waxseal/example.git", "directory": "packers/lib" }
}
JSON
	echo 'module.exports = "lib"' >"$lib/index.js"
	echo '# packers-lib' >"$lib/README.md"
	echo 'tilde' >"$lib/file~1.js"
	put "$lib/lib/ünïcödé.js" 'nfc'
	put "$lib/lib/$(printf 'cafe\xcc\x81').txt" 'nfd'
	put "$lib/lib/emoji-😀.txt" 'emoji'
	put "$lib/lib/$(repeat x 117).js" 'base 120'
	put "$lib/lib/split/$(repeat d 40)/$(repeat e 40)/split-into-prefix-and-name.js" 'prefix and name'
	put "$lib/lib/a/b/c/d/e/f/g/h/i/j/k/l/deep.js" 'deep'
	put "$lib/lib/$(repeat ü 60)/$(repeat ñ 50)/$(repeat é 40).js" 'non-ASCII, long'
	put "$lib/lib/$(repeat ü 100)/$(repeat ñ 100)/$(repeat é 30)x.js" 'non-ASCII, 478 bytes'
	cat >"$long/package.json" <<'JSON'
{
  "name": "waxseal-example-packers-long",
  "version": "1.0.0",
  "description": "A non-ASCII path too long for npm to read safely from the registry.",
  "license": "Apache-2.0"
}
JSON
	put "$long/lib/$(repeat 日本語 25)/$(repeat 説明書 25)/$(repeat 文字 30)/$(repeat 長 20).md" 'non-ASCII, over 512 bytes'
	cat >"$app/package.json" <<'JSON'
{
  "name": "waxseal-example-packers-app",
  "version": "1.0.0",
  "description": "Depends on its sibling with a workspace: range.",
  "license": "Apache-2.0",
  "main": "index.js",
  "bin": { "packers-app": "bin/app.js" },
  "dependencies": { "@waxseal-example/packers-lib": "workspace:^" },
  "repository": { "type": "git", "url": "git+https://github.com/waxseal/example.git", "directory": "packers/app" }
}
JSON
	echo 'module.exports = require("@waxseal-example/packers-lib")' >"$app/index.js"
	mkdir -p "$app/bin"
	printf '#!/usr/bin/env node\nconsole.log(require(".."))\n' >"$app/bin/app.js"
}

# pack PACKER DIR DEST runs one packer's pack command in DIR, writing the tarball into DEST.
pack() {
	local packer=$1 dir=$2 dest=$3
	shift 3
	case $packer in
	npm*) run "$packer" "$dir" "$@" pack --pack-destination "$dest" --loglevel=error ;;
	yarn1) run "$packer" "$dir" "$@" pack --non-interactive --filename "$dest/out.tgz" ;;
	yarn4) run "$packer" "$dir" "$@" pack --out "$dest/out.tgz" ;;
	pnpm) run "$packer" "$dir" "$@" pack --pack-destination "$dest" ;;
	bun) run "$packer" "$dir" "$@" pm pack --destination "$dest" --quiet ;;
	*) echo "unknown packer $packer" >&2 && return 1 ;;
	esac
}

# prepare PACKER ROOT gets the workspace ready for the packer's pack (yarn 4 refuses to pack an
# uninstalled project; the others need nothing).
prepare() {
	local packer=$1 root=$2
	shift 2
	case $packer in
	yarn4) run "$packer" "$root" "$@" install --mode=skip-build ;;
	esac
}

while read -r packer version cmd; do
	[[ -n $packer ]] || continue
	read -r -a argv <<<"$cmd"
	dest=$out/$packer-$version
	rm -rf "$dest" "$work/ws"
	mkdir -p "$dest"
	workspace "$work/ws"
	prepare "$packer" "$work/ws" "${argv[@]}"
	for pkg in lib app long; do
		tmp=$(mktemp -d)
		pack "$packer" "$work/ws/packages/$pkg" "$tmp" "${argv[@]}"
		f=$(ls "$tmp"/*.tgz)
		# Name every tarball as npm pack would, <name without @, / as -><version>.tgz, whatever the packer chose.
		name=$(tar -xzOf "$f" package/package.json | node -e 'const m=JSON.parse(require("fs").readFileSync(0));process.stdout.write(m.name.replace(/^@/,"").replace("/","-")+"-"+m.version)')
		mv "$f" "$dest/$name.tgz"
		rm -rf "$tmp"
	done
	echo "$packer $version: $(cd "$dest" && ls | tr '\n' ' ')"
done <"$env_file"
