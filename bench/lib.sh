# shellcheck shell=bash
# Helpers shared by the benchmarks bench/frontend.sh and bench/memcache.sh,
# sourced by both; not a program of its own. It holds what the two do alike:
# output, the private MariaDB, memcache, nginx, wrk and its figures. What each
# benchmark measures stays in its own script.
#
# The sourcing script sets, before it sources this file:
#   root     the repository
#   bin      the folder of the built daemons
#   seconds  the length of each measured wrk run
# and, before it calls table_head or table_row, row_format: their printf
# format (7 columns). The functions set globals that the scripts read: outfile,
# tmp, mc_pid, mc_url, mc_log, ngx_pid, ngx_url, and per wrk run name rps, p50,
# p99, non2xx, sockerr.
# Every server started here listens on 127.0.0.1 only and is stopped by its pid.

: "${root:?}" "${bin:?}" "${seconds:?}" # set by the sourcing script

# --- output ---------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

# Sends everything printed from here on also to bench/out/<name>-<date>.txt.
tee_output() { # name; sets outfile
	mkdir -p "$root/bench/out"
	outfile=$root/bench/out/$1-$(date +%Y%m%d-%H%M%S).txt
	exec > >(tee "$outfile") 2>&1
}

# The first lines of a report: what runs, when, and on which machine.
machine_header() { # title
	say "$1, $(date '+%Y-%m-%d %H:%M:%S %Z')"
	say "machine: $(uname -srm)"
	say "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
}

# --- processes --------------------------------------------------------------------

# A loopback port nobody answers on (scripts/free-port.sh).
free_port() {
	"$root/scripts/free-port.sh"
}

wait_http() { # url pid: false if the process ends or nothing answers in 10 s
	for _ in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Gives up on a server that did not answer, showing the end of its log.
server_failed() { # name pid log...
	local name=$1 pid=$2
	shift 2
	say "$name did not start; the end of its logs:"
	tail -n 5 "$@" || true
	stop_pid "$pid"
}

# The temporary folder of a run: servers' data and logs, wrk scripts and output.
make_tmp() { # name; sets tmp
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
}

stop_pid() { # pid [signal]
	[[ -n ${1:-} ]] || return 0
	kill "-${2:-TERM}" "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
}

# Stops memcache, memcached, nginx and the MariaDB, then removes $tmp unless BENCH_KEEP
# is set. The EXIT trap of a script, or the end of its own.
bench_cleanup() {
	stop_memcache
	stop_pid "${md_pid:-}"
	stop_pid "${ngx_pid:-}" QUIT
	"$root/scripts/db.sh" stop "$tmp/db" >/dev/null 2>&1 || true
	if [[ -n ${BENCH_KEEP:-} ]]; then
		say "temporary folder kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}

# --- MariaDB --------------------------------------------------------------------

# A private MariaDB in $tmp/db (scripts/db.sh), its settings (GALLERY_DB_*)
# exported to this shell and the daemons it starts.
start_db() {
	"$root/scripts/db.sh" start "$tmp/db" >/dev/null
	set -a
	# shellcheck source=/dev/null
	. "$tmp/db/db.env"
	set +a
}

# The MariaDB admin (the OS user over the socket), as tests/run.sh uses it.
sql() { # statement [client options...]
	mariadb --no-defaults --socket="$GALLERY_DB_SOCKET" -u "$(id -un)" "${@:2}" "$GALLERY_DB_NAME" \
		-e "$1"
}

# --- memcache -------------------------------------------------------------------

mc_post() { # path [curl args...]
	local path=$1
	shift
	curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' "$@" "$mc_url$path"
}

mc_stat() { # field of memcache's GET /stats
	curl -fsS --max-time 5 "$mc_url/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

set_capacity() { # MB: a new newest cache_properties row, applied if memcache runs
	sql "INSERT INTO cache_properties (max_capacity, replacement_policy) VALUES ($1, 'LRU')"
	[[ -z ${mc_pid:-} ]] || mc_post /refresh_configuration >/dev/null
}

mc_count=0
launch_memcache() { # port: one daemon with a log of its own; sets mc_pid, mc_url, mc_log
	mc_count=$((mc_count + 1))
	mc_log=$tmp/memcache-$mc_count.log
	GALLERY_MEMCACHE_BIND=127.0.0.1 GALLERY_MEMCACHE_PORT=$1 \
		"$bin/memcache" </dev/null >"$mc_log" 2>&1 &
	mc_pid=$!
	mc_url=http://127.0.0.1:$1
	wait_http "$mc_url/healthz" "$mc_pid"
}

start_memcache() { # starts a fresh daemon on a free port, trying three
	for _ in 1 2 3; do
		launch_memcache "$(free_port)" && return 0
		server_failed memcache "$mc_pid" "$mc_log"
		mc_pid=
	done
	exit 1
}

stop_memcache() {
	stop_pid "${mc_pid:-}"
	mc_pid=
}

start_frontend() { # against $mc_url, images in $tmp/data; sets fe_pid, fe_url
	local port
	port=$(free_port)
	GALLERY_FRONTEND_BIND=127.0.0.1 GALLERY_FRONTEND_PORT=$port \
		GALLERY_DATA_DIR=$tmp/data GALLERY_MEMCACHE_URL=$mc_url \
		GALLERY_TEMPLATE_DIR=$root/templates GALLERY_STATIC_DIR=$root/static \
		"$bin/frontend" </dev/null >"$tmp/frontend.log" 2>&1 &
	fe_pid=$!
	fe_url=http://127.0.0.1:$port
	wait_http "$fe_url/healthz" "$fe_pid" && return 0
	server_failed frontend "$fe_pid" "$tmp/frontend.log"
	exit 1
}

# --- nginx ----------------------------------------------------------------------

start_nginx() { # file to serve as /hit.json; sets ngx_pid, ngx_url
	local dir=$tmp/nginx
	mkdir -p "$dir/www" "$dir/temp"
	cp "$1" "$dir/www/hit.json"
	for _ in 1 2 3; do
		write_nginx_conf "$dir" "$(free_port)"
		/usr/sbin/nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null \
			>"$dir/stderr.log" 2>&1 &
		ngx_pid=$!
		ngx_url=http://127.0.0.1:$(cat "$dir/port")
		wait_http "$ngx_url/hit.json" "$ngx_pid" && return 0
		server_failed nginx "$ngx_pid" "$dir/error.log" "$dir/stderr.log"
		ngx_pid=
	done
	exit 1
}

# Two workers serving dir/www with sendfile, no access log, keep-alive without
# a limit: as fast a static file server as nginx makes.
write_nginx_conf() { # dir port
	local user_line=
	# As root the workers would switch to nobody, who cannot enter the folder.
	[[ $(id -u) -ne 0 ]] || user_line="user $(id -un) $(id -gn);"
	echo "$2" >"$1/port"
	cat >"$1/nginx.conf" <<-CONF
		$user_line
		daemon off;
		worker_processes 2;
		pid $1/nginx.pid;
		error_log $1/error.log warn;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    default_type application/json;
		    sendfile on;
		    tcp_nopush on;
		    keepalive_requests 100000000;
		    client_body_temp_path $1/temp/client;
		    proxy_temp_path $1/temp/proxy;
		    fastcgi_temp_path $1/temp/fastcgi;
		    uwsgi_temp_path $1/temp/uwsgi;
		    scgi_temp_path $1/temp/scgi;
		    server {
		        listen 127.0.0.1:$2;
		        root $1/www;
		    }
		}
	CONF
}

# --- running wrk and reading its figures ---------------------------------------

# Per run name: requests/s, p50 and p99 in ms, non-2xx answers, socket errors.
declare -A rps p50 p99 non2xx sockerr

to_ms() { # wrk duration such as 812.00us, 1.20ms, 2.01s, 1.00m
	awk -v t="$1" 'BEGIN {
		n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
		if (f < 0) print "?"; else printf "%.3f", n * f
	}'
}

wrk_command() { # connections seconds url [script]: the wrk command line, one word a line
	local threads=$(($1 < 2 ? $1 : 2))
	printf '%s\n' wrk -t "$threads" -c "$1" -d "${2}s" --latency
	[[ -z ${4:-} ]] || printf '%s\n' -s "$4"
	printf '%s\n' "$3"
}

parse_wrk() { # name: reads $tmp/wrk-<name>.txt into rps, p50, p99, non2xx, sockerr
	local out=$tmp/wrk-$1.txt
	rps[$1]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	p50[$1]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	p99[$1]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	non2xx[$1]=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
	non2xx[$1]=${non2xx[$1]:-0}
	sockerr[$1]=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
	sockerr[$1]=${sockerr[$1]:-0}
}

# One measured run of $seconds; its output stays in $tmp/wrk-<name>.txt.
run_wrk() { # name connections url [script]
	local cmd
	mapfile -t cmd < <(wrk_command "$2" "$seconds" "$3" "${4:-}")
	"${cmd[@]}" >"$tmp/wrk-$1.txt" 2>&1 || say "($1: wrk exited with status $?)"
	parse_wrk "$1"
}

table_head() {
	# shellcheck disable=SC2059
	printf "${row_format:?}" case conns "requests/s" "p50 ms" "p99 ms" "non-2xx" "sock err"
}
table_row() { # label connections name
	# shellcheck disable=SC2059
	printf "${row_format:?}" "$1" "$2" "${rps[$3]:-?}" "${p50[$3]:-?}" "${p99[$3]:-?}" \
		"${non2xx[$3]:-?}" "${sockerr[$3]:-?}"
}

ratio() { # a b -> a/b with 2 decimals
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "?" }'
}

verdict() { # condition-as-awk-expression -> met / NOT met
	awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT met"
}
