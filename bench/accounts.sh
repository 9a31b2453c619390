#!/usr/bin/env bash
# Benchmark of accounts in the front end: logins per second with the right
# password at 16 connections; the time and memory of one argon2id hash
# (bin/pwhash_bench, through core/password); read-hit /api/key p99 at 16
# connections while 16 more connections send wrong-password logins as fast as
# they can, beside the same reads with no login traffic (target: at most 2x,
# and no read error); read-hit throughput with a session cookie against without
# (target: at least 85%). A slow figure never makes it fail.
#
# The login flood comes from many addresses, as a distributed guesser's would:
# the front end trusts 127.0.0.1 as a proxy and each login names a random
# address in X-Forwarded-For, so that the 20-failures-per-address throttle
# does not answer 429 before the hash (which would make the flood cheap).
#
# usage: make bench-accounts           (builds, runs this; also part of make bench)
#        bench/accounts.sh [BIN_DIR]   (BIN_DIR defaults to bin)
# Environment: BENCH_SECONDS (length of each measured wrk run, default 10),
#              BENCH_ROUNDS (cookie / no-cookie rounds, default 3),
#              BENCH_KEEP=1 keeps the temporary folder.
# Everything printed also goes to bench/out/accounts-<date>.txt.
# Every server it starts listens on 127.0.0.1 only and is stopped by its pid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}

image_count=20      # images read by the read-hit runs
image_bytes=100000  # each a GIF89a header and random bytes
connections=16
user=bench.user
password='correct horse battery staple'
csrf=0123456789abcdef0123456789abcdef

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
tee_output accounts

peak_rss_mb() { # pid: VmHWM in MB
	awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) print "?" }' \
		"/proc/$1/status" 2>/dev/null || echo "?"
}

make_image() { # file
	{
		printf 'GIF89a\x40\x01\xf0\x00'
		head -c $((image_bytes - 10)) /dev/urandom
	} >"$1"
}

# Reads of img-1..n at random, with extra request headers (Lua table text).
write_reads_lua() { # file headers
	cat >"$1" <<-LUA
		local headers = $2
		function init(args) math.randomseed(os.time() + math.random(100000)) end
		function request()
			return wrk.format("GET", "/api/key/img-" .. math.random($image_count), headers)
		end
	LUA
}

# Logins: the right password for the bench user, or a wrong one for unknown
# names from random addresses.
write_login_lua() { # file right|wrong
	cat >"$1" <<-LUA
		local mode = "$2"
		local form = {["Content-Type"] = "application/x-www-form-urlencoded"}
		function init(args) math.randomseed(os.time() + math.random(100000)) end
		function request()
			if mode == "right" then
				return wrk.format("POST", "/api/login", form,
					"username=$user&password=correct+horse+battery+staple")
			end
			local h = {["Content-Type"] = form["Content-Type"],
				["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255),
					math.random(0, 255), math.random(1, 254))}
			return wrk.format("POST", "/api/login", h,
				"username=nobody" .. math.random(1000000) .. "&password=wrong+password+here")
		end
	LUA
}

row_format='%-36s %5s %11s %9s %9s %8s %8s\n'

machine_header "accounts benchmark"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews every figure)"
say "wrk runs: ${seconds}s each, threads = min(connections, 2), all on 127.0.0.1; binaries: $bin"

"$root/scripts/deps.sh" wrk

make_tmp gallery-bench-accounts
mc_pid='' fe_pid=''
cleanup() {
	stop_pid "${fe_pid:-}"
	bench_cleanup
}
trap cleanup EXIT

start_db
set_capacity 64
start_memcache
export GALLERY_TRUSTED_PROXIES=127.0.0.1
start_frontend

section "one argon2id hash, as core/password makes it (bin/pwhash_bench, 20 in a row)"
read -r hash_p50 hash_p90 hash_rss hash_params < <("$bin/pwhash_bench" 20)
say "parameters $hash_params; time p50 $hash_p50 ms, p90 $hash_p90 ms; memory $hash_rss MB of peak RSS for one hash"

section "setup: $image_count images, one verified user, its session cookie"
for i in $(seq 1 "$image_count"); do
	make_image "$tmp/img.gif"
	curl -fsS --max-time 30 -o /dev/null -F "key=img-$i" -F "file=@$tmp/img.gif;type=image/gif" \
		"$fe_url/api/upload"
	curl -fsS --max-time 30 -o /dev/null "$fe_url/api/key/img-$i" # now in memcache
done
curl -fsS --max-time 30 -o /dev/null --data-urlencode "username=$user" \
	--data-urlencode "email=$user@example.org" --data-urlencode "password=$password" \
	"$fe_url/api/signup"
sql "UPDATE users SET verified_at = NOW(3) WHERE username = '$user'"
write_login_lua "$tmp/login-right.lua" right
write_login_lua "$tmp/login-wrong.lua" wrong

section "logins with the right password, $connections connections"
table_head
run_wrk login-right "$connections" "$fe_url" "$tmp/login-right.lua"
table_row "POST /api/login (right password)" "$connections" login-right
logins_ok=$(sql "SELECT COUNT(*) FROM sessions" -N)
say "sessions made: $logins_ok"
# The sessions above are not what the cookie reads below should look among.
sql "DELETE FROM sessions"

cookie=$(curl -sS --max-time 30 -o /dev/null -D - -b "gallery_csrf=$csrf" \
	--data-urlencode "username=$user" --data-urlencode "password=$password" \
	--data-urlencode "csrf_token=$csrf" "$fe_url/login" |
	sed -n 's/^Set-Cookie: \(gallery_session=[^;]*\);.*/\1/ip' | tr -d '\r')
[[ -n $cookie ]] || { say "no session cookie from /login"; exit 1; }
curl -fsS --max-time 30 -o /dev/null -H "Cookie: $cookie" "$fe_url/api/me"
say "user $user verified and logged in by the page; cookie ${cookie:0:24}..."

write_reads_lua "$tmp/reads.lua" '{}'
write_reads_lua "$tmp/reads-cookie.lua" "{[\"Cookie\"] = \"$cookie\"}"

section "read-hit p99: quiet, then during a flood of wrong-password logins"
table_head
run_wrk quiet "$connections" "$fe_url" "$tmp/reads.lua"
table_row "GET /api/key hit, quiet" "$connections" quiet
# The flood runs a little longer than the reads, on both sides of them.
mapfile -t flood_cmd < <(wrk_command "$connections" $((seconds + 4)) "$fe_url" "$tmp/login-wrong.lua")
"${flood_cmd[@]}" >"$tmp/wrk-flood.txt" 2>&1 &
flood_pid=$!
sleep 2
run_wrk loaded "$connections" "$fe_url" "$tmp/reads.lua"
wait "$flood_pid" || say "(flood: wrk exited with status $?)"
parse_wrk flood
table_row "GET /api/key hit, during the flood" "$connections" loaded
table_row "POST /api/login (wrong, the flood)" "$connections" flood
fe_rss=$(peak_rss_mb "$fe_pid")
failures=$(sql "SELECT COUNT(*) FROM login_failures" -N)

section "read-hit throughput with a session cookie against without ($rounds rounds each, alternating)"
table_head
for r in $(seq 1 "$rounds"); do
	run_wrk "plain-$r" "$connections" "$fe_url" "$tmp/reads.lua"
	table_row "GET /api/key hit, no cookie ($r)" "$connections" "plain-$r"
	run_wrk "cookie-$r" "$connections" "$fe_url" "$tmp/reads-cookie.lua"
	table_row "GET /api/key hit, session cookie ($r)" "$connections" "cookie-$r"
done
plain_sum=0 cookie_sum=0
for r in $(seq 1 "$rounds"); do
	plain_sum=$(awk -v a="$plain_sum" -v b="${rps[plain-$r]}" 'BEGIN { print a + b }')
	cookie_sum=$(awk -v a="$cookie_sum" -v b="${rps[cookie-$r]}" 'BEGIN { print a + b }')
done
cookie_errors=0
for r in $(seq 1 "$rounds"); do
	cookie_errors=$((cookie_errors + ${non2xx[cookie-$r]} + ${sockerr[cookie-$r]}))
done

section "summary"
p99_ratio=$(ratio "${p99[loaded]}" "${p99[quiet]}")
cookie_ratio=$(ratio "$cookie_sum" "$plain_sum")
read_errors=$((${non2xx[loaded]} + ${sockerr[loaded]} + ${non2xx[quiet]} + ${sockerr[quiet]}))
say "logins/s (right password, $connections connections): ${rps[login-right]}"
say "one hash: $hash_p50 ms (p50), $hash_rss MB; parameters $hash_params"
say "wrong-password logins/s during the flood: ${rps[flood]} (login_failures rows: $failures)"
say "front end peak RSS after the flood: $fe_rss MB"
say "read-hit p99 quiet ${p99[quiet]} ms, during the flood ${p99[loaded]} ms: ${p99_ratio}x" \
	"(target <= 2x: $(verdict "$p99_ratio + 0 <= 2 && \"$p99_ratio\" != \"?\"")); read errors: $read_errors"
say "read-hit requests/s with a cookie / without: $(ratio "$cookie_sum" "$rounds") / $(ratio "$plain_sum" "$rounds") =" \
	"$cookie_ratio (target >= 0.85: $(verdict "$cookie_ratio + 0 >= 0.85")); errors with the cookie: $cookie_errors"
