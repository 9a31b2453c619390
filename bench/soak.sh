#!/usr/bin/env bash
# Soak benchmark: SOAK_SECONDS (default 600) of mixed load on the front end,
# 80:20 read:write over 64 connections (bin/soak_load, from bench/soak_load.c),
# with memcache killed (SIGKILL) at 40% of the run and started again a
# twentieth of the run later, and MariaDB stopped and started at 60%. It prints
# per minute the requests, errors by kind, p50/p99/max latency and the RSS of
# each daemon; whether RSS grew after the warm-up; and the check at the end,
# where every acknowledged upload is read back and compared byte for byte.
# A benchmark, not a test: it reports, and exits non-zero only when it could
# not run or when the check at the end found a wrong or missing image.
#
# usage: make soak                 (installs what is missing, builds, runs this)
#        bench/soak.sh [BIN_DIR]   (BIN_DIR defaults to bin; needs BIN_DIR/soak_load)
# Environment: SOAK_SECONDS (default 600), SOAK_CONNECTIONS (default 64),
#              SOAK_IMAGE_BYTES=MIN-MAX the sizes of the images (default
#              1024-24576; 96000-99000 makes values of about 130,000 base64
#              characters), BENCH_KEEP=1 keeps the temporary folder.
# Everything printed also goes to bench/out/soak-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
seconds=${SOAK_SECONDS:-600}
connections=${SOAK_CONNECTIONS:-64}
read_percent=80
image_bytes=${SOAK_IMAGE_BYTES:-1024-24576}
cache_mb=64      # holds every hot key (64 x 16 keys of 1-24 KB, as base64 ~17 MB) and some fresh ones
warmup_minutes=2 # RSS growth is measured from the end of this minute

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output soak

[[ -x $bin/soak_load ]] || { say "no $bin/soak_load; run make soak"; exit 2; }

machine_header "soak benchmark"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews every figure)"
say "run:     ${seconds}s, $connections connections, read:write $read_percent:$((100 - read_percent)), images of $image_bytes bytes, all on 127.0.0.1; binaries: $bin"

make_tmp gallery-soak
mc_pid='' fe_pid='' load_pid=''
cleanup() {
	stop_pid "${load_pid:-}"
	stop_pid "${fe_pid:-}"
	bench_cleanup
}
trap cleanup EXIT

# memcache again on the port the front end knows, with a log of its own.
restart_memcache() {
	launch_memcache "${mc_url##*:}" || say "memcache did not come back: $(tail -3 "$mc_log")"
}

rss_mb() { # pid: VmRSS in MB, or "-" when there is no such process
	[[ -n ${1:-} ]] || { echo "-"; return; }
	awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) print "-" }' \
		"/proc/$1/status" 2>/dev/null || echo "-"
}

cpu_s() { # pid: user + system CPU seconds so far, or "-"
	[[ -n ${1:-} ]] || { echo "-"; return; }
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo "-"
}

cached_mb() { # what memcache holds (its /stats "bytes"), in MB, or "-"
	local b
	b=$(curl -fsS --max-time 2 "$mc_url/stats" 2>/dev/null | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
	[[ -n $b ]] && awk -v b="$b" 'BEGIN { printf "%.1f", b / 1048576 }' || echo "-"
}

pressure_us() { # cpu|io some|full: the kernel's stall total in microseconds (PSI), or "-"
	awk -v kind="$2" '$1 == kind { sub(/total=/, "", $5); print $5; found = 1 } END { if (!found) print "-" }' \
		"/proc/pressure/$1" 2>/dev/null || echo "-"
}

# One line of $tmp/rss.txt: minute, RSS of frontend, memcache, mariadbd, load,
# frontend CPU seconds so far, MB memcache holds, and the machine's stall
# totals: some task waiting for a CPU, every task waiting on the disk.
sample() { # minute
	echo "$1 $(rss_mb "$fe_pid") $(rss_mb "$mc_pid") $(rss_mb "$db_pid") $(cut -d' ' -f1 /proc/loadavg)" \
		"$(cpu_s "$fe_pid") $(cached_mb) $(pressure_us cpu some) $(pressure_us io full)" >>"$tmp/rss.txt"
}

log_summary() { # file name: warn/error lines, alike ones (numbers and paths aside) counted together
	local lines
	lines=$(grep -E '^[^ ]+ (warn|error) ' "$1" || true)
	say "$2: $(grep -c . <<<"$lines" || true) warn/error lines${lines:+, by message:}"
	[[ -z $lines ]] || cut -d' ' -f2- <<<"$lines" | sed -E 's#/[^ ]*#<path>#g; s/[0-9]+/N/g' | cut -c1-160 |
		sort | uniq -c | sort -rn | head -8 | sed 's/^/    /'
}

start_db
set_capacity "$cache_mb"
start_memcache
start_frontend
db_pid=$(cat "$tmp/db/mysqld.pid")

section "preload: $((connections * 16)) hot keys, then the clock starts"
"$bin/soak_load" "$fe_url" "$seconds" "$connections" "$read_percent" "$tmp/ready" "$tmp/minutes.tsv" \
	"$image_bytes" >"$tmp/load.txt" 2>&1 &
load_pid=$!
while [[ ! -e $tmp/ready ]]; do
	kill -0 "$load_pid" 2>/dev/null || { cat "$tmp/load.txt"; exit 2; }
	sleep 0.1
done
SECONDS=0 # the run's clock from here, kept by bash without a process per look

kill_at=$((seconds * 40 / 100))
back_at=$((kill_at + seconds / 20))
db_at=$((seconds * 60 / 100))
minutes=$(((seconds + 59) / 60))
: >"$tmp/rss.txt"
sample 0
: >"$tmp/events.txt"
event() { # text: said now and kept for the minute it falls in
	local t
	t=$SECONDS
	say "${t}s: $1"
	echo "$((t / 60 + 1))|$1 at ${t}s" >>"$tmp/events.txt"
}

section "running ${seconds}s: memcache killed at ${kill_at}s and back at ${back_at}s, MariaDB restarted at ${db_at}s"
state=0 minute=1
while kill -0 "$load_pid" 2>/dev/null && ((minute <= minutes)); do
	t=$SECONDS
	if ((state == 0 && t >= kill_at)); then
		kill -KILL "$mc_pid"
		wait "$mc_pid" 2>/dev/null || true
		mc_pid=
		event "memcache killed (SIGKILL)"
		state=1
	elif ((state == 1 && t >= back_at)); then
		restart_memcache
		event "memcache started again (pid $mc_pid)"
		state=2
	elif ((state == 2 && t >= db_at)); then
		event "MariaDB stopping"
		"$root/scripts/db.sh" stop "$tmp/db" >/dev/null
		"$root/scripts/db.sh" start "$tmp/db" >/dev/null
		db_pid=$(cat "$tmp/db/mysqld.pid")
		event "MariaDB started again (pid $db_pid)"
		state=3
	fi
	# The RSS at the end of each minute (and at the end of a last, shorter one).
	if ((t >= minute * 60 || (minute == minutes && t >= seconds))); then
		sample "$minute"
		minute=$((minute + 1))
	fi
	sleep 0.5
done
say "load over at ${SECONDS}s; checking every upload"
load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=

section "per minute"
say "RSS and cached MB at the end of the minute; fe CPU: CPU seconds the front end used in the minute;"
say "load: 1-minute load average; cpu wait: share of the minute some task waited for a CPU;"
say "disk stall: share of the minute every task waited on the disk (both from /proc/pressure)"
say "| min | reads | uploads | errors | p50 ms | p99 ms | max ms | frontend RSS | memcache RSS (cached) | mariadbd RSS | fe CPU s | load | cpu wait | disk stall | errors by kind; events |"
say "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
awk -F'\t' -v rss="$tmp/rss.txt" -v events="$tmp/events.txt" '
	BEGIN {
		while ((getline line < rss) > 0) {
			split(line, f, " "); fe[f[1]] = f[2]; mc[f[1]] = f[3]; db[f[1]] = f[4]; ld[f[1]] = f[5]
			cpu[f[1]] = f[6] == "-" || f[1] == 0 ? "-" : sprintf("%.1f", f[6] - prev); prev = f[6]
			cw[f[1]] = f[8] == "-" || f[1] == 0 ? "-" : sprintf("%.0f%%", (f[8] - prev_cw) / 600000); prev_cw = f[8]
			io[f[1]] = f[9] == "-" || f[1] == 0 ? "-" : sprintf("%.0f%%", (f[9] - prev_io) / 600000); prev_io = f[9]
			mc[f[1]] = f[3] " (" f[7] ")"
		}
		while ((getline line < events) > 0) { split(line, f, "|"); ev[f[1]] = ev[f[1]] (ev[f[1]] ? "; " : "") f[2] }
	}
	NR > 1 {
		notes = ($8 == "-" ? "" : $8)
		if (ev[$1]) notes = notes (notes ? "; " : "") ev[$1]
		printf "| %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, fe[$1], mc[$1], db[$1], cpu[$1], ld[$1], cw[$1], io[$1], notes
	}' "$tmp/minutes.tsv"

section "totals"
sed -n '1,/^checking every upload/p' "$tmp/load.txt" | sed '$d'

section "RSS after the warm-up (end of minute $warmup_minutes)"
# Growth from the end of the warm-up to the end, and the peak after it; for
# memcache only before it was killed, and in its second life after its own warm-up.
rss_growth() { # name column first_minute last_minute
	awk -v col="$2" -v a="$3" -v b="$4" -v name="$1" '
		$1 >= a && $1 <= b && $col != "-" { if (first == "") first = $col; last = $col; if ($col + 0 > peak) peak = $col + 0 }
		END {
			if (first == "" || b <= a) { printf "%s: too few minutes to tell\n", name; exit }
			growth = last - first; limit = first * 0.05 > 2 ? first * 0.05 : 2
			printf "%s, minutes %d-%d: %.1f MB -> %.1f MB (peak %.1f), growth %+.1f MB: %s\n", name, a, b, first, last, peak, growth,
				(growth <= limit ? "no growth (within 5% or 2 MB)" : "GREW")
		}' "$tmp/rss.txt"
}
kill_minute=$((kill_at / 60))
back_minute=$((back_at / 60 + 1))
rss_growth frontend 2 "$warmup_minutes" "$minutes"
rss_growth "memcache (first life)" 3 "$warmup_minutes" "$kill_minute"
rss_growth "memcache (second life)" 3 "$((back_minute + warmup_minutes))" "$minutes"
say "memcache capacity: $cache_mb MB; its peak RSS holds the cache itself"

section "check at the end"
sed -n '/^checking every upload/,$p' "$tmp/load.txt" | sed '1d'
say "rows in images: $(sql 'SELECT COUNT(*) FROM images' --skip-column-names)," \
	"files under images/: $(find "$tmp/data/images" -type f | wc -l) (every image differs, so there should be as many as rows)"

section "warnings and errors in the daemons' logs"
log_summary "$tmp/frontend.log" frontend
for log in "$tmp"/memcache-*.log; do log_summary "$log" "$(basename "$log" .log)"; done
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
alive=yes
kill -0 "$fe_pid" 2>/dev/null || alive=no
say "frontend still running: $alive"

section "done (load driver exit status $load_rc); this output is in bench/out/$(basename "$outfile")"
exit "$load_rc"
