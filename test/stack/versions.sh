# versions.sh: the pinned releases of the local Sigstore stack, sourced by
# install.sh and start.sh. Each tool is installed into its own directory,
# "$WAXSEAL_STACK_CACHE/bin/<name>@<version>/", so a version bump builds anew
# and the two binaries that are both named "posix" never collide.
# shellcheck shell=bash disable=SC2034 # variables are for the scripts that source this

STACK_CACHE=${WAXSEAL_STACK_CACHE:-$HOME/.cache/waxseal-stack}
STACK_BIN=$STACK_CACHE/bin

# name|go package|version|binary name
STACK_TOOLS=(
	"fulcio|github.com/sigstore/fulcio|v1.8.8|fulcio"
	"tesseract|github.com/transparency-dev/tesseract/cmd/tesseract/posix|v0.1.1|posix"
	"rekor-tiles|github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix|v2.3.0|posix"
	"timestamp-server|github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server|v2.1.3|timestamp-server"
	"rekor-server|github.com/sigstore/rekor/cmd/rekor-server|v1.5.3|rekor-server"
	"trillian_log_server|github.com/google/trillian/cmd/trillian_log_server|v1.7.3|trillian_log_server"
	"trillian_log_signer|github.com/google/trillian/cmd/trillian_log_signer|v1.7.3|trillian_log_signer"
	"cosign|github.com/sigstore/cosign/v2/cmd/cosign|v2.6.5|cosign"
	# gh: the module proxy refuses its version list, so `go install ...@version` fails; install.sh downloads the
	# module at this version and builds ./cmd/gh in it instead (BUILD_IN_MODULE below).
	"gh|github.com/cli/cli/v2|v2.95.0|gh"
	# actionlint checks the workflows the repository ships (and the example people copy).
	"actionlint|github.com/rhysd/actionlint/cmd/actionlint|v1.7.12|actionlint"
)
# npm CLIs the e2e tests publish with, unmodified, from the npm registry: the newest 11.x (what Node's LTS lines
# ship) and the newest 12.x. Each is installed into "$STACK_CACHE/npm/<version>/".
NPM_CLIS=(11.21.2 12.2.2)

# npm_cli VERSION prints the path of that npm's npm-cli.js (run it with node).
npm_cli() { printf '%s/npm/%s/node_modules/npm/bin/npm-cli.js\n' "$STACK_CACHE" "$1"; }

# Tools whose go install is refused: built with `go build ./SUBDIR` inside the downloaded module.
BUILD_IN_MODULE=("gh|./cmd/gh")
TRILLIAN_VERSION=v1.7.3

# stack_bin NAME prints the path of tool NAME's binary.
stack_bin() {
	local t name ver exe
	for t in "${STACK_TOOLS[@]}"; do
		IFS='|' read -r name _ ver exe <<<"$t"
		if [[ $name == "$1" ]]; then
			printf '%s/%s@%s/%s\n' "$STACK_BIN" "$name" "$ver" "$exe"
			return 0
		fi
	done
	echo "stack_bin: unknown tool $1" >&2
	return 1
}

# Trillian's MySQL schema, copied by install.sh.
TRILLIAN_SCHEMA=$STACK_CACHE/trillian-$TRILLIAN_VERSION-storage.sql
