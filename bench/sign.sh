#!/usr/bin/env bash
# bench/sign.sh: wall time to sign N = 1, 10 and 100 npm tarballs (each: message signature + SLSA provenance)
# with waxseal, beside a loop of cosign over the same tarballs, against the local Sigstore stack, on both
# profiles; and waxseal's peak RSS signing a 2 GiB tarball. Run it through bench/run.sh (or
# test/stack/run.sh bench/sign.sh), which starts the stack and exports its stack.env.
#
# The cosign loop per tarball: Rekor v1: `cosign sign-blob` + `cosign attest-blob --type slsaprovenance1`.
# Rekor v2 accepts only hashedrekord entries and cosign v2.6.5's attest-blob cannot log to it, so there the loop
# is two `cosign sign-blob` calls per tarball (the same number of certificates and log entries).
# waxseal runs with --registry-preflight=false: the bench packages are on no registry, and the stack reaches none.
# Env: NS (default "1 10 100"), COSIGN_NS (default: NS; "none" skips cosign), PROFILES (default "v1 v2"), BIG (default 1: 2 GiB RSS run).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
waxseal=$repo/.cache/bin/waxseal
cosign=$WAXSEAL_STACK_COSIGN
ns=${NS:-1 10 100}
cosign_ns=${COSIGN_NS:-$ns}
profiles=${PROFILES:-v1 v2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { echo "bench/sign.sh: needs GNU time: apt-get install time" >&2; exit 1; }

# make_tarballs DIR N: N small npm-layout tarballs (package/package.json + index.js) with distinct names.
make_tarballs() {
	local dir=$1 n=$2 i
	mkdir -p "$dir"
	for ((i = 1; i <= n; i++)); do
		rm -rf "$work/pkg" && mkdir -p "$work/pkg/package"
		printf '{"name":"bench-%d","version":"1.0.0","repository":{"type":"git","url":"git+https://github.com/waxseal/waxseal.git"}}\n' "$i" >"$work/pkg/package/package.json"
		printf 'module.exports = %d\n' "$i" >"$work/pkg/package/index.js"
		tar --format=ustar -C "$work/pkg" -czf "$dir/bench-$i-1.0.0.tgz" package
	done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b - a}'; }

token() {
	curl -sf -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" |
		sed -n 's/.*"value": *"\([^"]*\)".*/\1/p' | tr -d '\n' >"$work/token"
}

predicate() {
	# A SLSA v1 predicate of npm's shape, for cosign attest-blob.
	cat >"$work/predicate.json" <<'JSON'
{"buildDefinition":{"buildType":"https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1","externalParameters":{"workflow":{"ref":"refs/heads/main","repository":"https://github.com/waxseal/waxseal","path":".github/workflows/release.yml"}},"internalParameters":{"github":{"event_name":"push","repository_id":"812345678","repository_owner_id":"171234567"}},"resolvedDependencies":[{"uri":"git+https://github.com/waxseal/waxseal@refs/heads/main","digest":{"gitCommit":"8b1c9c9f2d6e4a7b3c5d0e1f2a3b4c5d6e7f8091"}}]},"runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"},"metadata":{"invocationId":"https://github.com/waxseal/waxseal/actions/runs/9876543210/attempts/1"}}}
JSON
}

cosign_loop() {
	local profile=$1 sc=$2 dir=$3 f
	for f in "$dir"/*.tgz; do
		token # each cosign run asks for its own token, as a workflow step would
		"$cosign" sign-blob --yes --signing-config "$sc" --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" \
			--identity-token "$work/token" --new-bundle-format --bundle "$f.cosign.json" "$f" >/dev/null 2>&1
		if [[ $profile == v1 ]]; then
			"$cosign" attest-blob --yes --signing-config "$sc" --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" \
				--identity-token "$work/token" --new-bundle-format --bundle "$f.cosign-att.json" \
				--type slsaprovenance1 --predicate "$work/predicate.json" "$f" >/dev/null 2>&1
		else
			"$cosign" sign-blob --yes --signing-config "$sc" --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" \
				--identity-token "$work/token" --new-bundle-format --bundle "$f.cosign2.json" "$f" >/dev/null 2>&1
		fi
	done
}

predicate
printf '%-8s %5s %12s %12s %9s\n' profile N waxseal_s cosign_s speedup
for profile in $profiles; do
	if [[ $profile == v1 ]]; then sc=$WAXSEAL_STACK_SIGNING_CONFIG_V1; else sc=$WAXSEAL_STACK_SIGNING_CONFIG_V2; fi
	for n in $ns; do
		d=$work/$profile-$n
		make_tarballs "$d/wax" "$n"
		t0=$(now)
		"$waxseal" sign --registry-preflight=false --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" --signing-config "$sc" "$d/wax/*.tgz" 2>"$d/wax.log" ||
			{ cat "$d/wax.log" >&2; exit 1; }
		wax=$(elapsed "$t0")
		cos=-
		if [[ " $cosign_ns " == *" $n "* ]]; then
			make_tarballs "$d/cos" "$n"
			t0=$(now)
			cosign_loop "$profile" "$sc" "$d/cos"
			cos=$(elapsed "$t0")
		fi
		speed=$(awk -v a="$wax" -v b="$cos" 'BEGIN{ if (b == "-") print "-"; else printf "%.1fx", b / a }')
		printf '%-8s %5d %12s %12s %9s\n' "$profile" "$n" "$wax" "$cos" "$speed"
	done
done

if [[ ${BIG:-1} == 1 ]]; then
	mkdir -p "$work/big/package"
	printf '{"name":"bench-big","version":"1.0.0","repository":{"type":"git","url":"git+https://github.com/waxseal/waxseal.git"}}\n' >"$work/big/package/package.json"
	head -c $((2 << 30)) /dev/urandom >"$work/big/package/blob.bin"
	tar --format=ustar -C "$work/big" -cf - package | gzip -1 >"$work/big.tgz"
	rm -rf "$work/big"
	/usr/bin/time -f '%M %e' -o "$work/rss" "$waxseal" sign --registry-preflight=false --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" \
		--signing-config "$WAXSEAL_STACK_SIGNING_CONFIG_V2" "$work/big.tgz" 2>"$work/big.log" || { cat "$work/big.log" >&2; exit 1; }
	read -r kb secs <"$work/rss"
	echo "peak RSS signing a $(($(stat -c %s "$work/big.tgz") >> 20)) MiB tarball: $((kb / 1024)) MiB in ${secs}s (target <= 64 MiB)"
fi
