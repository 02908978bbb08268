#!/usr/bin/env bash
# bench/artifacts.sh: wall time to sign N = 1, 10 and 100 release artifacts of 1 MiB each (each: message
# signature + SLSA provenance, as `waxseal sign --artifact` makes them), with a SHA256SUMS listing them signed in
# the same run, on both stack profiles; and waxseal's peak RSS signing one 2 GiB file. Run it through bench/run.sh
# (or test/stack/run.sh bench/artifacts.sh), which starts the stack and exports its stack.env.
# Env: NS (default "1 10 100"), PROFILES (default "v1 v2"), BIG (default 1: the 2 GiB RSS run), RUNS (default 7:
# each N is timed that many times; the best, median and worst are printed, and the best and the median against
# N=1's). Rekor v2 answers once a checkpoint covers the entry, so one run's time moves in steps of the log's
# checkpoint period (and Rekor v1's answer on its inclusion poll) whatever N is: the medians are what a user waits;
# waxseal_cpu (median user + system seconds of the waxseal process) is what N costs waxseal itself.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
waxseal=$repo/.cache/bin/waxseal
ns=${NS:-1 10 100}
profiles=${PROFILES:-v1 v2}
runs=${RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { echo "bench/artifacts.sh: needs GNU time: apt-get install time" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b - a}'; }
# stats: "best median worst" of the numbers on stdin.
stats() { sort -n | awk '{a[NR]=$1} END{print a[1], a[int((NR+1)/2)], a[NR]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a / b}'; }

# make_files DIR N: N distinct 1 MiB files and a SHA256SUMS listing them.
make_files() {
	local dir=$1 n=$2 i
	rm -rf "$dir" && mkdir -p "$dir"
	for ((i = 1; i <= n; i++)); do
		head -c $((1 << 20)) /dev/urandom >"$dir/app-$i.bin"
	done
	(cd "$dir" && sha256sum app-*.bin >SHA256SUMS)
}

sign() {
	local sc=$1 dir=$2
	/usr/bin/time -f '%U %S' -o "$work/cpu" "$waxseal" sign --registry-preflight=false --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" --signing-config "$sc" \
		--artifact "$dir/app-*.bin" --checksums "$dir/SHA256SUMS" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
}

printf '%-8s %5s %8s %8s %8s %12s %14s %12s\n' profile N best median worst best/N=1 median/N=1 waxseal_cpu
for profile in $profiles; do
	if [[ $profile == v1 ]]; then sc=$WAXSEAL_STACK_SIGNING_CONFIG_V1; else sc=$WAXSEAL_STACK_SIGNING_CONFIG_V2; fi
	one_best= one_med=
	for n in $ns; do
		times=() cpus=()
		for ((r = 1; r <= runs; r++)); do
			make_files "$work/$profile-$n" "$n"
			t0=$(now)
			sign "$sc" "$work/$profile-$n"
			times+=("$(elapsed "$t0")")
			cpus+=("$(awk '{printf "%.2f", $1 + $2}' "$work/cpu")")
		done
		read -r best med worst < <(printf '%s\n' "${times[@]}" | stats)
		[[ -z $one_best ]] && one_best=$best one_med=$med
		read -r _ cpu _ < <(printf '%s\n' "${cpus[@]}" | stats)
		printf '%-8s %5d %8s %8s %8s %12s %14s %12s\n' "$profile" "$n" "$best" "$med" "$worst" "$(ratio "$best" "$one_best")" "$(ratio "$med" "$one_med")" "$cpu"
	done
done

if [[ ${BIG:-1} == 1 ]]; then
	head -c $((2 << 30)) /dev/urandom >"$work/big.bin"
	/usr/bin/time -f '%M %e' -o "$work/rss" "$waxseal" sign --registry-preflight=false --trusted-root "$WAXSEAL_STACK_TRUSTED_ROOT" \
		--signing-config "$WAXSEAL_STACK_SIGNING_CONFIG_V2" --artifact "$work/big.bin" 2>"$work/big.log" || { cat "$work/big.log" >&2; exit 1; }
	read -r kb secs <"$work/rss"
	echo "peak RSS signing a 2048 MiB file: $((kb / 1024)) MiB in ${secs}s (target <= 64 MiB)"
fi
