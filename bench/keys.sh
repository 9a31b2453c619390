#!/usr/bin/env bash
# Benchmark of keys at scale: how long /api/list_keys (streamed from the
# database), the home page and the first /keys_list page take at 1e3, 1e4, 1e5
# and 1e6 keys (rows inserted with SQL, no files), and the p99 of a small /raw
# read while 16 connections call /api/list_keys over 100,000 keys, with the
# front end's peak memory; once with the default bound on whole-list requests
# (GALLERY_HEAVY_REQUESTS) and once without a bound. A slow figure never makes
# it fail.
#
# usage: bench/keys.sh [BIN_DIR]   (make bench runs it after bench/frontend.sh)
# Environment: BENCH_SECONDS (length of each wrk run, default 10), BENCH_KEEP=1.
# Everything printed also goes to bench/out/keys-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
seconds=${BENCH_SECONDS:-10}
sizes=(1000 10000 100000 1000000)
load_keys=100000
calls=5 # timed calls per size; the median is shown

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output keys

peak_rss_mb() { # pid: VmHWM in MB
	awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"
}

median_ms() { # url [curl args...]: the median of $calls times, in ms; the last body in $tmp/body
	local url=$1 t
	shift
	local times=()
	for _ in $(seq 1 "$calls"); do
		t=$(curl -sS -o "$tmp/body" -w '%{time_total}' "$@" "$url")
		times+=("$t")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v n="$calls" 'NR == int((n + 1) / 2) { printf "%.1f", $1 * 1000 }'
}

fill() { # n: exactly n listed keys besides the one image
	sql "DELETE FROM images WHERE image_key <> 'light'"
	sql "INSERT INTO images (image_key, location, content_type, size_bytes, sha256, updated_at)
	     SELECT CONCAT('key/', seq), 'none', 'image/gif', 1000, REPEAT('0', 64),
	            FROM_UNIXTIME(1600000000 + seq DIV 7) FROM seq_1_to_$1"
}

machine_header "keys at scale benchmark"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews every figure)"
"$root/scripts/deps.sh" wrk

make_tmp gallery-bench-keys
mc_pid='' fe_pid=''
cleanup() {
	stop_pid "${fe_pid:-}"
	bench_cleanup
}
trap cleanup EXIT

start_db
set_capacity 16
start_memcache
start_frontend
printf 'GIF89a\x01\x00\x01\x00\x00\x00\x00%058d' 0 >"$tmp/light.gif"
curl -fsS -o /dev/null -F key=light -F "file=@$tmp/light.gif;type=image/gif" "$fe_url/api/upload"

# List clients that honour Retry-After: a 503 makes that connection wait its second.
# (Clients that ignore it and ask again at once turn 503s into a flood of their
# own, which no bound on lists can help.)
cat >"$tmp/retry-after.lua" <<'LUA'
local wait = 0
response = function(status, headers, body)
	wait = (status == 503) and 1000 or 0
end
delay = function()
	return wait
end
LUA

section "one client: median of $calls calls, in ms"
printf '%10s %12s %14s %10s %14s\n' keys list_keys "answer bytes" "home /" "/keys_list"
load_run() { # label heavy_bound
	stop_pid "$fe_pid"
	GALLERY_HEAVY_REQUESTS=$2 start_frontend
	local before
	before=$(peak_rss_mb "$fe_pid")
	wrk -t 2 -c 16 -d "${seconds}s" --latency -s "$tmp/retry-after.lua" "$fe_url/api/list_keys" \
		>"$tmp/wrk-lists-$1.txt" 2>&1 &
	local lists=$!
	run_wrk "raw-$1" 1 "$fe_url/raw/light"
	wait "$lists" || true
	parse_wrk "lists-$1"
	local served
	served=$(awk -v busy="${non2xx[lists-$1]}" -v s="$seconds" \
		'/requests in/ { printf "%.1f", ($1 - busy) / s }' "$tmp/wrk-lists-$1.txt")
	load_rows+=("$(printf '%-22s %10s %10s %12s %10s %10s %8s %8s' "$1" "${p50[raw-$1]}" \
		"${p99[raw-$1]}" "$served" "${non2xx[lists-$1]}" "${p99[lists-$1]}" \
		"$before" "$(peak_rss_mb "$fe_pid")")")
}
load_rows=()
for n in "${sizes[@]}"; do
	fill "$n"
	list=$(median_ms "$fe_url/api/list_keys")
	list_bytes=$(stat -c %s "$tmp/body")
	home=$(median_ms "$fe_url/" -H 'Accept: text/html')
	keys=$(median_ms "$fe_url/keys_list" -H 'Accept: text/html')
	printf '%10s %12s %14s %10s %14s\n' "$n" "$list" "$list_bytes" "$home" "$keys"
	if [[ $n == "$load_keys" ]]; then
		load_run "bound 2 (default)" 2
		load_run "no bound" 0
	fi
done

section "/raw/light (a 71-byte GIF) at 1 connection while 16 connections call /api/list_keys over $load_keys keys, ${seconds}s"
printf '%-22s %10s %10s %12s %10s %10s %8s %8s\n' case "raw p50" "raw p99" "full lists/s" "503s" \
	"list p99" "RSS MB" "peak MB"
printf '%s\n' "${load_rows[@]}"
say "(RSS MB: the front end's peak before the load, just started; peak MB: after it. Targets: raw p99 < 50 ms, peak < 64 MB.)"
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
