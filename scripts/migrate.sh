#!/usr/bin/env bash
# Brings a database to the current schema: applies sql/schema.sql (idempotent),
# then each sql/migrations/NNN_name.sql not yet recorded in schema_migrations,
# in order of NNN, recording each once it has succeeded. Safe at every start.
#
# usage: scripts/migrate.sh [--migrations DIR] DATABASE [mariadb client options...]
#   The client options reach the server as a user allowed to create and alter
#   tables, e.g. --no-defaults --socket=PATH -u root, or --host=H --port=P
#   --user=U (the password in MYSQL_PWD). DIR (or GALLERY_MIGRATIONS_DIR)
#   replaces sql/migrations, for tests.
# A migration that fails stops the run with its file named and is not recorded:
# fix it and run again. Nothing after it is applied.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
migrations=${GALLERY_MIGRATIONS_DIR:-$root/sql/migrations}
if [[ ${1:-} == --migrations ]]; then
	migrations=${2:?"--migrations needs a folder"}
	shift 2
fi
db=${1:-}
[[ -n $db ]] || { echo "usage: $0 [--migrations DIR] DATABASE [mariadb options...]" >&2; exit 2; }
shift
client=(mariadb "$@" "$db")

die() {
	echo "migrate: $*" >&2
	exit 1
}

"${client[@]}" <"$root/sql/schema.sql" || die "applying sql/schema.sql to $db failed"
"${client[@]}" <<-'SQL' || die "cannot create the schema_migrations table in $db"
	CREATE TABLE IF NOT EXISTS schema_migrations (
	    version    INT UNSIGNED NOT NULL,
	    name       VARCHAR(255) NOT NULL,
	    applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	    PRIMARY KEY (version)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
SQL

# The migrations on disk, checked before anything is applied: a misnamed file
# would otherwise be skipped in silence, and two files with one number (two
# branches merged) would leave which one runs to chance.
declare -A file_of=()
versions=()
if [[ -d $migrations ]]; then
	for path in "$migrations"/*.sql; do
		[[ -e $path ]] || continue
		file=$(basename "$path")
		[[ $file =~ ^([0-9]{3,})_([A-Za-z0-9_-]+)\.sql$ ]] ||
			die "$path: a migration is named NNN_name.sql (digits, then letters, digits, _ or -)"
		version=$((10#${BASH_REMATCH[1]}))
		[[ -z ${file_of[$version]:-} ]] ||
			die "$migrations: ${file_of[$version]} and $file have the same number; renumber one"
		file_of[$version]=$file
		versions+=("$version")
	done
elif [[ -e $migrations ]]; then
	die "$migrations is not a folder"
fi

# What the database has already applied, as "version name" lines.
declare -A recorded=()
rows=$("${client[@]}" --batch --skip-column-names -e "SELECT version, name FROM schema_migrations") ||
	die "cannot read schema_migrations in $db"
while read -r version name; do
	if [[ -n $version ]]; then
		recorded[$version]=$name
	fi
done <<<"$rows"

# A number recorded under another name means the file was renamed or reused
# after it ran: applying the new one would be guessing.
for version in "${!recorded[@]}"; do
	file=${file_of[$version]:-}
	[[ -z $file || ${file%.sql} == "${recorded[$version]}" ]] ||
		die "$db recorded migration $version as ${recorded[$version]}, but $migrations holds $file"
done

# When the server refused a statement for want of a privilege (the user that
# start.sh logs in as on a server of one's own may lack one, e.g. TRIGGER for
# 004's triggers), says which and how to grant it. errors: the client's stderr.
explain_privilege() { # file errors
	local file=$1 errors=$2 user privilege
	user=$(grep -o "to user '[^']*'@'[^']*'" "$errors" | head -1 | sed 's/^to user //' || true)
	if grep -q 'You do not have the SUPER privilege and binary logging is enabled' "$errors"; then
		echo "migrate: $file creates triggers, and this server logs binary: that needs the SUPER" \
			"privilege, or an administrator's SET GLOBAL log_bin_trust_function_creators = 1;" \
			"then run again" >&2
	elif privilege=$(grep -o '[A-Z][A-Z ]* command denied to user' "$errors" | head -1) && [[ -n $privilege ]]; then
		privilege=${privilege% command denied to user}
		echo "migrate: $file needs the $privilege privilege on $db, which ${user:-this user}" \
			"lacks. As an administrator: GRANT $privilege ON \`$db\`.* TO ${user:-the user};" \
			"then run again" >&2
	fi
}

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -n | sed '/^$/d')
for version in "${versions[@]}"; do
	[[ -z ${recorded[$version]:-} ]] || continue
	file=${file_of[$version]}
	# One session: the client stops at the first failing statement, so the row
	# that records the migration is written only when every statement before it
	# succeeded.
	if ! {
		cat "$migrations/$file"
		printf '\nINSERT INTO schema_migrations (version, name) VALUES (%d, '\''%s'\'');\n' \
			"$version" "${file%.sql}"
	} | "${client[@]}" 2>"$errors"; then
		cat "$errors" >&2
		explain_privilege "$file" "$errors"
		die "$file failed and is not recorded; statements before the failing one may have run. Fix it and run again; later migrations were not applied"
	fi
	cat "$errors" >&2
	echo "migrate: applied $file"
done
