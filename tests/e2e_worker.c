/* e2e_worker: real bin/worker processes against the suite's MariaDB: exactly once, crashes, stops, outages. */
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

#include "tests/harness.h"

enum {
	MANY_JOBS = 2000,
	START_WITHIN_MS = 500,
	WAIT_MS = 30000,
	MANY_WAIT_MS = 180000,
	OUTAGE_JOBS = 40,
	OUTAGE_MS = 10000,
};

static char data_dir[GALLERY_PATH_MAX], data_setting[GALLERY_PATH_MAX + 32], logs_dir[GALLERY_PATH_MAX + 8];

static int fresh(void **state)
{
	(void)state;
	static int runs;
	snprintf(data_dir, sizeof(data_dir), "%s/worker-data-%d", harness_env("GALLERY_TEST_TMP"),
		 ++runs);
	snprintf(data_setting, sizeof(data_setting), "GALLERY_DATA_DIR=%s", data_dir);
	snprintf(logs_dir, sizeof(logs_dir), "%s/logs", data_dir);
	return sql_exec("DELETE FROM jobs") ? 0 : -1;
}

static bool start(struct daemon *w, const char *threads, const char *hook_kind)
{
	char threads_setting[64], hook[64];
	snprintf(threads_setting, sizeof(threads_setting), "GALLERY_WORKER_THREADS=%s", threads);
	snprintf(hook, sizeof(hook), "GALLERY_TEST_CRASH_KIND=%s", hook_kind ? hook_kind : "");
	setting settings[] = {data_setting, threads_setting, hook, "GALLERY_JOB_LEASE_S=2", NULL};
	return worker_start(w, settings);
}

static long long job_scalar(const char *column, const char *where)
{
	char query[512];
	snprintf(query, sizeof(query), "SELECT %s FROM jobs %s", column, where);
	return sql_scalar(query);
}

/* 2,000 calc jobs over two workers of two threads each: every one done once, one log each. */
static void many_jobs_finish_exactly_once(void **state)
{
	(void)state;
	struct daemon a, b;
	assert_true(start(&a, "2", NULL));
	assert_true(start(&b, "2", NULL));
	/* An idle worker starts a new job within half a second. */
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES "
			     "('calc', '[-3, -2]', 5)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", 1, WAIT_MS));
	assert_true(job_scalar("TIMESTAMPDIFF(MICROSECOND, created_at, started_at) / 1000", "") <
		    START_WITHIN_MS * harness_slowdown());
	assert_int_equal(job_scalar("COUNT(*)",
				    "WHERE result LIKE '{\"count\":2,\"min\":-3,\"max\":-2,"
				    "\"sum\":\"-5\",\"mean\":\"-2.5\",\"median\":\"-2.5\","
				    "\"log_sha256\":\"%'"),
			 1);
	assert_true(sql_exec("DELETE FROM jobs"));

	char insert[256];
	snprintf(insert, sizeof(insert),
		 "INSERT INTO jobs (kind, payload, max_attempts) SELECT 'calc', "
		 "CONCAT('[', seq, ', -', seq, ', 7]'), 5 FROM seq_1_to_%d",
		 MANY_JOBS);
	long long logs_before = count_files(logs_dir);
	assert_true(sql_exec(insert));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", MANY_JOBS,
				    MANY_WAIT_MS));
	assert_int_equal(job_scalar("SUM(attempts)", ""), MANY_JOBS);
	assert_int_equal(job_scalar("COUNT(*)", "WHERE result LIKE '%\"sum\":\"7\",\"mean\":\"2.333333\",\"median\":\"%'"),
			 MANY_JOBS);
	assert_int_equal(count_files(logs_dir) - logs_before, MANY_JOBS);
	/* Both workers took part. */
	assert_true(daemon_log_count(&a, "calc attempt 1: done") > 0);
	assert_true(daemon_log_count(&b, "calc attempt 1: done") > 0);
	assert_int_equal(daemon_log_count(&a, "calc attempt 1: done") +
				 daemon_log_count(&b, "calc attempt 1: done"),
			 MANY_JOBS + 1);
	assert_int_equal(daemon_stop(&a, SIGTERM), 0);
	assert_int_equal(daemon_stop(&b, SIGTERM), 0);
}

/* A worker killed in the middle of a job: once the lease runs out another runs it, attempt 2. */
static void a_killed_worker_s_job_runs_again(void **state)
{
	(void)state;
	struct daemon a, b;
	assert_true(start(&a, "1", "mail"));
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES "
			     "('mail', 'sleep 1500', 5)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running'", 1,
				    WAIT_MS));
	daemon_stop(&a, SIGKILL);
	assert_true(start(&b, "1", "mail"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", 1, WAIT_MS));
	assert_int_equal(job_scalar("attempts", ""), 2);
	assert_int_equal(job_scalar("COUNT(*)",
				    "WHERE result = '{\"echo\":\"sleep 1500\",\"attempt\":2}'"),
			 1);
	assert_true(daemon_log_contains(&b, "mail attempt 2: done"));
	assert_int_equal(daemon_stop(&b, SIGTERM), 0);
}

/* A worker stopped past its lease and resumed: its late outcome changes nothing, and it says so. */
static void a_resumed_worker_s_late_result_changes_nothing(void **state)
{
	(void)state;
	struct daemon a, b;
	assert_true(start(&a, "1", "mail"));
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES "
			     "('mail', 'sleep 1000', 5)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running'", 1,
				    WAIT_MS));
	kill(a.pid, SIGSTOP);
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE lease_until < NOW(3)", 1,
				    WAIT_MS));
	assert_true(start(&b, "1", "mail"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", 1, WAIT_MS));
	kill(a.pid, SIGCONT);
	assert_true(daemon_wait_log(&a, "lease lost", WAIT_MS));
	assert_int_equal(job_scalar("attempts", ""), 2);
	assert_int_equal(job_scalar("COUNT(*)",
				    "WHERE state = 'done' AND "
				    "result = '{\"echo\":\"sleep 1000\",\"attempt\":2}'"),
			 1);
	assert_int_equal(daemon_stop(&a, SIGTERM), 0);
	assert_int_equal(daemon_stop(&b, SIGTERM), 0);
}

/*
 * A job whose isolated child crashes costs an attempt each time, with backoff
 * between them, and is dead after the last; the worker lives on, and the
 * admin's retry runs it again.
 */
static void a_crashing_job_dies_and_the_worker_lives(void **state)
{
	(void)state;
	struct daemon w;
	assert_true(start(&w, "1", "mail"));
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES "
			     "('mail', 'crash', 2)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND "
				    "attempts = 1 AND error LIKE '%crashed (signal 11)%'",
				    1, WAIT_MS));
	/* Its next attempt waits for the backoff (1 s after the first failure). */
	assert_int_equal(job_scalar("TIMESTAMPDIFF(MICROSECOND, NOW(3), run_after) > 300000", ""),
			 1);
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead'", 1, WAIT_MS));
	assert_int_equal(job_scalar("attempts", ""), 2);
	assert_int_equal(job_scalar("COUNT(*)", "WHERE error = 'the isolated test operation "
						"crashed (signal 11)'"),
			 1);
	assert_true(daemon_log_contains(&w, "again in 1000 ms: the isolated test operation "
					    "crashed (signal 11)"));
	assert_true(daemon_log_contains(&w, "mail attempt 2: dead"));
	assert_true(daemon_alive(&w));
	/* The worker still runs other jobs. */
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES "
			     "('mail', 'hello', 2)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", 1, WAIT_MS));
	/* The admin's retry (jobs_retry's statement) gives it attempts again. */
	assert_true(sql_exec("UPDATE jobs SET state = 'queued', max_attempts = attempts + 1, "
			     "run_after = NOW(3), finished_at = NULL WHERE state = 'dead'"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead' AND "
				    "attempts = 3",
				    1, WAIT_MS));
	assert_true(daemon_log_contains(&w, "mail attempt 3: dead"));
	assert_int_equal(daemon_stop(&w, SIGTERM), 0);
}

/* SIGTERM lets a running job finish, then the worker exits 0. */
static void sigterm_lets_a_running_job_finish(void **state)
{
	(void)state;
	struct daemon w;
	assert_true(start(&w, "1", "mail"));
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES "
			     "('mail', 'sleep 800', 5)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running'", 1,
				    WAIT_MS));
	assert_int_equal(daemon_stop(&w, SIGTERM), 0);
	assert_int_equal(job_scalar("COUNT(*)", "WHERE state = 'done' AND attempts = 1"), 1);
}

/* MariaDB stopped for 10 s while jobs run: the worker waits, resumes, and nothing is lost or stuck. */
static void a_database_outage_loses_no_job(void **state)
{
	(void)state;
	struct daemon w;
	assert_true(start(&w, "2", "mail"));
	char insert[256];
	snprintf(insert, sizeof(insert),
		 "INSERT INTO jobs (kind, payload, max_attempts) SELECT 'mail', 'sleep 200', 5 "
		 "FROM seq_1_to_%d",
		 OUTAGE_JOBS);
	assert_true(sql_exec(insert));
	assert_true(sql_wait_scalar("SELECT COUNT(*) >= 4 FROM jobs WHERE state = 'done'", 1,
				    WAIT_MS));
	assert_true(db_server_stop());
	assert_true(daemon_wait_log(&w, "cannot", WAIT_MS));
	/* The outage itself lasts a set time: that is the fault under test, not a wait for state. */
	sleep_ms(OUTAGE_MS);
	assert_true(db_server_start());
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", OUTAGE_JOBS,
				    WAIT_MS * 2));
	assert_int_equal(job_scalar("COUNT(*)", "WHERE state <> 'done'"), 0);
	assert_true(daemon_alive(&w));
	assert_int_equal(daemon_stop(&w, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(many_jobs_finish_exactly_once, fresh),
		cmocka_unit_test_setup(a_killed_worker_s_job_runs_again, fresh),
		cmocka_unit_test_setup(a_resumed_worker_s_late_result_changes_nothing, fresh),
		cmocka_unit_test_setup(a_crashing_job_dies_and_the_worker_lives, fresh),
		cmocka_unit_test_setup(sigterm_lets_a_running_job_finish, fresh),
		cmocka_unit_test_setup(a_database_outage_loses_no_job, fresh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
