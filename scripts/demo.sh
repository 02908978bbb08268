#!/usr/bin/env bash
# demo.sh: waxseal's main job on the bundled example package, against the local Sigstore stack.
# Run it through `make demo`, which builds waxseal, starts the stack and exports its stack.env.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
waxseal=$repo/.cache/bin/waxseal
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$repo"/testdata/example/*.tgz "$work/"

echo "== waxseal sign (Rekor v2 + timestamp authority, as the stack's signing config says)"
"$waxseal" sign --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" --signing-config "$WAXSEAL_STACK_SIGNING_CONFIG_V2" \
	--output-json "$work/result.json" "$work/*.tgz"
echo
echo "== result.json"
cat "$work/result.json"
echo
echo "== files written"
ls -l "$work"
identity=$(sed -n 's/.*"certificateIdentity": "\(.*\)",/\1/p' "$work/result.json")
issuer=$(sed -n 's/.*"certificateIssuer": "\(.*\)",/\1/p' "$work/result.json")
echo
echo "== waxseal verify, as a consumer would"
for tgz in "$work"/*.tgz; do
	"$waxseal" verify "$tgz" --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" \
		--certificate-identity "$identity" --certificate-oidc-issuer "$issuer"
done
