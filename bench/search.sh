#!/usr/bin/env bash
# Benchmark of search at scale: fills BENCH_SEARCH_IMAGES (default 1,000,000)
# images' rows, search terms and tags (no files; captions of 6 to 12 words from
# a Zipf vocabulary of 24,000 words, one in 20 of them CJK, 0 to 4 hashtags each),
# says how long the fill took, then times seven kinds of query at 1 and 16
# connections through GET /api/search, and the same through MariaDB's
# MATCH ... AGAINST on a FULLTEXT index of the same captions; last, uploads per
# second with a 10-word, 3-tag caption against without. A slow figure never
# makes it fail.
#
# usage: bench/search.sh [BIN_DIR]   (make bench-search)
# Environment: BENCH_SEARCH_IMAGES, BENCH_SEARCH_CALLS (per kind at 1 connection,
# default 400), BENCH_SEARCH_CALLS16 (per kind at 16, default 2000), BENCH_SECONDS (each upload run, default 10), BENCH_KEEP=1.
# To compare builds on one filled database:
#   BENCH_SEARCH_DB=DIR     the MariaDB lives in DIR and is kept; a DIR filled by
#                           an earlier run is used as it is (the fill is skipped)
#   BENCH_SEARCH_BINS="A B" the bin folders whose front ends are timed, one after
#                           the other (default: BIN_DIR)
#   BENCH_SEARCH_ROUNDS=N   times the list of front ends is run (default 1)
#   BENCH_SEARCH_FULLTEXT=0 leaves out the FULLTEXT reference
# Each figure comes with the CPU time MariaDB and the front end spent per call.
# Everything printed also goes to bench/out/search-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
tools=$bin # search_bench, whichever front ends are timed
seconds=${BENCH_SECONDS:-10}
images=${BENCH_SEARCH_IMAGES:-1000000}
calls=${BENCH_SEARCH_CALLS:-400}
# At 16 connections 400 calls last a quarter of a second per kind, so one stall of
# the machine decides the p99; more calls make it the 1% it should be.
calls16=${BENCH_SEARCH_CALLS16:-2000}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output search

machine_header "search benchmark, $images images"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews every figure)"

make_tmp gallery-bench-search
dbdir=${BENCH_SEARCH_DB:-$tmp/db}
bins=${BENCH_SEARCH_BINS:-$bin}
rounds=${BENCH_SEARCH_ROUNDS:-1}
fulltext=${BENCH_SEARCH_FULLTEXT:-1}
fe_pid=''
cleanup() {
	stop_pid "${fe_pid:-}"
	"$root/scripts/db.sh" stop "$dbdir" >/dev/null 2>&1 || true
	bench_cleanup
}
trap cleanup EXIT

"$root/scripts/db.sh" start "$dbdir" >/dev/null
set -a
# shellcheck source=/dev/null
. "$dbdir/db.env"
set +a
# Room for the index in memory, as a server that serves it would give it.
sql "SET GLOBAL innodb_buffer_pool_size = 3221225472"
start_memcache

if [[ -f $dbdir/filled ]]; then
	say "database: $dbdir, filled earlier with $(cat "$dbdir/filled") images; the fill is skipped"
	cp "$dbdir/queries.txt" "$tmp/queries.txt"
else
section "fill"
t0=$(date +%s.%N)
"$bin/search_bench" gen "$images" "$tmp"
t1=$(date +%s.%N)
# The terms in the order of the primary key, so that the load appends.
LC_ALL=C sort -S 2G -t "$(printf '\t')" -k1,1 -k2,2nr "$tmp/terms.tsv" -o "$tmp/terms.sorted"
rm -f "$tmp/terms.tsv"
t2=$(date +%s.%N)
terms=$(wc -l <"$tmp/terms.sorted")
sql "SET foreign_key_checks = 0, unique_checks = 0;
     ALTER TABLE search_terms DROP KEY search_terms_by_image;
     LOAD DATA LOCAL INFILE '$tmp/users.tsv' INTO TABLE users (id, username, email, password_hash)
         SET verified_at = NOW(3);
     LOAD DATA LOCAL INFILE '$tmp/images.tsv' INTO TABLE images
         (id, image_key, location, content_type, size_bytes, sha256, width, height, owner_id, caption);
     LOAD DATA LOCAL INFILE '$tmp/tags.tsv' INTO TABLE image_tags (tag, image_id);
     LOAD DATA LOCAL INFILE '$tmp/terms.sorted' INTO TABLE search_terms (term, image_id);" \
	--local-infile=1
t3=$(date +%s.%N)
sql "ALTER TABLE search_terms ADD KEY search_terms_by_image (image_id);
     UPDATE search_backfill SET next_id = 0;"
t4=$(date +%s.%N)
t5=$t4
if [[ $fulltext != 0 ]]; then
	sql "ALTER TABLE images ADD FULLTEXT INDEX images_caption_fulltext (caption)"
	t5=$(date +%s.%N)
fi
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f s", b - a }'; }
say "generated (C tokeniser, TSV):        $(span "$t0" "$t1")"
say "terms sorted in key order:           $(span "$t1" "$t2")  ($terms terms, $(awk -v t="$terms" -v n="$images" 'BEGIN { printf "%.1f", t / n }') per image)"
say "LOAD DATA (users, images, tags, terms): $(span "$t2" "$t3")"
say "search_terms' image_id key:          $(span "$t3" "$t4")"
say "fill without FULLTEXT, in all:        $(span "$t0" "$t4")"
[[ $fulltext == 0 ]] || say "FULLTEXT index on the captions (reference only): $(span "$t4" "$t5")"
cp "$tmp/queries.txt" "$dbdir/queries.txt"
rm -f "$tmp"/*.tsv "$tmp/terms.sorted"
echo "$images" >"$dbdir/filled"
fi
sql "SELECT table_name, table_rows, ROUND(data_length / 1048576) AS data_mb,
            ROUND(index_length / 1048576) AS index_mb
     FROM information_schema.tables WHERE table_schema = DATABASE()
     AND table_name IN ('images', 'search_terms', 'image_tags')"

say "queries:"
cut -f1,2 "$tmp/queries.txt" | sed 's/^/  /'
db_pid=$(cat "$dbdir/mysqld.pid")

# Whether the slowest 1% of each kind's calls were slow together (a stall of the
# machine or a server, which any query in flight then suffers) or each on its own
# (the query's own cost): how many clients made them and how many were in flight
# at one moment; and the client's own wake-ups over 5 ms late (it got no CPU).
slow_calls() {
	say "slowest 1% of the calls at 16 connections:"
	local f
	for f in "$tmp"/calls/calls-16-*.tsv; do
		local k=${f##*-}
		k=${k%.tsv}
		local label
		label=$(sed -n "$((k + 1))p" "$tmp/queries.txt" | cut -f1)
		sort -t"$(printf '\t')" -k3,3nr "$f" | awk -v n="$(wc -l <"$f")" -v label="$label" \
			-v late="$(wc -l <"$f.late")" '
			NR <= n / 100 { s[NR] = $1; e[NR] = $1 + $3; lat[NR] = $3; c[$2] = 1; k = NR; if (NR == 1) worst = $3 }
			END {
				for (i = 1; i <= k; i++) { m = 0
					for (j = 1; j <= k; j++) if (s[j] <= s[i] && e[j] > s[i]) m++
					if (m > most) most = m }
				printf "  %-32s %d calls, %.0f to %.0f ms, from %d clients, up to %d at once; client late %d times\n",
					label, k, lat[k], worst, length(c), most, late }'
	done
}

# One front end's figures: queries at 1 and 16 connections, then uploads.
time_frontend() { # bin folder, label
	local bin=$1
	start_frontend
	export BENCH_CPU_PIDS="$db_pid $fe_pid"
	for conns in 1 16; do
		local n=$((conns == 1 ? calls : calls16))
		section "$2: GET /api/search at $conns connection(s): $n calls per kind, ms (a page of 20 with their rows); CPU ms per call (MariaDB + front end); load $(cut -d' ' -f1 /proc/loadavg)"
		printf '%-32s %10s %10s %10s\n' kind p50 p99 cpu/call
		rm -rf "$tmp/calls" && mkdir -p "$tmp/calls"
		BENCH_CALLS_DIR=$tmp/calls "$tools/search_bench" http "$fe_url" "$conns" "$n" "$tmp/queries.txt" |
			tee "$tmp/ours-$conns.txt"
		[[ $conns == 1 ]] || slow_calls
	done
	section "$2: uploads per second at 4 connections, ${seconds}s each; load $(cut -d' ' -f1 /proc/loadavg)"
	local plain captioned
	plain=$("$tools/search_bench" upload "$fe_url" 4 "$seconds" "")
	captioned=$("$tools/search_bench" upload "$fe_url" 4 "$seconds" \
		"a quiet harbour at dawn with boats and gulls overhead #sea #morning #boats")
	read -r prate pfail pcpu <<<"$plain"
	read -r crate cfail ccpu <<<"$captioned"
	say "without a caption:             $prate/s ($pfail failed), CPU ${pcpu} ms per upload"
	say "10 words and 3 tags:           $crate/s ($cfail failed), CPU ${ccpu} ms per upload"
	say "ratio: $(awk -v a="$crate" -v b="$prate" 'BEGIN { printf "%.0f%%", 100 * a / b }') (target >= 80%)"
	stop_pid "$fe_pid"
	fe_pid=''
	unset BENCH_CPU_PIDS
}

# Ours first, then the uploads, and the reference last: a FULLTEXT query that
# runs long keeps the server busy after its client gave up (each is stopped at 9 s).
for ((round = 1; round <= rounds; round++)); do
	for b in $bins; do
		time_frontend "$(cd "$b" && pwd)" "$b (round $round)"
	done
done

if [[ $fulltext == 0 ]] || ! sql "SHOW INDEX FROM images WHERE Key_name = 'images_caption_fulltext'" | grep -q .; then
	say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi
for conns in 1 16; do
	section "MATCH ... AGAINST (IN BOOLEAN MODE, newest 21) at $conns connection(s): ms"
	printf '%-32s %10s %10s\n' kind p50 p99
	ft_calls=$((conns == 1 ? 20 : 32))
	"$bin/search_bench" fulltext "$conns" "$ft_calls" "$tmp/queries.txt" | tee "$tmp/ft-$conns.txt"
	section "ratio at $conns connection(s): FULLTEXT p99 / ours p99 (a query stopped at 9 s counts 9 s)"
	paste -d'|' "$tmp/ours-$conns.txt" "$tmp/ft-$conns.txt" | awk -F'|' '{
		label = substr($1, 1, 32);
		ours = substr($1, 45, 10) + 0; ft = substr($2, 45, 10);
		if (ft ~ /n\/a/) printf "%-32s %10s\n", label, "n/a";
		else printf "%-32s %9.1fx\n", label, (ft + 0) / ours }'
done

say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
