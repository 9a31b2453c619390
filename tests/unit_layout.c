/* unit_layout: scripts/check-layout.sh passes a tree that keeps the layout and names each breach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/buf.h"

enum { PATH_LEN = 4096 };

static const char *root(void)
{
	const char *r = getenv("GALLERY_TEST_ROOT");
	if (!r)
		fail_msg("GALLERY_TEST_ROOT is not set (tests/run.sh sets it)");
	return r;
}

static void run_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run_shell(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	int status = system(text);
	if (status != 0)
		fail_msg("%s: exit status %d", text, status);
	free(text);
}

/* A new empty folder for one tree; the caller frees the path. */
static char *new_tree(void)
{
	const char *tmp = getenv("GALLERY_TEST_TMP");
	char *dir = NULL;
	assert_true(asprintf(&dir, "%s/layout.XXXXXX", tmp ? tmp : "/tmp") >= 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_tree(char *dir)
{
	run_shell("rm -rf '%s'", dir);
	free(dir);
}

static void write_file(const char *tree, const char *path, const char *text)
{
	char full[PATH_LEN];
	snprintf(full, sizeof(full), "%s/%s", tree, path);
	run_shell("mkdir -p \"$(dirname '%s')\"", full);
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Runs the check on tree; its exit status, and what it printed in out. */
static int check_layout(const char *tree, struct buf *out)
{
	char cmd[2 * PATH_LEN];
	snprintf(cmd, sizeof(cmd), "'%s/scripts/check-layout.sh' '%s' 2>&1", root(), tree);
	buf_reset(out);
	assert_true(buf_puts(out, ""));
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	while (fgets(line, sizeof(line), p))
		assert_true(buf_puts(out, line));
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_says(const struct buf *out, const char *text)
{
	if (!strstr(out->data, text))
		fail_msg("the check did not say \"%s\"; it said:\n%s", text, out->data);
}

/* A tree that keeps the layout: SQL in core/ and memcache/cache_sql.c, words that are not SQL elsewhere. */
static void write_clean_tree(const char *tree)
{
	write_file(tree, "core/catalog.c",
		   "#include \"core/catalog.h\"\n"
		   "static const char q[] = \"SELECT image_key FROM images WHERE image_key = ?\";\n"
		   "static const char u[] = \"UPDATE images SET version = version + 1\";\n");
	write_file(tree, "core/catalog.h", "/* catalog */\n");
	write_file(tree, "memcache/cache_sql.c",
		   "static const char q[] = \"INSERT INTO cache_stats (a) VALUES (?)\";\n");
	write_file(tree, "frontend/pages.c",
		   "#include <microhttpd.h>\n"
		   "static const char *const words[] = {\"Select a file to upload\", \"Update failed\",\n"
		   "\t\"delete the image?\", \"Create a table of keys\", \"selected\", \"Insert a key\"};\n"
		   "/* SELECT in a comment is prose */\n");
	write_file(tree, "tests/e2e_x.c", "static const char q[] = \"DELETE FROM images\";\n");
	write_file(tree, "bench/load.c", "static const char q[] = \"SELECT COUNT(*) FROM images\";\n");
	write_file(tree, "build/core/x.c", "#include <microhttpd.h>\n\"SELECT 1\"\n");
}

static void test_a_tree_that_keeps_the_layout_passes(void **state)
{
	(void)state;
	char *tree = new_tree();
	write_clean_tree(tree);
	struct buf out = BUF_INIT;
	int status = check_layout(tree, &out);
	if (status != 0)
		fail_msg("exit %d:\n%s", status, out.data);
	expect_says(&out, "check-layout: ok");
	buf_free(&out);
	remove_tree(tree);
}

static void test_core_including_microhttpd_is_named_with_its_line(void **state)
{
	(void)state;
	char *tree = new_tree();
	write_clean_tree(tree);
	write_file(tree, "core/blob.c", "/* blob */\n#include <stdio.h>\n#  include <microhttpd.h>\n");
	write_file(tree, "core/sub/images.h", "#include \"microhttpd.h\"\n");
	struct buf out = BUF_INIT;
	assert_int_equal(check_layout(tree, &out), 1);
	expect_says(&out, "core/blob.c:3: core/ includes <microhttpd.h>");
	expect_says(&out, "core/sub/images.h:1: core/ includes <microhttpd.h>");
	expect_says(&out, "check-layout: 2 problem(s)");
	buf_free(&out);
	remove_tree(tree);
}

static void test_sql_outside_core_is_named_with_its_line(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		const char *text;
		const char *says;
	} cases[] = {
		{"frontend/a.c", "x\nexec(\"select id from t\");\n", "frontend/a.c:2: SQL outside core/"},
		{"common/db.c", "ping(\"SELECT 1\");\n", "common/db.c:1: SQL outside core/"},
		{"common/b.c", "q = \"SELECT \" COLUMNS \" FROM images\";\n", "common/b.c:1: SQL"},
		{"memcache/api.c", "\n\n\t\"  Insert Into cache_stats (a) VALUES (?)\"\n",
		 "memcache/api.c:3: SQL"},
		{"frontend/u.c", "\"update images set x = 1\"\n", "frontend/u.c:1: SQL"},
		{"frontend/d.c", "\"DELETE FROM images WHERE image_key = ?\"\n", "frontend/d.c:1: SQL"},
		{"frontend/c.c", "\"CREATE TABLE IF NOT EXISTS t (id INT)\"\n", "frontend/c.c:1: SQL"},
		{"frontend/r.c", "\"REPLACE INTO t VALUES (1)\"\n", "frontend/r.c:1: SQL"},
		{"worker/j.c", "\"SELECT COUNT(*) FROM jobs\"\n", "worker/j.c:1: SQL"},
		/* Only cache_sql.c is memcache's SQL module. */
		{"memcache/cache.c", "\"SELECT max_capacity FROM cache_properties\"\n",
		 "memcache/cache.c:1: SQL"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	char *tree = new_tree();
	write_clean_tree(tree);
	for (size_t i = 0; i < n; i++)
		write_file(tree, cases[i].file, cases[i].text);
	struct buf out = BUF_INIT;
	assert_int_equal(check_layout(tree, &out), 1);
	for (size_t i = 0; i < n; i++)
		expect_says(&out, cases[i].says);
	char total[64];
	snprintf(total, sizeof(total), "check-layout: %zu problem(s)", n);
	expect_says(&out, total);
	buf_free(&out);
	remove_tree(tree);
}

/* Each line of before is still in after. */
static void expect_kept_lines(const struct buf *before, const struct buf *after)
{
	char *copy = strdup(before->data);
	assert_non_null(copy);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "check-layout:", 13) != 0 && !strstr(after->data, line))
			fail_msg("\"%s\" is no longer reported:\n%s", line, after->data);
	}
	free(copy);
}

static void test_a_copy_of_the_real_tree_catches_what_is_planted_in_it(void **state)
{
	(void)state;
	char *tree = new_tree();
	run_shell("cd '%s' && for d in common core frontend memcache worker tests bench; do "
		  "[ ! -d \"$d\" ] || cp -a \"$d\" '%s/'; done",
		  root(), tree);
	struct buf before = BUF_INIT, after = BUF_INIT;
	check_layout(tree, &before);
	write_file(tree, "core/planted.c", "/* planted */\n#include <microhttpd.h>\n");
	run_shell("printf 'static const char planted[] = \"DELETE FROM images\";\\n' "
		  ">>'%s/common/log.c'",
		  tree);
	char says[128];
	assert_int_equal(check_layout(tree, &after), 1);
	expect_says(&after, "core/planted.c:2: core/ includes <microhttpd.h>");
	/* The planted line is the last of log.c. */
	char log_c[PATH_LEN];
	snprintf(log_c, sizeof(log_c), "%s/common/log.c", tree);
	FILE *lf = fopen(log_c, "r");
	assert_non_null(lf);
	int lines = 0, c;
	while ((c = fgetc(lf)) != EOF)
		lines += c == '\n';
	fclose(lf);
	snprintf(says, sizeof(says), "common/log.c:%d: SQL outside core/", lines);
	expect_says(&after, says);
	expect_kept_lines(&before, &after);
	buf_free(&before);
	buf_free(&after);
	remove_tree(tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_tree_that_keeps_the_layout_passes),
		cmocka_unit_test(test_core_including_microhttpd_is_named_with_its_line),
		cmocka_unit_test(test_sql_outside_core_is_named_with_its_line),
		cmocka_unit_test(test_a_copy_of_the_real_tree_catches_what_is_planted_in_it),
	};
	return cmocka_run_group_tests_name("check-layout", tests, NULL, NULL) ? EXIT_FAILURE
										: EXIT_SUCCESS;
}
