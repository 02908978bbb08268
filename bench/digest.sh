#!/usr/bin/env bash
# bench/digest.sh: the digest half of waxseal's speed and memory targets.
#   1. throughput of waxseal's tarball reader (internal/npm.ReadTarball: sha512 + sha256 + gzip/tar
#      checks in one pass) beside `sha512sum` on a 1 GiB tarball; target >= 0.9x sha512sum;
#   2. peak RSS of the same reader on a 2 GiB tarball; target <= 64 MiB.
# Both tools read from the page cache (the file is read once beforehand) and run alternately,
# best of $RUNS, so load from other processes affects both alike. Exits non-zero if the digests
# differ or a target is missed.
# Env: RUNS (default 5), WAXSEAL_BENCH_DIR (default: a temp dir, removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
if [[ -n "${WAXSEAL_BENCH_DIR:-}" ]]; then
  work=$WAXSEAL_BENCH_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
command -v /usr/bin/time >/dev/null || { echo "bench/digest.sh: needs GNU time: apt-get install time" >&2; exit 1; }

go build -o "$work/digest" ./bench/cmd/digest
one=$work/1g.tgz two=$work/2g.tgz
[[ -f $one ]] || "$work/digest" -make "$one" -size $((1 << 30))
size=$(stat -c %s "$one")
cat "$one" >/dev/null

# timed CMD... : run CMD, leave its stdout in $work/out, print its wall seconds.
timed() { /usr/bin/time -f %e -o "$work/time" "$@" >"$work/out"; cat "$work/time"; }

best_sha=999999 best_wax=999999
for ((i = 1; i <= runs; i++)); do
  t=$(timed sha512sum "$one"); want=$(cut -d' ' -f1 "$work/out")
  best_sha=$(awk -v a="$best_sha" -v b="$t" 'BEGIN{print (b < a) ? b : a}')
  t=$(timed "$work/digest" "$one"); got=$(cut -d' ' -f1 "$work/out")
  best_wax=$(awk -v a="$best_wax" -v b="$t" 'BEGIN{print (b < a) ? b : a}')
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: waxseal's sha512 $got differs from sha512sum's $want" >&2
    exit 1
  fi
done

status=0
read -r sha_mbs wax_mbs ratio ok < <(awk -v s="$size" -v a="$best_sha" -v b="$best_wax" 'BEGIN{
  r = a / b; printf "%.0f %.0f %.2f %s\n", s / a / 1e6, s / b / 1e6, r, (r >= 0.9) ? "ok" : "MISSED"}')
echo "digest throughput, 1 GiB tarball, best of $runs: sha512sum ${sha_mbs} MB/s (${best_sha} s)," \
  "waxseal ${wax_mbs} MB/s (${best_wax} s): ${ratio}x (target >= 0.9x): $ok"
[[ $ok == ok ]] || status=1

[[ -f $two ]] || "$work/digest" -make "$two" -size $((2 << 30))
/usr/bin/time -f %M -o "$work/rss" "$work/digest" "$two" >/dev/null
read -r rss ok < <(awk -v k="$(cat "$work/rss")" 'BEGIN{m = k / 1024; printf "%.1f %s\n", m, (m <= 64) ? "ok" : "MISSED"}')
echo "peak RSS, 2 GiB tarball: ${rss} MiB (target <= 64 MiB): $ok"
[[ $ok == ok ]] || status=1
exit $status
