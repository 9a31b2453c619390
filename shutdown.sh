#!/usr/bin/env bash
# Stops what start.sh started, by the pid files under var/: the worker (SIGTERM:
# running jobs finish or are handed back), the front end, then memcache (requests
# in flight finish), then the private MariaDB.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
var=$root/var

stop() {
	local name=$1 pidfile=$var/$1.pid
	[[ -f $pidfile ]] || return 0
	local pid
	pid=$(cat "$pidfile")
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 1 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$name ($pid) did not stop in 30 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		echo "stopped $name"
	fi
	rm -f "$pidfile"
}

stop worker
stop frontend
stop memcache
if [[ -d $var/db ]]; then
	"$root/scripts/db.sh" stop "$var/db"
	echo "stopped MariaDB"
fi
