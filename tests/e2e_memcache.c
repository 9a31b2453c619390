/* e2e_memcache: the real memcache daemon against a real MariaDB, over HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/harness.h"

enum { MB = 1 << 20, STATS_INTERVAL_MS = 1000 };

static struct daemon mc;
/* When the shared daemon was started, and the last cache_stats row before it. */
static struct timespec mc_started;
static long long rows_before_mc;
static const setting mc_settings[] = {"GALLERY_STATS_INTERVAL_S=1",
				      "GALLERY_MEMCACHE_MAX_BODY_MB=4", NULL};

/* A base64 text of len characters (len a multiple of 4). */
static char *b64_value(size_t len, char seed)
{
	char *v = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		v[i] = (char)('A' + (seed + i) % 26);
	v[len] = '\0';
	return v;
}

static long post(const char *path, const char *json, struct reply *r)
{
	assert_true(http_post_json(mc.url, path, json, r));
	return r->status;
}

static long post_status(const char *path, const char *json)
{
	struct reply r;
	long status = post(path, json, &r);
	reply_free(&r);
	return status;
}

static void put_value(const char *key, const char *value, long version, long expected)
{
	struct buf body = BUF_INIT;
	buf_printf(&body, "{\"key\":\"%s\",\"value\":\"%s\"", key, value);
	if (version >= 0)
		buf_printf(&body, ",\"version\":%ld", version);
	buf_puts(&body, "}");
	assert_int_equal(post_status("/put_into_memcache", body.data), expected);
	buf_free(&body);
}

/* The content a get answers, or NULL on a miss. */
static char *get_value(const char *key)
{
	char json[512];
	snprintf(json, sizeof(json), "{\"key\":\"%s\"}", key);
	struct reply r;
	post("/get_from_memcache", json, &r);
	if (r.status == 404) {
		assert_true(reply_is_error(&r, 404));
		reply_free(&r);
		return NULL;
	}
	assert_int_equal(r.status, 200);
	const char *head = CONTENT_HEAD;
	assert_memory_equal(r.body.data, head, strlen(head));
	char *content = strdup(r.body.data + strlen(head));
	content[strlen(content) - 2] = '\0'; /* drop the closing "} */
	reply_free(&r);
	return content;
}

/* A number field of GET /stats. */
static long long stat_of(const char *field)
{
	struct reply r;
	assert_true(http_get(mc.url, "/stats", &r));
	assert_int_equal(r.status, 200);
	long long v = 0;
	assert_true(reply_number(&r, field, &v));
	reply_free(&r);
	return v;
}

static void configure(int capacity_mb, const char *policy)
{
	char q[256];
	snprintf(q, sizeof(q),
		 "INSERT INTO cache_properties (max_capacity, replacement_policy) VALUES (%d, '%s')",
		 capacity_mb, policy);
	assert_true(sql_exec(q));
	assert_int_equal(post_status("/refresh_configuration", NULL), 200);
}

static int start_daemon(void **state)
{
	(void)state;
	sql_exec("DELETE FROM cache_properties");
	rows_before_mc = sql_scalar("SELECT COALESCE(MAX(id),0) FROM cache_stats");
	clock_gettime(CLOCK_MONOTONIC, &mc_started);
	return rows_before_mc >= 0 && daemon_start(&mc, "memcache", mc_settings) ? 0 : -1;
}

static int stop_daemon(void **state)
{
	(void)state;
	int status = daemon_stop(&mc, SIGTERM);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int reset(void **state)
{
	(void)state;
	sql_exec("DELETE FROM cache_properties");
	post_status("/refresh_configuration", NULL);
	post_status("/clear_cache", NULL);
	return 0;
}

static void test_healthz_and_defaults(void **state)
{
	(void)state;
	struct reply r;
	assert_true(http_get(mc.url, "/healthz", &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"success\":\"true\"}");
	reply_free(&r);
	assert_int_equal(stat_of("capacity_bytes"), 10 * MB);
	struct reply s;
	assert_true(http_get(mc.url, "/stats", &s));
	assert_non_null(strstr(s.body.data, "\"policy\":\"LRU\""));
	reply_free(&s);
}

static void test_put_get_round_trip(void **state)
{
	(void)state;
	char *value = b64_value(174000, 3);
	put_value("photo one.jpg", value, -1, 200);
	char *got = get_value("photo one.jpg");
	assert_non_null(got);
	assert_string_equal(got, value);
	free(got);
	assert_int_equal(stat_of("items"), 1);
	assert_int_equal(stat_of("bytes"), strlen("photo one.jpg") + 174000);
	free(value);
}

static void test_miss_and_counters(void **state)
{
	(void)state;
	long long requests = stat_of("requests"), hits = stat_of("hits"), misses = stat_of("misses");
	put_value("k", "QUJD", -1, 200);
	free(get_value("k"));
	assert_null(get_value("absent"));
	assert_null(get_value("absent too"));
	assert_int_equal(stat_of("requests"), requests + 4);
	assert_int_equal(stat_of("hits"), hits + 1);
	assert_int_equal(stat_of("misses"), misses + 2);
}

static void test_invalidate(void **state)
{
	(void)state;
	put_value("gone", "QUJD", -1, 200);
	assert_int_equal(post_status("/invalidate_specific_key", "{\"key\":\"gone\"}"), 200);
	assert_null(get_value("gone"));
	assert_int_equal(post_status("/invalidate_specific_key", "{\"key\":\"never there\"}"), 200);
	assert_int_equal(stat_of("items"), 0);
	assert_int_equal(stat_of("bytes"), 0);
}

static void test_clear_reports_dropped(void **state)
{
	(void)state;
	put_value("a", "QUJD", -1, 200);
	put_value("b", "QUJD", -1, 200);
	put_value("c", "QUJD", -1, 200);
	struct reply r;
	post("/clear_cache", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"success\":\"true\",\"dropped\":3}");
	reply_free(&r);
	assert_int_equal(stat_of("items"), 0);
	assert_null(get_value("a"));
}

static void test_versions_refuse_stale_puts(void **state)
{
	(void)state;
	/* A reader missed at version 4, then an upload made it 5 and invalidated. */
	assert_int_equal(post_status("/invalidate_specific_key", "{\"key\":\"v\",\"version\":5}"), 200);
	put_value("v", "T0xE", 4, 409);
	assert_null(get_value("v"));
	put_value("v", "TkVX", 5, 200);
	char *got = get_value("v");
	assert_string_equal(got, "TkVX");
	free(got);
	put_value("v", "T0xE", 3, 409);
	put_value("v", "TkVXRVI=", 6, 200);
	got = get_value("v");
	assert_string_equal(got, "TkVXRVI=");
	free(got);
	put_value("v", "QUJD", -1, 200); /* unversioned puts are always taken */
	assert_true(stat_of("stale_puts") >= 2);
}

static void expect_400(const char *path, const char *body, const char *words)
{
	struct reply r;
	post(path, body, &r);
	assert_true(reply_is_error(&r, 400));
	if (!strstr(r.body.data, words))
		fail_msg("answer to %s was %s, which does not say '%s'", body, r.body.data, words);
	reply_free(&r);
}

static void test_bad_bodies_get_400(void **state)
{
	(void)state;
	char long_key[300];
	memset(long_key, 'k', 256);
	long_key[256] = '\0';
	char body[400];
	snprintf(body, sizeof(body), "{\"key\":\"%s\"}", long_key);
	const char *paths[] = {"/get_from_memcache", "/put_into_memcache",
			       "/invalidate_specific_key"};
	for (size_t i = 0; i < 3; i++) {
		expect_400(paths[i], "this is not json", "not valid JSON");
		expect_400(paths[i], "", "empty");
		expect_400(paths[i], "[\"key\",\"a\"]", "JSON object");
		expect_400(paths[i], "\"key\"", "JSON object");
		expect_400(paths[i], "{\"value\":\"QUJD\"}", "no \\\"key\\\"");
		expect_400(paths[i], "{\"key\":42,\"value\":\"QUJD\"}", "must be a string");
		expect_400(paths[i], "{\"key\":null}", "must be a string");
		expect_400(paths[i], "{\"key\":\"\",\"value\":\"QUJD\"}", "empty");
		expect_400(paths[i], body, "255 bytes");
		expect_400(paths[i], "{\"key\":\"a\",", "not valid JSON");
	}
	expect_400("/put_into_memcache", "{\"key\":\"a\"}", "no \\\"value\\\"");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":7}", "must be a string");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":\"not base64!\"}", "base64");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":\"QUJ\"}", "base64");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":\"\"}", "base64");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":\"QUJD\",\"version\":-1}",
		   "version");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":\"QUJD\",\"version\":1.5}",
		   "version");
	expect_400("/put_into_memcache", "{\"key\":\"a\",\"value\":\"QUJD\",\"version\":\"2\"}",
		   "version");
	assert_int_equal(stat_of("items"), 0);
}

static void test_body_over_limit_is_413(void **state)
{
	(void)state;
	size_t len = 5 * MB;
	char *value = b64_value(len, 1);
	struct buf body = BUF_INIT;
	buf_printf(&body, "{\"key\":\"big\",\"value\":\"%s\"}", value);
	struct reply r;
	assert_true(http_post_json(mc.url, "/put_into_memcache", body.data, &r));
	assert_true(reply_is_error(&r, 413));
	reply_free(&r);
	buf_free(&body);
	free(value);
	assert_null(get_value("big"));
}

static void test_unknown_route_and_wrong_method(void **state)
{
	(void)state;
	struct reply r;
	assert_true(http_get(mc.url, "/no/such/route", &r));
	assert_true(reply_is_error(&r, 404));
	reply_free(&r);
	assert_true(http_get(mc.url, "/get_from_memcache", &r));
	assert_true(reply_is_error(&r, 405));
	char allow[64];
	assert_non_null(reply_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "POST");
	reply_free(&r);
	assert_true(http_post_json(mc.url, "/stats", "{}", &r));
	assert_true(reply_is_error(&r, 405));
	assert_non_null(reply_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD");
	reply_free(&r);
	assert_true(http_call("DELETE", mc.url, NULL, NULL, 0, &r));
	assert_true(reply_is_error(&r, 404));
	reply_free(&r);
	assert_true(http_get(mc.url, "/healthz", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_refresh_applies_newest_row_and_shrinks(void **state)
{
	(void)state;
	configure(2, "LRU");
	assert_int_equal(stat_of("capacity_bytes"), 2 * MB);
	char *value = b64_value(400000, 5);
	const char *keys[] = {"s1", "s2", "s3", "s4"};
	for (int i = 0; i < 4; i++)
		put_value(keys[i], value, -1, 200);
	assert_int_equal(stat_of("items"), 4);
	configure(1, "RR");
	struct reply r;
	assert_true(http_get(mc.url, "/stats", &r));
	assert_non_null(strstr(r.body.data, "\"policy\":\"RR\""));
	reply_free(&r);
	assert_int_equal(stat_of("capacity_bytes"), 1 * MB);
	assert_int_equal(stat_of("items"), 2);
	assert_true(stat_of("bytes") <= 1 * MB);
	free(value);
}

static void test_lru_evicts_least_recently_used(void **state)
{
	(void)state;
	configure(1, "LRU");
	char *value = b64_value(300000, 7);
	put_value("old", value, -1, 200);
	put_value("mid", value, -1, 200);
	put_value("new", value, -1, 200);
	free(get_value("old")); /* now "mid" is the least recently used */
	put_value("newest", value, -1, 200);
	char *got = get_value("mid");
	assert_null(got);
	got = get_value("old");
	assert_non_null(got);
	free(got);
	free(value);
}

static void test_item_larger_than_capacity_is_413(void **state)
{
	(void)state;
	configure(1, "LRU");
	char *value = b64_value(MB + 4, 2);
	struct buf body = BUF_INIT;
	buf_printf(&body, "{\"key\":\"huge\",\"value\":\"%s\"}", value);
	struct reply r;
	post("/put_into_memcache", body.data, &r);
	assert_true(reply_is_error(&r, 413));
	reply_free(&r);
	buf_free(&body);
	free(value);
	assert_int_equal(stat_of("items"), 0);
}

static void test_capacity_zero_stores_nothing(void **state)
{
	(void)state;
	put_value("before", "QUJD", -1, 200);
	configure(0, "LRU");
	assert_int_equal(stat_of("items"), 0);
	put_value("k", "QUJD", -1, 200);
	assert_null(get_value("k"));
	assert_int_equal(stat_of("items"), 0);
}

/* Sums a column of cache_stats rows written after the row with id `after`. */
static long long stats_sum(const char *column, long long after)
{
	char q[256];
	snprintf(q, sizeof(q), "SELECT COALESCE(SUM(%s),0) FROM cache_stats WHERE id > %lld", column,
		 after);
	return sql_scalar(q);
}

static long long last_stats_id(void)
{
	return sql_scalar("SELECT COALESCE(MAX(id),0) FROM cache_stats");
}

/* Rows written after the row with id `after`: at least `rows`, counting `requests` or more. */
struct rows_wait {
	long long after, rows, requests;
};

static bool rows_written(void *ctx)
{
	const struct rows_wait *w = ctx;
	return stats_sum("1", w->after) >= w->rows &&
	       stats_sum("request_count", w->after) >= w->requests;
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void test_stats_rows_every_interval(void **state)
{
	(void)state;
	/*
	 * Earlier tests' requests must be in rows before the ones counted here.
	 * The timer writes one row after another: the second row stored after now
	 * was counted after the first was stored, so after every earlier request.
	 */
	struct rows_wait settled = {last_stats_id(), 2, 0};
	assert_true(wait_until(rows_written, &settled, HARNESS_STATE_WAIT_MS));
	long long last_id = last_stats_id();
	put_value("s", "QUJD", -1, 200);
	for (int i = 0; i < 3; i++)
		free(get_value("s"));
	assert_null(get_value("nope"));
	/* Rows keep coming, however long a loaded machine takes to write them. */
	struct rows_wait counted = {last_id, 3, 5};
	assert_true(wait_until(rows_written, &counted, HARNESS_STATE_WAIT_MS));
	/*
	 * And no more often than every interval: the timer writes its n-th row n
	 * intervals after it started at the earliest, so this holds on any machine.
	 */
	long since_start_ms = elapsed_ms(&mc_started);
	long long rows = stats_sum("1", rows_before_mc);
	print_message("stats: %lld rows in the %ld ms since memcache started\n", rows,
		      since_start_ms);
	assert_true(rows <= since_start_ms / STATS_INTERVAL_MS + 1);
	assert_int_equal(stats_sum("request_count", last_id), 5);
	assert_int_equal(stats_sum("hit_count", last_id), 3);
	assert_int_equal(stats_sum("miss_count", last_id), 1);
	assert_int_equal(sql_scalar("SELECT key_count FROM cache_stats ORDER BY id DESC LIMIT 1"), 1);
	assert_int_equal(sql_scalar("SELECT cache_size FROM cache_stats ORDER BY id DESC LIMIT 1"),
			 strlen("s") + 4);
}

static void test_survives_database_restart(void **state)
{
	(void)state;
	assert_true(db_server_stop());
	put_value("during outage", "QUJD", -1, 200);
	char *got = get_value("during outage");
	assert_string_equal(got, "QUJD");
	free(got);
	struct reply r;
	post("/refresh_configuration", NULL, &r);
	assert_true(reply_is_error(&r, 503));
	reply_free(&r);
	/* The timer's next row cannot be written: wait for it to say so, not for intervals. */
	assert_true(daemon_wait_for_log(&mc, "cannot write cache_stats rows", HARNESS_STATE_WAIT_MS));
	assert_true(daemon_alive(&mc));
	assert_true(db_server_start());
	struct rows_wait resumed = {last_stats_id(), 1, 0};
	assert_true(wait_until(rows_written, &resumed, HARNESS_STATE_WAIT_MS));
	assert_true(daemon_wait_for_log(&mc, "rows resume", HARNESS_STATE_WAIT_MS));
	assert_int_equal(post_status("/refresh_configuration", NULL), 200);
}

static void test_sigterm_writes_a_last_row(void **state)
{
	(void)state;
	struct daemon slow;
	const setting settings[] = {"GALLERY_STATS_INTERVAL_S=3600", NULL};
	assert_true(daemon_start(&slow, "memcache", settings));
	long long last_id = sql_scalar("SELECT COALESCE(MAX(id),0) FROM cache_stats");
	struct reply r;
	assert_true(http_post_json(slow.url, "/get_from_memcache", "{\"key\":\"x\"}", &r));
	assert_true(reply_is_error(&r, 404));
	reply_free(&r);
	int status = daemon_stop(&slow, SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The shared daemon may write rows too; the stopped one wrote one miss. */
	assert_true(stats_sum("miss_count", last_id) >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_healthz_and_defaults, reset),
		cmocka_unit_test_setup(test_put_get_round_trip, reset),
		cmocka_unit_test_setup(test_miss_and_counters, reset),
		cmocka_unit_test_setup(test_invalidate, reset),
		cmocka_unit_test_setup(test_clear_reports_dropped, reset),
		cmocka_unit_test_setup(test_versions_refuse_stale_puts, reset),
		cmocka_unit_test_setup(test_bad_bodies_get_400, reset),
		cmocka_unit_test_setup(test_body_over_limit_is_413, reset),
		cmocka_unit_test_setup(test_unknown_route_and_wrong_method, reset),
		cmocka_unit_test_setup(test_refresh_applies_newest_row_and_shrinks, reset),
		cmocka_unit_test_setup(test_lru_evicts_least_recently_used, reset),
		cmocka_unit_test_setup(test_item_larger_than_capacity_is_413, reset),
		cmocka_unit_test_setup(test_capacity_zero_stores_nothing, reset),
		cmocka_unit_test_setup(test_stats_rows_every_interval, reset),
		cmocka_unit_test_setup(test_survives_database_restart, reset),
		cmocka_unit_test_setup(test_sigterm_writes_a_last_row, reset),
	};
	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
