/* e2e_jobs_api: the jobs API and pages through the real front end and worker: calc, enhance, waits, retry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/harness.h"

enum {
	WAIT_S = 15,
	/* ?wait= answers within one poll of the job finishing (100 ms), plus a loaded machine's slack. */
	WAKE_WITHIN_MS = 1000,
	BOUNDED_WAIT_S = 1,
	MANY = 10001,
	URL_MAX = 256,
	QUERY_MAX = 512,
};

static struct gallery g;
static struct daemon worker;
static char data_setting[GALLERY_PATH_MAX + 32];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	(void)state;
	if (!sql_empty_gallery() || !sql_exec("DELETE FROM jobs") ||
	    !gallery_start(&g, "jobs-api", NULL, NULL))
		return -1;
	snprintf(data_setting, sizeof(data_setting), "GALLERY_DATA_DIR=%s", g.data_dir);
	setting settings[] = {data_setting, "GALLERY_WORKER_THREADS=2", NULL};
	if (!worker_start(&worker, settings)) {
		gallery_stop(&g);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (daemon_alive(&worker))
		daemon_stop(&worker, SIGTERM);
	gallery_stop(&g);
	return 0;
}

static long long jobs_count(void)
{
	return sql_scalar("SELECT COUNT(*) FROM jobs");
}

/*
 * Whether an answer shows a job just queued, as it was when answered: a quick
 * worker may have taken or finished it already, but it is not dead.
 */
static bool queued_or_later(const char *body)
{
	return strstr(body, "\"state\":\"queued\"") || strstr(body, "\"state\":\"running\"") ||
	       strstr(body, "\"state\":\"done\"");
}

/* POSTs body as JSON (or as a form when form is true) and returns the job id of a 202, or -1. */
static long long submit(const char *path, const char *body, bool form)
{
	struct reply r;
	const char *headers[] = {form ? "Content-Type: application/x-www-form-urlencoded"
				      : "Content-Type: application/json",
				 NULL};
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	if (!http_request("POST", url, headers, body, strlen(body), &r))
		return -1;
	long long id = -1;
	if (r.status == 202 && strstr(r.body.data, "\"success\":\"true\"") &&
	    queued_or_later(r.body.data))
		reply_number(&r, "id", &id);
	else
		print_message("%s answered %ld %s\n", path, r.status, r.body.data);
	reply_free(&r);
	return id;
}

/* GET /api/jobs/<id>?wait=S into r. */
static bool get_job(long long id, int wait_s, struct reply *r)
{
	char path[URL_MAX];
	snprintf(path, sizeof(path), "/api/jobs/%lld?wait=%d", id, wait_s);
	return http_get(g.fe.url, path, r) && r->status == 200;
}

/* Waits for job id and checks that its result holds every fragment of want. */
static void assert_calc(const char *numbers_json, const char *const *want)
{
	char body[QUERY_MAX];
	snprintf(body, sizeof(body), "{\"numbers\":%s}", numbers_json);
	long long id = submit("/api/calc", body, false);
	assert_true(id > 0);
	struct reply r;
	assert_true(get_job(id, WAIT_S, &r));
	assert_non_null(strstr(r.body.data, "\"state\":\"done\""));
	for (size_t i = 0; want[i]; i++) {
		if (!strstr(r.body.data, want[i]))
			print_message("missing %s in %s\n", want[i], r.body.data);
		assert_non_null(strstr(r.body.data, want[i]));
	}
	reply_free(&r);
}

static void test_calc_results_are_exact(void **state)
{
	(void)state;
	assert_calc("[3, 1, 2]", (const char *const[]){"\"count\":3", "\"min\":1", "\"max\":3",
						       "\"sum\":\"6\"", "\"mean\":\"2\"",
						       "\"median\":\"2\"", NULL});
	assert_calc("[4, 1, 3, 2]", (const char *const[]){"\"median\":\"2.5\"", "\"mean\":\"2.5\"",
							  NULL});
	assert_calc("[-3, -2]", (const char *const[]){"\"median\":\"-2.5\"", "\"min\":-3",
						      "\"max\":-2", NULL});
	assert_calc("[-7]", (const char *const[]){"\"median\":\"-7\"", "\"count\":1", NULL});
	assert_calc("[9007199254740991, -9007199254740991, 9007199254740991]",
		    (const char *const[]){"\"min\":-9007199254740991", "\"max\":9007199254740991",
					  "\"sum\":\"9007199254740991\"",
					  "\"median\":\"9007199254740991\"", NULL});
	assert_calc("[1, 2, 2]", (const char *const[]){"\"mean\":\"1.666667\"", NULL});
}

static void test_calc_from_a_form_and_its_log(void **state)
{
	(void)state;
	long long id = submit("/api/calc", "numbers=5%2C-1%0A3+8", true);
	assert_true(id > 0);
	struct reply r;
	assert_true(get_job(id, WAIT_S, &r));
	assert_non_null(strstr(r.body.data, "\"median\":\"4\""));
	reply_free(&r);
	char path[URL_MAX];
	snprintf(path, sizeof(path), "/api/jobs/%lld/log", id);
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, 200);
	char type[128];
	assert_non_null(reply_header(&r, "Content-Type", type, sizeof(type)));
	assert_non_null(strstr(type, "text/plain"));
	char job_line[64];
	snprintf(job_line, sizeof(job_line), "job: %lld\n", id);
	assert_non_null(strstr(r.body.data, job_line));
	assert_non_null(strstr(r.body.data, "5 -1 3 8"));
	assert_non_null(strstr(r.body.data, "-1 3 5 8"));
	assert_non_null(strstr(r.body.data, "median: 4"));
	reply_free(&r);
}

/* Each bad input answers 400 naming what is wrong, and queues nothing. */
static void assert_refused(const char *body, bool form, const char *words)
{
	long long before = jobs_count();
	struct reply r;
	const char *headers[] = {form ? "Content-Type: application/x-www-form-urlencoded"
				      : "Content-Type: application/json",
				 NULL};
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s/api/calc", g.fe.url);
	assert_true(http_request("POST", url, headers, body, strlen(body), &r));
	if (r.status != 400 || !strstr(r.body.data, words))
		print_message("%.80s answered %ld %s\n", body, r.status, r.body.data);
	assert_int_equal(r.status, 400);
	assert_true(reply_is_error(&r, 400));
	assert_non_null(strstr(r.body.data, words));
	reply_free(&r);
	assert_int_equal(jobs_count(), before);
}

static void test_calc_bad_input_is_400_naming_the_entry(void **state)
{
	(void)state;
	assert_refused("{\"numbers\":[]}", false, "no numbers");
	assert_refused("{\"numbers\":[1, 1e400]}", false, "entry 2 (1e400)");
	assert_refused("{\"numbers\":[0.5]}", false, "entry 1 (0.5)");
	assert_refused("{\"numbers\":[1, 2, \"x\"]}", false, "entry 3 (\\\"x\\\")");
	assert_refused("{\"numbers\":[1, [2]]}", false, "entry 2");
	assert_refused("{\"numbers\":[9007199254740992]}", false, "entry 1 (9007199254740992)");
	assert_refused("{\"numbers\":[-9007199254740992]}", false, "entry 1");
	assert_refused("{\"numbers\":\"1,2\"}", false, "numbers");
	assert_refused("{\"values\":[1]}", false, "numbers");
	assert_refused("[1, 2]", false, "numbers");
	assert_refused("{\"numbers\":[1,", false, "numbers");
	assert_refused("numbers=1%2C2%2Cx", true, "entry 3");
	assert_refused("numbers=", true, "no numbers");
	assert_refused("other=1", true, "numbers");
	/* 10,001 numbers: one too many. */
	struct buf many = BUF_INIT;
	buf_puts(&many, "{\"numbers\":[");
	for (int i = 0; i < MANY; i++)
		buf_printf(&many, i ? ",%d" : "%d", i);
	buf_puts(&many, "]}");
	assert_refused(many.data, false, "10000");
	/* 10,000 are fine. */
	char *last_comma = strrchr(many.data, ',');
	strcpy(last_comma, "]}");
	long long id = submit("/api/calc", many.data, false);
	buf_free(&many);
	assert_true(id > 0);
	struct reply r;
	assert_true(get_job(id, WAIT_S, &r));
	assert_non_null(strstr(r.body.data, "\"count\":10000"));
	assert_non_null(strstr(r.body.data, "\"median\":\"4999.5\""));
	reply_free(&r);
}

static void test_unknown_job_is_404(void **state)
{
	(void)state;
	const char *paths[] = {"/api/jobs/99999999", "/api/jobs/99999999?wait=2",
			       "/api/jobs/99999999/log", "/api/jobs/x", "/api/jobs/1/nothing"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct reply r;
		assert_true(http_get(g.fe.url, paths[i], &r));
		assert_true(reply_is_error(&r, 404));
		reply_free(&r);
	}
	struct reply r;
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s/api/jobs/99999999/retry", g.fe.url);
	assert_true(http_call("POST", url, NULL, NULL, 0, &r));
	assert_true(reply_is_error(&r, 404));
	reply_free(&r);
	assert_true(http_get(g.fe.url, "/api/jobs/1?wait=21", &r));
	assert_true(reply_is_error(&r, 400));
	reply_free(&r);
}

/* A job no worker will take yet: queued an hour ahead. */
static long long parked_job(const char *state)
{
	char query[QUERY_MAX];
	snprintf(query, sizeof(query),
		 "INSERT INTO jobs (kind, payload, max_attempts, state, attempts, run_after) "
		 "VALUES ('calc', '[5, 6]', 5, '%s', %d, NOW(3) + INTERVAL 1 HOUR)",
		 state, strcmp(state, "dead") == 0 ? 5 : 0);
	if (!sql_exec(query))
		return -1;
	return sql_scalar("SELECT MAX(id) FROM jobs");
}

struct waited {
	long long id;
	int wait_s;
	struct reply r;
	bool answered;
	int64_t answered_at;
};

static void *wait_in_thread(void *arg)
{
	struct waited *w = arg;
	w->answered = get_job(w->id, w->wait_s, &w->r);
	w->answered_at = now_ms();
	return NULL;
}

/*
 * Sessions stuck behind LOCK TABLES: 2 when the front end's wait poller (the
 * query of core/jobs.c jobs_finished) is one of them, 1 when only others are.
 */
#define LOCK_WAITERS                                                                               \
	"SELECT IF(SUM(INFO LIKE 'SELECT id FROM jobs WHERE state IN %'), 2, COUNT(*) > 0) "       \
	"FROM information_schema.PROCESSLIST WHERE STATE = 'Waiting for table metadata lock'"

/*
 * Finishes job id while a request surely waits for it: holds the jobs table
 * until the front end's poller, which reads it only while a request is
 * suspended, is stuck on it, and finishes the job under that lock. Whoever
 * meets the lock first (the request's own first read, the worker) is let
 * through and the lock taken again. False when the poller never came.
 */
static bool finish_while_waited_on(long long id)
{
	char finish[QUERY_MAX];
	snprintf(finish, sizeof(finish),
		 "UPDATE jobs SET state = 'done', result = '{\"count\":2}', finished_at = NOW(3) "
		 "WHERE id = %lld",
		 id);
	int64_t deadline = now_ms() + 10000 * harness_slowdown();
	while (now_ms() < deadline) {
		struct sql_session *s = sql_session_open();
		if (!s || !sql_session_exec(s, "LOCK TABLES jobs WRITE")) {
			sql_session_close(s);
			return false;
		}
		long long waiters = 0;
		while ((waiters = sql_scalar(LOCK_WAITERS)) == 0 && now_ms() < deadline)
			sleep_ms(10);
		bool finished = waiters == 2 && sql_session_exec(s, finish);
		sql_session_exec(s, "UNLOCK TABLES");
		sql_session_close(s);
		if (finished)
			return true;
	}
	return false;
}

static void test_wait_returns_when_the_job_finishes(void **state)
{
	(void)state;
	long long id = parked_job("queued");
	assert_true(id > 0);
	struct waited w = {.id = id, .wait_s = WAIT_S};
	pthread_t t;
	int64_t started = now_ms();
	assert_int_equal(pthread_create(&t, NULL, wait_in_thread, &w), 0);
	bool finished_while_waiting = finish_while_waited_on(id);
	int64_t finished = now_ms();
	pthread_join(t, NULL);
	assert_true(finished_while_waiting);
	assert_true(w.answered);
	assert_non_null(strstr(w.r.body.data, "\"state\":\"done\""));
	reply_free(&w.r);
	print_message("wait answered %lld ms after the job finished\n",
		      (long long)(w.answered_at - finished));
	assert_true(w.answered_at - finished < WAKE_WITHIN_MS * harness_slowdown());
	assert_true(w.answered_at - started < (WAIT_S - 1) * 1000);
}

static void test_wait_is_bounded(void **state)
{
	(void)state;
	long long id = parked_job("queued");
	assert_true(id > 0);
	/* Several at once: no one of them holds a thread that the others need. */
	struct waited w[3];
	pthread_t t[3];
	int64_t started = now_ms();
	for (int i = 0; i < 3; i++) {
		w[i] = (struct waited){.id = id, .wait_s = BOUNDED_WAIT_S};
		assert_int_equal(pthread_create(&t[i], NULL, wait_in_thread, &w[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_true(w[i].answered);
		assert_non_null(strstr(w[i].r.body.data, "\"state\":\"queued\""));
		reply_free(&w[i].r);
		int64_t took = w[i].answered_at - started;
		assert_true(took >= BOUNDED_WAIT_S * 1000 - 50);
		assert_true(took < (BOUNDED_WAIT_S + 2) * 1000 * harness_slowdown());
	}
	/* wait=0 answers at once. */
	struct reply r;
	int64_t at = now_ms();
	assert_true(get_job(id, 0, &r));
	assert_true(now_ms() - at < 1000 * harness_slowdown());
	reply_free(&r);
}

static void test_retry_runs_a_dead_job_again(void **state)
{
	(void)state;
	long long id = parked_job("dead");
	assert_true(id > 0);
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s/api/jobs/%lld/retry", g.fe.url, id);
	struct reply r;
	assert_true(http_call("POST", url, NULL, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	assert_true(queued_or_later(r.body.data));
	reply_free(&r);
	assert_true(get_job(id, WAIT_S, &r));
	assert_non_null(strstr(r.body.data, "\"state\":\"done\""));
	assert_non_null(strstr(r.body.data, "\"median\":\"5.5\""));
	assert_non_null(strstr(r.body.data, "\"attempts\":6"));
	reply_free(&r);
	/* Done is not dead: nothing to retry. */
	assert_true(http_call("POST", url, NULL, NULL, 0, &r));
	assert_true(reply_is_error(&r, 409));
	reply_free(&r);
	assert_true(http_get(g.fe.url, url + strlen(g.fe.url), &r));
	assert_true(reply_is_error(&r, 405));
	reply_free(&r);
}

/* APP0, then SOF0 (640 x 480): an upload must say its size. */
static const char JPEG_HEAD[] = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
				"\xFF\xC0\x00\x11\x08\x01\xE0\x02\x80\x03";

static void upload_image(const char *key)
{
	char bytes[4096];
	memcpy(bytes, JPEG_HEAD, sizeof(JPEG_HEAD) - 1);
	for (size_t i = sizeof(JPEG_HEAD) - 1; i < sizeof(bytes); i++)
		bytes[i] = (char)(i * 31);
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", key, bytes, sizeof(bytes), "p.jpg", NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static long long enhance_jobs(void)
{
	return sql_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance'");
}

static void assert_enhance_refused(const char *key_path, const char *form, long code,
				   const char *words)
{
	long long before = enhance_jobs();
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s/api/enhance/%s", g.fe.url, key_path);
	struct reply r;
	assert_true(http_call("POST", url, form ? "application/x-www-form-urlencoded" : NULL, form,
			      form ? strlen(form) : 0, &r));
	if (!reply_is_error(&r, code) || !strstr(r.body.data, words))
		print_message("enhance %s %s answered %ld %s\n", key_path, form ? form : "",
			      r.status, r.body.data);
	assert_true(reply_is_error(&r, code));
	assert_non_null(strstr(r.body.data, words));
	reply_free(&r);
	assert_int_equal(enhance_jobs(), before);
}

static void test_enhance_validates_and_queues_the_payload(void **state)
{
	(void)state;
	upload_image("beach");
	assert_enhance_refused("nothing-here", NULL, 404, "nothing-here");
	assert_enhance_refused("beach", "strength=0.31", 400, "strength");
	assert_enhance_refused("beach", "strength=-0.1", 400, "strength");
	assert_enhance_refused("beach", "strength=abc", 400, "strength");
	assert_enhance_refused("beach", "strength=nan", 400, "strength");
	assert_enhance_refused("beach", "target=beach", 400, "differ");
	assert_enhance_refused("beach", "target=a%01b", 400, "target");
	/* A target of 256 bytes is not a key. */
	char form[400] = "target=";
	memset(form + 7, 'k', 256);
	form[7 + 256] = '\0';
	assert_enhance_refused("beach", form, 400, "target");

	long long id = submit("/api/enhance/beach", "", true);
	assert_true(id > 0);
	char query[QUERY_MAX];
	snprintf(query, sizeof(query),
		 "SELECT COUNT(*) FROM jobs WHERE id = %lld AND kind = 'enhance' AND payload = "
		 "'{\"key\":\"beach\",\"target\":\"beach (enhanced)\",\"strength\":0.3,\"owner\":null}'",
		 id);
	assert_int_equal(sql_scalar(query), 1);
	id = submit("/api/enhance/beach", "{\"target\":\"beach/2\",\"strength\":0.1}", false);
	assert_true(id > 0);
	snprintf(query, sizeof(query),
		 "SELECT COUNT(*) FROM jobs WHERE id = %lld AND payload = "
		 "'{\"key\":\"beach\",\"target\":\"beach/2\",\"strength\":0.1,\"owner\":null}'",
		 id);
	assert_int_equal(sql_scalar(query), 1);
}

static void assert_page(const char *path, long status, const char *words)
{
	const char *headers[] = {"Accept: " HTML_ACCEPT, NULL};
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	struct reply r;
	assert_true(http_request("GET", url, headers, NULL, 0, &r));
	if (r.status != status || !strstr(r.body.data, words))
		print_message("%s answered %ld %.300s\n", path, r.status, r.body.data);
	assert_int_equal(r.status, status);
	assert_non_null(strstr(r.body.data, words));
	reply_free(&r);
}

static void test_pages_render(void **state)
{
	(void)state;
	long long id = submit("/api/calc", "{\"numbers\":[-3,-2]}", false);
	struct reply r;
	assert_true(get_job(id, WAIT_S, &r));
	reply_free(&r);
	char path[URL_MAX];
	assert_page("/jobs", 200, "Recent jobs");
	assert_page("/jobs", 200, "id=\"jobs-dead\"");
	snprintf(path, sizeof(path), "/jobs/%lld", id);
	assert_page(path, 200, "id=\"calc-median\">-2.5<");
	snprintf(path, sizeof(path), "/calc?job=%lld", id);
	assert_page(path, 200, "id=\"calc-median\">-2.5<");
	assert_page(path, 200, "/api/jobs/");
	assert_page("/calc", 200, "name=\"numbers\"");
	assert_page("/calc?job=99999999", 404, "no such job");
	assert_page("/jobs/99999999", 404, "99999999");
	long long parked = parked_job("queued");
	snprintf(path, sizeof(path), "/jobs/%lld", parked);
	assert_page(path, 200, "class=\"refresh\"");
	long long dead = parked_job("dead");
	snprintf(path, sizeof(path), "/jobs/%lld", dead);
	assert_page(path, 200, "id=\"retry-form\"");
	upload_image("page-image");
	assert_page("/image?key=page-image", 200, "id=\"enhance-form\"");
}

static bool page_post(const char *path, const char *form, struct reply *r)
{
	const char *headers[] = {"Accept: " HTML_ACCEPT, HARNESS_CSRF_COOKIE,
				 "Content-Type: application/x-www-form-urlencoded", NULL};
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	return http_request("POST", url, headers, form, strlen(form), r);
}

static void test_page_forms_queue_and_redirect(void **state)
{
	(void)state;
	struct reply r;
	char location[URL_MAX];
	assert_true(page_post("/calc", "csrf_token=" HARNESS_CSRF_TOKEN "&numbers=1+2+3", &r));
	assert_int_equal(r.status, 303);
	assert_non_null(reply_header(&r, "Location", location, sizeof(location)));
	assert_int_equal(strncmp(location, "/calc?job=", 10), 0);
	reply_free(&r);
	long long before = jobs_count();
	assert_true(page_post("/calc", "csrf_token=" HARNESS_CSRF_TOKEN "&numbers=1+2.5", &r));
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.data, "entry 2 (2.5)"));
	assert_non_null(strstr(r.body.data, "1 2.5</textarea>"));
	reply_free(&r);
	assert_true(page_post("/calc", "numbers=1", &r));
	assert_int_equal(r.status, 403);
	reply_free(&r);
	assert_int_equal(jobs_count(), before);

	upload_image("form-image");
	assert_true(page_post("/enhance",
			      "csrf_token=" HARNESS_CSRF_TOKEN "&key=form-image&strength=0.2", &r));
	assert_int_equal(r.status, 303);
	assert_non_null(reply_header(&r, "Location", location, sizeof(location)));
	assert_int_equal(strncmp(location, "/image?key=form-image&job=", 26), 0);
	reply_free(&r);
	assert_page(location, 200, "id=\"job-live\"");

	long long dead = parked_job("dead");
	char path[URL_MAX];
	snprintf(path, sizeof(path), "/jobs/%lld/retry", dead);
	assert_true(page_post(path, "csrf_token=" HARNESS_CSRF_TOKEN, &r));
	assert_int_equal(r.status, 303);
	reply_free(&r);
	char query[QUERY_MAX];
	snprintf(query, sizeof(query), "SELECT state = 'dead' FROM jobs WHERE id = %lld", dead);
	assert_int_equal(sql_scalar(query), 0);
}

static void test_list_filters(void **state)
{
	(void)state;
	struct reply r;
	assert_true(http_get(g.fe.url, "/api/jobs?state=dead&kind=calc&page=1", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"success\":\"true\",\"jobs\":["));
	assert_null(strstr(r.body.data, "\"state\":\"done\""));
	assert_non_null(strstr(r.body.data, "\"page\":1,\"more\":"));
	reply_free(&r);
	const char *bad[] = {"/api/jobs?state=lost", "/api/jobs?kind=sing", "/api/jobs?page=0"};
	for (size_t i = 0; i < 3; i++) {
		assert_true(http_get(g.fe.url, bad[i], &r));
		assert_true(reply_is_error(&r, 400));
		reply_free(&r);
	}
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_calc_results_are_exact),
	    cmocka_unit_test(test_calc_from_a_form_and_its_log),
	    cmocka_unit_test(test_calc_bad_input_is_400_naming_the_entry),
	    cmocka_unit_test(test_unknown_job_is_404),
	    cmocka_unit_test(test_wait_returns_when_the_job_finishes),
	    cmocka_unit_test(test_wait_is_bounded),
	    cmocka_unit_test(test_retry_runs_a_dead_job_again),
	    cmocka_unit_test(test_enhance_validates_and_queues_the_payload),
	    cmocka_unit_test(test_pages_render),
	    cmocka_unit_test(test_page_forms_queue_and_redirect),
	    cmocka_unit_test(test_list_filters),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return failed;
}
