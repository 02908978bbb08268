#!/usr/bin/env bash
# demo.sh: waxseal's main job on a small monorepo's release (testdata/example), against the local Sigstore stack: the
# registry preflight refuses one package before anything is signed and says how to fix it; after the fix the whole
# release (the npm packages, a command-line tool's binaries, their SHA256SUMS and an SBOM) is signed with one
# certificate; an unmodified npm accepts waxseal's provenance file; a consumer verifies every file.
# Run it through `make demo`, which builds what it uses, starts the stack and exports its stack.env.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
waxseal=$repo/.cache/bin/waxseal
npmdemo=$repo/.cache/bin/npmdemo
work=$(mktemp -d)
reg_pid=""
cleanup() {
	[[ -n $reg_pid ]] && kill "$reg_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
root=$WAXSEAL_STACK_TRUSTED_ROOT
config=$WAXSEAL_STACK_SIGNING_CONFIG_V2 # Rekor v2 and a TSA for signatures; Rekor v1 for npm provenance

mkdir -p "$work/dist"
cp "$repo"/testdata/example/*.tgz "$work/dist/"
cd "$work"

say "An npm registry with the monorepo's earlier releases, @waxseal-demo/legacy@1.0.0 among them"
"$npmdemo" serve -url-file registry.url -published @waxseal-demo/core@1.1.0 -published @waxseal-demo/cli@1.1.0 \
	-published waxseal-example@0.9.0 -published @waxseal-demo/legacy@1.0.0 &
reg_pid=$!
until [[ -s registry.url ]]; do sleep 0.1; done # polling the helper's ready file
npm_config_registry=$(cat registry.url)
export npm_config_registry
ls dist

say "waxseal sign 'dist/*.tgz': the registry preflight refuses the run before anything is signed or logged"
if "$waxseal" sign --trusted-root "$root" --signing-config "$config" 'dist/*.tgz'; then
	echo "demo: the run should have been refused" >&2
	exit 1
fi
ls dist

say "The fix the message names: bump @waxseal-demo/legacy to 1.0.1 (testdata/example/fixed)"
rm dist/waxseal-demo-legacy-1.0.0.tgz
cp "$repo"/testdata/example/fixed/*.tgz dist/

say "The rest of the release: the CLI's binaries for three platforms, their SHA256SUMS, an SBOM"
for p in linux-amd64 darwin-arm64 windows-amd64.exe; do
	printf 'waxseal-demo binary for %s\n' "$p" >"dist/demo-$p"
done
(cd dist && sha256sum -- demo-* >SHA256SUMS)
printf '{"spdxVersion":"SPDX-2.3","name":"waxseal-demo","packages":[]}\n' >dist/demo.spdx.json
cat dist/SHA256SUMS

say "waxseal sign: every npm tarball, every binary, the SBOM and SHA256SUMS, in one run"
"$waxseal" sign --trusted-root "$root" --signing-config "$config" --output-json result.json 'dist/*.tgz' \
	--artifact 'dist/demo-*' --artifact dist/demo.spdx.json --checksums dist/SHA256SUMS
ls dist

say "One certificate for the whole release"
for b in dist/*.sigstore.json; do
	sed -n 's/.*"certificate":{"rawBytes":"\([^"]*\)".*/\1/p' "$b"
done | sort -u >certs
echo "$(ls dist/*.sigstore.json | wc -l) bundles, $(wc -l <certs) distinct signing certificate(s)"

say "An unmodified npm 12 publishes a package with waxseal's provenance file, checking it against the stack's trust root"
"$npmdemo" publish -trusted-root "$root" -npm "$WAXSEAL_STACK_NPM_12" -registry "$npm_config_registry" \
	dist/waxseal-demo-core-1.2.0.tgz dist/waxseal-demo-core-1.2.0.tgz.provenance.sigstore.json

say "A consumer verifies every file of the release, pinned to the repository and the workflow"
"$waxseal" verify dist --trusted-root "$root" --repository waxseal/waxseal --workflow .github/workflows/release.yml \
	--certificate-oidc-issuer "$WAXSEAL_STACK_OIDC_ISSUER"

say "And refuses a binary that is not the one signed"
printf 'something else\n' >>dist/demo-linux-amd64
if "$waxseal" verify dist/demo-linux-amd64 --trusted-root "$root" --repository waxseal/waxseal \
	--certificate-oidc-issuer "$WAXSEAL_STACK_OIDC_ISSUER"; then
	echo "demo: the tampered binary should have been refused" >&2
	exit 1
fi
