#!/usr/bin/env bash
# stop.sh: stop the processes that start.sh recorded in $WAXSEAL_STACK_DIR/pids,
# and nothing else. A recorded PID is signalled only while its start time
# still matches, so a reused PID is never hit.
set -uo pipefail
dir=${WAXSEAL_STACK_DIR:-${TMPDIR:-/tmp}/waxseal-stack}
pids=$dir/pids
log() { printf 'stop.sh: %s\n' "$*" >&2; }
[[ -s $pids ]] || { log "nothing recorded in $pids"; exit 0; }

alive() { # alive PID STARTTIME
	[[ -r /proc/$1/stat ]] && [[ $(awk '{print $22}' "/proc/$1/stat" 2>/dev/null) == "$2" ]]
}

# Stop in reverse start order: clients before the services they use.
mapfile -t lines < <(tac "$pids")
for l in "${lines[@]}"; do
	read -r name pid st <<<"$l"
	if alive "$pid" "$st"; then
		kill -TERM "$pid" 2>/dev/null && log "stopping $name ($pid)"
	fi
done
deadline=$((SECONDS + 15))
for l in "${lines[@]}"; do
	read -r name pid st <<<"$l"
	while alive "$pid" "$st" && ((SECONDS < deadline)); do
		sleep 0.1 # poll until it has exited
	done
	if alive "$pid" "$st"; then
		log "$name ($pid) ignored SIGTERM for 15s: sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
done
rm -f "$pids" "$dir/stack.env"
log "stopped"
