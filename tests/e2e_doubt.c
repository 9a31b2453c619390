/*
 * e2e_doubt: uploads whose COMMIT lost its answer. The front end reaches
 * MariaDB through tests/faultproxy, which cuts the connection at a COMMIT:
 * after it, or instead of it, or after it while refusing new connections.
 * The upload must answer the truth (200 if the row landed, 503 if not), or
 * say that it may have been stored; and memcache must never serve the old
 * bytes of a key whose new row landed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "tests/harness.h"

enum {
	PATH_MAX_BYTES = 1024,
	/* How long the proxy may take to act; it acts at the upload's COMMIT. */
	FAULT_WAIT_MS = 5000,
};

static struct gallery g;
static struct daemon proxy;
static char control[PATH_MAX_BYTES];
static char db_host_setting[64], db_port_setting[64];

/* An 8 x 8 PNG header, then bytes that tell the versions apart. */
static size_t make_png(char *out, size_t size, const char *tag)
{
	static const char head[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x08\x00\x00\x00\x08"
				   "\x08\x02\x00\x00\x00\x4b\x6d\x29\xde";
	size_t n = sizeof(head) - 1;
	assert_true(size > n + strlen(tag));
	memcpy(out, head, n);
	memcpy(out + n, tag, strlen(tag));
	return n + strlen(tag);
}

static void set_fault(const char *word)
{
	char tmp[PATH_MAX_BYTES + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", control);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", word);
	fclose(f);
	assert_int_equal(rename(tmp, control), 0);
}

static void upload(const char *key, const char *tag, struct reply *r)
{
	char png[256];
	size_t len = make_png(png, sizeof(png), tag);
	assert_true(http_upload(g.fe.url, "/api/upload", key, png, len, "a.png", NULL, r));
}

/* GET /api/key/<key> gives exactly the image tagged tag. */
static void expect_content(const char *key, const char *tag)
{
	char png[256], path[PATH_MAX_BYTES];
	size_t len = make_png(png, sizeof(png), tag);
	struct buf want = BUF_INIT;
	assert_true(buf_puts(&want, CONTENT_HEAD) && b64_encode(png, len, &want) &&
		    buf_puts(&want, CONTENT_TAIL));
	snprintf(path, sizeof(path), "/api/key/%s", key);
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, 200);
	if (strcmp(r.body.data, want.data) != 0)
		fail_msg("%s gave another image than '%s' (an old one from the cache?): %.120s", path,
			 tag, r.body.data);
	reply_free(&r);
	buf_free(&want);
}

static long long row_version(const char *key)
{
	char q[256];
	snprintf(q, sizeof(q), "SELECT version FROM images WHERE image_key = '%s'", key);
	return sql_scalar(q);
}

static int start(void **state)
{
	(void)state;
	snprintf(control, sizeof(control), "%s/faultproxy.control", harness_env("GALLERY_TEST_TMP"));
	remove(control);
	if (!sql_empty_gallery() ||
	    !faultproxy_start(&proxy, atoi(harness_env("GALLERY_DB_PORT")), control))
		return -1;
	snprintf(db_host_setting, sizeof(db_host_setting), "GALLERY_DB_HOST=127.0.0.1");
	snprintf(db_port_setting, sizeof(db_port_setting), "GALLERY_DB_PORT=%d", proxy.port);
	const setting fe_extra[] = {db_host_setting, db_port_setting, NULL};
	return gallery_start(&g, "doubt", NULL, fe_extra) ? 0 : -1;
}

static int stop(void **state)
{
	(void)state;
	bool stopped = gallery_stop(&g);
	daemon_stop(&proxy, SIGTERM);
	sql_empty_gallery();
	return stopped ? 0 : -1;
}

/* The key is stored and read once, so that memcache holds its first image. */
static void store_cached(const char *key, const char *tag)
{
	struct reply r;
	upload(key, tag, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	expect_content(key, tag);
	expect_content(key, tag);
}

/* The COMMIT is done and its answer lost: the front end learns it landed, says 200, and the cache forgets. */
static void test_commit_landed(void **state)
{
	(void)state;
	store_cached("landed", "first");
	set_fault("cut");
	struct reply r;
	upload("landed", "second", &r);
	assert_true(daemon_wait_log(&proxy, "cut the connection after a COMMIT", FAULT_WAIT_MS));
	if (r.status != 200)
		fail_msg("an upload whose COMMIT landed answered %ld: %s", r.status, r.body.data);
	assert_string_equal(r.body.data, UPLOAD_OK);
	reply_free(&r);
	assert_int_equal(row_version("landed"), 2);
	expect_content("landed", "second");
	assert_true(daemon_wait_log(&g.fe, "version 2 was lost; it landed", FAULT_WAIT_MS));
}

/* The COMMIT never reached the server: 503, the old image stays, and nothing new is left behind. */
static void test_commit_lost(void **state)
{
	(void)state;
	store_cached("lost", "first");
	set_fault("drop");
	struct reply r;
	upload("lost", "second", &r);
	assert_true(daemon_wait_log(&proxy, "dropped a COMMIT", FAULT_WAIT_MS));
	assert_int_equal(r.status, 503);
	assert_true(reply_is_error(&r, 503));
	assert_null(strstr(r.body.data, "may have been stored"));
	reply_free(&r);
	assert_int_equal(row_version("lost"), 1);
	expect_content("lost", "first");
	assert_true(daemon_wait_log(&g.fe, "it did not land", FAULT_WAIT_MS));
}

/*
 * The COMMIT is done, and MariaDB cannot be reached to ask: 503 that says it
 * may have been stored, and the cache forgets the key all the same, so that
 * the landed image is what a read gives once the database is back.
 */
static void test_commit_unknown(void **state)
{
	(void)state;
	store_cached("unknown", "first");
	set_fault("cut-refuse");
	struct reply r;
	upload("unknown", "second", &r);
	assert_true(daemon_wait_log(&proxy, "refusing new ones", FAULT_WAIT_MS));
	assert_true(reply_is_error(&r, 503));
	if (!strstr(r.body.data, "may have been stored; read the key to see"))
		fail_msg("the 503 does not say the upload may have been stored: %s", r.body.data);
	reply_free(&r);
	set_fault("pass");
	assert_int_equal(row_version("unknown"), 2);
	expect_content("unknown", "second");
	assert_true(daemon_wait_log(&g.fe, "cannot be learnt in time", FAULT_WAIT_MS));
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_landed),
		cmocka_unit_test(test_commit_lost),
		cmocka_unit_test(test_commit_unknown),
	};
	int failed = cmocka_run_group_tests_name("commits in doubt", tests, start, stop);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
