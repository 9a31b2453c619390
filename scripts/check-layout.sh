#!/usr/bin/env bash
# Checks the layout DESIGN.md draws: core/ speaks no HTTP (no <microhttpd.h>),
# and SQL lives in core/ and memcache's stats module only. Prints each breach
# as "path:line: what" and exits 1 when there is any.
#
# usage: scripts/check-layout.sh [ROOT]   (ROOT: the tree to check, the checkout by default)
# SQL is a string literal that starts with SELECT, INSERT INTO, REPLACE INTO,
# UPDATE ... SET, DELETE FROM, CREATE/ALTER/DROP TABLE, in any case. tests/ and
# bench/ may hold SQL (they set up and inspect databases).
set -euo pipefail

root=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
cd "$root"

# Where SQL belongs, relative to ROOT: folders end with /.
sql_homes=(core/ memcache/cache_sql.c)
# Never checked for SQL: tests and benchmarks, and what the build or tools make.
sql_exempt=(tests bench build bin var node_modules .git)

# A literal that opens with a statement. SELECT must be followed by what a
# column list starts with, so that "Select a file" in a page is not SQL.
# shellcheck disable=SC2016 # the backquotes are SQL's, not the shell's
sql_literal='"[[:space:]]*(select([[:space:]]*"|[[:space:]]+(\*|[0-9]|distinct[[:space:]]|[a-z_][a-z0-9_.`]*[[:space:]]*(\(|,|"|[[:space:]]from([[:space:]]|")|[[:space:]]as[[:space:]])))|(insert|replace)[[:space:]]+into([[:space:]]|")|update[[:space:]]+[a-z_`][a-z0-9_.`]*[[:space:]]+set([[:space:]]|")|delete[[:space:]]+from([[:space:]]|")|(create|alter|drop)[[:space:]]+(temporary[[:space:]]+)?table([[:space:]]|"))'

problems=0
report() { # path:line: message
	echo "$1"
	problems=$((problems + 1))
}

if [[ -d core ]]; then
	while IFS= read -r hit; do
		report "${hit%%:#*}: core/ includes <microhttpd.h>; HTTP belongs in frontend/"
	done < <(grep -rnE --include='*.c' --include='*.h' \
		'^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]microhttpd\.h[>"]' core/ || true)
fi

prune=()
for dir in "${sql_exempt[@]}"; do
	prune+=(-path "./$dir" -prune -o)
done
while IFS= read -r file; do
	file=${file#./}
	home=false
	for h in "${sql_homes[@]}"; do
		if [[ $h == */ && $file == "$h"* ]] || [[ $file == "$h" ]]; then
			home=true
		fi
	done
	$home && continue
	while IFS= read -r hit; do
		line=${hit%%:*}
		text=${hit#*:}
		text=${text#"${text%%[![:space:]]*}"}
		report "$file:$line: SQL outside core/: ${text:0:100}"
	done < <(grep -nEi "$sql_literal" "$file" || true)
done < <(find . "${prune[@]}" -type f -name '*.c' -print | sort)

if [[ $problems -gt 0 ]]; then
	echo "check-layout: $problems problem(s); see DESIGN.md, Layout" >&2
	exit 1
fi
echo "check-layout: ok"
