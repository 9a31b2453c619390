#!/usr/bin/env bash
# Starts the gallery: installs what is missing, builds, starts a private MariaDB
# under var/ (unless GALLERY_DB_HOST names a server), applies the schema and its
# migrations (scripts/migrate.sh), starts memcache, the front end and the worker in
# the background, and waits until they answer.
# Settings: the environment, then gallery.env (NAME=value lines) for what is unset.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
var=$root/var
mkdir -p "$var"

if [[ -f gallery.env ]]; then
	while IFS= read -r line || [[ -n $line ]]; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		name=${line%%=*}
		[[ $name =~ ^GALLERY_[A-Z0-9_]+$ ]] || { echo "gallery.env: ignoring '$line'" >&2; continue; }
		[[ -n ${!name+x} ]] || export "$line"
	done <gallery.env
fi

frontend_port=${GALLERY_FRONTEND_PORT:-5000}
memcache_port=${GALLERY_MEMCACHE_PORT:-5001}
export GALLERY_MEMCACHE_URL=${GALLERY_MEMCACHE_URL:-http://127.0.0.1:$memcache_port}
export GALLERY_DATA_DIR=${GALLERY_DATA_DIR:-$var}
export GALLERY_TEMPLATE_DIR=${GALLERY_TEMPLATE_DIR:-$root/templates}
export GALLERY_STATIC_DIR=${GALLERY_STATIC_DIR:-$root/static}
url=http://localhost:$frontend_port
# memcache and the front end share a token, so that nothing else on the machine
# (or the network, when memcache binds elsewhere) can use the cache.
if [[ -z ${GALLERY_MEMCACHE_TOKEN:-} ]]; then
	if [[ ! -s $var/memcache.token ]]; then
		(umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$var/memcache.token")
	fi
	GALLERY_MEMCACHE_TOKEN=$(cat "$var/memcache.token")
	export GALLERY_MEMCACHE_TOKEN
fi

alive() {
	[[ -f $var/$1.pid ]] && kill -0 "$(cat "$var/$1.pid")" 2>/dev/null
}

if alive frontend && alive memcache && alive worker; then
	echo "The gallery is already running at $url"
	exit 0
fi

scripts/deps.sh
"${MAKE:-make}" -s all

if [[ -z ${GALLERY_DB_HOST:-} ]]; then
	scripts/db.sh start "$var/db"
	set -a
	. "$var/db/db.env"
	set +a
else
	echo "Using the MariaDB server at $GALLERY_DB_HOST; applying the schema and migrations."
	MYSQL_PWD=${GALLERY_DB_PASSWORD:-} scripts/migrate.sh "${GALLERY_DB_NAME:-gallery}" \
		--host="$GALLERY_DB_HOST" --port="${GALLERY_DB_PORT:-3306}" \
		--user="${GALLERY_DB_USER:-gallery}"
fi

# Starts bin/NAME in the background unless it already runs; output goes to var/NAME.log.
start() {
	local name=$1
	if alive "$name"; then
		return
	fi
	setsid "bin/$name" </dev/null >>"$var/$name.log" 2>&1 &
	echo $! >"$var/$name.pid"
}

# Waits until URL answers 200, or says where to look.
wait_for() {
	local name=$1 health=$2
	for _ in $(seq 1 150); do
		if curl -fs -o /dev/null --max-time 1 "$health"; then
			return
		fi
		if ! alive "$name"; then
			break
		fi
		sleep 0.1
	done
	echo "$name did not start; the end of var/$name.log:" >&2
	tail -20 "$var/$name.log" >&2
	exit 1
}

start memcache
wait_for memcache "http://127.0.0.1:$memcache_port/healthz"
start frontend
wait_for frontend "http://127.0.0.1:$frontend_port/healthz"

# The worker has no port: it is up once it logs that it started (in lines new since now).
if ! alive worker; then
	: >>"$var/worker.log"
	worker_log_lines=$(wc -l <"$var/worker.log")
	start worker
	for _ in $(seq 1 150); do
		alive worker || break
		tail -n +"$((worker_log_lines + 1))" "$var/worker.log" | grep -q "worker started" && break
		sleep 0.1
	done
	if ! alive worker || ! tail -n +"$((worker_log_lines + 1))" "$var/worker.log" | grep -q "worker started"; then
		echo "worker did not start; the end of var/worker.log:" >&2
		tail -20 "$var/worker.log" >&2
		exit 1
	fi
fi
echo "The gallery is running at $url (logs in var/, stop it with ./shutdown.sh)"
