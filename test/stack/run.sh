#!/usr/bin/env bash
# run.sh CMD...: start the local Sigstore stack inside a private network
# namespace (its own loopback, so the fixed ports never collide with anything
# else on the machine), run CMD there with stack.env exported, stop the stack,
# and exit with CMD's status. Needs root (CI and the dev machines run as root).
#
#   test/stack/run.sh go test -tags e2e ./test/stack/
#
# WAXSEAL_STACK_DIR defaults to a fresh temporary directory, removed at the
# end unless WAXSEAL_STACK_KEEP=1 (keep it to read the services' logs).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ $# == 0 ]]; then
	echo "usage: test/stack/run.sh CMD [ARG...]" >&2
	exit 2
fi
if [[ ${_WAXSEAL_STACK_NETNS:-} != 1 ]]; then
	if ! unshare --net true 2>/dev/null; then
		echo "run.sh: 'unshare --net' failed: run as root, or start the stack on the host with test/stack/start.sh" >&2
		exit 1
	fi
	exec unshare --net -- env _WAXSEAL_STACK_NETNS=1 bash "${BASH_SOURCE[0]}" "$@"
fi

ip link set lo up
# No network in here: build from the module cache only.
export GOFLAGS=-mod=mod GOPROXY=off
if [[ -z ${WAXSEAL_STACK_DIR:-} ]]; then
	WAXSEAL_STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/waxseal-stack.XXXXXX")
	[[ ${WAXSEAL_STACK_KEEP:-} == 1 ]] || cleanup_dir=$WAXSEAL_STACK_DIR
fi
export WAXSEAL_STACK_DIR

finish() {
	local rc=$?
	bash "$here/stop.sh" || true
	if [[ -n ${cleanup_dir:-} ]]; then rm -rf "$cleanup_dir"; fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

bash "$here/start.sh"
set -a
# shellcheck disable=SC1091
. "$WAXSEAL_STACK_DIR/stack.env"
set +a
"$@"
