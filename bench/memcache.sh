#!/usr/bin/env bash
# Benchmark of the memcache daemon: throughput and latency of get-hit, get-miss
# and put of ~130 KB base64 values against nginx serving the same bytes from a
# file, peak memory against the configured capacity, and whether get and put
# stay flat from 1,000 to 100,000 items. It prints figures and ratios; a slow
# figure never makes it fail.
#
# usage: make bench-memcache          (installs what is missing, builds, runs this)
#        bench/memcache.sh [BIN_DIR]  (BIN_DIR defaults to bin)
# Environment: BENCH_SECONDS (length of each measured wrk run, default 10),
#              BENCH_KEEP=1 keeps the temporary folder.
# Everything printed also goes to bench/out/memcache-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
seconds=${BENCH_SECONDS:-10}

hit_raw_bytes=97500     # base64 of 97,500 bytes is 130,000 characters
put_keys=128            # the put runs rotate over this many keys per wrk thread
small_raw_bytes=48      # base64 of 48 bytes is 64 characters
flat_small=1000
flat_large=100000
flat_connections=16

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$root/bench/out"
outfile=$root/bench/out/memcache-$stamp.txt
exec > >(tee "$outfile") 2>&1

# --- helpers -----------------------------------------------------------------

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

# A loopback port nobody answers on; the server's own bind is the final check.
free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	say "no free loopback port found" >&2
	exit 1
}

wait_http() { # url
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	say "nothing answers at $1" >&2
	exit 1
}

stop_pid() { # pid [signal]
	[[ -n ${1:-} ]] || return 0
	kill "-${2:-TERM}" "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
}

# The MariaDB admin (the OS user over the socket), as tests/run.sh uses it.
sql() {
	mariadb --no-defaults --socket="$GALLERY_DB_SOCKET" -u "$(id -un)" "$GALLERY_DB_NAME" -e "$1"
}

set_capacity() { # MB: a new newest cache_properties row, applied if memcache runs
	sql "INSERT INTO cache_properties (max_capacity, replacement_policy) VALUES ($1, 'LRU')"
	[[ -z ${mc_pid:-} ]] || mc_post /refresh_configuration >/dev/null
}

mc_post() { # path [curl args...]
	local path=$1
	shift
	curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' "$@" "$mc_url$path"
}

mc_stat() { # field of GET /stats
	curl -fsS --max-time 5 "$mc_url/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

mc_count=0
start_memcache() { # starts a fresh daemon; sets mc_pid, mc_url, mc_log
	mc_count=$((mc_count + 1))
	local port
	port=$(free_port)
	mc_log=$tmp/memcache-$mc_count.log
	GALLERY_MEMCACHE_BIND=127.0.0.1 GALLERY_MEMCACHE_PORT=$port \
		"$bin/memcache" </dev/null >"$mc_log" 2>&1 &
	mc_pid=$!
	mc_url=http://127.0.0.1:$port
	wait_http "$mc_url/healthz"
}

stop_memcache() {
	stop_pid "${mc_pid:-}"
	mc_pid=
}

start_nginx() { # file to serve as /hit.json; sets ngx_pid, ngx_url
	local dir=$tmp/nginx port user_line=
	port=$(free_port)
	mkdir -p "$dir/www" "$dir/temp"
	cp "$1" "$dir/www/hit.json"
	# As root the workers would switch to nobody, who cannot enter the folder.
	[[ $(id -u) -ne 0 ]] || user_line="user $(id -un) $(id -gn);"
	cat >"$dir/nginx.conf" <<-CONF
		$user_line
		daemon off;
		worker_processes 2;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    default_type application/json;
		    sendfile on;
		    tcp_nopush on;
		    keepalive_requests 100000000;
		    client_body_temp_path $dir/temp/client;
		    proxy_temp_path $dir/temp/proxy;
		    fastcgi_temp_path $dir/temp/fastcgi;
		    uwsgi_temp_path $dir/temp/uwsgi;
		    scgi_temp_path $dir/temp/scgi;
		    server {
		        listen 127.0.0.1:$port;
		        root $dir/www;
		    }
		}
	CONF
	/usr/sbin/nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null \
		>"$dir/stdout.log" 2>&1 &
	ngx_pid=$!
	ngx_url=http://127.0.0.1:$port
	wait_http "$ngx_url/hit.json"
}

# --- wrk scripts (generated into the temp folder) ----------------------------

# Every script numbers its threads, so that each can use keys of its own.
lua_thread_ids='local thread_count = 0
function setup(thread)
	thread:set("id", thread_count)
	thread_count = thread_count + 1
end'

lua_post_json='wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"'

lua_read_value() { # file
	printf 'local f = assert(io.open("%s", "rb"))\nlocal value = f:read("*a")\nf:close()\n' "$1"
}

write_static_lua() { # file body: one fixed request
	printf '%s\nwrk.body = %s\n' "$lua_post_json" "'$2'" >"$1"
}

# Puts rotating over a bounded set of keys, the requests built once per thread.
write_put_rotating_lua() { # file value_file keys
	{
		say "$lua_post_json"
		lua_read_value "$2"
		say "$lua_thread_ids"
		cat <<-LUA
			local keys = $3
			local requests = {}
			local counter = 0
			function init(args)
				for i = 0, keys - 1 do
					requests[i] = wrk.format(nil, nil, nil,
						'{"key":"put-' .. id .. '-' .. i .. '","value":"' .. value .. '"}')
				end
			end
			function request()
				local r = requests[counter % keys]
				counter = counter + 1
				return r
			end
		LUA
	} >"$1"
}

# Puts keys PREFIX<first>..PREFIX<last> once each, split over the threads; a
# thread stops once its share (plus a margin for requests still in flight,
# which re-put its own keys) has been answered.
write_fill_lua() { # file value_file prefix first last threads connections
	{
		say "$lua_post_json"
		lua_read_value "$2"
		say "$lua_thread_ids"
		cat <<-LUA
			local first, last, threads, connections = $4, $5, $6, $7
			local lo, count, sent, answered
			function init(args)
				local share = math.ceil((last - first + 1) / threads)
				lo = first + id * share
				count = math.max(1, math.min(last, lo + share - 1) - lo + 1)
				sent, answered = 0, 0
			end
			function request()
				local key = lo + sent % count
				sent = sent + 1
				return wrk.format(nil, nil, nil,
					'{"key":"$3' .. key .. '","value":"' .. value .. '"}')
			end
			function response(status, headers, body)
				answered = answered + 1
				if answered >= count + 2 * connections then
					wrk.thread:stop()
				end
			end
		LUA
	} >"$1"
}

# Gets, or puts of value_file, of a random key among PREFIX1..PREFIX<n>.
write_random_lua() { # file get|put prefix n [value_file]
	{
		say "$lua_post_json"
		if [[ $2 == put ]]; then lua_read_value "$5"; else say 'local value'; fi
		say "$lua_thread_ids"
		cat <<-LUA
			local op, n = "$2", $4
			function init(args)
				math.randomseed(os.time() + 7919 * id)
			end
			function request()
				local key = '"key":"$3' .. math.random(n) .. '"'
				if op == "put" then
					return wrk.format(nil, "/put_into_memcache", nil,
						'{' .. key .. ',"value":"' .. value .. '"}')
				end
				return wrk.format(nil, "/get_from_memcache", nil, '{' .. key .. '}')
			end
		LUA
	} >"$1"
}

# --- running wrk and reading its figures ---------------------------------------

declare -A rps p50 p99 non2xx sockerr

to_ms() { # wrk duration such as 812.00us, 1.20ms, 2.01s, 1.00m
	awk -v t="$1" 'BEGIN {
		n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
		if (f < 0) print "?"; else printf "%.3f", n * f
	}'
}

run_wrk() { # name connections seconds url script|-
	local name=$1 conns=$2 secs=$3 url=$4 script=$5 out threads
	out=$tmp/wrk-$name.txt
	threads=$((conns < 2 ? conns : 2))
	local args=(-t "$threads" -c "$conns" -d "${secs}s" --latency)
	[[ $script == - ]] || args+=(-s "$script")
	wrk "${args[@]}" "$url" >"$out" 2>&1 || say "($name: wrk exited with status $?)"
	rps[$name]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	p50[$name]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	p99[$name]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	non2xx[$name]=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
	non2xx[$name]=${non2xx[$name]:-0}
	sockerr[$name]=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
	sockerr[$name]=${sockerr[$name]:-0}
}

row_format='%-26s %5s %11s %10s %10s %9s %9s\n'
table_head() {
	# shellcheck disable=SC2059
	printf "$row_format" case conns "requests/s" "p50 ms" "p99 ms" "non-2xx" "sock err"
}
table_row() { # label connections name
	# shellcheck disable=SC2059
	printf "$row_format" "$1" "$2" "${rps[$3]:-?}" "${p50[$3]:-?}" "${p99[$3]:-?}" \
		"${non2xx[$3]:-?}" "${sockerr[$3]:-?}"
}

ratio() { # a b -> a/b with 2 decimals
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "?" }'
}

verdict() { # condition-as-awk-expression -> met / NOT met
	awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT met"
}

# --- setup -------------------------------------------------------------------

say "memcache benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
say "machine: $(uname -srm)"
say "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
say "wrk runs: ${seconds}s each, threads = min(connections, 2); binary: $bin/memcache"

"$root/scripts/deps.sh" wrk nginx-light

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gallery-bench.XXXXXX")
mc_pid= ngx_pid=
cleanup() {
	stop_memcache
	stop_pid "${ngx_pid:-}" QUIT
	"$root/scripts/db.sh" stop "$tmp/db" >/dev/null 2>&1 || true
	if [[ -n ${BENCH_KEEP:-} ]]; then
		say "temporary folder kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

"$root/scripts/db.sh" start "$tmp/db" >/dev/null
set -a
. "$tmp/db/db.env"
set +a

head -c "$hit_raw_bytes" /dev/urandom | base64 -w0 >"$tmp/hit.b64"
head -c "$small_raw_bytes" /dev/urandom | base64 -w0 >"$tmp/small.b64"
printf '{"key":"bench-hit","value":"%s"}' "$(cat "$tmp/hit.b64")" >"$tmp/hit-put.json"
printf '{"success":"true","content":"%s"}' "$(cat "$tmp/hit.b64")" >"$tmp/hit-expected.json"

# --- 1. throughput and latency against nginx ---------------------------------

section "get-hit, get-miss and put of $(wc -c <"$tmp/hit.b64")-byte base64 values; nginx serving the same bytes"
set_capacity 256
start_memcache
mc_post /put_into_memcache --data-binary "@$tmp/hit-put.json" >/dev/null
mc_post /get_from_memcache -d '{"key":"bench-hit"}' -o "$tmp/hit.json"
cmp -s "$tmp/hit.json" "$tmp/hit-expected.json" ||
	say "note: the get-hit answer differs from {\"success\":\"true\",\"content\":...}"
start_nginx "$tmp/hit.json"
curl -fsS "$ngx_url/hit.json" | cmp -s - "$tmp/hit.json" ||
	say "note: nginx does not serve the same bytes as the get-hit answer"
say "capacity 256 MB; answer of a hit and nginx's file: $(wc -c <"$tmp/hit.json") bytes"

write_static_lua "$tmp/get-hit.lua" '{"key":"bench-hit"}'
write_static_lua "$tmp/get-miss.lua" '{"key":"bench-absent"}'
write_put_rotating_lua "$tmp/put.lua" "$tmp/hit.b64" "$put_keys"

# get-hit and nginx alternate, so that other load on the machine hits both alike.
for c in 1 16; do
	run_wrk "hit-$c" "$c" "$seconds" "$mc_url/get_from_memcache" "$tmp/get-hit.lua"
	run_wrk "nginx-$c" "$c" "$seconds" "$ngx_url/hit.json" -
done
for c in 1 16; do
	run_wrk "miss-$c" "$c" "$seconds" "$mc_url/get_from_memcache" "$tmp/get-miss.lua"
done
for c in 1 16; do
	run_wrk "put-$c" "$c" "$seconds" "$mc_url/put_into_memcache" "$tmp/put.lua"
done
say "after the runs: $(curl -fsS "$mc_url/stats")"

say ""
table_head
for c in 1 16; do table_row "memcache get-hit" "$c" "hit-$c"; done
for c in 1 16; do table_row "nginx static file" "$c" "nginx-$c"; done
for c in 1 16; do table_row "memcache get-miss (404)" "$c" "miss-$c"; done
for c in 1 16; do table_row "memcache put ($((put_keys * 2)) keys)" "$c" "put-$c"; done
say "(get-miss answers 404 by design: its non-2xx count is every request)"
say ""
for c in 1 16; do
	r=$(ratio "${rps[hit-$c]}" "${rps[nginx-$c]}")
	say "get-hit / nginx requests/s, $c connection(s): $r  (target >= 0.70: $(verdict "$r >= 0.70"))"
done
stop_memcache
stop_pid "$ngx_pid" QUIT
ngx_pid=

# --- 2. memory after filling the capacity twice over ---------------------------

section "memory: capacity 64 MB, filled twice over with ~130 KB values"
capacity_mb=64
fill_count=$(( (2 * capacity_mb * 1048576 + 129999) / 130000 + 1 ))
set_capacity "$capacity_mb"
start_memcache
mc_post /refresh_configuration >/dev/null
write_fill_lua "$tmp/fill-mem.lua" "$tmp/hit.b64" mem- 1 "$fill_count" 2 16
run_wrk fill-mem 16 120 "$mc_url/put_into_memcache" "$tmp/fill-mem.lua"
puts=$(mc_stat puts) items=$(mc_stat items) bytes=$(mc_stat bytes) evictions=$(mc_stat evictions)
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$mc_pid/status")
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$mc_pid/status")
target_mb=$(awk -v c="$capacity_mb" 'BEGIN { printf "%.1f", c * 1.15 + 10 }')
hwm_mb=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
say "filled: $puts puts of $fill_count distinct keys (${rps[fill-mem]} puts/s, 16 connections);"
say "        now $items items, $bytes bytes stored, $evictions evictions"
printf '%-34s %10s\n' "capacity" "$capacity_mb.0 MB" \
	"target: capacity + 15% + 10 MB" "$target_mb MB" \
	"VmHWM (peak RSS)" "$hwm_mb MB" \
	"VmRSS (now)" "$rss_mb MB" \
	"VmHWM / capacity" "$(ratio "$hwm_mb" "$capacity_mb")"
say "peak RSS within the target: $(verdict "$hwm_mb <= $target_mb")"
stop_memcache

# --- 3. flatness from 1,000 to 100,000 items ------------------------------------

section "flatness: $(wc -c <"$tmp/small.b64")-byte base64 values, capacity 512 MB, random keys, $flat_connections connections"
set_capacity 512
start_memcache
mc_post /refresh_configuration >/dev/null
threads=2
filled=0
for n in "$flat_small" "$flat_large"; do
	write_fill_lua "$tmp/fill-$n.lua" "$tmp/small.b64" f $((filled + 1)) "$n" "$threads" "$flat_connections"
	start_s=$(date +%s.%N)
	run_wrk "fill-$n" "$flat_connections" 60 "$mc_url/put_into_memcache" "$tmp/fill-$n.lua"
	took=$(awk -v a="$start_s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	filled=$n
	say "filled to $(mc_stat items) items (target $n) in ${took}s"
	write_random_lua "$tmp/flat-get-$n.lua" get f "$n"
	write_random_lua "$tmp/flat-put-$n.lua" put f "$n" "$tmp/small.b64"
	run_wrk "flat-get-$n" "$flat_connections" "$seconds" "$mc_url/get_from_memcache" "$tmp/flat-get-$n.lua"
	run_wrk "flat-put-$n" "$flat_connections" "$seconds" "$mc_url/put_into_memcache" "$tmp/flat-put-$n.lua"
done
say "after the runs: $(curl -fsS "$mc_url/stats")"
say ""
table_head
for op in get put; do
	for n in "$flat_small" "$flat_large"; do
		table_row "$op, $n items" "$flat_connections" "flat-$op-$n"
	done
done
say ""
for op in get put; do
	r=$(ratio "${rps[flat-$op-$flat_large]}" "${rps[flat-$op-$flat_small]}")
	l=$(ratio "${p50[flat-$op-$flat_large]}" "${p50[flat-$op-$flat_small]}")
	say "$op at $flat_large / at $flat_small items: requests/s x$r, p50 x$l" \
		"(flat, within 20%: $(verdict "$r >= 0.80 && $l <= 1.25"))"
done
stop_memcache

section "done; this output is in bench/out/$(basename "$outfile")"
