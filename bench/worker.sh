#!/usr/bin/env bash
# Benchmark of the worker's image operations: thumbnails per second of
# thumbnail_make on 2 threads against Debian's vipsthumbnail run two at a time
# (xargs -P2) on the same photographs in the same run, with peak RSS and the
# ratio; and enhance_make's time per megapixel at strength 0.30. The photographs
# are the 15 JPEGs (1.5 to 15.9 megapixels) of Debian's lomiri-wallpapers-16.04.
# Then the queue: calc jobs end to end through bin/worker with 2 threads beside
# the private MariaDB's raw commit rate, and enqueue-to-start latency with idle
# workers (BENCH_QUEUE_JOBS, default 5000; BENCH_LATENCY_SAMPLES, default 200).
# It prints figures and ratios; a slow figure never makes it fail.
#
# usage: make bench-worker          (installs what is missing, builds, runs this)
#        bench/worker.sh [BIN_DIR]  (BIN_DIR defaults to bin)
# Environment: BENCH_ROUNDS (passes over the photographs, default 4),
#              BENCH_ENHANCE_FILES (how many photographs to enhance, default 5).
# Everything printed also goes to bench/out/worker-<date>.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
seconds=0 # no wrk runs here; bench/lib.sh asks for it
rounds=${BENCH_ROUNDS:-4}
enhance_files=${BENCH_ENHANCE_FILES:-5}
threads=2
per_process=4 # photographs per vipsthumbnail process, so that its start-up is shared

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output worker

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gallery-bench-worker.XXXXXX")
worker_pid=
trap 'stop_pid "$worker_pid"; "$root/scripts/db.sh" stop "$tmp/db" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

mapfile -t photos < <(ls /usr/share/backgrounds/*_by_*.jpg)
[[ ${#photos[@]} -gt 0 ]] || { say "no photographs: install lomiri-wallpapers-16.04"; exit 1; }

machine_header "Worker benchmark"
say "libvips: $(pkg-config --modversion vips), vipsthumbnail from libvips-tools $(dpkg-query -W -f='${Version}' libvips-tools)"
say "photos:  ${#photos[@]} JPEGs of lomiri-wallpapers-16.04, $(du -ch "${photos[@]}" | tail -1 | cut -f1), x $rounds rounds"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the start"
cat "${photos[@]}" >/dev/null # both sides read from the page cache

# One link per photograph and round, so that every vipsthumbnail output has its own name.
mkdir -p "$tmp/in" "$tmp/out"
for r in $(seq 1 "$rounds"); do
	for p in "${photos[@]}"; do ln -s "$p" "$tmp/in/r${r}_$(basename "$p")"; done
done
jobs=$((${#photos[@]} * rounds))

elapsed() { # command...: runs it; sets secs and rss_kb (GNU time's peak RSS)
	local start end
	start=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$tmp/time" "$@"
	end=$(date +%s.%N)
	secs=$(echo "$end - $start" | bc -l)
	rss_kb=$(tail -1 "$tmp/time")
}

section "thumbnails ('s', 512 px, WebP q80), $threads at a time, $jobs images"
elapsed "$bin/thumb_bench" thumb "$threads" "$rounds" "${photos[@]}" >"$tmp/ours"
ours_rate=$(echo "$jobs / $secs" | bc -l)
ours_secs=$secs ours_rss=$rss_kb
elapsed sh -c "ls '$tmp'/in/* | xargs -P$threads -n$per_process vipsthumbnail -s 512 -o '$tmp/out/%s.webp[Q=80,strip]'"
theirs_rate=$(echo "$jobs / $secs" | bc -l)
made=$(ls "$tmp/out" | wc -l)
printf '%-34s %8s %10s %14s\n' "" "seconds" "thumbs/s" "peak RSS MB"
printf '%-34s %8.2f %10.2f %14.1f\n' "thumbnail_make, 2 threads" "$ours_secs" "$ours_rate" "$(echo "$ours_rss / 1024" | bc -l)"
printf '%-34s %8.2f %10.2f %14.1f\n' "vipsthumbnail, xargs -P2 -n$per_process" "$secs" "$theirs_rate" "$(echo "$rss_kb / 1024" | bc -l)"
say "vipsthumbnail wrote $made of $jobs; its peak RSS is that of its largest single process"
printf 'ratio: %.2fx vipsthumbnail'"'"'s throughput (target >= 0.8)\n' "$(echo "$ours_rate / $theirs_rate" | bc -l)"

section "enhance at strength 0.30, one at a time, first $enhance_files photographs"
"$bin/thumb_bench" enhance "${photos[@]:0:$enhance_files}" | tee "$tmp/enhance"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"

section "queue: calc jobs end to end, bin/worker with $threads threads"
queue_jobs=${BENCH_QUEUE_JOBS:-5000}
samples=${BENCH_LATENCY_SAMPLES:-200}
start_db
sql "CREATE TABLE bench_commits (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB"
# The database's own ceiling: one row per transaction, one client, as a job's claim and completion are.
commits=2000
for i in $(seq 1 $commits); do echo "INSERT INTO bench_commits (v) VALUES ($i);"; done >"$tmp/commits.sql"
start=$(date +%s.%N)
mariadb --no-defaults --socket="$GALLERY_DB_SOCKET" -u "$(id -un)" "$GALLERY_DB_NAME" <"$tmp/commits.sql"
commit_rate=$(echo "$commits / ($(date +%s.%N) - $start)" | bc -l)
say "innodb_flush_log_at_trx_commit=$(sql 'SELECT @@innodb_flush_log_at_trx_commit' -N -B)"
printf 'raw commit rate: %.0f single-row transactions/s (one client)\n' "$commit_rate"

mkdir -p "$tmp/qdata"
GALLERY_DATA_DIR=$tmp/qdata GALLERY_WORKER_THREADS=$threads "$bin/worker" >"$tmp/worker.log" 2>&1 &
worker_pid=$!
until grep -q "worker started" "$tmp/worker.log"; do
	kill -0 "$worker_pid" 2>/dev/null || { say "the worker did not start:"; cat "$tmp/worker.log"; exit 1; }
	sleep 0.05
done
# All enqueued in one statement, so that the figure is the workers' rate, not the enqueuer's.
sql "INSERT INTO jobs (kind, payload, max_attempts) SELECT 'calc', CONCAT('[', seq, ', 2, 3, -4]'), 5 FROM seq_1_to_$queue_jobs"
until [[ $(sql "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')" -N -B) == 0 ]]; do sleep 0.2; done
read -r done_jobs span_ms < <(sql "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, MIN(created_at), MAX(finished_at)) / 1000 FROM jobs WHERE state = 'done'" -N -B)
queue_rate=$(echo "$done_jobs * 1000 / $span_ms" | bc -l)
printf 'calc jobs: %d done in %.0f ms: %.0f jobs/s (target >= 500); %.2f of the raw commit rate\n' \
	"$done_jobs" "$span_ms" "$queue_rate" "$(echo "$queue_rate / $commit_rate" | bc -l)"

section "queue: enqueue-to-start latency with idle workers, $samples jobs one at a time"
sql "DELETE FROM jobs"
for i in $(seq 1 "$samples"); do
	sql "INSERT INTO jobs (kind, payload, max_attempts) VALUES ('calc', '[$i]', 5)"
	until [[ $(sql "SELECT COUNT(*) FROM jobs WHERE state = 'queued'" -N -B) == 0 ]]; do sleep 0.01; done
	# A pause of 0 to 0.3 s, so that the jobs arrive at every phase of the workers' polling.
	sleep "0.$((RANDOM % 4))"
done
sql "SELECT TIMESTAMPDIFF(MICROSECOND, created_at, started_at) / 1000 FROM jobs ORDER BY 1" -N -B >"$tmp/latency"
n=$(wc -l <"$tmp/latency")
p50=$(sed -n "$(( (n + 1) / 2 ))p" "$tmp/latency")
p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" "$tmp/latency")
printf 'enqueue to start: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d jobs (target p99 < 500 ms)\n' \
	"$p50" "$p99" "$(tail -1 "$tmp/latency")" "$n"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end of the queue part"
