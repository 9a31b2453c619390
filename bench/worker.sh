#!/usr/bin/env bash
# Benchmark of the worker's image operations: thumbnails per second of
# thumbnail_make on 2 threads against Debian's vipsthumbnail run two at a time
# (xargs -P2) on the same photographs in the same run, with peak RSS and the
# ratio; and enhance_make's time per megapixel at strength 0.30. The photographs
# are the 15 JPEGs (1.5 to 15.9 megapixels) of Debian's lomiri-wallpapers-16.04.
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
trap 'rm -rf "$tmp"' EXIT

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
