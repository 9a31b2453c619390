/* e2e_secure: the secure defaults: memcache's token, connection limits, sniffed types, DB rights. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/harness.h"

#define TOKEN "s3cret-token-0123456789abcdef"

enum {
	DIR_PATH_MAX = 1024,
	HEADER_MAX = 256,
	/* The connection tests: this many held connections are the per-address limit. */
	PER_IP_LIMIT = 4,
	TIMEOUT_S = 3,
	/* A closed connection is seen well within this; the timeout itself is TIMEOUT_S. */
	CLOSE_WAIT_S = 20,
};

static const char PNG[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10"
			  "\x08\x02\x00\x00\x00\x90\x91\x68\x36 secure test bytes";

static struct daemon mc, fe;
static char data_dir_setting[DIR_PATH_MAX + 32], memcache_url_setting[128];

static void set_data_dir(const char *name)
{
	snprintf(data_dir_setting, sizeof(data_dir_setting), "GALLERY_DATA_DIR=%s/%s",
		 harness_env("GALLERY_TEST_TMP"), name);
}

static void start_frontend(const setting *extra)
{
	snprintf(memcache_url_setting, sizeof(memcache_url_setting), "GALLERY_MEMCACHE_URL=%s", mc.url);
	setting settings[8] = {memcache_url_setting, data_dir_setting, "GALLERY_FRONTEND_BIND=127.0.0.1"};
	for (int i = 0; extra && extra[i]; i++)
		settings[3 + i] = extra[i];
	assert_true(daemon_start(&fe, "frontend", settings));
}

/* ---- memcache's token ---- */

static void test_memcache_refuses_to_start_off_loopback_without_a_token(void **state)
{
	(void)state;
	const setting open_bind[] = {"GALLERY_MEMCACHE_BIND=0.0.0.0", NULL};
	assert_false(daemon_start(&mc, "memcache", open_bind));
	assert_false(daemon_alive(&mc));
	assert_true(daemon_log_contains(&mc, "set GALLERY_MEMCACHE_TOKEN"));
	const setting short_token[] = {"GALLERY_MEMCACHE_TOKEN=short", NULL};
	assert_false(daemon_start(&mc, "memcache", short_token));
	assert_true(daemon_log_contains(&mc, "GALLERY_MEMCACHE_TOKEN must be at least"));
}

static void expect_unauthorized(const char *method, const char *path, const char *auth)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", mc.url, path);
	const char *headers[] = {"Content-Type: application/json", auth, NULL};
	const char *body = strcmp(method, "POST") == 0 ? "{\"key\":\"k\",\"value\":\"AAAA\"}" : NULL;
	struct reply r;
	assert_true(http_request(method, url, headers, body, body ? strlen(body) : 0, &r));
	if (!reply_is_error(&r, 401))
		fail_msg("%s %s with '%s': %ld %s", method, path, auth ? auth : "no token", r.status,
			 r.body.data);
	reply_free(&r);
}

static void test_memcache_with_a_token_refuses_requests_without_it(void **state)
{
	(void)state;
	const setting with_token[] = {"GALLERY_MEMCACHE_TOKEN=" TOKEN, NULL};
	assert_true(daemon_start(&mc, "memcache", with_token));
	static const char *const routes[][2] = {
		{"POST", "/put_into_memcache"}, {"POST", "/get_from_memcache"},
		{"POST", "/invalidate_specific_key"}, {"POST", "/clear_cache"},
		{"POST", "/refresh_configuration"}, {"GET", "/stats"}, {"GET", "/no_such_route"},
	};
	static const char *const wrong[] = {
		NULL, "Authorization: Bearer", "Authorization: Bearer " TOKEN "x",
		"Authorization: Bearer " "s3cret-token-0123456789abcdeF", "Authorization: Basic " TOKEN,
		"Authorization: Bearer s3cret", "X-Token: " TOKEN,
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		for (size_t w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++)
			expect_unauthorized(routes[i][0], routes[i][1], wrong[w]);
	/* Nothing got in, and the right token does. */
	const char *good[] = {"Content-Type: application/json", "Authorization: Bearer " TOKEN, NULL};
	char url[256];
	struct reply r;
	snprintf(url, sizeof(url), "%s/stats", mc.url);
	assert_true(http_request("GET", url, good, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"items\":0,"));
	assert_non_null(strstr(r.body.data, "\"requests\":0,"));
	reply_free(&r);
	snprintf(url, sizeof(url), "%s/put_into_memcache", mc.url);
	const char *put = "{\"key\":\"k\",\"value\":\"AAAA\"}";
	assert_true(http_request("POST", url, good, put, strlen(put), &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* /healthz stays open for start scripts. */
	assert_true(http_get(mc.url, "/healthz", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(daemon_stop(&mc, SIGTERM), 0);
}

static void upload_and_read_twice(void)
{
	struct reply r;
	assert_true(http_upload(fe.url, "/api/upload", "secure key", PNG, sizeof(PNG) - 1, "a.png", NULL,
				&r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	for (int i = 0; i < 2; i++) {
		assert_true(http_get(fe.url, "/api/key/secure%20key", &r));
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
}

static long memcache_items(const char *auth)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/stats", mc.url);
	const char *headers[] = {auth, NULL};
	struct reply r;
	assert_true(http_request("GET", url, headers, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	const char *items = strstr(r.body.data, "\"items\":");
	assert_non_null(items);
	long n = strtol(items + 8, NULL, 10);
	reply_free(&r);
	return n;
}

static void test_frontend_sends_the_token(void **state)
{
	(void)state;
	const setting with_token[] = {"GALLERY_MEMCACHE_TOKEN=" TOKEN, NULL};
	assert_true(daemon_start(&mc, "memcache", with_token));
	set_data_dir("secure-token");
	start_frontend(with_token);
	struct reply r;
	assert_true(http_get(fe.url, "/healthz", &r));
	assert_non_null(strstr(r.body.data, "\"cache\":\"up\""));
	reply_free(&r);
	upload_and_read_twice();
	assert_int_equal(memcache_items("Authorization: Bearer " TOKEN), 1);
	assert_int_equal(daemon_stop(&fe, SIGTERM), 0);

	/* Without the token the front end is refused, and answers from disk all the same. */
	start_frontend(NULL);
	assert_true(http_get(fe.url, "/healthz", &r));
	assert_non_null(strstr(r.body.data, "\"cache\":\"down\""));
	reply_free(&r);
	assert_true(http_post_json(mc.url, "/clear_cache", NULL, &r));
	assert_int_equal(r.status, 401);
	reply_free(&r);
	assert_true(http_get(fe.url, "/api/key/secure%20key", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(daemon_stop(&fe, SIGTERM), 0);
	assert_int_equal(daemon_stop(&mc, SIGTERM), 0);
	sql_exec("DELETE FROM images");
}

/* ---- slow clients and the per-address limit ---- */

static int connect_from(const char *from, int port)
{
	int fd = tcp_connect(port, from, CLOSE_WAIT_S);
	assert_true(fd >= 0);
	return fd;
}

/* Waits for the server to close fd; true when it did without answering. */
static bool closed_without_answer(int fd)
{
	char c;
	ssize_t n;
	while ((n = recv(fd, &c, 1, 0)) < 0 && errno == EINTR)
		;
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static bool took_every_slow_client(void *ctx)
{
	return daemon_connections_from(ctx, "127.0.0.2") >= PER_IP_LIMIT;
}

static void expect_limits_hold(struct daemon *d, const char *request_start)
{
	int held[PER_IP_LIMIT];
	/* Slow clients from 127.0.0.2 take every connection that address may have. */
	for (int i = 0; i < PER_IP_LIMIT; i++) {
		held[i] = connect_from("127.0.0.2", d->port);
		assert_int_equal(send(held[i], request_start, strlen(request_start), MSG_NOSIGNAL),
				 (ssize_t)strlen(request_start));
	}
	/* The daemon has taken them before the one past the limit comes. */
	assert_true(wait_until(took_every_slow_client, d, HARNESS_STATE_WAIT_MS));
	int extra = connect_from("127.0.0.2", d->port);
	send(extra, request_start, strlen(request_start), MSG_NOSIGNAL);
	assert_true(closed_without_answer(extra));
	close(extra);
	/* Another client is served at once. */
	struct reply r;
	assert_true(http_get(d->url, "/healthz", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* The slow ones are closed when they stay silent past the timeout. */
	for (int i = 0; i < PER_IP_LIMIT; i++) {
		assert_true(closed_without_answer(held[i]));
		close(held[i]);
	}
	/* Then the address may connect again. */
	int again = connect_from("127.0.0.2", d->port);
	const char *healthz = "GET /healthz HTTP/1.0\r\n\r\n";
	send(again, healthz, strlen(healthz), MSG_NOSIGNAL);
	char answer[16] = {0};
	assert_true(recv(again, answer, sizeof(answer) - 1, MSG_WAITALL) > 0);
	int status = 0;
	assert_int_equal(sscanf(answer, "HTTP/1.%*d %d", &status), 1);
	assert_int_equal(status, 200);
	close(again);
}

static void test_slow_clients_do_not_stop_others(void **state)
{
	(void)state;
	const setting limits[] = {"GALLERY_PER_IP_CONNECTIONS=4", "GALLERY_CONNECTION_TIMEOUT_S=3",
				  NULL};
	assert_true(daemon_start(&mc, "memcache", limits));
	expect_limits_hold(&mc, "POST /get_from_memcache HTTP/1.1\r\nHost: x\r\n");
	set_data_dir("secure-limits");
	start_frontend(limits);
	expect_limits_hold(&fe, "POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Le");
	assert_int_equal(daemon_stop(&fe, SIGTERM), 0);
	assert_int_equal(daemon_stop(&mc, SIGTERM), 0);
}

/* ---- what /raw/ says an image is ---- */

static void test_raw_serves_the_sniffed_type_only(void **state)
{
	(void)state;
	assert_true(daemon_start(&mc, "memcache", NULL));
	set_data_dir("secure-raw");
	start_frontend(NULL);
	/* PNG bytes, named and labelled as a page. */
	CURL *curl = curl_easy_init();
	curl_mime *form = curl_mime_init(curl);
	curl_mimepart *part = curl_mime_addpart(form);
	curl_mime_name(part, "key");
	curl_mime_data(part, "disguised", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(form);
	curl_mime_name(part, "file");
	curl_mime_data(part, PNG, sizeof(PNG) - 1);
	curl_mime_filename(part, "page.html");
	curl_mime_type(part, "text/html");
	char url[256];
	snprintf(url, sizeof(url), "%s/api/upload", fe.url);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_MIMEPOST, form);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fwrite);
	FILE *sink = fopen("/dev/null", "w");
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	fclose(sink);
	curl_mime_free(form);
	curl_easy_cleanup(curl);
	struct reply r;
	char value[HEADER_MAX];
	assert_true(http_get(fe.url, "/raw/disguised", &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(reply_header(&r, "Content-Type", value, sizeof(value)), "image/png");
	assert_string_equal(reply_header(&r, "X-Content-Type-Options", value, sizeof(value)),
			    "nosniff");
	reply_free(&r);
	assert_int_equal(daemon_stop(&fe, SIGTERM), 0);
	assert_int_equal(daemon_stop(&mc, SIGTERM), 0);
	sql_exec("DELETE FROM images");
}

/* ---- the database user's rights ---- */

static void test_database_user_has_only_the_rights_it_needs(void **state)
{
	(void)state;
	MYSQL *conn = mysql_init(NULL);
	assert_non_null(mysql_real_connect(conn, NULL, harness_env("GALLERY_DB_USER"),
					   harness_env("GALLERY_DB_PASSWORD"),
					   harness_env("GALLERY_DB_NAME"), 0,
					   harness_env("GALLERY_DB_SOCKET"), 0));
	/* What the daemons do works. */
	assert_int_equal(mysql_query(conn, "SELECT COUNT(*) FROM images"), 0);
	mysql_free_result(mysql_store_result(conn));
	static const char *const refused[] = {
		"DROP TABLE images",
		"CREATE TABLE stolen (x INT)",
		"ALTER TABLE images ADD COLUMN x INT",
		"TRUNCATE TABLE cache_stats",
		"GRANT ALL ON *.* TO 'gallery'@'localhost'",
		"CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'",
		"SELECT COUNT(*) FROM mysql.user",
		"SELECT 1 INTO OUTFILE '/tmp/gallery-secure-test-outfile'",
		"CREATE DATABASE other",
		"DROP DATABASE gallery",
		"SHUTDOWN",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (mysql_query(conn, refused[i]) == 0)
			fail_msg("the daemons' database user may run: %s", refused[i]);
		mysql_free_result(mysql_store_result(conn));
	}
	mysql_close(conn);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcache_refuses_to_start_off_loopback_without_a_token),
		cmocka_unit_test(test_memcache_with_a_token_refuses_requests_without_it),
		cmocka_unit_test(test_frontend_sends_the_token),
		cmocka_unit_test(test_slow_clients_do_not_stop_others),
		cmocka_unit_test(test_raw_serves_the_sniffed_type_only),
		cmocka_unit_test(test_database_user_has_only_the_rights_it_needs),
	};
	int failed = cmocka_run_group_tests_name("secure defaults", tests, NULL, NULL);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
