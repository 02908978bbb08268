#!/usr/bin/env bash
# bench/run.sh: every benchmark: the digest reader (no stack needed), then signing against the local stack.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
bash "$here/digest.sh"
bash "$here/container.sh"
bash "$here/../test/stack/run.sh" bash -c "bash $here/sign.sh && bash $here/artifacts.sh && bash $here/concurrency.sh"
