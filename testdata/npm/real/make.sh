#!/usr/bin/env bash
# Re-creates testdata/npm/real/npm<N>/ with `npm pack` of npm 10, 11 and 12 (see ../NOTICE).
#
#   testdata/npm/real/make.sh /path/to/npm10-cli.js /path/to/npm11-cli.js /path/to/npm12-cli.js
#
# Each argument is an npm-cli.js, e.g. from `npm install --prefix /tmp/npm11 npm@11`
# (/tmp/npm11/node_modules/npm/bin/npm-cli.js). The packages packed are the examples under ../src and a
# "kitchen sink" built here, because git cannot hold some of what it needs (an empty directory) and
# some of it is hostile to checkouts (names over 255 bytes in total, Unicode in both normal forms).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../src" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022

# kitchen_sink writes @waxseal-example/kitchen-sink into $1: nested directories, a bin script that is
# not executable on disk (npm pack sets its x bits), an executable file, Unicode names (NFC, NFD, a
# 4-byte character), a path over 100 bytes that node-tar splits into the ustar prefix and name fields,
# names node-tar can only store in a PAX "path" record (a 120-byte base name, a 300-byte path, a
# non-ASCII name, a non-ASCII name over 100 bytes), an empty directory and a name ending in a dot.
kitchen_sink() {
	local d=$1
	mkdir -p "$d/bin" "$d/scripts" "$d/lib/a/b/c" "$d/docs/日本語" "$d/empty"
	cat >"$d/package.json" <<'EOF'
{
  "name": "@waxseal-example/kitchen-sink",
  "version": "1.2.3-rc.1",
  "description": "Everything npm pack writes, for waxseal's tar reader.",
  "license": "Apache-2.0",
  "bin": { "kitchen-sink": "bin/kitchen-sink.js" },
  "repository": { "type": "git", "url": "git+https://github.com/waxseal/example.git", "directory": "kitchen-sink" }
}
EOF
	printf '#!/usr/bin/env node\nconsole.log("kitchen sink")\n' >"$d/bin/kitchen-sink.js"
	chmod 644 "$d/bin/kitchen-sink.js"
	printf '#!/bin/sh\necho run\n' >"$d/scripts/run.sh"
	chmod 755 "$d/scripts/run.sh"
	echo 'module.exports = "deep"' >"$d/lib/a/b/c/deep.js"
	echo 'nfc' >"$d/lib/ünïcödé.js"
	echo 'nfd' >"$d/lib/$(printf 'cafe\xcc\x81').txt"
	echo 'emoji' >"$d/lib/emoji-😀.txt"
	echo 'japanese' >"$d/docs/日本語/説明.md"
	echo 'space' >"$d/lib/with space.js"
	echo 'dot' >"$d/lib/trailing-dot."
	local split="lib/a/b/c/$(printf 'd%.0s' {1..40})/$(printf 'e%.0s' {1..40})"
	mkdir -p "$d/$split"
	echo 'prefix' >"$d/$split/split-into-prefix-and-name.js"
	echo 'pax base' >"$d/lib/$(printf 'x%.0s' {1..120}).js"
	local deep="lib/$(printf 'f%.0s' {1..90})/$(printf 'g%.0s' {1..90})/$(printf 'h%.0s' {1..90})"
	mkdir -p "$d/$deep"
	echo 'pax long' >"$d/$deep/over-255-bytes.js"
	mkdir -p "$d/lib/ü$(printf 'u%.0s' {1..60})"
	echo 'pax unicode long' >"$d/lib/ü$(printf 'u%.0s' {1..60})/ñ$(printf 'n%.0s' {1..50}).js"
	echo '# kitchen sink' >"$d/README.md"
}

for cli in "$@"; do
	ver=$(node "$cli" --version 2>/dev/null)
	major=${ver%%.*}
	out="$here/npm$major"
	rm -rf "$out"
	mkdir -p "$out"
	cp -R "$src/waxseal-example" "$src/hello" "$work/"
	kitchen_sink "$work/kitchen-sink"
	for pkg in waxseal-example hello kitchen-sink; do
		(cd "$work/$pkg" && node "$cli" pack --pack-destination "$out" --loglevel=error >/dev/null)
	done
	rm -rf "$work/waxseal-example" "$work/hello" "$work/kitchen-sink"
	echo "npm $ver: $(cd "$out" && ls | tr '\n' ' ')"
done
