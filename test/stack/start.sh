#!/usr/bin/env bash
# start.sh: start the local Sigstore stack on 127.0.0.1 and write
# "$WAXSEAL_STACK_DIR/stack.env" (sourceable). Run install.sh first.
#
# Order matters (see README.md): OIDC issuers -> Fulcio (ephemeral CA; the CT
# log needs its root) -> CT log -> TSA (before Rekor v1: both want metrics on
# :2112) -> Rekor v2 -> MariaDB -> Trillian -> Rekor v1 -> trusted root and
# signing configs. Every wait polls a readiness condition; a service that
# dies or never gets ready fails the start with its log tail.
#
# Set WAXSEAL_STACK_REKOR_V1=0 to skip Rekor v1, Trillian and MariaDB.
# Every start is fresh: the services' data in $WAXSEAL_STACK_DIR is wiped,
# except the OIDC issuer's key and request token, which persist.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

dir=${WAXSEAL_STACK_DIR:-${TMPDIR:-/tmp}/waxseal-stack}
with_v1=${WAXSEAL_STACK_REKOR_V1:-1}
ready_timeout=${WAXSEAL_STACK_READY_TIMEOUT:-90}

host=127.0.0.1
oidc_port=8088 signin_port=8089 fulcio_port=5555 fulcio_grpc_port=5554 fulcio_metrics_port=2113
ct_port=6962 tsa_port=3004 rekor2_port=3003 rekor2_grpc_port=3013 rekor2_metrics_port=2114
rekor1_port=3000 trillian_port=8090 trillian_http_port=8091 signer_port=8092 signer_http_port=8093

log() { printf 'start.sh: %s\n' "$*" >&2; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=$dir/pids
if [[ -s $pids ]]; then
	log "a stack is already recorded in $pids: run test/stack/stop.sh first"
	exit 1
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$SECONDS

for t in fulcio tesseract rekor-tiles timestamp-server; do
	[[ -x $(stack_bin "$t") ]] || { log "$(stack_bin "$t") is missing: run test/stack/install.sh"; exit 1; }
done

# fail NAME MESSAGE prints the service's log tail, stops what started, exits.
fail() {
	log "$1: $2"
	if [[ -f $dir/logs/$1.log ]]; then
		log "last lines of $dir/logs/$1.log:"
		tail -n 30 "$dir/logs/$1.log" >&2
	fi
	WAXSEAL_STACK_DIR=$dir bash "$here/stop.sh" >&2 || true
	exit 1
}

# spawn NAME CMD... starts CMD in the background, logging to logs/NAME.log,
# and records "NAME PID STARTTIME" so stop.sh kills only this process.
spawn() {
	local name=$1
	shift
	"$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
	local pid=$!
	local st
	st=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null || echo 0)
	echo "$name $pid $st" >>"$pids"
	eval "pid_${name//[^a-zA-Z0-9]/_}=$pid"
}

# wait_until NAME CMD... polls CMD until it succeeds; fails if NAME dies or
# the timeout passes.
wait_until() {
	local name=$1
	shift
	local var="pid_${name//[^a-zA-Z0-9]/_}" deadline=$((SECONDS + ready_timeout))
	until "$@" >/dev/null 2>&1; do
		kill -0 "${!var}" 2>/dev/null || fail "$name" "exited before it was ready"
		((SECONDS < deadline)) || fail "$name" "not ready after ${ready_timeout}s"
		sleep 0.1 # poll interval, not a wait for a fixed time
	done
	log "$name ready ($((SECONDS - t0))s)"
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# Fresh data for every service; the issuer's state persists.
for d in logs fulcio ct tsa rekor-v2 mysql bin out; do rm -rf "${dir:?}/$d"; done
mkdir -p "$dir/logs" "$dir/fulcio" "$dir/ct/storage" "$dir/rekor-v2/storage" "$dir/bin" "$dir/out" "$dir/ghoidc"
: >"$pids"

log "building the issuers, the test browser and mkroot"
(cd "$repo" && go build -o "$dir/bin/" ./test/stack/ghoidc ./test/stack/signin ./test/stack/browser ./test/stack/mkroot) ||
	{ log "go build failed"; exit 1; }

# 1. GitHub-Actions-shaped OIDC issuer. Fulcio runs discovery at start-up.
issuer=http://$host:$oidc_port
spawn ghoidc "$dir/bin/ghoidc" -listen "$host:$oidc_port" -state-dir "$dir/ghoidc" -issuer "$issuer"
wait_until ghoidc http_ok "$issuer/.well-known/openid-configuration"

# 1b. The provider people sign in at (browser and device flows), for Fulcio an
# email issuer, as oauth2.sigstore.dev is for public-good. Devices poll every
# second, so the tests do not wait RFC 8628's default 5 s per poll.
signin_issuer=http://$host:$signin_port signin_email=signer@example.com
spawn signin "$dir/bin/signin" -listen "$host:$signin_port" -issuer "$signin_issuer" -email "$signin_email" -device-interval 1s
wait_until signin http_ok "$signin_issuer/.well-known/openid-configuration"

# 2. Keys: the CT log wants a SEC1 P-256 key, Rekor v2 an ed25519 key.
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ct/privkey.pem" 2>/dev/null
openssl ec -in "$dir/ct/privkey.pem" -pubout -out "$dir/ct/pubkey.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$dir/rekor-v2/key.pem"
openssl pkey -in "$dir/rekor-v2/key.pem" -pubout -out "$dir/rekor-v2/pubkey.pem"

# 3. Fulcio, first: the CT log needs its ephemeral root.
cat >"$dir/fulcio/config.yaml" <<YAML
oidc-issuers:
  $issuer:
    issuer-url: $issuer
    client-id: sigstore
    type: github-workflow
  $signin_issuer:
    issuer-url: $signin_issuer
    client-id: sigstore
    type: email
YAML
spawn fulcio "$(stack_bin fulcio)" serve --ca ephemeralca \
	--host "$host" --port "$fulcio_port" --grpc-host "$host" --grpc-port "$fulcio_grpc_port" \
	--metrics-port "$fulcio_metrics_port" --config-path "$dir/fulcio/config.yaml" \
	--legacy-unix-domain-socket "$dir/fulcio/legacy.sock" \
	--ct-log-url "http://$host:$ct_port" --ct-log-public-key-path "$dir/ct/pubkey.pem"
wait_until fulcio http_ok "http://$host:$fulcio_port/api/v2/trustBundle"
"$dir/bin/mkroot" -fulcio-url "http://$host:$fulcio_port" -fulcio-root-out "$dir/ct/roots.pem" ||
	fail fulcio "reading its root failed"

# 4. CT log (TesseraCT, POSIX storage), accepting Fulcio's root.
spawn ctlog "$(stack_bin tesseract)" --http_endpoint "$host:$ct_port" --origin "$host" \
	--storage_dir "$dir/ct/storage" --roots_pem_file "$dir/ct/roots.pem" \
	--private_key "$dir/ct/privkey.pem" --ext_key_usages CodeSigning
wait_until ctlog http_ok "http://$host:$ct_port/healthz"

# 5. TSA, before Rekor v1: both bind metrics on :2112 and only the TSA
# refuses to start without it.
mkdir -p "$dir/tsa"
spawn tsa "$(stack_bin timestamp-server)" serve --host "$host" --port "$tsa_port" \
	--timestamp-signer memory --disable-ntp-monitoring
wait_until tsa http_ok "http://$host:$tsa_port/api/v1/timestamp/certchain"

# 6. Rekor v2. Its --hostname is the checkpoint origin that sigstore-go
# matches against the hostname of the log's baseUrl in the trusted root.
# A checkpoint every second (default 10s) bounds an entry's wait for its
# inclusion proof to about a second.
spawn rekor-v2 "$(stack_bin rekor-tiles)" serve --hostname "$host" \
	--http-address "$host" --http-port "$rekor2_port" --grpc-address "$host" --grpc-port "$rekor2_grpc_port" \
	--http-metrics-port "$rekor2_metrics_port" --storage-dir "$dir/rekor-v2/storage" \
	--signer-filepath "$dir/rekor-v2/key.pem" --checkpoint-interval 1s
wait_until rekor-v2 http_ok "http://$host:$rekor2_port/healthz"

mkroot_v1=()
if [[ $with_v1 == 1 ]]; then
	. "$here/start_v1.sh"
	mkroot_v1=(-rekor-v1-url "http://$host:$rekor1_port")
fi

# 7. Trusted root and signing configs from the running services.
"$dir/bin/mkroot" -out-dir "$dir/out" -valid-from "$started" \
	-fulcio-url "http://$host:$fulcio_port" \
	-ct-url "http://$host:$ct_port" -ct-pubkey "$dir/ct/pubkey.pem" \
	-rekor-v2-url "http://$host:$rekor2_port" -rekor-v2-pubkey "$dir/rekor-v2/pubkey.pem" -rekor-v2-origin "$host" \
	-tsa-url "http://$host:$tsa_port" -oidc-url "$signin_issuer" "${mkroot_v1[@]}" || fail mkroot "assembling the trusted root failed"

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; } # single-quoted for sh
{
	echo "# Written by test/stack/start.sh at $started. Source it."
	echo "export WAXSEAL_STACK_DIR=$(q "$dir")"
	echo "export WAXSEAL_STACK_TRUSTED_ROOT=$(q "$dir/out/trusted_root.json")"
	if [[ $with_v1 == 1 ]]; then
		echo "export WAXSEAL_STACK_SIGNING_CONFIG_V1=$(q "$dir/out/signing_config_v1.json")"
	fi
	echo "export WAXSEAL_STACK_SIGNING_CONFIG_V2=$(q "$dir/out/signing_config_v2.json")"
	echo "export WAXSEAL_STACK_SIGNING_CONFIG_V2_ONLY=$(q "$dir/out/signing_config_v2_only.json")"
	echo "export ACTIONS_ID_TOKEN_REQUEST_URL=$(q "$issuer/idtoken?api-version=2.0")"
	echo "export ACTIONS_ID_TOKEN_REQUEST_TOKEN=$(q "$(cat "$dir/ghoidc/request-token")")"
	echo "export WAXSEAL_STACK_OIDC_ISSUER=$(q "$issuer")"
	echo "export WAXSEAL_STACK_SIGNIN_ISSUER=$(q "$signin_issuer")"
	echo "export WAXSEAL_STACK_SIGNIN_EMAIL=$(q "$signin_email")"
	echo "export WAXSEAL_STACK_BROWSER=$(q "$dir/bin/browser")"
	echo "export WAXSEAL_STACK_COSIGN=$(q "$(stack_bin cosign)")"
	echo "export WAXSEAL_STACK_GH=$(q "$(stack_bin gh)")"
	echo "export WAXSEAL_STACK_ACTIONLINT=$(q "$(stack_bin actionlint)")"
	echo "export WAXSEAL_STACK_NPM_11=$(q "$(npm_cli "${NPM_CLIS[0]}")")"
	echo "export WAXSEAL_STACK_NPM_12=$(q "$(npm_cli "${NPM_CLIS[1]}")")"
	echo "export WAXSEAL_STACK_FULCIO_URL=$(q "http://$host:$fulcio_port")"
	echo "export WAXSEAL_STACK_REKOR_V2_URL=$(q "http://$host:$rekor2_port")"
	if [[ $with_v1 == 1 ]]; then
		echo "export WAXSEAL_STACK_REKOR_V1_URL=$(q "http://$host:$rekor1_port")"
	fi
	echo "export WAXSEAL_STACK_TSA_URL=$(q "http://$host:$tsa_port/api/v1/timestamp")"
} >"$dir/stack.env.tmp"
mv "$dir/stack.env.tmp" "$dir/stack.env"
log "stack up in $((SECONDS - t0))s; source $dir/stack.env"
