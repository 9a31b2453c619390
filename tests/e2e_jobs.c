/* e2e_jobs: the queue in core/jobs against the suite's MariaDB: claims, leases, fences, dedupe, retry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/db.h"
#include "core/jobs.h"
#include "tests/harness.h"

enum { CLAIM_WITHIN_MS = 100, LEASE_S = 1, WAIT_MS = 10000 };

static struct config cfg;

static struct db *open_db(void)
{
	struct db *db = db_open(&cfg);
	assert_non_null(db);
	return db;
}

static long long enqueue(struct db *db, const char *payload, const char *key, int max_attempts)
{
	struct job_request req = {JOB_CALC, payload, key, max_attempts};
	long long id = 0;
	assert_int_equal(jobs_enqueue(db, &req, &id), JOBS_OK);
	assert_true(id > 0);
	return id;
}

static long long count_jobs(void)
{
	return sql_scalar("SELECT COUNT(*) FROM jobs");
}

static int setup(void **state)
{
	(void)state;
	char err[512];
	if (!config_load(&cfg, err, sizeof(err))) {
		fprintf(stderr, "config_load: %s\n", err);
		return -1;
	}
	db_library_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_library_end();
	return 0;
}

static int empty_queue(void **state)
{
	(void)state;
	return sql_exec("DELETE FROM jobs") ? 0 : -1;
}

/* With the first job locked by another transaction, a claim takes the second at once. */
static void claim_skips_a_locked_job(void **state)
{
	(void)state;
	struct db *a = open_db(), *holder = open_db(), *b = open_db();
	long long first = enqueue(a, "[1]", NULL, 5);
	long long second = enqueue(a, "[2]", NULL, 5);
	assert_int_equal(db_begin(holder), DB_OK);
	struct db_param id[] = {DB_INT(first)};
	assert_int_equal(db_exec(holder, "SELECT id FROM jobs WHERE id = ? FOR UPDATE", id, 1, NULL,
				 NULL),
			 DB_OK);
	struct job job;
	assert_int_equal(jobs_claim(b, LEASE_S, &job), JOBS_OK); /* connects */
	assert_int_equal(job.id, second);
	job_free(&job);
	long long third = enqueue(a, "[3]", NULL, 5);
	int64_t start = clock_ms();
	assert_int_equal(jobs_claim(b, LEASE_S, &job), JOBS_OK);
	int64_t took = clock_ms() - start;
	assert_int_equal(job.id, third);
	assert_int_equal(job.state, JOB_RUNNING);
	assert_int_equal(job.attempts, 1);
	assert_true(took < CLAIM_WITHIN_MS * harness_slowdown());
	job_free(&job);
	assert_int_equal(jobs_claim(b, LEASE_S, &job), JOBS_EMPTY);
	db_rollback(holder);
	assert_int_equal(jobs_claim(b, LEASE_S, &job), JOBS_OK);
	assert_int_equal(job.id, first);
	job_free(&job);
	db_close(a);
	db_close(holder);
	db_close(b);
}

static void enqueue_follows_its_transaction(void **state)
{
	(void)state;
	struct db *db = open_db();
	struct job_request req = {JOB_CALC, "[1]", NULL, 5};
	long long id;
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(jobs_enqueue_in(db, &req, &id), JOBS_OK);
	db_rollback(db);
	assert_int_equal(count_jobs(), 0);
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(jobs_enqueue_in(db, &req, &id), JOBS_OK);
	assert_int_equal(count_jobs(), 0); /* not yet committed: nobody sees it */
	assert_int_equal(db_commit(db), DB_OK);
	assert_int_equal(count_jobs(), 1);
	db_close(db);
}

static void one_active_job_per_dedupe_key(void **state)
{
	(void)state;
	struct db *db = open_db();
	long long first = enqueue(db, "[1]", "abc", 5);
	struct job_request req = {JOB_CALC, "[2]", "abc", 5};
	long long again = 0;
	assert_int_equal(jobs_enqueue(db, &req, &again), JOBS_DEDUPED);
	assert_int_equal(again, first);
	/* Another kind, or no key, is another job. */
	struct job_request mail = {JOB_MAIL, "{}", "abc", 5};
	assert_int_equal(jobs_enqueue(db, &mail, &again), JOBS_OK);
	assert_int_equal(count_jobs(), 2);
	/* Running still holds the key; done frees it. */
	sql_exec("DELETE FROM jobs WHERE kind = 'mail'");
	struct job job;
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(jobs_enqueue(db, &req, &again), JOBS_DEDUPED);
	assert_int_equal(jobs_complete(db, job.id, job.attempts, "{}"), JOBS_OK);
	job_free(&job);
	assert_int_equal(jobs_enqueue(db, &req, &again), JOBS_OK);
	assert_true(again != first);
	assert_int_equal(count_jobs(), 2);
	db_close(db);
}

/* A lease that ran out lets another claim in; the first holder's writes then change nothing. */
static void a_lost_lease_fences_the_late_worker(void **state)
{
	(void)state;
	struct db *late = open_db(), *other = open_db();
	long long id = enqueue(late, "[1]", NULL, 5);
	struct job first, second;
	assert_int_equal(jobs_claim(late, LEASE_S, &first), JOBS_OK);
	assert_int_equal(jobs_heartbeat(late, id, first.attempts, LEASE_S), JOBS_OK);
	assert_int_equal(jobs_claim(other, LEASE_S, &second), JOBS_EMPTY);
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE lease_until < NOW(3)", 1,
				    WAIT_MS));
	assert_int_equal(jobs_claim(other, LEASE_S, &second), JOBS_OK);
	assert_int_equal(second.id, id);
	assert_int_equal(second.attempts, 2);
	assert_non_null(strstr(second.error ? second.error : "", "lease of attempt 1 ran out"));
	assert_int_equal(jobs_heartbeat(late, id, 1, LEASE_S), JOBS_LEASE_LOST);
	assert_int_equal(jobs_complete(late, id, 1, "{\"by\":1}"), JOBS_LEASE_LOST);
	assert_int_equal(jobs_fail(late, id, 1, "late", false, NULL), JOBS_LEASE_LOST);
	assert_int_equal(jobs_release(late, id, 1), JOBS_LEASE_LOST);
	assert_int_equal(jobs_complete(other, id, 2, "{\"by\":2}"), JOBS_OK);
	assert_int_equal(jobs_complete(late, id, 1, "{\"by\":1}"), JOBS_LEASE_LOST);
	struct job done;
	assert_int_equal(jobs_get(late, id, &done), JOBS_OK);
	assert_int_equal(done.state, JOB_DONE);
	assert_string_equal(done.result, "{\"by\":2}");
	assert_null(done.error);
	job_free(&done);
	job_free(&first);
	job_free(&second);
	db_close(late);
	db_close(other);
}

/* Failures back off 1 s, 2 s...; the last attempt or a permanent error is dead; retry revives. */
static void failures_back_off_then_die_and_retry_revives(void **state)
{
	(void)state;
	struct db *db = open_db();
	long long id = enqueue(db, "[1]", NULL, 2);
	struct job job;
	bool dead = true;
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(jobs_fail(db, id, 1, "first", false, &dead), JOBS_OK);
	assert_false(dead);
	job_free(&job);
	/* Queued, but not before its backoff. */
	assert_int_equal(sql_scalar("SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), run_after) > 500000 "
				    "FROM jobs"),
			 1);
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_EMPTY);
	assert_true(sql_wait_scalar("SELECT run_after <= NOW(3) FROM jobs", 1, WAIT_MS));
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(job.attempts, 2);
	assert_string_equal(job.error, "first");
	assert_int_equal(jobs_fail(db, id, 2, "second", false, &dead), JOBS_OK);
	assert_true(dead);
	job_free(&job);
	assert_int_equal(jobs_get(db, id, &job), JOBS_OK);
	assert_int_equal(job.state, JOB_DEAD);
	assert_string_equal(job.error, "second");
	assert_true(job.finished_at > 0);
	job_free(&job);
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_EMPTY);

	assert_int_equal(jobs_retry(db, id, 2), JOBS_OK);
	assert_int_equal(jobs_retry(db, id, 2), JOBS_NOT_DEAD);
	assert_int_equal(jobs_retry(db, id + 1000, 2), JOBS_NOT_FOUND);
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(job.attempts, 3);
	/* A permanent error is dead at once, whatever attempts are left. */
	assert_int_equal(jobs_fail(db, id, 3, "bad input", true, &dead), JOBS_OK);
	assert_true(dead);
	job_free(&job);
	db_close(db);
}

/* A job whose lease runs out on its last attempt is dead, not claimed again. */
static void a_lease_lost_on_the_last_attempt_is_dead(void **state)
{
	(void)state;
	struct db *db = open_db();
	long long id = enqueue(db, "[1]", NULL, 1);
	struct job job;
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	job_free(&job);
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE lease_until < NOW(3)", 1,
				    WAIT_MS));
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_EMPTY);
	assert_int_equal(jobs_get(db, id, &job), JOBS_OK);
	assert_int_equal(job.state, JOB_DEAD);
	assert_non_null(strstr(job.error, "was the last attempt"));
	job_free(&job);
	db_close(db);
}

/* A job handed back is queued at once and its attempt does not count. */
static void release_gives_the_attempt_back(void **state)
{
	(void)state;
	struct db *db = open_db();
	long long id = enqueue(db, "[1]", NULL, 5);
	struct job job;
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(jobs_release(db, id, 1), JOBS_OK);
	assert_int_equal(jobs_complete(db, id, 1, "{}"), JOBS_LEASE_LOST);
	job_free(&job);
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(job.attempts, 1);
	job_free(&job);
	db_close(db);
}

static void json_list_and_stats(void **state)
{
	(void)state;
	struct db *db = open_db();
	long long a = enqueue(db, "[1]", NULL, 5);
	long long b = enqueue(db, "[2]", NULL, 5);
	long long c = enqueue(db, "[3]", NULL, 5);
	struct job job;
	assert_int_equal(jobs_claim(db, LEASE_S, &job), JOBS_OK);
	assert_int_equal(job.id, a);
	assert_int_equal(jobs_complete(db, a, 1, "{\"count\":1,\"sum\":\"1\"}"), JOBS_OK);
	job_free(&job);
	assert_int_equal(jobs_get(db, a, &job), JOBS_OK);
	cJSON *obj = job_to_json(&job);
	char *text = cJSON_PrintUnformatted(obj);
	/* {"id":N,"kind":..,"state":..,"attempts":N,"created_at":..,"started_at":..,"finished_at":..,"error":..,"result":{..}} */
	char head[64];
	snprintf(head, sizeof(head), "{\"id\":%lld,\"kind\":\"calc\",\"state\":\"done\"", a);
	assert_memory_equal(text, head, strlen(head));
	assert_non_null(strstr(text, "\"attempts\":1,\"created_at\":\"20"));
	assert_non_null(strstr(text, "\"error\":null,\"result\":{\"count\":1,\"sum\":\"1\"}}"));
	const char *created = cJSON_GetObjectItem(obj, "created_at")->valuestring;
	assert_int_equal(strlen(created), strlen("2024-01-01T00:00:00.000Z"));
	assert_int_equal(created[23], 'Z');
	assert_int_equal(created[19], '.');
	free(text);
	cJSON_Delete(obj);
	job_free(&job);
	assert_int_equal(jobs_get(db, c + 1000, &job), JOBS_NOT_FOUND);

	struct job *list;
	size_t n;
	bool more;
	struct jobs_filter all = {.page = 1, .per_page = 2};
	assert_int_equal(jobs_list(db, &all, &list, &n, &more), JOBS_OK);
	assert_int_equal(n, 2);
	assert_true(more);
	assert_int_equal(list[0].id, c);
	assert_int_equal(list[1].id, b);
	jobs_free_list(list, n);
	all.page = 2;
	assert_int_equal(jobs_list(db, &all, &list, &n, &more), JOBS_OK);
	assert_int_equal(n, 1);
	assert_false(more);
	jobs_free_list(list, n);
	struct jobs_filter queued = {.by_state = true, .state = JOB_QUEUED, .by_kind = true,
				     .kind = JOB_CALC, .page = 1, .per_page = 10};
	assert_int_equal(jobs_list(db, &queued, &list, &n, &more), JOBS_OK);
	assert_int_equal(n, 2);
	jobs_free_list(list, n);

	struct jobs_stats stats;
	assert_int_equal(jobs_stats(db, &stats), JOBS_OK);
	assert_int_equal(stats.queued, 2);
	assert_int_equal(stats.done, 1);
	assert_int_equal(stats.dead, 0);
	assert_true(stats.oldest_queued_age_ms >= 0);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(claim_skips_a_locked_job, empty_queue),
		cmocka_unit_test_setup(enqueue_follows_its_transaction, empty_queue),
		cmocka_unit_test_setup(one_active_job_per_dedupe_key, empty_queue),
		cmocka_unit_test_setup(a_lost_lease_fences_the_late_worker, empty_queue),
		cmocka_unit_test_setup(failures_back_off_then_die_and_retry_revives, empty_queue),
		cmocka_unit_test_setup(a_lease_lost_on_the_last_attempt_is_dead, empty_queue),
		cmocka_unit_test_setup(release_gives_the_attempt_back, empty_queue),
		cmocka_unit_test_setup(json_list_and_stats, empty_queue),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
