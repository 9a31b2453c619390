/* e2e_migrate: scripts/migrate.sh upgrades a database filled under schema.sql and keeps every row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <mysql.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/harness.h"

enum { PATH_MAX_LEN = 1024, IMAGE_ROWS = 4, PROPERTY_ROWS = 2, STAT_ROWS = 3 };

/*
 * The columns of today's schema.sql, every one of them, as text: a migration
 * may add columns and tables, but these values must come through unchanged.
 */
#define IMAGE_ROWS_SQL                                                                             \
	"SELECT HEX(image_key), location, content_type, size_bytes, sha256, width, height, "      \
	"version, created_at, updated_at FROM %s.images ORDER BY image_key"
#define PROPERTY_ROWS_SQL                                                                          \
	"SELECT id, max_capacity, replacement_policy, created_at FROM %s.cache_properties ORDER BY id"
#define STAT_ROWS_SQL                                                                              \
	"SELECT id, cache_size, key_count, request_count, hit_count, miss_count, created_at "    \
	"FROM %s.cache_stats ORDER BY id"

static MYSQL *admin_connect(void)
{
	MYSQL *conn = mysql_init(NULL);
	if (conn && !mysql_real_connect(conn, NULL, harness_env("GALLERY_TEST_DB_ADMIN"), NULL, NULL,
					0, harness_env("GALLERY_DB_SOCKET"), 0)) {
		fprintf(stderr, "cannot connect to MariaDB: %s\n", mysql_error(conn));
		mysql_close(conn);
		return NULL;
	}
	return conn;
}

/* Every row of a query as text, one line a row, fields between '|' (NULL as \N). */
static void query_text(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void query_text(struct buf *out, const char *fmt, ...)
{
	char query[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(query, sizeof(query), fmt, ap);
	va_end(ap);
	buf_reset(out);
	buf_puts(out, "");
	MYSQL *conn = admin_connect();
	assert_non_null(conn);
	if (mysql_query(conn, query) != 0)
		fail_msg("%s: %s", query, mysql_error(conn));
	MYSQL_RES *res = mysql_store_result(conn);
	unsigned fields = res ? mysql_num_fields(res) : 0;
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res))) {
		for (unsigned i = 0; i < fields; i++)
			buf_printf(out, "%s%s", i ? "|" : "", row[i] ? row[i] : "\\N");
		buf_puts(out, "\n");
	}
	mysql_free_result(res);
	mysql_close(conn);
}

static long long scalar(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long scalar(const char *fmt, ...)
{
	char query[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(query, sizeof(query), fmt, ap);
	va_end(ap);
	return sql_scalar(query);
}

static void exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void exec(const char *fmt, ...)
{
	char query[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(query, sizeof(query), fmt, ap);
	va_end(ap);
	if (!sql_exec(query))
		fail_msg("could not run: %s", query);
}

/* Runs scripts/migrate.sh on db as the admin, with dir as its migrations (NULL: sql/migrations). */
static int run_migrate(const char *db, const char *dir, struct buf *out)
{
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "'%s/scripts/migrate.sh' ", harness_env("GALLERY_TEST_ROOT"));
	if (dir)
		buf_printf(&cmd, "--migrations '%s' ", dir);
	buf_printf(&cmd, "%s --no-defaults --socket='%s' -u '%s' 2>&1", db,
		   harness_env("GALLERY_DB_SOCKET"), harness_env("GALLERY_TEST_DB_ADMIN"));
	buf_reset(out);
	buf_puts(out, "");
	FILE *p = popen(cmd.data, "r");
	buf_free(&cmd);
	assert_non_null(p);
	char line[1024];
	while (fgets(line, sizeof(line), p))
		buf_puts(out, line);
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A new database named db holding today's schema.sql and nothing else, filled with rows. */
static void make_filled_database(const char *db)
{
	exec("DROP DATABASE IF EXISTS %s", db);
	exec("CREATE DATABASE %s CHARACTER SET utf8mb4", db);
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "mariadb --no-defaults --socket='%s' -u '%s' %s <'%s/sql/schema.sql'",
		   harness_env("GALLERY_DB_SOCKET"), harness_env("GALLERY_TEST_DB_ADMIN"), db,
		   harness_env("GALLERY_TEST_ROOT"));
	assert_int_equal(system(cmd.data), 0);
	buf_free(&cmd);
	/* Keys that differ only by a trailing space, and one outside ASCII: the collation must hold. */
	exec("INSERT INTO %s.images (image_key, location, content_type, size_bytes, sha256, width, "
	     "height, version, created_at, updated_at) VALUES "
	     "('beach.jpg', 'ab/cd/abcd.jpg', 'image/jpeg', 123456, REPEAT('a', 64), 640, 480, 3, "
	     "'2024-01-02 03:04:05.678', '2024-02-03 04:05:06.789'), "
	     "('x', 'ef/01/ef01.png', 'image/png', 1, REPEAT('b', 64), NULL, NULL, 1, "
	     "'2024-03-01 00:00:00.001', '2024-03-01 00:00:00.001'), "
	     "('x ', 'ef/02/ef02.gif', 'image/gif', 18446744073709551615, REPEAT('c', 64), 1, 1, "
	     "18446744073709551615, '2024-03-01 00:00:00.002', '2024-03-02 00:00:00.002'), "
	     "(_utf8mb4 0xe382b5e383b3e38397e383ab2ff09f8c8a2e77656270, 'f0/9f/f09f.webp', "
	     "'image/webp', 99, REPEAT('d', 64), 4294967295, 0, 2, '2023-12-31 23:59:59.999', "
	     "'2024-01-01 00:00:00.000')",
	     db);
	exec("INSERT INTO %s.cache_properties (max_capacity, replacement_policy, created_at) VALUES "
	     "(64, 'LRU', '2024-01-01 10:00:00.000'), (128, 'RR', '2024-01-02 10:00:00.500')",
	     db);
	exec("INSERT INTO %s.cache_stats (cache_size, key_count, request_count, hit_count, "
	     "miss_count, created_at) VALUES (0, 0, 0, 0, 0, '2024-01-01 10:00:05.000'), "
	     "(5000000000, 12, 300, 200, 100, '2024-01-01 10:00:10.000'), "
	     "(1024, 1, 4294967295, 4294967295, 0, '2024-01-01 10:00:15.000')",
	     db);
}

/* The rows of today's three tables, as text. */
static void rows_of(const char *db, struct buf *out)
{
	struct buf part = BUF_INIT;
	buf_reset(out);
	query_text(&part, IMAGE_ROWS_SQL, db);
	buf_printf(out, "images:\n%s", part.data);
	query_text(&part, PROPERTY_ROWS_SQL, db);
	buf_printf(out, "cache_properties:\n%s", part.data);
	query_text(&part, STAT_ROWS_SQL, db);
	buf_printf(out, "cache_stats:\n%s", part.data);
	buf_free(&part);
}

/* Everything a second run could change: tables, columns, indexes, the data of every table. */
static void state_of(const char *db, struct buf *out)
{
	struct buf part = BUF_INIT, tables = BUF_INIT;
	buf_reset(out);
	query_text(&part,
		   "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
		   "COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s' "
		   "ORDER BY TABLE_NAME, ORDINAL_POSITION",
		   db);
	buf_printf(out, "columns:\n%s", part.data);
	query_text(&part,
		   "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM "
		   "information_schema.STATISTICS WHERE TABLE_SCHEMA = '%s' "
		   "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
		   db);
	buf_printf(out, "indexes:\n%s", part.data);
	query_text(&tables,
		   "SELECT GROUP_CONCAT(CONCAT('%s.', TABLE_NAME) ORDER BY TABLE_NAME) FROM "
		   "information_schema.TABLES WHERE TABLE_SCHEMA = '%s'",
		   db, db);
	tables.data[strcspn(tables.data, "\n")] = '\0';
	query_text(&part, "CHECKSUM TABLE %s", tables.data);
	buf_printf(out, "checksums:\n%s", part.data);
	query_text(&part, "SELECT version, name, applied_at FROM %s.schema_migrations ORDER BY version",
		   db);
	buf_printf(out, "schema_migrations:\n%s", part.data);
	buf_free(&tables);
	buf_free(&part);
}

static void expect_same(const char *what, const struct buf *before, const struct buf *after)
{
	if (strcmp(before->data, after->data) != 0)
		fail_msg("%s changed.\nbefore:\n%s\nafter:\n%s", what, before->data, after->data);
}

/* Checks that schema_migrations records exactly the NNN_name.sql files of dir. */
static void expect_recorded_every_file_of(const char *db, const char *dir)
{
	regex_t re;
	assert_int_equal(regcomp(&re, "^([0-9]{3,})_([A-Za-z0-9_-]+)\\.sql$", REG_EXTENDED), 0);
	long files = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		regmatch_t m[3];
		if (regexec(&re, e->d_name, 3, m, 0) != 0)
			continue;
		files++;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(e->d_name) - 4), e->d_name);
		long long version = strtoll(e->d_name, NULL, 10);
		if (scalar("SELECT COUNT(*) FROM %s.schema_migrations WHERE version = %lld AND "
			   "name = '%s' AND applied_at IS NOT NULL",
			   db, version, name) != 1)
			fail_msg("%s/%s is not recorded in %s.schema_migrations", dir, e->d_name, db);
	}
	if (d)
		closedir(d);
	regfree(&re);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.schema_migrations", db), files);
}

/* A folder of the test folder holding the given files, NULL-terminated name, text pairs. */
static const char *write_migrations(const char *folder, const char *const *files)
{
	static char dir[PATH_MAX_LEN];
	snprintf(dir, sizeof(dir), "%s/%s", harness_env("GALLERY_TEST_TMP"), folder);
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	assert_int_equal(system(cmd.data), 0);
	buf_free(&cmd);
	for (int i = 0; files[i]; i += 2) {
		char path[PATH_MAX_LEN * 2];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[i + 1], f);
		assert_int_equal(fclose(f), 0);
	}
	return dir;
}

static void expect_migrate(int want_status, const char *db, const char *dir, const char *words,
			   struct buf *out)
{
	int status = run_migrate(db, dir, out);
	if (status != want_status || (words && !strstr(out->data, words)))
		fail_msg("migrate.sh on %s exited %d (wanted %d, saying \"%s\"):\n%s", db, status,
			 want_status, words ? words : "", out->data);
}

/* ---- the real sql/migrations ---- */

static void test_real_migrations_upgrade_a_filled_database_and_keep_every_row(void **state)
{
	(void)state;
	const char *db = "migrate_real";
	char dir[PATH_MAX_LEN];
	snprintf(dir, sizeof(dir), "%s/sql/migrations", harness_env("GALLERY_TEST_ROOT"));
	struct buf before = BUF_INIT, after = BUF_INIT, out = BUF_INIT;
	make_filled_database(db);
	rows_of(db, &before);

	expect_migrate(0, db, NULL, NULL, &out);
	rows_of(db, &after);
	expect_same("the rows of schema.sql's tables", &before, &after);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.images", db), IMAGE_ROWS);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.cache_properties", db), PROPERTY_ROWS);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.cache_stats", db), STAT_ROWS);
	expect_recorded_every_file_of(db, dir);

	state_of(db, &before);
	expect_migrate(0, db, NULL, NULL, &out);
	assert_null(strstr(out.data, "applied"));
	state_of(db, &after);
	expect_same("the database, by a second run", &before, &after);

	exec("DROP DATABASE %s", db);
	buf_free(&before);
	buf_free(&after);
	buf_free(&out);
}

static void test_the_suite_database_was_migrated_by_db_sh(void **state)
{
	(void)state;
	char dir[PATH_MAX_LEN];
	snprintf(dir, sizeof(dir), "%s/sql/migrations", harness_env("GALLERY_TEST_ROOT"));
	expect_recorded_every_file_of(harness_env("GALLERY_DB_NAME"), dir);
}

/* ---- migrations written by the test ---- */

static const char *const ADD_COLUMN[] = {
	"901_image_note.sql",
	"-- a column with no default: old rows get NULL\n"
	"ALTER TABLE images ADD COLUMN IF NOT EXISTS note VARCHAR(64) NULL;\n",
	/* 950 must run before 1000, though "1000" sorts first as text. */
	"950_image_tags.sql",
	"CREATE TABLE IF NOT EXISTS image_tags (\n"
	"    image_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,\n"
	"    tag VARCHAR(32) NOT NULL\n"
	");\n"
	"INSERT INTO image_tags SELECT image_key, 'old' FROM images;",
	"1000_image_tags_key.sql",
	"ALTER TABLE image_tags ADD PRIMARY KEY (image_key, tag);\n",
	"README.md",
	"not a migration: left alone\n",
	NULL,
};

static void test_migrations_that_add_a_column_and_a_table_keep_rows_and_run_once(void **state)
{
	(void)state;
	const char *db = "migrate_column";
	const char *dir = write_migrations("migrations-column", ADD_COLUMN);
	struct buf original = BUF_INIT, before = BUF_INIT, after = BUF_INIT, out = BUF_INIT;
	make_filled_database(db);
	rows_of(db, &original);

	expect_migrate(0, db, dir, "applied 1000_image_tags_key.sql", &out);
	const char *first = strstr(out.data, "applied 901_image_note.sql");
	const char *second = strstr(out.data, "applied 950_image_tags.sql");
	const char *third = strstr(out.data, "applied 1000_image_tags_key.sql");
	if (!first || !second || first > second || second > third)
		fail_msg("not applied in order of their numbers:\n%s", out.data);
	rows_of(db, &after);
	expect_same("the rows of schema.sql's tables", &original, &after);
	assert_int_equal(scalar("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
				"TABLE_SCHEMA = '%s' AND TABLE_NAME = 'images' AND COLUMN_NAME = 'note'",
				db),
			 1);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.images WHERE note IS NULL", db), IMAGE_ROWS);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.image_tags", db), IMAGE_ROWS);
	expect_recorded_every_file_of(db, dir);

	state_of(db, &before);
	expect_migrate(0, db, dir, NULL, &out);
	assert_null(strstr(out.data, "applied"));
	state_of(db, &after);
	expect_same("the database, by a second run", &before, &after);

	/* Then the real folder on top: what a release with both would do. */
	expect_migrate(0, db, NULL, NULL, &out);
	rows_of(db, &after);
	expect_same("the rows of schema.sql's tables", &original, &after);

	exec("DROP DATABASE %s", db);
	buf_free(&original);
	buf_free(&before);
	buf_free(&after);
	buf_free(&out);
}

static void test_a_failing_migration_stops_the_run_and_is_not_recorded(void **state)
{
	(void)state;
	const char *db = "migrate_failure";
	const char *const broken[] = {
		"901_ok.sql", "CREATE TABLE IF NOT EXISTS first_t (id INT PRIMARY KEY);\n",
		"902_broken.sql", "ALTER TABLE no_such_table ADD COLUMN x INT;\n",
		"903_later.sql", "CREATE TABLE IF NOT EXISTS later_t (id INT PRIMARY KEY);\n",
		NULL,
	};
	const char *dir = write_migrations("migrations-failure", broken);
	struct buf before = BUF_INIT, after = BUF_INIT, out = BUF_INIT;
	make_filled_database(db);
	rows_of(db, &before);

	expect_migrate(1, db, dir, "902_broken.sql failed and is not recorded", &out);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.schema_migrations", db), 1);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.schema_migrations WHERE name = '901_ok'", db),
			 1);
	assert_int_equal(scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
				"TABLE_SCHEMA = '%s' AND TABLE_NAME = 'later_t'",
				db),
			 0);
	rows_of(db, &after);
	expect_same("the rows of schema.sql's tables", &before, &after);

	/* Once fixed, the next run applies it and what follows. */
	const char *const fixed[] = {
		"901_ok.sql", "CREATE TABLE IF NOT EXISTS first_t (id INT PRIMARY KEY);\n",
		"902_broken.sql", "ALTER TABLE first_t ADD COLUMN IF NOT EXISTS x INT;\n",
		"903_later.sql", "CREATE TABLE IF NOT EXISTS later_t (id INT PRIMARY KEY);\n",
		NULL,
	};
	dir = write_migrations("migrations-failure", fixed);
	expect_migrate(0, db, dir, "applied 903_later.sql", &out);
	assert_null(strstr(out.data, "applied 901_ok.sql"));
	expect_recorded_every_file_of(db, dir);
	rows_of(db, &after);
	expect_same("the rows of schema.sql's tables", &before, &after);

	exec("DROP DATABASE %s", db);
	buf_free(&before);
	buf_free(&after);
	buf_free(&out);
}

static void test_misnamed_renumbered_or_renamed_migrations_are_refused(void **state)
{
	(void)state;
	const char *db = "migrate_names";
	struct buf out = BUF_INIT;
	make_filled_database(db);

	const char *const twice[] = {
		"901_a.sql", "CREATE TABLE a_t (id INT);\n",
		"0901_b.sql", "CREATE TABLE b_t (id INT);\n",
		NULL,
	};
	expect_migrate(1, db, write_migrations("migrations-names", twice), "have the same number",
		       &out);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.schema_migrations", db), 0);

	const char *const misnamed[] = {"add_column.sql", "CREATE TABLE c_t (id INT);\n", NULL};
	expect_migrate(1, db, write_migrations("migrations-names", misnamed), "add_column.sql",
		       &out);
	assert_int_equal(scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
				"TABLE_SCHEMA = '%s' AND TABLE_NAME = 'c_t'",
				db),
			 0);

	const char *const first[] = {"901_a.sql", "CREATE TABLE a_t (id INT);\n", NULL};
	expect_migrate(0, db, write_migrations("migrations-names", first), "applied 901_a.sql", &out);
	const char *const renamed[] = {"901_b.sql", "CREATE TABLE b_t (id INT);\n", NULL};
	expect_migrate(1, db, write_migrations("migrations-names", renamed), "recorded migration 901 as 901_a",
		       &out);
	assert_int_equal(scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
				"TABLE_SCHEMA = '%s' AND TABLE_NAME = 'b_t'",
				db),
			 0);

	exec("DROP DATABASE %s", db);
	buf_free(&out);
}

/*
 * start.sh migrates a server of one's own as the gallery's user, which may
 * lack a privilege a migration needs (004's triggers need TRIGGER): the run
 * stops and names the privilege and the GRANT that gives it.
 */
static void test_a_missing_privilege_is_named(void **state)
{
	(void)state;
	const char *db = "migrate_grants";
	exec("DROP DATABASE IF EXISTS %s", db);
	exec("CREATE DATABASE %s CHARACTER SET utf8mb4", db);
	exec("DROP USER IF EXISTS 'no_triggers'@'localhost'");
	exec("CREATE USER 'no_triggers'@'localhost' IDENTIFIED BY 'pw'");
	exec("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, "
	     "CREATE VIEW, SHOW VIEW, LOCK TABLES, CREATE TEMPORARY TABLES ON %s.* TO "
	     "'no_triggers'@'localhost'",
	     db);
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	buf_printf(&cmd, "MYSQL_PWD=pw '%s/scripts/migrate.sh' %s --no-defaults --socket='%s' "
			 "-u no_triggers 2>&1",
		   harness_env("GALLERY_TEST_ROOT"), db, harness_env("GALLERY_DB_SOCKET"));
	FILE *p = popen(cmd.data, "r");
	assert_non_null(p);
	char line[1024];
	buf_puts(&out, "");
	while (fgets(line, sizeof(line), p))
		buf_puts(&out, line);
	int status = pclose(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
	    !strstr(out.data, "004_image_totals.sql needs the TRIGGER privilege on migrate_grants") ||
	    !strstr(out.data, "GRANT TRIGGER ON `migrate_grants`.* TO 'no_triggers'@'localhost';"))
		fail_msg("migrate.sh as a user without TRIGGER exited %d, saying:\n%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out.data);
	/* What came before 004 is applied and recorded; 004 is not. */
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.schema_migrations WHERE version < 4", db), 3);
	assert_int_equal(scalar("SELECT COUNT(*) FROM %s.schema_migrations WHERE version >= 4", db), 0);

	/* Granted, the next run goes on from 004. */
	exec("GRANT TRIGGER ON %s.* TO 'no_triggers'@'localhost'", db);
	p = popen(cmd.data, "r");
	assert_non_null(p);
	buf_reset(&out);
	buf_puts(&out, "");
	while (fgets(line, sizeof(line), p))
		buf_puts(&out, line);
	status = pclose(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    !strstr(out.data, "applied 004_image_totals.sql"))
		fail_msg("migrate.sh after the grant exited %d, saying:\n%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out.data);
	exec("DROP USER 'no_triggers'@'localhost'");
	exec("DROP DATABASE %s", db);
	buf_free(&cmd);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_migrations_upgrade_a_filled_database_and_keep_every_row),
		cmocka_unit_test(test_the_suite_database_was_migrated_by_db_sh),
		cmocka_unit_test(test_migrations_that_add_a_column_and_a_table_keep_rows_and_run_once),
		cmocka_unit_test(test_a_failing_migration_stops_the_run_and_is_not_recorded),
		cmocka_unit_test(test_misnamed_renumbered_or_renamed_migrations_are_refused),
		cmocka_unit_test(test_a_missing_privilege_is_named),
	};
	return cmocka_run_group_tests_name("migrations", tests, NULL, NULL) ? EXIT_FAILURE
									      : EXIT_SUCCESS;
}
