/* e2e_start: start.sh and shutdown.sh in a copy of the tree, and data that survive them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "tests/harness.h"

enum { IMAGES = 3, IMAGE_BYTES = 40000 };

static char tree[1024], base[64];
static int frontend_port, memcache_port;
static unsigned char images[IMAGES][IMAGE_BYTES];

/* Runs a script of the copied tree with a clean environment; returns its output. */
static int run_script(const char *script, struct buf *out)
{
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd,
		   "cd '%s' && env -i PATH=\"$PATH\" HOME=\"$HOME\" MAKE=true "
		   "GALLERY_FRONTEND_PORT=%d GALLERY_MEMCACHE_PORT=%d GALLERY_FRONTEND_BIND=127.0.0.1 "
		   "./%s 2>&1",
		   tree, frontend_port, memcache_port, script);
	FILE *p = popen(cmd.data, "r");
	buf_free(&cmd);
	if (!p)
		return -1;
	char line[512];
	while (fgets(line, sizeof(line), p))
		buf_puts(out, line);
	return pclose(p);
}

static void expect_script(const char *script, const char *words)
{
	struct buf out = BUF_INIT;
	int status = run_script(script, &out);
	if (status != 0 || !strstr(out.data ? out.data : "", words))
		fail_msg("%s exited %d saying:\n%s", script, status, out.data ? out.data : "");
	buf_free(&out);
}

static int copy_tree(void **state)
{
	(void)state;
	const char *root = harness_env("GALLERY_TEST_ROOT");
	snprintf(tree, sizeof(tree), "%s/tree", harness_env("GALLERY_TEST_TMP"));
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd,
		   "rm -rf '%1$s' && mkdir -p '%1$s/bin' && cd '%2$s' && "
		   "cp -a Makefile start.sh shutdown.sh scripts sql templates static '%1$s/' && "
		   "cp -a '%3$s/memcache' '%3$s/frontend' '%3$s/worker' '%1$s/bin/'",
		   tree, root, harness_env("GALLERY_TEST_BIN"));
	frontend_port = harness_free_port();
	memcache_port = harness_free_port();
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", frontend_port);
	for (int i = 0; i < IMAGES; i++) {
		/* A GIF header saying 320 x 240, then random bytes. */
		memcpy(images[i], "GIF89a\x40\x01\xf0\x00", 10);
		for (int j = 10; j < IMAGE_BYTES; j++)
			images[i][j] = (unsigned char)(rand() & 0xff);
	}
	int status = system(cmd.data);
	buf_free(&cmd);
	return status == 0 ? 0 : -1;
}

static int stop_all(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	run_script("shutdown.sh", &out);
	buf_free(&out);
	return 0;
}

static void upload(const char *key, const unsigned char *data, size_t len)
{
	struct reply r;
	assert_true(http_upload(base, "/api/upload", key, data, len, "image.gif", NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void expect_image(const char *key, const unsigned char *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/key/%s", key);
	struct reply r;
	assert_true(http_get(base, path, &r));
	assert_int_equal(r.status, 200);
	const char *head = CONTENT_HEAD;
	assert_memory_equal(r.body.data, head, strlen(head));
	struct buf bytes = BUF_INIT;
	size_t b64_len = r.body.len - strlen(head) - 2;
	assert_true(b64_decode(r.body.data + strlen(head), b64_len, &bytes));
	assert_int_equal(bytes.len, len);
	assert_memory_equal(bytes.data, data, len);
	buf_free(&bytes);
	reply_free(&r);
}

static void test_start_twice_then_upload(void **state)
{
	(void)state;
	expect_script("start.sh", "is running at");
	expect_script("start.sh", "already running");
	/* The worker runs too, from its pid file, and said so in its log. */
	char path[1100], line[512];
	snprintf(path, sizeof(path), "%s/var/worker.log", tree);
	FILE *log = fopen(path, "r");
	assert_non_null(log);
	bool started = false;
	while (!started && fgets(line, sizeof(line), log))
		started = strstr(line, "worker started") != NULL;
	fclose(log);
	assert_true(started);
	const char *keys[IMAGES] = {"one", "two", "three"};
	for (int i = 0; i < IMAGES; i++)
		upload(keys[i], images[i], IMAGE_BYTES);
	expect_image("two", images[1], IMAGE_BYTES);
}

static void test_shutdown_stops_everything(void **state)
{
	(void)state;
	expect_script("shutdown.sh", "stopped worker");
	struct reply r;
	assert_false(http_get(base, "/healthz", &r));
	reply_free(&r);
	char pidfile[1100];
	snprintf(pidfile, sizeof(pidfile), "%s/var/frontend.pid", tree);
	assert_null(fopen(pidfile, "r"));
	snprintf(pidfile, sizeof(pidfile), "%s/var/worker.pid", tree);
	assert_null(fopen(pidfile, "r"));
}

static void test_data_survive_a_restart(void **state)
{
	(void)state;
	expect_script("start.sh", "is running at");
	struct reply r;
	assert_true(http_get(base, "/api/list_keys", &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"success\":\"true\",\"keys\":[\"three\",\"two\",\"one\"]}");
	reply_free(&r);
	expect_image("one", images[0], IMAGE_BYTES);
	expect_image("three", images[2], IMAGE_BYTES);
	expect_script("shutdown.sh", "stopped MariaDB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_twice_then_upload),
		cmocka_unit_test(test_shutdown_stops_everything),
		cmocka_unit_test(test_data_survive_a_restart),
	};
	return cmocka_run_group_tests(tests, copy_tree, stop_all);
}
