#!/usr/bin/env bash
# Benchmark of the memcache daemon: throughput and latency of get-hit, get-miss
# and put of ~130 KB base64 values against nginx serving the same bytes from a
# file, peak memory against the configured capacity (filled with ~130 KB values,
# under puts of 1 to 24 KB values, and as the one follows the other), whether
# get and put stay flat from 1,000 to 100,000 items, and puts against Debian's
# memcached's sets of the same values (bin/mc_set), for keys that fit the
# capacity and keys that evict. It prints figures and ratios; a slow
# figure never makes it fail.
#
# usage: make bench-memcache          (installs what is missing, builds, runs this)
#        bench/memcache.sh [BIN_DIR]  (BIN_DIR defaults to bin)
# Environment: BENCH_SECONDS (length of each measured wrk run, default 10),
#              BENCH_KEEP=1 keeps the temporary folder,
#              BENCH_BEFORE_BIN=DIR also runs the puts against memcached with
#              DIR/memcache (an older build), in the same run,
#              BENCH_CMP_ROUNDS (default 3): rounds of memcache's puts and
#              memcached's sets, alternating, in the comparison,
#              BENCH_SECTIONS="nginx memory flat cmp miss" (the default: all)
#              runs only the sections named (miss: the front end's read-miss
#              path, memcache capacity 0).
# Everything printed also goes to bench/out/memcache-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
# The helpers it shares with bench/frontend.sh are in bench/lib.sh.
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

want() { # section: whether BENCH_SECTIONS asks for it
	[[ " ${BENCH_SECTIONS:-nginx memory flat cmp miss} " == *" $1 "* ]]
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output memcache

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

# Puts keys PREFIX<first>..PREFIX<last>, split over the threads; a thread that
# is through its share starts it again (re-puts). fill() stops wrk in time.
write_fill_lua() { # file value_file prefix first last threads
	{
		say "$lua_post_json"
		lua_read_value "$2"
		say "$lua_thread_ids"
		cat <<-LUA
			local first, last, threads = $4, $5, $6
			local lo, count, sent
			function init(args)
				local share = math.ceil((last - first + 1) / threads)
				lo = first + id * share
				count = math.max(1, math.min(last, lo + share - 1) - lo + 1)
				sent = 0
			end
			function request()
				local key = lo + sent % count
				sent = sent + 1
				return wrk.format(nil, nil, nil,
					'{"key":"$3' .. key .. '","value":"' .. value .. '"}')
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

# Puts of a random key among PREFIX1..PREFIX<n>, each value a random length
# from min to max characters (multiples of 4) cut from value_file.
write_sized_put_lua() { # file value_file prefix n min max
	{
		say "$lua_post_json"
		lua_read_value "$2"
		say "$lua_thread_ids"
		cat <<-LUA
			local n, min4, max4 = $4, $(($5 / 4)), $(($6 / 4))
			function init(args)
				math.randomseed(os.time() + 7919 * id)
			end
			function request()
				return wrk.format(nil, nil, nil, '{"key":"$3' .. math.random(n) ..
					'","value":"' .. string.sub(value, 1, 4 * math.random(min4, max4)) .. '"}')
			end
		LUA
	} >"$1"
}

# --- filling memcache with wrk, and the table's columns --------------------------

# Runs a put script until /stats <field> reaches target (at most 60 s), then
# stops wrk with SIGINT, on which it reports. Sets fill_seconds.
fill() { # name connections url script field target
	local cmd pid start
	mapfile -t cmd < <(wrk_command "$2" 60 "$3" "$4")
	start=$(date +%s.%N)
	"${cmd[@]}" >"$tmp/wrk-$1.txt" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && (($(mc_stat "$5") < $6)); do
		sleep 0.05
	done
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || true
	fill_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	parse_wrk "$1"
}

# The columns of table_head and table_row (bench/lib.sh).
row_format='%-26s %5s %11s %10s %10s %9s %9s\n'

# --- setup -------------------------------------------------------------------

machine_header "memcache benchmark"
say "wrk runs: ${seconds}s each, threads = min(connections, 2); binary: $bin/memcache"

"$root/scripts/deps.sh" wrk nginx-light memcached
say "tools:   $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(/usr/sbin/nginx -v 2>&1 | cut -d' ' -f3)"
say "load average at start (other work on the machine skews figures): $(cut -d' ' -f1-3 /proc/loadavg)"

make_tmp gallery-bench
mc_pid='' ngx_pid='' md_pid='' fe_pid=''
trap 'stop_pid "${fe_pid:-}"; bench_cleanup' EXIT

start_db

head -c "$hit_raw_bytes" /dev/urandom | base64 -w0 >"$tmp/hit.b64"
head -c "$small_raw_bytes" /dev/urandom | base64 -w0 >"$tmp/small.b64"
printf '{"key":"bench-hit","value":"%s"}' "$(cat "$tmp/hit.b64")" >"$tmp/hit-put.json"
printf '{"success":"true","content":"%s"}' "$(cat "$tmp/hit.b64")" >"$tmp/hit-expected.json"

# --- 1. throughput and latency against nginx ---------------------------------

if want nginx; then
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
	run_wrk "hit-$c" "$c" "$mc_url/get_from_memcache" "$tmp/get-hit.lua"
	run_wrk "nginx-$c" "$c" "$ngx_url/hit.json"
done
for c in 1 16; do
	run_wrk "miss-$c" "$c" "$mc_url/get_from_memcache" "$tmp/get-miss.lua"
done
for c in 1 16; do
	run_wrk "put-$c" "$c" "$mc_url/put_into_memcache" "$tmp/put.lua"
done
say "after the runs: $(curl -fsS "$mc_url/stats")"

say ""
table_head
for c in 1 16; do table_row "memcache get-hit" "$c" "hit-$c"; done
for c in 1 16; do table_row "nginx static file" "$c" "nginx-$c"; done
for c in 1 16; do table_row "memcache get-miss (404)" "$c" "miss-$c"; done
for c in 1 16; do table_row "memcache put" "$c" "put-$c"; done
say "(get-miss answers 404 by design: its non-2xx count is every request;"
say " put rotates over $put_keys keys per wrk thread, replacing, never evicting)"
say ""
for c in 1 16; do
	r=$(ratio "${rps[hit-$c]}" "${rps[nginx-$c]}")
	say "get-hit / nginx requests/s, $c connection(s): $r  (target >= 0.70: $(verdict "$r >= 0.70"))"
done
stop_memcache
stop_pid "$ngx_pid" QUIT
ngx_pid=
fi

# --- 2. memory after filling the capacity twice over ---------------------------

if want memory; then
capacity_mb=64
fill_count=$(((2 * capacity_mb * 1048576 + 129999) / 130000 + 1))
target_mb=$(awk -v c="$capacity_mb" 'BEGIN { printf "%.1f", c * 1.15 + 10 }')
status_mb() { # VmHWM|VmRSS of the running memcache, in MB
	awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$mc_pid/status"
}

# A fresh daemon each time, so that VmHWM is this fill's peak alone.
memory_run() { # connections
	set_capacity "$capacity_mb"
	start_memcache
	mc_post /refresh_configuration >/dev/null
	local start_mb
	start_mb=$(status_mb VmRSS)
	write_fill_lua "$tmp/fill-mem.lua" "$tmp/hit.b64" mem- 1 "$fill_count" $(($1 < 2 ? $1 : 2))
	fill "fill-mem-$1" "$1" "$mc_url/put_into_memcache" "$tmp/fill-mem.lua" puts "$fill_count"
	hwm[$1]=$(status_mb VmHWM)
	rss[$1]=$(status_mb VmRSS)
	say "$1 connection(s): RSS at start $start_mb MB; $(mc_stat puts) puts in ${fill_seconds}s" \
		"(${rps[fill-mem-$1]} puts/s); now $(mc_stat items) items, $(mc_stat bytes) bytes," \
		"$(mc_stat evictions) evictions"
	stop_memcache
}

section "memory: capacity $capacity_mb MB, filled twice over ($fill_count puts of distinct keys) with ~130 KB values"
declare -A hwm rss
for c in 1 16; do memory_run "$c"; done
say ""
printf '%-36s %12s %12s\n' "" "1 conn" "16 conns" \
	"capacity (MB)" "$capacity_mb.0" "$capacity_mb.0" \
	"target: capacity + 15% + 10 MB" "$target_mb" "$target_mb" \
	"VmHWM, peak RSS (MB)" "${hwm[1]}" "${hwm[16]}" \
	"VmRSS after the fill (MB)" "${rss[1]}" "${rss[16]}" \
	"VmHWM / capacity" "$(ratio "${hwm[1]}" "$capacity_mb")" "$(ratio "${hwm[16]}" "$capacity_mb")"
for c in 1 16; do
	say "peak RSS within the target, filled over $c connection(s): $(verdict "${hwm[$c]} <= $target_mb")"
done

# Values of a few KB live in malloc's heaps rather than pages of their own, and
# replacing them leaves holes of every size: the case the 130 KB fill cannot show.
sized_min=1024 sized_max=24576 sized_keys=40000
sized_run() { # connections
	set_capacity "$capacity_mb"
	start_memcache
	mc_post /refresh_configuration >/dev/null
	run_wrk "sized-$1" "$1" "$mc_url/put_into_memcache" "$tmp/put-sized.lua"
	hwm[sized-$1]=$(status_mb VmHWM)
	say "$1 connection(s): ${rps[sized-$1]} puts/s for ${seconds}s; now $(mc_stat items) items," \
		"$(mc_stat bytes) bytes, $(mc_stat evictions) evictions; VmHWM ${hwm[sized-$1]} MB" \
		"($(ratio "${hwm[sized-$1]}" "$capacity_mb") x capacity)"
	stop_memcache
}

section "memory: capacity $capacity_mb MB, puts of $sized_min to $sized_max-character values over $sized_keys keys for ${seconds}s"
write_sized_put_lua "$tmp/put-sized.lua" "$tmp/hit.b64" sized- "$sized_keys" "$sized_min" "$sized_max"
for c in 1 16; do sized_run "$c"; done
for c in 1 16; do
	say "peak RSS within the target ($target_mb MB), $c connection(s): $(verdict "${hwm[sized-$c]} <= $target_mb")"
done

# The size mix changes: the small values' pages must move to the large values' class.
section "memory: capacity $capacity_mb MB, the puts of $sized_min to $sized_max characters for ${seconds}s, then $fill_count puts of ~130 KB values, 16 connections"
set_capacity "$capacity_mb"
start_memcache
mc_post /refresh_configuration >/dev/null
run_wrk mix-small 16 "$mc_url/put_into_memcache" "$tmp/put-sized.lua"
say "small: ${rps[mix-small]} puts/s; $(mc_stat items) items, $(mc_stat bytes) bytes," \
	"memory_bytes $(mc_stat memory_bytes); VmHWM $(status_mb VmHWM) MB"
write_fill_lua "$tmp/fill-mix.lua" "$tmp/hit.b64" mix- 1 "$fill_count" 2
fill mix-large 16 "$mc_url/put_into_memcache" "$tmp/fill-mix.lua" puts $(($(mc_stat puts) + fill_count))
hwm[mix]=$(status_mb VmHWM)
say "then large: ${rps[mix-large]} puts/s; $(mc_stat items) items, $(mc_stat bytes) bytes," \
	"memory_bytes $(mc_stat memory_bytes), $(mc_stat page_moves) page moves; VmHWM ${hwm[mix]} MB"
say "peak RSS within the target ($target_mb MB) across the change of sizes: $(verdict "${hwm[mix]} <= $target_mb")"
stop_memcache
fi

# --- 3. flatness from 1,000 to 100,000 items ------------------------------------

if want flat; then
section "flatness: $(wc -c <"$tmp/small.b64")-byte base64 values, capacity 512 MB, random keys, $flat_connections connections"
set_capacity 512
start_memcache
mc_post /refresh_configuration >/dev/null
filled=0
for n in "$flat_small" "$flat_large"; do
	write_fill_lua "$tmp/fill-$n.lua" "$tmp/small.b64" f $((filled + 1)) "$n" 2
	fill "fill-$n" "$flat_connections" "$mc_url/put_into_memcache" "$tmp/fill-$n.lua" items "$n"
	filled=$n
	say "filled to $(mc_stat items) items (target $n) in ${fill_seconds}s (${rps[fill-$n]} puts/s)"
	write_random_lua "$tmp/flat-get-$n.lua" get f "$n"
	write_random_lua "$tmp/flat-put-$n.lua" put f "$n" "$tmp/small.b64"
	run_wrk "flat-get-$n" "$flat_connections" "$mc_url/get_from_memcache" "$tmp/flat-get-$n.lua"
	run_wrk "flat-put-$n" "$flat_connections" "$mc_url/put_into_memcache" "$tmp/flat-put-$n.lua"
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
		"(flat, i.e. requests/s at most 20% lower and p50 at most 25% higher: $(verdict "$r >= 0.80 && $l <= 1.25"))"
done
stop_memcache
fi

# --- 4. puts against memcached's sets ---------------------------------------------

cmp_capacity_mb=64
cmp_connections=16
cmp_rounds=${BENCH_CMP_ROUNDS:-3}
declare -A cmp_keys=([fits]=256 [evicts]=2000) # 33 MB of values, or 260 MB

# Debian's memcached with the same capacity and 2 threads, as the daemon has 2 cores.
start_memcached() { # MB; sets md_pid, md_port
	local user=()
	[[ $(id -u) -ne 0 ]] || user=(-u "$(id -un)")
	md_port=$(free_port)
	memcached -l 127.0.0.1 -p "$md_port" -U 0 -m "$1" -t 2 -c 1024 "${user[@]}" </dev/null \
		>"$tmp/memcached.log" 2>&1 &
	md_pid=$!
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$md_port") 2>/dev/null && return 0
		sleep 0.1
	done
	say "memcached did not start: $(tail -3 "$tmp/memcached.log")"
	exit 1
}

# One put run on a fresh daemon from a bin folder: rps[name]
cmp_put_run() { # name bin_dir keys
	local saved=$bin
	bin=$2
	set_capacity "$cmp_capacity_mb"
	start_memcache
	bin=$saved
	mc_post /refresh_configuration >/dev/null
	write_put_rotating_lua "$tmp/put-cmp.lua" "$tmp/hit.b64" $(($3 / 2))
	run_wrk "$1" "$cmp_connections" "$mc_url/put_into_memcache" "$tmp/put-cmp.lua"
	say "$1: ${rps[$1]} puts/s, p99 ${p99[$1]} ms; $(mc_stat items) items, $(mc_stat evictions) evictions," \
		"memory_bytes $(mc_stat memory_bytes)"
	stop_memcache
}

md_stat() { # field of memcached's stats
	local reply
	exec 3<>"/dev/tcp/127.0.0.1/$md_port"
	printf 'stats\r\nquit\r\n' >&3
	reply=$(timeout 2 cat <&3 || true)
	exec 3<&-
	sed -n "s/^STAT $1 \([0-9]*\).*/\1/p" <<<"$reply"
}

cmp_set_run() { # name keys
	start_memcached "$cmp_capacity_mb"
	"$bin/mc_set" "$md_port" "$cmp_connections" "$seconds" "$2" "$tmp/hit.b64" >"$tmp/mc-$1.txt" ||
		say "($1: mc_set reported errors)"
	rps[$1]=$(awk '$1 == "sets/s:" { print $2 }' "$tmp/mc-$1.txt")
	p50[$1]=$(awk '$1 == "p50_ms:" { print $2 }' "$tmp/mc-$1.txt")
	p99[$1]=$(awk '$1 == "p99_ms:" { print $2 }' "$tmp/mc-$1.txt")
	non2xx[$1]=0 sockerr[$1]=$(awk '$1 == "errors:" { print $2 }' "$tmp/mc-$1.txt")
	say "$1: ${rps[$1]} sets/s, p99 ${p99[$1]} ms; $(md_stat curr_items) items," \
		"$(md_stat evictions) evictions"
	stop_pid "$md_pid"
	md_pid=
}

if want cmp; then
section "puts against Debian's memcached $(memcached -V | cut -d' ' -f2) (-m $cmp_capacity_mb -t 2): $(wc -c <"$tmp/hit.b64")-character values, $cmp_connections connections"
say "memcache: wrk as above, keys split over its 2 threads; memcached: bin/mc_set, its text protocol, one thread per connection"
[[ -z ${BENCH_BEFORE_BIN:-} ]] || say "before: $BENCH_BEFORE_BIN/memcache"
say "$cmp_rounds rounds of each case, memcache and memcached alternating; the ratio is of the rates summed over the rounds"
# The load of other work on the machine comes and goes within a minute, so one
# run of each daemon says little; rounds alternating them share what comes.
for case in fits evicts; do
	for round in $(seq 1 "$cmp_rounds"); do
		cmp_put_run "cmp-put-$case-$round" "$bin" "${cmp_keys[$case]}"
		[[ -z ${BENCH_BEFORE_BIN:-} ]] ||
			cmp_put_run "cmp-before-$case-$round" "$BENCH_BEFORE_BIN" "${cmp_keys[$case]}"
		cmp_set_run "cmp-set-$case-$round" "${cmp_keys[$case]}"
	done
done
say ""
table_head
for case in fits evicts; do
	for round in $(seq 1 "$cmp_rounds"); do
		table_row "memcache put, $case $round" "$cmp_connections" "cmp-put-$case-$round"
		[[ -z ${BENCH_BEFORE_BIN:-} ]] ||
			table_row "before: put, $case $round" "$cmp_connections" "cmp-before-$case-$round"
		table_row "memcached set, $case $round" "$cmp_connections" "cmp-set-$case-$round"
	done
done
say ""
cmp_sum() { # name prefix: rps summed over the rounds
	local round total=0
	for round in $(seq 1 "$cmp_rounds"); do
		total=$(awk -v a="$total" -v b="${rps[$1-$round]:-0}" 'BEGIN { print a + b }')
	done
	echo "$total"
}
for case in fits evicts; do
	per_round=''
	for round in $(seq 1 "$cmp_rounds"); do
		per_round+=" $(ratio "${rps[cmp-put-$case-$round]}" "${rps[cmp-set-$case-$round]}")"
	done
	r=$(ratio "$(cmp_sum "cmp-put-$case")" "$(cmp_sum "cmp-set-$case")")
	say "put / memcached set, ${cmp_keys[$case]} keys ($case): $r  (target >= 0.50: $(verdict "$r >= 0.50")); rounds:$per_round"
	[[ -z ${BENCH_BEFORE_BIN:-} ]] ||
		say "  before: $(ratio "$(cmp_sum "cmp-before-$case")" "$(cmp_sum "cmp-set-$case")")"
done

say ""
fi
# --- 5. the front end's read-miss path --------------------------------------------

miss_images=100 miss_image_bytes=100000 miss_connections=16

# Front end and memcache from one bin folder, capacity 0: every read is a miss
# that reads the row and the file, answers, and puts the base64 to memcache.
miss_run() { # name bin_dir
	local saved=$bin
	bin=$2
	set_capacity 0
	start_memcache
	rm -rf "$tmp/data"
	start_frontend
	bin=$saved
	for i in $(seq 1 "$miss_images"); do
		curl -fsS --max-time 30 -o /dev/null -F "key=img-$i" -F "file=@$tmp/miss-$i.gif;type=image/gif" \
			"$fe_url/api/upload"
	done
	run_wrk "$1" "$miss_connections" "$fe_url" "$tmp/miss.lua"
	say "$1: ${rps[$1]} reads/s, p50 ${p50[$1]} ms, p99 ${p99[$1]} ms; memcache saw $(mc_stat misses) misses," \
		"$(mc_stat puts) puts"
	stop_pid "$fe_pid"
	fe_pid=
	stop_memcache
}

if want miss; then
section "front end read-miss: GET /api/key of $miss_images images of $miss_image_bytes bytes, memcache capacity 0, $miss_connections connections"
[[ -z ${BENCH_BEFORE_BIN:-} ]] || say "before: $BENCH_BEFORE_BIN/frontend and $BENCH_BEFORE_BIN/memcache"
for i in $(seq 1 "$miss_images"); do
	{
		printf 'GIF89a\x40\x01\xf0\x00'
		head -c $((miss_image_bytes - 10)) /dev/urandom
	} >"$tmp/miss-$i.gif"
done
cat >"$tmp/miss.lua" <<-LUA
	local thread_count = 0
	function setup(thread)
		thread:set("id", thread_count)
		thread_count = thread_count + 1
	end
	function init(args)
		math.randomseed(os.time() + 7919 * id)
	end
	function request()
		return wrk.format("GET", "/api/key/img-" .. math.random($miss_images))
	end
LUA
miss_run miss-after "$bin"
[[ -z ${BENCH_BEFORE_BIN:-} ]] || miss_run miss-before "$BENCH_BEFORE_BIN"
say ""
table_head
table_row "read-miss" "$miss_connections" miss-after
[[ -z ${BENCH_BEFORE_BIN:-} ]] || table_row "before: read-miss" "$miss_connections" miss-before
[[ -z ${BENCH_BEFORE_BIN:-} ]] ||
	say "read-miss / before: $(ratio "${rps[miss-after]}" "${rps[miss-before]}")"
say "read-miss at $miss_connections connections: ${rps[miss-after]}/s  (target >= 1000: $(verdict "${rps[miss-after]} >= 1000"))"
fi

say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
section "done; this output is in bench/out/$(basename "$outfile")"
