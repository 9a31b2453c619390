#!/usr/bin/env bash
# Runs each fuzz target for a bounded time on a copy of its seed corpus and
# prints one line per target; fails when any target crashed.
# usage: tests/fuzz/run.sh BIN_DIR SECONDS TARGET...
# New corpus entries stay in a temporary folder; crash inputs go to
# build/fuzz/artifacts/ (git-ignored), to be fixed and kept under
# tests/fuzz/regressions/<target>/.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$(cd "$1" && pwd)
seconds=$2
shift 2
timeout=${FUZZ_TIMEOUT:-20} # seconds one input may take
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gallery-fuzz.XXXXXX")
artifacts=$root/build/fuzz/artifacts
mkdir -p "$artifacts"
trap 'rm -rf "$tmp"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
crashed=0
for target in "$@"; do
	corpus=$tmp/corpus/$target
	mkdir -p "$corpus"
	cp "$root/tests/fuzz/corpus/$target"/* "$corpus"/
	flags=(-max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$artifacts/$target-")
	# config_init prints help and errors; libFuzzer keeps its own output and sanitizer reports.
	[[ $target == config ]] && flags+=(-close_fd_mask=3)
	log=$tmp/$target.log
	echo "== fuzz_$target for ${seconds}s"
	"$bin/fuzz_$target" "${flags[@]}" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	status_line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED).*cov:' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status_line")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
	timeout_unit=$(sed -n 's/.*Test unit written to \(.*-timeout-[0-9a-f]*\)$/\1/p' "$log" | tail -1)
	if [[ $rc -eq 0 ]]; then
		result=ok
	elif [[ -n $timeout_unit ]] && "$bin/fuzz_$target" -timeout="$timeout" "$timeout_unit" \
		>"$log.again" 2>&1; then
		# On a busy shared machine a process can stall for many seconds; a
		# slow input is slow again, so only a timeout that repeats is a finding.
		result="ok (a timeout that did not repeat: $(basename "$timeout_unit"))"
	else
		result="CRASH (exit $rc)"
		crashed=$((crashed + 1))
		grep -E 'ERROR|SUMMARY|broken promise|runtime error|Test unit written' "$log" | head -20
		tail -40 "$log" >"$artifacts/$target-last.log"
	fi
	summary+=("$(printf '%-18s runs %-10s cov %-6s ft %-6s corpus %-6s rss %4s MB  %s' \
		"$target" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$result")")
done

echo "== fuzz summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
echo "$(($# - crashed)) clean, $crashed crashed"
[[ $crashed -eq 0 ]]
