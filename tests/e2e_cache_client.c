/* e2e_cache_client: the front end's cache client against a real memcache daemon. */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/config.h"
#include "core/cache_client.h"
#include "tests/harness.h"

enum {
	MB = 1 << 20,
	/*
	 * The client's timeout: far above what a local call takes even on a loaded
	 * machine, so that only a hung memcache reaches it.
	 */
	TIMEOUT_MS = 2000,
	BREAKER_MS = 500,
	WARN_INTERVAL_MS = 1000,
	/*
	 * Tries of a check that needs this thread to run within a window of the
	 * client's clock (the breaker's 500 ms, the log limiter's second); a
	 * loaded machine may hold the thread past it, and then the check is made
	 * again rather than counted as failed.
	 */
	WINDOW_TRIES = 5,
	THREADS = 4,
	CALLS_PER_THREAD = 50,
};


static struct daemon mc;
static const setting mc_settings[] = {"GALLERY_STATS_INTERVAL_S=60", NULL};

/* A base64 text of len characters (len a multiple of 4). */
static char *b64_value(size_t len, char seed)
{
	char *v = malloc(len + 1);
	assert_non_null(v);
	for (size_t i = 0; i < len; i++)
		v[i] = (char)('A' + (seed + i) % 26);
	v[len] = '\0';
	return v;
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void start_clock(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

/* The client under test, made by start_all. */
static struct cache_client *client;

static enum cache_answer get_str(const char *key, struct buf *out)
{
	return cache_client_get(client, key, strlen(key), out);
}

static enum cache_answer put_str(const char *key, const char *value, uint64_t version)
{
	return cache_client_put(client, key, strlen(key), value, strlen(value), version);
}

/* Asserts that key hits with exactly value as its content. */
static void expect_hit(const char *key, const char *value)
{
	struct buf out = BUF_INIT;
	assert_int_equal(get_str(key, &out), CACHE_ANSWER_OK);
	size_t len = 0;
	const char *content = cache_client_content(&out, &len);
	assert_non_null(content);
	assert_int_equal(len, strlen(value));
	assert_memory_equal(content, value, len);
	buf_free(&out);
}

static void expect_miss(const char *key)
{
	struct buf out = BUF_INIT;
	assert_int_equal(get_str(key, &out), CACHE_ANSWER_MISS);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static long long stat_number(const char *field)
{
	cJSON *stats = NULL;
	assert_int_equal(cache_client_stats(client, &stats), CACHE_ANSWER_OK);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(stats, field);
	assert_true(cJSON_IsNumber(n));
	long long v = (long long)n->valuedouble;
	cJSON_Delete(stats);
	return v;
}

/* Sends raw JSON to memcache, bypassing the client, and returns the status. */
static long raw_post(const char *path, const char *json)
{
	struct reply r;
	assert_true(http_post_json(mc.url, path, json, &r));
	long status = r.status;
	reply_free(&r);
	return status;
}

/* ---- stderr capture, to count the client's warnings ---- */

static int saved_stderr = -1;
static char capture_path[512];

static void capture_start(void)
{
	snprintf(capture_path, sizeof(capture_path), "%s/logs/cache_client-stderr-%d.log",
		 harness_env("GALLERY_TEST_TMP"), (int)getpid());
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	int fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved_stderr >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* What was written to stderr since capture_start; the caller frees it. */
static char *capture_end(void)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	FILE *f = fopen(capture_path, "r");
	assert_non_null(f);
	struct buf text = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_true(buf_append(&text, chunk, n));
	fclose(f);
	fputs(text.data ? text.data : "", stderr); /* keep it in the test's output */
	return buf_steal(&text);
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;
	for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
		n++;
	return n;
}

/* ---- fixtures ---- */

static int start_all(void **state)
{
	(void)state;
	sql_exec("DELETE FROM cache_properties");
	if (!daemon_start(&mc, "memcache", mc_settings))
		return -1;
	char timeout[32];
	snprintf(timeout, sizeof(timeout), "%d", TIMEOUT_MS);
	setenv("GALLERY_MEMCACHE_URL", mc.url, 1);
	setenv("GALLERY_MEMCACHE_TIMEOUT_MS", timeout, 1);
	struct config cfg;
	char err[512];
	if (!config_load(&cfg, err, sizeof(err))) {
		fprintf(stderr, "config_load: %s\n", err);
		return -1;
	}
	client = cache_client_open(cfg.memcache_url, cfg.memcache_token, cfg.memcache_timeout_ms);
	return client ? 0 : -1;
}

static int stop_all(void **state)
{
	(void)state;
	cache_client_close(client);
	client = NULL;
	daemon_stop(&mc, SIGTERM);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	sql_exec("DELETE FROM cache_properties");
	raw_post("/refresh_configuration", NULL);
	raw_post("/clear_cache", NULL);
	return 0;
}

/* ---- tests ---- */

static void test_get_miss_leaves_out_alone(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	assert_true(buf_puts(&out, "before"));
	assert_int_equal(get_str("absent", &out), CACHE_ANSWER_MISS);
	assert_string_equal(out.data, "before");
	assert_int_equal(out.len, strlen("before"));
	buf_free(&out);
}

static void test_put_then_get_hits(void **state)
{
	(void)state;
	char *value = b64_value(200000, 3);
	assert_int_equal(put_str("photo one.jpg", value, 1), CACHE_ANSWER_OK);
	struct buf out = BUF_INIT;
	assert_int_equal(get_str("photo one.jpg", &out), CACHE_ANSWER_OK);
	/* The whole answer, as the JSON API sends it on. */
	assert_int_equal(out.len, strlen(CONTENT_HEAD) + strlen(value) + 2);
	assert_memory_equal(out.data, CONTENT_HEAD, strlen(CONTENT_HEAD));
	buf_free(&out);
	expect_hit("photo one.jpg", value);
	free(value);
}

static void test_content_rejects_other_shapes(void **state)
{
	(void)state;
	const char *bad[] = {
	    "",
	    "{\"success\":\"true\",\"content\":\"",
	    "{\"success\":\"true\",\"content\":\"QUJD\"",
	    "{\"success\":\"false\",\"error\":{\"code\":404,\"message\":\"x\"}}",
	    "{\"success\": \"true\",\"content\":\"QUJD\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT;
		assert_true(buf_puts(&b, bad[i]));
		size_t len = 99;
		assert_null(cache_client_content(&b, &len));
		buf_free(&b);
	}
	struct buf empty = BUF_INIT;
	assert_null(cache_client_content(&empty, NULL));
	struct buf b = BUF_INIT;
	assert_true(buf_puts(&b, "{\"success\":\"true\",\"content\":\"\"}"));
	size_t len = 99;
	assert_non_null(cache_client_content(&b, &len));
	assert_int_equal(len, 0);
	buf_free(&b);
}

static void test_awkward_keys_round_trip(void **state)
{
	(void)state;
	char long_key[256];
	for (size_t i = 0; i < 255; i++)
		long_key[i] = "\"\\/x"[i % 4];
	long_key[255] = '\0';
	const char *keys[] = {
	    "say \"cheese\"",
	    "back\\slash",
	    "a/b/../c",
	    "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x8e\x89",
	    "tab\there, newline\nthere",
	    "\\\"",
	    long_key,
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	char values[sizeof(keys) / sizeof(keys[0])][16];
	for (size_t i = 0; i < n; i++) {
		snprintf(values[i], sizeof(values[i]), "QUJD%c%c%c%c", 'A' + (int)i, 'B', 'C', 'D');
		assert_int_equal(put_str(keys[i], values[i], 0), CACHE_ANSWER_OK);
	}
	for (size_t i = 0; i < n; i++)
		expect_hit(keys[i], values[i]);
	assert_int_equal(stat_number("items"), n);
	/* The keys arrived as the same text, not merely a self-consistent mangling of it. */
	assert_int_equal(raw_post("/get_from_memcache", "{\"key\":\"say \\\"cheese\\\"\"}"), 200);
	assert_int_equal(raw_post("/get_from_memcache", "{\"key\":\"back\\\\slash\"}"), 200);
	assert_int_equal(
	    raw_post("/get_from_memcache",
		     "{\"key\":\"caf\\u00e9 \xe6\x9d\xb1\xe4\xba\xac \\ud83c\\udf89\"}"),
	    200);
	expect_miss("say \\\"cheese\\\"");
}

static void test_stale_put_after_invalidate_is_refused(void **state)
{
	(void)state;
	assert_int_equal(put_str("v", "T0xE", 4), CACHE_ANSWER_OK);
	expect_hit("v", "T0xE");
	/* An upload made it version 5; a reader that missed at 4 must not put the old value back.
	 */
	assert_int_equal(cache_client_invalidate(client, "v", 1, 5), CACHE_ANSWER_OK);
	expect_miss("v");
	assert_int_equal(put_str("v", "T0xE", 4), CACHE_ANSWER_OK); /* 409: rightly refused */
	expect_miss("v");
	assert_int_equal(put_str("v", "TkVX", 5), CACHE_ANSWER_OK);
	expect_hit("v", "TkVX");
	assert_true(stat_number("stale_puts") >= 1);
	/* Invalidating a key the cache does not hold is a success. */
	assert_int_equal(cache_client_invalidate(client, "never there", strlen("never there"), 1),
			 CACHE_ANSWER_OK);
}

/* The encoder every miss uses: known answers, then every length round-trips through the decoder. */
static void test_b64_encode(void **state)
{
	(void)state;
	const char *cases[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
				  {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"\xff\xfe\x00", "//4A"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;
		size_t n = i == 5 ? 3 : strlen(cases[i][0]);
		assert_true(buf_puts(&out, "<") && b64_encode(cases[i][0], n, &out));
		assert_int_equal(out.len, 1 + b64_encoded_len(n));
		assert_string_equal(out.data + 1, cases[i][1]);
		buf_free(&out);
	}
	unsigned char bytes[600];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 7919 >> 3);
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		struct buf text = BUF_INIT, back = BUF_INIT;
		assert_true(b64_encode(bytes, n, &text));
		assert_int_equal(text.len, b64_encoded_len(n));
		assert_int_equal(strlen(text.data), text.len);
		assert_true(b64_decode(text.data, text.len, &back));
		assert_int_equal(back.len, n);
		assert_memory_equal(back.data, bytes, n);
		buf_free(&text);
		buf_free(&back);
	}
}

/* A get answer holding value, as the front end builds it on a miss; room as the caller reserves it. */
static void answer_of(struct buf *answer, const char *key, const char *value, bool room)
{
	if (room)
		assert_true(buf_reserve(answer, strlen(value) + 64 + cache_client_put_room(strlen(key))));
	assert_true(buf_puts(answer, "{\"success\":\"true\",\"content\":\"") &&
		    buf_puts(answer, value) && buf_puts(answer, "\"}"));
}

static void test_put_answer_stores_the_value_and_keeps_the_answer(void **state)
{
	(void)state;
	const char *keys[] = {"plain", "say \"cheese\"", "tab\there, newline\nthere", "\\\""};
	char *big = b64_value(133336, 3);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *value = i == 0 ? big : "QUJDRA==";
		struct buf answer = BUF_INIT, before = BUF_INIT;
		/* With the room reserved, and without it (the answer then grows first). */
		answer_of(&answer, keys[i], value, i % 2 == 0);
		assert_true(buf_append(&before, answer.data, answer.len));
		char *data = answer.data;
		assert_int_equal(cache_client_put_answer(client, keys[i], strlen(keys[i]), &answer, 7),
				 CACHE_ANSWER_OK);
		/* The caller sends the answer afterwards: it is exactly as it was. */
		assert_int_equal(answer.len, before.len);
		assert_memory_equal(answer.data, before.data, before.len + 1);
		if (i % 2 == 0)
			assert_ptr_equal(answer.data, data); /* framed in place, never copied */
		expect_hit(keys[i], value);
		buf_free(&answer);
		buf_free(&before);
	}
	free(big);
	/* The version went with it: an older one is refused, and counted. */
	struct buf old = BUF_INIT;
	answer_of(&old, "plain", "T0xE", true);
	assert_int_equal(cache_client_invalidate(client, "plain", 5, 9), CACHE_ANSWER_OK);
	assert_int_equal(cache_client_put_answer(client, "plain", 5, &old, 8), CACHE_ANSWER_OK);
	expect_miss("plain");
	assert_true(stat_number("stale_puts") >= 1);
	/* Not a get answer: nothing is sent. */
	struct buf junk = BUF_INIT;
	assert_true(buf_puts(&junk, "{\"content\":\"QUJD\"}"));
	assert_int_equal(cache_client_put_answer(client, "junk", 4, &junk, 0), CACHE_ANSWER_DOWN);
	expect_miss("junk");
	buf_free(&old);
	buf_free(&junk);
}

static void test_refresh_and_too_large_put(void **state)
{
	(void)state;
	assert_true(sql_exec("INSERT INTO cache_properties (max_capacity, replacement_policy) "
			     "VALUES (1, 'RR')"));
	assert_int_equal(cache_client_refresh(client), CACHE_ANSWER_OK);
	assert_int_equal(stat_number("capacity_bytes"), MB);
	char *value = b64_value(MB + 4, 2);
	assert_int_equal(put_str("huge", value, 0), CACHE_ANSWER_OK); /* 413: rightly refused */
	expect_miss("huge");
	free(value);
}

static void test_clear_reports_dropped(void **state)
{
	(void)state;
	assert_int_equal(put_str("a", "QUJD", 0), CACHE_ANSWER_OK);
	assert_int_equal(put_str("b", "QUJD", 0), CACHE_ANSWER_OK);
	assert_int_equal(put_str("c", "QUJD", 0), CACHE_ANSWER_OK);
	long long dropped = -1;
	assert_int_equal(cache_client_clear(client, &dropped), CACHE_ANSWER_OK);
	assert_int_equal(dropped, 3);
	expect_miss("a");
	assert_int_equal(cache_client_clear(client, NULL), CACHE_ANSWER_OK);
}

static void test_stats_parse(void **state)
{
	(void)state;
	assert_int_equal(put_str("s1", "QUJD", 0), CACHE_ANSWER_OK);
	assert_int_equal(put_str("s2", "QUJD", 0), CACHE_ANSWER_OK);
	cJSON *stats = NULL;
	assert_int_equal(cache_client_stats(client, &stats), CACHE_ANSWER_OK);
	assert_true(cJSON_IsObject(stats));
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(stats, "items");
	assert_true(cJSON_IsNumber(items));
	assert_int_equal(items->valueint, 2);
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(stats, "policy")));
	cJSON_Delete(stats);
}

struct worker {
	pthread_t thread;
	int id;
	atomic_int failures;
};

/* Puts and gets of this thread's own keys; each thread has a handle of its own. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < CALLS_PER_THREAD; i++) {
		char key[64], value[16];
		snprintf(key, sizeof(key), "thread %d key %d", w->id, i);
		snprintf(value, sizeof(value), "QUJD%04d", i % 10000);
		struct buf out = BUF_INIT;
		size_t len = 0;
		const char *content = NULL;
		if (put_str(key, value, 0) == CACHE_ANSWER_OK &&
		    get_str(key, &out) == CACHE_ANSWER_OK)
			content = cache_client_content(&out, &len);
		if (!content || len != strlen(value) || memcmp(content, value, len) != 0)
			atomic_fetch_add(&w->failures, 1);
		buf_free(&out);
	}
	return NULL;
}

static void test_threads_use_their_own_handles(void **state)
{
	(void)state;
	struct worker workers[THREADS];
	for (int i = 0; i < THREADS; i++) {
		workers[i].id = i;
		atomic_init(&workers[i].failures, 0);
		assert_int_equal(pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]),
				 0);
	}
	int failures = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(workers[i].thread, NULL);
		failures += atomic_load(&workers[i].failures);
	}
	assert_int_equal(failures, 0);
	assert_int_equal(stat_number("items"), THREADS * CALLS_PER_THREAD);
}

static void test_error_answers_warn_once_per_second(void **state)
{
	(void)state;
	char long_key[257];
	memset(long_key, 'k', 256);
	long_key[256] = '\0';
	int down = 0;
	enum cache_answer next = CACHE_ANSWER_DOWN;
	bool in_one_second = false;
	/* The five calls must come within the limiter's second; a held-up thread tries again. */
	for (int try = 0; !in_one_second && try < WINDOW_TRIES; try++) {
		if (try > 0)
			free(capture_end());
		/* Sleeps never end early: afterwards no earlier warning holds the limiter. */
		sleep_ms(WARN_INTERVAL_MS + 100);
		capture_start();
		struct timespec t;
		start_clock(&t);
		down = 0;
		for (int i = 0; i < 5; i++) {
			struct buf out = BUF_INIT;
			down += get_str(long_key, &out) == CACHE_ANSWER_DOWN && out.len == 0;
			buf_free(&out);
		}
		in_one_second = elapsed_ms(&t) < WARN_INTERVAL_MS;
		/* A 400 is an answer: memcache is there, so no breaker and the next call works. */
		struct buf out = BUF_INIT;
		next = get_str("fine", &out);
		buf_free(&out);
	}
	sleep_ms(WARN_INTERVAL_MS + 100);
	struct buf later = BUF_INIT;
	enum cache_answer again = get_str(long_key, &later);
	buf_free(&later);
	char *text = capture_end();
	assert_true(in_one_second);
	assert_int_equal(down, 5);
	assert_int_equal(next, CACHE_ANSWER_MISS);
	assert_int_equal(again, CACHE_ANSWER_DOWN);
	assert_int_equal(count_of(text, "cache_client:"), 2);
	assert_int_equal(count_of(text, "answered 400"), 2);
	assert_non_null(strstr(text, "4 similar warnings suppressed"));
	free(text);
}

/* A port that takes connections but never answers them: memcache hung. */
static int blackhole(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* How many connections reached the hole since the last look (none without a hole). */
static int hole_connections(int hole)
{
	int n = 0;
	while (hole >= 0) {
		int fd = accept(hole, NULL, NULL);
		if (fd >= 0)
			close(fd);
		else if (errno != ECONNABORTED)
			break; /* EAGAIN: no more */
		n++;
	}
	return n;
}

/*
 * Every call answers DOWN: the breaker is open. None of them reaches the hole
 * (when there is one): the breaker answered without trying. False when the
 * thread was held up until the breaker's window after `tripped` was over: the
 * calls prove nothing then.
 */
static bool expect_down_at_once(const struct timespec *tripped, int hole)
{
	struct buf out = BUF_INIT;
	assert_int_equal(get_str("k", &out), CACHE_ANSWER_DOWN);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	assert_int_equal(put_str("k", "QUJD", 0), CACHE_ANSWER_DOWN);
	assert_int_equal(cache_client_invalidate(client, "k", 1, 9), CACHE_ANSWER_DOWN);
	long long dropped = -1;
	assert_int_equal(cache_client_clear(client, &dropped), CACHE_ANSWER_DOWN);
	assert_int_equal(dropped, -1);
	assert_int_equal(cache_client_refresh(client), CACHE_ANSWER_DOWN);
	cJSON dummy;
	cJSON *stats = &dummy; /* the call must set it to NULL */
	assert_int_equal(cache_client_stats(client, &stats), CACHE_ANSWER_DOWN);
	assert_null(stats);
	if (elapsed_ms(tripped) >= BREAKER_MS)
		return false;
	assert_int_equal(hole_connections(hole), 0);
	return true;
}

/*
 * Opens the breaker with a call that finds memcache unreachable, then expects
 * every call to answer DOWN at once. A try in which the thread was held up past
 * the breaker's window, or the opening call took max_ms or more, proves nothing
 * and is made again: a machine that stalls the thread for seconds (seen under
 * load) cannot fail it, a client that waits every time does. Returns how long
 * the opening call took; *tries gets how many connections it made to the hole.
 */
static long long trip_and_expect_down(int hole, long long max_ms, int *tries)
{
	for (int try = 0; try < WINDOW_TRIES; try++) {
		/* Sleeps never end early: afterwards the breaker lets the next call try. */
		sleep_ms(BREAKER_MS + 100);
		hole_connections(hole);
		struct timespec t, tripped;
		start_clock(&t);
		struct buf out = BUF_INIT;
		assert_int_equal(get_str("k", &out), CACHE_ANSWER_DOWN);
		buf_free(&out);
		long long took = elapsed_ms(&t);
		start_clock(&tripped);
		*tries = hole_connections(hole);
		if (took < max_ms && expect_down_at_once(&tripped, hole))
			return took;
	}
	fail_msg("held up past the breaker's %d ms window, or the opening call took %lld ms or "
		 "more, %d times",
		 BREAKER_MS, max_ms, WINDOW_TRIES);
	return -1;
}

static void test_down_is_fast_and_recovers(void **state)
{
	(void)state;
	assert_int_equal(put_str("k", "QUJD", 0), CACHE_ANSWER_OK); /* a kept-alive connection */
	daemon_stop(&mc, SIGKILL);

	/* A refused connection answers DOWN without waiting for the timeout. */
	int tries;
	assert_true(trip_and_expect_down(-1, TIMEOUT_MS, &tries) < TIMEOUT_MS);

	/*
	 * A hung memcache costs one timeout: the call waits for it, and tries once
	 * (one connection, where a second try would make two, however slow the
	 * machine); then the breaker answers for it.
	 */
	int hole = blackhole(mc.port);
	long long waited = trip_and_expect_down(hole, LLONG_MAX, &tries);
	assert_true(waited >= TIMEOUT_MS - 20);
	assert_int_equal(tries, 1);
	close(hole);

	assert_true(daemon_restart(&mc, mc_settings));
	sleep_ms(BREAKER_MS + 100); /* never ends early: the breaker lets the next call try */
	expect_miss("k"); /* a new daemon starts empty */
	assert_int_equal(put_str("k", "QUJD", 0), CACHE_ANSWER_OK);
	expect_hit("k", "QUJD");
}

/*
 * A relay in front of memcache that forwards every call but holds, unanswered,
 * one that names the key "slow": one call made slow (a stalled thread, a busy
 * machine) while memcache answers the others.
 */
enum { RELAY_PAIRS = 8, RELAY_POLL_MS = 50, RELAY_CHUNK = 64 * 1024 };

struct relay {
	int listener, port, target_port;
	atomic_bool stop;
	pthread_t acceptor;
	pthread_t pairs[RELAY_PAIRS];
	int fds[RELAY_PAIRS][2];
	atomic_int npairs;
	atomic_int held; /* calls held so far */
};

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

struct relay_pair_arg {
	struct relay *r;
	int i;
};

static void *relay_pair(void *arg)
{
	struct relay_pair_arg *a = arg;
	struct relay *r = a->r;
	int from = r->fds[a->i][0], server = r->fds[a->i][1];
	free(a);
	char *chunk = malloc(RELAY_CHUNK);
	bool held = false;
	while (chunk && !atomic_load(&r->stop)) {
		struct pollfd p[2] = {{.fd = from, .events = POLLIN}, {.fd = server, .events = POLLIN}};
		if (poll(p, 2, RELAY_POLL_MS) <= 0)
			continue;
		if (p[0].revents) {
			ssize_t n = read(from, chunk, RELAY_CHUNK);
			if (n <= 0)
				break;
			if (!held && memmem(chunk, (size_t)n, "\"slow\"", 6)) {
				held = true;
				atomic_fetch_add(&r->held, 1);
			}
			if (!held && !write_all(server, chunk, (size_t)n))
				break;
		}
		if (p[1].revents) {
			ssize_t n = read(server, chunk, RELAY_CHUNK);
			if (n <= 0 || !write_all(from, chunk, (size_t)n))
				break;
		}
	}
	free(chunk);
	close(from);
	close(server);
	return NULL;
}

static void *relay_accept(void *arg)
{
	struct relay *r = arg;
	while (!atomic_load(&r->stop)) {
		struct pollfd p = {.fd = r->listener, .events = POLLIN};
		if (poll(&p, 1, RELAY_POLL_MS) <= 0)
			continue;
		int from = accept(r->listener, NULL, NULL);
		if (from < 0)
			continue;
		int i = atomic_load(&r->npairs);
		int server = i < RELAY_PAIRS ? tcp_connect(r->target_port, NULL, 5) : -1;
		struct relay_pair_arg *a = server >= 0 ? malloc(sizeof(*a)) : NULL;
		if (!a) {
			close(from);
			if (server >= 0)
				close(server);
			continue;
		}
		*a = (struct relay_pair_arg){r, i};
		r->fds[i][0] = from;
		r->fds[i][1] = server;
		if (pthread_create(&r->pairs[i], NULL, relay_pair, a) != 0) {
			free(a);
			close(from);
			close(server);
			continue;
		}
		atomic_store(&r->npairs, i + 1);
	}
	return NULL;
}

static void relay_start(struct relay *r, int target_port)
{
	memset(r, 0, sizeof(*r));
	r->target_port = target_port;
	r->port = harness_free_port();
	r->listener = blackhole(r->port);
	int flags = fcntl(r->listener, F_GETFL);
	assert_int_equal(fcntl(r->listener, F_SETFL, flags & ~O_NONBLOCK), 0);
	assert_int_equal(pthread_create(&r->acceptor, NULL, relay_accept, r), 0);
}

static void relay_stop(struct relay *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->acceptor, NULL);
	for (int i = 0; i < atomic_load(&r->npairs); i++)
		pthread_join(r->pairs[i], NULL);
	close(r->listener);
}

struct slow_call {
	struct cache_client *cc;
	enum cache_answer answer;
	atomic_bool done;
};

static void *call_slow(void *arg)
{
	struct slow_call *c = arg;
	struct buf out = BUF_INIT;
	c->answer = cache_client_get(c->cc, "slow", 4, &out);
	buf_free(&out);
	atomic_store(&c->done, true);
	return NULL;
}

/*
 * One call that times out while memcache answers the others opens no breaker:
 * the next call asks memcache, and is answered. (A database outage then needs
 * memcache for every cached read, and one slow call used to turn 500 ms of
 * them into 503s.)
 */
static void test_one_slow_call_among_answered_ones_opens_no_breaker(void **state)
{
	(void)state;
	struct relay r;
	relay_start(&r, mc.port);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
	struct cache_client *cc = cache_client_open(url, NULL, TIMEOUT_MS);
	assert_non_null(cc);
	struct slow_call slow = {.cc = cc};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, call_slow, &slow), 0);
	/* memcache answers this thread's calls all the while the slow one waits. */
	long answered = 0, unanswered = 0;
	while (!atomic_load(&slow.done)) {
		struct buf out = BUF_INIT;
		enum cache_answer a = cache_client_get(cc, "k", 1, &out);
		buf_free(&out);
		answered += a != CACHE_ANSWER_DOWN;
		unanswered += a == CACHE_ANSWER_DOWN;
		sleep_ms(20);
	}
	pthread_join(t, NULL);
	struct buf out = BUF_INIT;
	enum cache_answer next = cache_client_get(cc, "k", 1, &out);
	buf_free(&out);
	print_message("one slow call: %s after it; %ld calls answered, %ld not, while it waited\n",
		      next == CACHE_ANSWER_DOWN ? "DOWN" : "answered", answered, unanswered);
	cache_client_close(cc);
	relay_stop(&r);
	assert_int_equal(atomic_load(&r.held), 1);
	assert_int_equal(slow.answer, CACHE_ANSWER_DOWN);
	assert_true(answered > 0);
	assert_int_equal(unanswered, 0);
	assert_int_not_equal(next, CACHE_ANSWER_DOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_get_miss_leaves_out_alone, reset),
	    cmocka_unit_test_setup(test_put_then_get_hits, reset),
	    cmocka_unit_test(test_content_rejects_other_shapes),
	    cmocka_unit_test_setup(test_awkward_keys_round_trip, reset),
	    cmocka_unit_test_setup(test_stale_put_after_invalidate_is_refused, reset),
	    cmocka_unit_test(test_b64_encode),
	    cmocka_unit_test_setup(test_put_answer_stores_the_value_and_keeps_the_answer, reset),
	    cmocka_unit_test_setup(test_refresh_and_too_large_put, reset),
	    cmocka_unit_test_setup(test_clear_reports_dropped, reset),
	    cmocka_unit_test_setup(test_stats_parse, reset),
	    cmocka_unit_test_setup(test_threads_use_their_own_handles, reset),
	    cmocka_unit_test_setup(test_error_answers_warn_once_per_second, reset),
	    cmocka_unit_test_setup(test_down_is_fast_and_recovers, reset),
	    cmocka_unit_test_setup(test_one_slow_call_among_answered_ones_opens_no_breaker, reset),
	};
	return cmocka_run_group_tests(tests, start_all, stop_all);
}
