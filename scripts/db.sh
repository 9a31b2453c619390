#!/usr/bin/env bash
# A private MariaDB server in a folder of its own: its datadir, socket and a
# free loopback port. The first start initialises it, creates the database and
# a user with only the rights the daemons need; every start brings the schema
# up to date with scripts/migrate.sh (schema.sql, then new migrations).
#
# usage: scripts/db.sh start|stop|status DIR
# After start, DIR/db.env holds the GALLERY_DB_* settings that reach it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cmd=${1:-}
[[ -n $cmd && -n ${2:-} ]] || { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
mkdir -p "$2"
dir=$(cd "$2" && pwd)
sock=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
db_name=${GALLERY_DB_NAME:-gallery}
os_user=$(id -un)

running() {
	[[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

client() {
	mariadb --no-defaults --socket="$sock" -u "$os_user" "$@"
}

initialise() {
	echo "db: initialising a new server in $dir"
	# A temporary folder of its own: servers set up side by side must not share /tmp's files.
	mkdir -p "$dir/tmp"
	mariadb-install-db --no-defaults --datadir="$dir/data" --user="$os_user" \
		--tmpdir="$dir/tmp" \
		--auth-root-authentication-method=socket --auth-root-socket-user="$os_user" \
		--skip-test-db >"$dir/install.log" 2>&1 ||
		{ cat "$dir/install.log" >&2; exit 1; }
	head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/password"
	chmod 600 "$dir/password"
}

# Starts the server on its earlier port or a free one; tries again with another when that port is taken.
start_server() {
	local port pid
	mkdir -p "$dir/tmp"
	for attempt in 1 2 3 4 5; do
		# A restart keeps the port it had, so that a client that read it once (a
		# test's proxy in front of the server) reaches it again.
		if [[ $attempt -eq 1 && -f $dir/port ]]; then
			port=$(<"$dir/port")
		else
			port=$("$here/free-port.sh")
		fi
		local args=(--no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp"
			--socket="$sock" --pid-file="$pidfile"
			--port="$port" --bind-address=127.0.0.1 --log-error="$dir/mysqld.log"
			--skip-name-resolve --character-set-server=utf8mb4
			--innodb-buffer-pool-size=64M --max-connections=500)
		[[ $(id -u) -ne 0 ]] || args+=(--user=root)
		setsid mariadbd "${args[@]}" </dev/null >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 1 300); do
			if mariadb-admin --no-defaults --socket="$sock" -u "$os_user" ping >/dev/null 2>&1; then
				echo "$port" >"$dir/port"
				return
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && break
	done
	echo "db: server did not start; its log:" >&2
	tail -20 "$dir/mysqld.log" >&2
	exit 1
}

provision() {
	local pw
	pw=$(cat "$dir/password")
	client <<-SQL
		CREATE DATABASE IF NOT EXISTS \`$db_name\` CHARACTER SET utf8mb4;
		CREATE USER IF NOT EXISTS 'gallery'@'localhost' IDENTIFIED BY '$pw';
		CREATE USER IF NOT EXISTS 'gallery'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db_name\`.* TO 'gallery'@'localhost';
		GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db_name\`.* TO 'gallery'@'127.0.0.1';
	SQL
	"$here/migrate.sh" "$db_name" --no-defaults --socket="$sock" -u "$os_user"
	cat >"$dir/db.env" <<-ENV
		GALLERY_DB_HOST=
		GALLERY_DB_SOCKET=$sock
		GALLERY_DB_PORT=$(cat "$dir/port")
		GALLERY_DB_USER=gallery
		GALLERY_DB_PASSWORD=$pw
		GALLERY_DB_NAME=$db_name
	ENV
	chmod 600 "$dir/db.env"
}

case $cmd in
start)
	if running; then
		echo "db: already running in $dir"
		exit 0
	fi
	[[ -d $dir/data/mysql ]] || initialise
	start_server
	provision
	;;
stop)
	running || exit 0
	pid=$(cat "$pidfile")
	kill -TERM "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || exit 0
		sleep 0.1
	done
	echo "db: server $pid did not stop in 30 s" >&2
	exit 1
	;;
status)
	running && echo "running" || { echo "stopped"; exit 1; }
	;;
*)
	echo "usage: $0 start|stop|status DIR" >&2
	exit 2
	;;
esac
