#!/usr/bin/env bash
# Runs every test program against a private MariaDB in a temporary folder and
# ends with one line: "N passed, M failed".
# usage: tests/run.sh [BIN_DIR]   (GALLERY_TEST_KEEP=1 keeps the folder;
#        GALLERY_TEST_VALGRIND=1 runs the daemons under valgrind's memcheck and
#        counts each daemon in which it found an error or a leak as a failure;
#        GALLERY_TEST_TSAN=1 for a ThreadSanitizer build, whose waits are longer;
#        GALLERY_TEST_BROWSER=0 leaves out the browser tests, for a run of a few
#        programs copied or linked into a BIN_DIR/tests of their own)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gallery-test.XXXXXX")
mkdir -p "$tmp/logs"

cleanup() {
	"$root/scripts/db.sh" stop "$tmp/db" >/dev/null 2>&1
	if [[ -n ${GALLERY_TEST_KEEP:-} ]]; then
		echo "test folder kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

"$root/scripts/db.sh" start "$tmp/db" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
set -a
. "$tmp/db/db.env"
set +a
export GALLERY_TEST_BIN=$bin GALLERY_TEST_TMP=$tmp GALLERY_TEST_ROOT=$root
export GALLERY_TEST_DB_DIR=$tmp/db GALLERY_TEST_DB_ADMIN=$(id -un)
export GALLERY_TEMPLATE_DIR=$root/templates GALLERY_STATIC_DIR=$root/static
# A page whose template names a value its data lacks answers 500 and logs the
# template and line, instead of leaving a silent hole (see the log scan below).
export GALLERY_TEMPLATE_STRICT=1
# Sanitizer builds: report every error and fail the program.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The tests check what the cache does, not how fast: a call that a loaded machine
# holds up past the front end's 200 ms default would count as memcache being down
# and change which reads hit. Two seconds were exceeded with five suites at once
# (and under valgrind or ThreadSanitizer a call takes far longer still); five
# cost the suite no time. Tests that time the cache client set their own.
export GALLERY_MEMCACHE_TIMEOUT_MS=${GALLERY_MEMCACHE_TIMEOUT_MS:-5000}

# ThreadSanitizer builds (make tsan): every report is printed, and counted below
# from the logs; the process then exits 66. The suppressions cover only races
# inside libraries that are not built with the sanitizer.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:exitcode=66:second_deadlock_stack=1:history_size=4:suppressions=$root/tests/tsan.supp}

# Valgrind (GALLERY_TEST_VALGRIND=1): tests/valgrind.supp says what it hides and why.
export VALGRIND_OPTS="--suppressions=$root/tests/valgrind.supp ${VALGRIND_OPTS:-}"

# Whether a daemon's valgrind log holds an error: the summary of a process that
# exited, or the head of any error record (a daemon killed by SIGKILL has no summary).
valgrind_found_errors() { # log
	grep -Eq '^==[0-9]+== (ERROR SUMMARY: [1-9]|Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|.* are (definitely|indirectly) lost|Process terminating with default action of signal (4|6|7|8|11) )' "$1"
}
cd "$tmp"

passed=0
failed=0
for program in "$bin"/tests/unit_* "$bin"/tests/e2e_*; do
	[[ -x $program ]] || continue
	name=$(basename "$program")
	echo "== $name"
	"$program" >"$tmp/logs/$name.out" 2>&1
	rc=$?
	cat "$tmp/logs/$name.out"
	# A program may run several cmocka groups, each with its own summary lines.
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tmp/logs/$name.out" | awk '{n += $1} END {print n + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tmp/logs/$name.out" | awk '{n += $1} END {print n + 0}')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
		echo "!! $name exited with status $rc before reporting its failures"
		failed=$((failed + 1))
	fi
	if [[ $rc -ne 0 ]]; then
		for log in "$tmp"/logs/*.log; do
			[[ -f $log ]] || continue
			# What went wrong is often a warning long before the last lines.
			echo "-- warnings and errors of $(basename "$log") (the last 30)"
			grep -E '^[^ ]+ (warn|error) ' "$log" | tail -30
			echo "-- last lines of $(basename "$log")"
			tail -15 "$log"
		done
	fi
	for log in "$tmp"/logs/*.log; do
		[[ -f $log ]] || continue
		if grep -q 'cannot render template' "$log"; then
			echo "!! a page of $name could not be rendered ($(basename "$log")):"
			grep 'cannot render template' "$log"
			failed=$((failed + 1))
		fi
		if grep -q 'WARNING: ThreadSanitizer' "$log"; then
			echo "!! ThreadSanitizer reported in a daemon of $name ($(basename "$log")):"
			cat "$log"
			failed=$((failed + 1))
		fi
	done
	# The test program's own threads (its output is printed above).
	if grep -q 'WARNING: ThreadSanitizer' "$tmp/logs/$name.out"; then
		echo "!! ThreadSanitizer reported in $name itself"
		failed=$((failed + 1))
	fi
	for vg in "$tmp"/logs/*.valgrind; do
		[[ -f $vg ]] || continue
		summary=$(grep -Eo '(ERROR SUMMARY: [0-9]+ errors|definitely lost: .*|in use at exit: .*)' "$vg" | tr '\n' ';')
		echo "valgrind, $(basename "$vg"): ${summary:-no summary (the test killed it)}"
		if valgrind_found_errors "$vg"; then
			echo "!! valgrind found errors in a daemon of $name ($(basename "$vg")):"
			cat "$vg"
			failed=$((failed + 1))
		fi
	done
	rm -f "$tmp"/logs/*.log "$tmp"/logs/*.valgrind
done

if [[ ${GALLERY_TEST_BROWSER:-1} == 0 ]]; then
	echo "$passed passed, $failed failed (browser tests left out)"
	[[ $failed -eq 0 ]]
	exit
fi

# The browser tests: Debian's Chromium driven by playwright-core, reported as TAP.
shots=$bin/screenshots
rm -rf "$shots"
echo "== browser"
GALLERY_SCREENSHOT_DIR=$shots node --test --test-reporter=tap "$root"/tests/browser/*.test.mjs \
	>"$tmp/logs/browser.out" 2>&1
rc=$?
cat "$tmp/logs/browser.out"
p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tmp/logs/browser.out")
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tmp/logs/browser.out")
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))
if [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
	echo "!! the browser tests exited with status $rc before reporting their failures"
	failed=$((failed + 1))
fi
for log in "$tmp"/logs/browser-*.log; do
	[[ $rc -ne 0 && -f $log ]] && { echo "-- last lines of $(basename "$log")"; tail -15 "$log"; }
	if [[ -f $log ]] && grep -q 'cannot render template' "$log"; then
		echo "!! a page could not be rendered in the browser tests ($(basename "$log")):"
		grep 'cannot render template' "$log"
		failed=$((failed + 1))
	fi
	if [[ -f $log ]] && grep -q 'WARNING: ThreadSanitizer' "$log"; then
		echo "!! ThreadSanitizer reported in a daemon of the browser tests ($(basename "$log")):"
		cat "$log"
		failed=$((failed + 1))
	fi
done
echo "screenshots of the pages the browser tests checked: $shots"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
