#!/usr/bin/env bash
# Benchmark of the front end: throughput, latency and errors of /api/key reads
# that hit memcache, reads that miss it (capacity 0: row, file and base64 on
# every request), uploads of ~100 KB images, and read:write mixes of 20:80,
# 50:50 and 80:20 at 1, 4 and 16 connections, against nginx serving the
# read-hit answers as static files. It prints the figures, the peak memory of the
# daemons and whether the targets are met, and draws one latency and one
# throughput graph per mix into bench/. A slow figure never makes it fail.
#
# usage: make bench                    (installs what is missing, builds, runs this)
#        bench/frontend.sh [BIN_DIR]   (BIN_DIR defaults to bin)
# Environment: BENCH_SECONDS (length of each measured wrk run, default 10),
#              BENCH_ROUNDS (read-hit and nginx rounds, default 3),
#              BENCH_KEEP=1 keeps the temporary folder,
#              BENCH_BEFORE_BIN=DIR also runs the uploads with DIR/frontend (an
#              older build), alternating with this build's, BENCH_UPLOAD_ROUNDS
#              times (default 3), against the same MariaDB, memcache and files,
#              BENCH_ONLY=upload runs only the fill and the uploads.
# Everything printed also goes to bench/out/frontend-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
# The helpers it shares with bench/memcache.sh and bench/soak.sh are in bench/lib.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3} # read-hit and nginx runs, alternating
before_bin=${BENCH_BEFORE_BIN:+$(cd "$BENCH_BEFORE_BIN" && pwd)}
upload_rounds=${BENCH_UPLOAD_ROUNDS:-3}
only=${BENCH_ONLY:-}

image_count=100        # images filled before the runs; the reads pick among them
image_bytes=100000     # each a GIF89a header and random bytes
cache_mb=64            # memcache capacity for the runs: holds all images (~13 MB of base64)
upload_keys=64         # uploads rotate over this many keys per wrk thread
mixes=(20 50 80)       # read percentages of the read:write mixes
mix_connections=(1 4 16)

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output frontend

# --- memory and CPU time ------------------------------------------------------

peak_rss_mb() { # pid: VmHWM in MB, or "?" when the process is gone
	awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) print "?" }' \
		"/proc/$1/status" 2>/dev/null || echo "?"
}

# CPU seconds: all the machine's busy time, and that of this script's process
# tree (wrk, curl and nginx once waited for) plus the daemons it started.
cpu_busy_s() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.1f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat
}
cpu_own_s() {
	local pid total=0
	for pid in $$ $fe_pid $mc_pid $db_pid; do
		total=$((total + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}

# --- images and the one wrk script ---------------------------------------------

make_image() { # file: "GIF89a", 320 x 240, then random bytes; image_bytes in all
	{
		printf 'GIF89a\x40\x01\xf0\x00'
		head -c $((image_bytes - 10)) /dev/urandom
	} >"$1"
}

# Raw durable writes: image_bytes at a time with O_DSYNC, one writer, appended
# to a new file in the folder the front end stores its images in (the same
# file system), the anchor uploads/s is judged against. The disk of a shared
# VM swings from second to second: the median of three short runs.
dsync_rate() { # prints writes/s
	local count=200 out _
	for _ in 1 2 3; do
		out=$(dd if=/dev/zero of="$tmp/data/dsync-probe" bs="$image_bytes" count="$count" \
			oflag=dsync 2>&1 | tail -1)
		rm -f "$tmp/data/dsync-probe"
		awk -v n="$count" -v line="$out" 'BEGIN {
			split(line, part, ", "); s = part[3] + 0
			if (s > 0) printf "%.0f\n", n / s }'
	done | median_line | grep . || echo "?"
}

# Stops the front end and starts the one in dir (a build to compare with).
restart_frontend() { # dir
	stop_pid "$fe_pid"
	bin=$1 start_frontend
}

upload() { # key file
	curl -fsS --max-time 30 -o /dev/null -F "key=$1" -F "file=@$2;type=image/gif" \
		"$fe_url/api/upload"
}

# Each request is a read (GET /api/key/img-<random 1..n>) with probability
# read_percent, else an upload of key up-<thread>-<i>, i rotating over
# upload_keys. Every upload carries a new image: the template with a tag of
# thread and counter after its 10-byte header, so that no two are alike.
write_lua() { # file read_percent
	cat >"$1" <<-LUA
		local read_percent, read_keys, upload_keys = $2, $image_count, $upload_keys
		local boundary = "gallery-bench-5f0c2e9a4b7d1e36"
		local f = assert(io.open("$tmp/upload.gif", "rb"))
		local image = f:read("*a")
		f:close()
		local image_head, image_rest = image:sub(1, 10), image:sub(27)
		local read_headers = {}
		local upload_headers = {["Content-Type"] = "multipart/form-data; boundary=" .. boundary}

		local thread_count = 0
		function setup(thread)
			thread:set("id", thread_count)
			thread_count = thread_count + 1
		end

		local counter = 0
		function init(args)
			math.randomseed(os.time() + 7919 * id)
		end

		local function upload_body(key, tag)
			return "--" .. boundary .. "\r\n" ..
				'Content-Disposition: form-data; name="key"\r\n\r\n' .. key .. "\r\n" ..
				"--" .. boundary .. "\r\n" ..
				'Content-Disposition: form-data; name="file"; filename="bench.gif"\r\n' ..
				"Content-Type: image/gif\r\n\r\n" ..
				image_head .. tag .. image_rest .. "\r\n" ..
				"--" .. boundary .. "--\r\n"
		end

		function request()
			if math.random(100) <= read_percent then
				return wrk.format("GET", "/api/key/img-" .. math.random(read_keys), read_headers)
			end
			local key = "up-" .. id .. "-" .. (counter % upload_keys)
			local tag = string.format("%08x%08x", id, counter)
			counter = counter + 1
			return wrk.format("POST", "/api/upload", upload_headers, upload_body(key, tag))
		end
	LUA
}

# --- running wrk and reading its figures ---------------------------------------

median_line() { # lines that start with a number: the middle one in numeric order
	sort -n | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'
}

# Like run_wrk, and records memcache's hits and misses during the run.
declare -A run_hits run_misses
run_wrk_counted() { # name connections url script
	local hits misses
	hits=$(mc_stat hits) misses=$(mc_stat misses)
	run_wrk "$@"
	run_hits[$1]=$(($(mc_stat hits) - hits))
	run_misses[$1]=$(($(mc_stat misses) - misses))
}

# The columns of table_head and table_row (bench/lib.sh).
row_format='%-30s %5s %11s %9s %9s %8s %8s\n'

# Counts a log's warn and error lines and shows the last few, times cut off.
log_summary() { # file name
	local lines
	lines=$(grep -E '^[^ ]+ (warn|error) ' "$1" || true)
	say "$2: $(grep -c . <<<"$lines" || true) warn/error lines${lines:+; the last ones:}"
	[[ -z $lines ]] || tail -5 <<<"$lines" | cut -d' ' -f2- | cut -c1-200 | sed 's/^/    /'
}

# --- graphs ----------------------------------------------------------------------

# A small SVG line chart: x is the connection count (equal steps: 1, 4, 16 is
# a log scale), y starts at 0. Each series is "name|colour|v1 v2 v3"; with two
# or more, the first (the lowest, p50) has its labels under its points.
svg_chart() { # file title y_label x_values series...
	local file=$1 title=$2 ylabel=$3 xs=$4
	shift 4
	printf '%s\n' "$@" | awk -F'|' -v title="$title" -v ylabel="$ylabel" -v xs="$xs" '
		function fmt(v) { return v >= 100 ? sprintf("%d", v + 0.5) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
		{ name[NR] = $1; colour[NR] = $2; n = split($3, v, " ")
		  for (i = 1; i <= n; i++) { val[NR, i] = v[i]; if (v[i] + 0 > top) top = v[i] + 0 } }
		END {
			W = 380; H = 240; L = 58; R = 16; T = 30; B = 52; pw = W - L - R; ph = H - T - B
			nx = split(xs, x, " ")
			top = top > 0 ? top * 1.12 : 1   # room above the highest point for its label
			step = 10 ^ int(log(top / 4) / log(10)); if (top / 4 < 1) step = 10 ^ (int(log(top / 4) / log(10)) - 1)
			if (top / step > 20) step *= 5; else if (top / step > 8) step *= 2
			ymax = step * int(top / step + 0.999999); if (ymax < top) ymax += step
			printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H
			printf "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H
			printf "<text x=\"8\" y=\"18\" font-size=\"13\">%s</text>\n", title
			for (y = 0; y <= ymax + step / 2; y += step) {
				gy = T + ph - ph * y / ymax
				printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>", L, gy, L + pw, gy
				printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 4, gy + 4, step >= 1 ? sprintf("%d", y + 0.5) : sprintf("%g", y)
			}
			printf "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", T + ph / 2, ylabel
			for (i = 1; i <= nx; i++) {
				px[i] = L + 24 + (pw - 48) * (nx > 1 ? (i - 1) / (nx - 1) : 0.5)
				printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px[i], T + ph + 31, x[i]
			}
			printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">connections</text>\n", L + pw / 2, H - 6
			printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", L, T, pw, ph
			for (s = 1; s <= NR; s++) {
				pts = ""
				for (i = 1; i <= nx; i++) {
					py[i] = T + ph - ph * val[s, i] / ymax
					pts = pts sprintf("%.1f,%.1f ", px[i], py[i])
				}
				printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", pts, colour[s]
				for (i = 1; i <= nx; i++)
					printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\">%s</text>\n", px[i], py[i], colour[s], px[i], py[i] + (NR > 1 && s == 1 ? 15 : -6), colour[s], fmt(val[s, i])
				if (NR > 1) printf "<text x=\"%d\" y=\"18\" text-anchor=\"end\" fill=\"%s\">%s</text>\n", W - R - 34 * (NR - s), colour[s], name[s]
			}
			print "</svg>"
		}' >"$file"
}

draw_mix_graphs() { # read_percent
	local mix=$1-$((100 - $1)) c lat50=() lat99=() tput=()
	for c in "${mix_connections[@]}"; do
		lat50+=("${p50[mix-$1-$c]:-0}")
		lat99+=("${p99[mix-$1-$c]:-0}")
		tput+=("${rps[mix-$1-$c]:-0}")
	done
	svg_chart "$root/bench/frontend-$mix-latency.svg" "front end, read:write $1:$((100 - $1)): latency" \
		"ms" "${mix_connections[*]}" "p50|#1f77b4|${lat50[*]}" "p99|#d62728|${lat99[*]}"
	svg_chart "$root/bench/frontend-$mix-throughput.svg" "front end, read:write $1:$((100 - $1)): throughput" \
		"requests/s" "${mix_connections[*]}" "requests/s|#2ca02c|${tput[*]}"
	say "graphs: bench/frontend-$mix-latency.svg, bench/frontend-$mix-throughput.svg"
}

# --- setup -------------------------------------------------------------------

machine_header "front end benchmark"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews every figure)"
say "wrk runs: ${seconds}s each, threads = min(connections, 2), all on 127.0.0.1; binaries: $bin"

"$root/scripts/deps.sh" wrk nginx-light

make_tmp gallery-bench-frontend
mc_pid='' fe_pid='' ngx_pid=''
cleanup() {
	stop_pid "${fe_pid:-}"
	bench_cleanup
}
trap cleanup EXIT

start_db
set_capacity "$cache_mb"
start_memcache
start_frontend
db_pid=$(cat "$tmp/db/mysqld.pid" 2>/dev/null || true)
busy_start=$(cpu_busy_s) own_start=$(cpu_own_s)

section "fill: $image_count images of $image_bytes bytes (GIF89a header + random bytes) via /api/upload"
mkdir -p "$tmp/images"
make_image "$tmp/upload.gif"
start=$(date +%s.%N)
for i in $(seq 1 "$image_count"); do
	make_image "$tmp/images/$i.gif"
	upload "img-$i" "$tmp/images/$i.gif"
done
say "uploaded in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s with curl, one at a time"

# Two passes: the first misses and puts each value, the second must hit.
warm_cache() {
	local i
	for _ in 1 2; do
		for i in $(seq 1 "$image_count"); do
			curl -fsS --max-time 10 -o /dev/null "$fe_url/api/key/img-$i"
		done
	done
	say "cache warm: $(mc_stat items) items, $(mc_stat bytes) bytes (capacity $cache_mb MB)"
}
warm_cache

for p in 0 20 50 80 100; do write_lua "$tmp/mix-$p.lua" "$p"; done

if [[ $only != upload ]]; then
# --- 1. read-hit against nginx ----------------------------------------------------

# nginx serves every read-hit answer as a file at the same path, so that one
# wrk script, the same keys and the same bytes drive both: the reference the
# target is judged against. It also serves img-1's answer as /hit.json, one hot
# file asked for without a script: an upper bound, printed alongside.
curl -fsS "$fe_url/api/key/img-1" -o "$tmp/hit.json"
start_nginx "$tmp/hit.json"
mkdir -p "$tmp/nginx/www/api/key"
for i in $(seq 1 "$image_count"); do
	curl -fsS --max-time 10 "$fe_url/api/key/img-$i" -o "$tmp/nginx/www/api/key/img-$i"
done
curl -fsS "$ngx_url/api/key/img-1" | cmp -s - "$tmp/hit.json" ||
	say "note: nginx does not serve the same bytes as the read-hit answer"
section "read-hit: GET /api/key/img-<random 1..$image_count>, all in memcache; nginx serving the same $image_count answers as files with the same wrk script, and one answer ($(wc -c <"$tmp/hit.json") bytes) as /hit.json"
# Read-hit and the two nginx runs alternate, $rounds rounds, so that other load
# on the machine hits all alike; the round with the median ratio to nginx is
# the one reported.
for r in $(seq 1 "$rounds"); do
	for c in 1 16; do
		run_wrk_counted "hit-$c-$r" "$c" "$fe_url" "$tmp/mix-100.lua"
		run_wrk "nginx-$c-$r" "$c" "$ngx_url" "$tmp/mix-100.lua"
		run_wrk "nginx1-$c-$r" "$c" "$ngx_url/hit.json"
	done
done
stop_pid "$ngx_pid" QUIT
ngx_pid=
declare -A hit_round
for c in 1 16; do
	for r in $(seq 1 "$rounds"); do
		say "read-hit, $c connection(s), round $r: ${rps[hit-$c-$r]} requests/s," \
			"p99 ${p99[hit-$c-$r]} ms; nginx ${rps[nginx-$c-$r]} requests/s" \
			"(ratio $(ratio "${rps[hit-$c-$r]}" "${rps[nginx-$c-$r]}")), one file" \
			"${rps[nginx1-$c-$r]} (ratio $(ratio "${rps[hit-$c-$r]}" "${rps[nginx1-$c-$r]}"));" \
			"memcache saw ${run_hits[hit-$c-$r]} hits, ${run_misses[hit-$c-$r]} misses"
	done
	hit_round[$c]=$(for r in $(seq 1 "$rounds"); do
		echo "$(ratio "${rps[hit-$c-$r]}" "${rps[nginx-$c-$r]}") $r"
	done | median_line | cut -d' ' -f2)
	say "read-hit, $c connection(s): the median round is round ${hit_round[$c]}"
done

# --- 2. read-miss: cache cleared and capacity 0 ------------------------------------

section "read-miss: memcache cleared and its capacity set to 0, so every read goes to MariaDB and the disk"
mc_post /clear_cache >/dev/null
set_capacity 0
for c in 1 16; do
	run_wrk_counted "miss-$c" "$c" "$fe_url" "$tmp/mix-100.lua"
	say "read-miss, $c connection(s): memcache saw ${run_hits[miss-$c]} hits, ${run_misses[miss-$c]} misses"
done
set_capacity "$cache_mb"
warm_cache

fi

# --- 3. upload ---------------------------------------------------------------------

section "upload: POST /api/upload of a new ${image_bytes}-byte image each time, keys rotating over $upload_keys per wrk thread"
declare -A dsync
dsync[before]=$(dsync_rate)
for c in 1 16; do
	run_wrk "upload-$c" "$c" "$fe_url" "$tmp/mix-0.lua"
done
dsync[after]=$(dsync_rate)
say "raw ${image_bytes}-byte O_DSYNC writes, one writer (dd), same file system:" \
	"${dsync[before]}/s before the upload runs, ${dsync[after]}/s after"
say "upload at 16 connections: ${rps[upload-16]}/s, $(ratio "${rps[upload-16]}" "${dsync[before]}")" \
	"of the O_DSYNC rate (target: >= 1000/s where that rate is ~1600/s, a ratio of 0.63)"

# The same upload run with an older build's front end and this one's,
# alternating, so that other load on the machine hits both alike.
if [[ -n $before_bin ]]; then
	section "upload at 16 connections: $before_bin/frontend (before) against $bin/frontend (after), alternating, $upload_rounds rounds"
	for r in $(seq 1 "$upload_rounds"); do
		for build in before after; do
			if [[ $build == before ]]; then restart_frontend "$before_bin"; else restart_frontend "$bin"; fi
			dsync[$build-$r]=$(dsync_rate)
			run_wrk "upload-$build-$r" 16 "$fe_url" "$tmp/mix-0.lua"
			say "round $r, $build: ${rps[upload-$build-$r]} uploads/s, p50 ${p50[upload-$build-$r]} ms," \
				"p99 ${p99[upload-$build-$r]} ms, errors $((non2xx[upload-$build-$r] + sockerr[upload-$build-$r]));" \
				"O_DSYNC writes just before: ${dsync[$build-$r]}/s; load $(cut -d' ' -f1-3 /proc/loadavg)"
		done
		say "round $r: after / before $(ratio "${rps[upload-after-$r]}" "${rps[upload-before-$r]}")"
	done
fi

# --- 4. mixes ----------------------------------------------------------------------

if [[ $only != upload ]]; then
section "mixes of read-hit and upload (reads of img-1..$image_count, uploads as above); connections ${mix_connections[*]}"
for p in "${mixes[@]}"; do
	for c in "${mix_connections[@]}"; do
		run_wrk_counted "mix-$p-$c" "$c" "$fe_url" "$tmp/mix-$p.lua"
	done
	say "read:write $p:$((100 - p)) done; memcache hits/misses at 16 connections:" \
		"${run_hits[mix-$p-16]}/${run_misses[mix-$p-16]}"
done
fi
say "rows in images: $(sql 'SELECT COUNT(*) FROM images' --skip-column-names)" \
	"(bounded: $image_count + $upload_keys per wrk thread)"

# --- figures ---------------------------------------------------------------------

section "figures"
table_head
if [[ $only != upload ]]; then
	for c in 1 16; do table_row "read-hit (median round)" "$c" "hit-$c-${hit_round[$c]}"; done
	for c in 1 16; do table_row "nginx, same answers as files" "$c" "nginx-$c-${hit_round[$c]}"; done
	for c in 1 16; do table_row "nginx, one answer as one file" "$c" "nginx1-$c-${hit_round[$c]}"; done
	for c in 1 16; do table_row "read-miss (capacity 0)" "$c" "miss-$c"; done
fi
for c in 1 16; do table_row "upload (~100 KB)" "$c" "upload-$c"; done
if [[ -n $before_bin ]]; then
	for r in $(seq 1 "$upload_rounds"); do
		for build in before after; do table_row "upload, $build, round $r" 16 "upload-$build-$r"; done
	done
fi
if [[ $only != upload ]]; then
	for p in "${mixes[@]}"; do
		for c in "${mix_connections[@]}"; do
			table_row "read:write $p:$((100 - p))" "$c" "mix-$p-$c"
		done
	done
fi
printf '%-30s %5s %11s\n' "raw O_DSYNC writes (dd)" 1 "${dsync[before]}"

section "peak memory (VmHWM) over the whole run"
printf '%-12s %8s %10s\n' process pid "peak MB"
printf '%-12s %8s %10s\n' frontend "$fe_pid" "$(peak_rss_mb "$fe_pid")"
printf '%-12s %8s %10s\n' memcache "$mc_pid" "$(peak_rss_mb "$mc_pid")"
if [[ -n $db_pid ]]; then
	printf '%-12s %8s %10s\n' mariadbd "$db_pid" "$(peak_rss_mb "$db_pid")"
fi

section "targets"
errors=0
for name in "${!rps[@]}"; do
	[[ $name == nginx* ]] && continue
	errors=$((errors + ${non2xx[$name]:-0} + ${sockerr[$name]:-0}))
done
for c in 1 16; do
	[[ $only != upload ]] || break
	m=${hit_round[$c]}
	r=$(ratio "${rps[hit-$c-$m]}" "${rps[nginx-$c-$m]}")
	say "read-hit / nginx requests/s, $c connection(s), median of $rounds rounds: $r" \
		" (target >= 0.40: $(verdict "$r >= 0.40")); against one file:" \
		"$(ratio "${rps[hit-$c-$m]}" "${rps[nginx1-$c-$m]}")"
done
# 1000/s where one writer's O_DSYNC writes reach ~1600/s: on a slower disk the
# same ratio (0.63), on a faster one still 1000/s, since then the CPU bounds uploads.
upload_target=$(awk -v d="${dsync[before]}" 'BEGIN { t = 0.63 * d; printf "%.0f", t < 1000 ? t : 1000 }')
say "upload at 16 connections: ${rps[upload-16]} requests/s; raw ${image_bytes}-byte O_DSYNC" \
	"writes in the same run: ${dsync[before]}/s, ratio $(ratio "${rps[upload-16]}" "${dsync[before]}")" \
	"(target >= 1000/s, or 0.63 of the O_DSYNC rate on a disk slower than 1600/s:" \
	">= $upload_target: $(verdict "${rps[upload-16]} >= $upload_target"))"
if [[ $only != upload ]]; then
	p99_hit=$(for r in $(seq 1 "$rounds"); do echo "${p99[hit-16-$r]}"; done | median_line)
	say "read-hit p99 at 16 connections, median of $rounds rounds: $p99_hit ms" \
		" (target < 5 ms: $(verdict "$p99_hit < 5"))"
fi
say "errors over every front end run (non-2xx + socket errors): $errors  (target 0: $(verdict "$errors == 0"))"

section "warnings and errors in the daemons' logs"
log_summary "$tmp/frontend.log" frontend
log_summary "$mc_log" memcache
busy=$(awk -v a="$busy_start" -v b="$(cpu_busy_s)" 'BEGIN { printf "%.1f", b - a }')
own=$(awk -v a="$own_start" -v b="$(cpu_own_s)" 'BEGIN { printf "%.1f", b - a }')
say "CPU time since the daemons started: ${busy}s busy on the machine, ${own}s of it by this" \
	"benchmark's processes, $(awk -v b="$busy" -v o="$own" 'BEGIN { printf "%.1f", b - o }')s by other work" \
	"(kernel threads such as the disk journal included)"
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v b="$busy" -v o="$own" 'BEGIN { exit !(b > 0 && (b - o) / b > 0.10) }' &&
	say "note: other work took more than 10% of the CPU time; the figures are skewed" \
		"(run again on a quiet machine)"

if [[ $only != upload ]]; then
	section "graphs"
	for p in "${mixes[@]}"; do draw_mix_graphs "$p"; done
fi

section "done; this output is in bench/out/$(basename "$outfile")"
