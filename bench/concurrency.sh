#!/usr/bin/env bash
# bench/concurrency.sh: how waxseal's --concurrency changes the wall time to sign N tarballs (default 100), on both
# stack profiles: the measurement behind the default. Run through test/stack/run.sh (bench/run.sh does).
# Env: N (default 100), CONCS (default "1 4 8 16 32 64").
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
waxseal=$repo/.cache/bin/waxseal
n=${N:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pkg/package"
for ((i = 1; i <= n; i++)); do
	printf '{"name":"conc-%d","version":"1.0.0","repository":{"type":"git","url":"git+https://github.com/waxseal/waxseal.git"}}\n' "$i" >"$work/pkg/package/package.json"
	tar --format=ustar -C "$work/pkg" -czf "$work/conc-$i-1.0.0.tgz" package
done
printf '%-8s %5s %12s %10s\n' profile N concurrency seconds
for profile in v1 v2; do
	if [[ $profile == v1 ]]; then sc=$WAXSEAL_STACK_SIGNING_CONFIG_V1; else sc=$WAXSEAL_STACK_SIGNING_CONFIG_V2; fi
	for c in ${CONCS:-1 4 8 16 32 64}; do
		rm -f "$work"/*.sigstore.json
		t0=$(date +%s.%N)
		"$waxseal" sign --registry-preflight=false --concurrency "$c" --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" --signing-config "$sc" "$work/*.tgz" 2>"$work/log" ||
			{ cat "$work/log" >&2; exit 1; }
		printf '%-8s %5d %12d %10.2f\n' "$profile" "$n" "$c" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')"
	done
done
