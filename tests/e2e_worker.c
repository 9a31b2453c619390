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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* What a test started, stopped after it even when it failed half-way. */
enum { MAX_STARTED = 8 };
static struct daemon started[MAX_STARTED]; /* copies: a reaped pid no longer counts as alive */
static size_t nstarted;

static bool started_one(const struct daemon *d, bool ok)
{
	if (d->pid > 0 && nstarted < MAX_STARTED)
		started[nstarted++] = *d;
	return ok;
}

static int stop_leftovers(void **state)
{
	(void)state;
	for (size_t i = 0; i < nstarted; i++)
		if (daemon_alive(&started[i]))
			daemon_stop(&started[i], SIGKILL);
	nstarted = 0;
	return 0;
}

static int fresh(void **state)
{
	(void)state;
	static int runs;
	snprintf(data_dir, sizeof(data_dir), "%s/worker-data-%d-%d",
		 harness_env("GALLERY_TEST_TMP"), (int)getpid(), ++runs);
	snprintf(data_setting, sizeof(data_setting), "GALLERY_DATA_DIR=%s", data_dir);
	snprintf(logs_dir, sizeof(logs_dir), "%s/logs", data_dir);
	mkdir(data_dir, 0755);
	return sql_exec("DELETE FROM jobs") ? 0 : -1;
}

static bool start(struct daemon *w, const char *threads, const char *hook_kind)
{
	char threads_setting[64], hook[64];
	snprintf(threads_setting, sizeof(threads_setting), "GALLERY_WORKER_THREADS=%s", threads);
	snprintf(hook, sizeof(hook), "GALLERY_TEST_CRASH_KIND=%s", hook_kind ? hook_kind : "");
	/*
	 * ASan's own SIGSEGV handler would turn an isolated child's crash into an
	 * abort (signal 6); the crash test expects the signal the OS sends.
	 */
	static char asan[512];
	const char *asan_now = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%shandle_segv=0", asan_now ? asan_now : "",
		 asan_now && *asan_now ? ":" : "");
	setting settings[] = {data_setting, threads_setting, hook, "GALLERY_JOB_LEASE_S=2", asan,
			      NULL};
	bool ok = worker_start(w, settings);
	return started_one(w, ok);
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
	/* Both workers took part; stopped, their logs are complete. */
	assert_int_equal(daemon_stop(&a, SIGTERM), 0);
	assert_int_equal(daemon_stop(&b, SIGTERM), 0);
	assert_true(daemon_log_count(&a, "calc attempt 1: done") > 0);
	assert_true(daemon_log_count(&b, "calc attempt 1: done") > 0);
	assert_int_equal(daemon_log_count(&a, "calc attempt 1: done") +
				 daemon_log_count(&b, "calc attempt 1: done"),
			 MANY_JOBS + 1);
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
	assert_true(daemon_wait_log(&b, "mail attempt 2: done", WAIT_MS));
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
	assert_true(daemon_pause(&a));
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
	assert_true(daemon_wait_log(&w, "again in 1000 ms: the isolated test operation "
					    "crashed (signal 11)", WAIT_MS));
	assert_true(daemon_wait_log(&w, "mail attempt 2: dead", WAIT_MS));
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
	assert_true(daemon_wait_log(&w, "mail attempt 3: dead", WAIT_MS));
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

/* A mail job; the subject holds an a-grave (UTF-8 C3 A0). */
static const char MAIL_JOB[] =
	"INSERT INTO jobs (kind, payload, max_attempts) VALUES ('mail', "
	"'{\"to\":\"ada@example.org\",\"subject\":\"Bienvenue \xc3\xa0 la galerie\","
	"\"text\":\"Hello Ada\",\"html\":\"<p>Hello Ada</p>\"}', 5)";

/* The first message file in maildir/new, read into out; false while there is none. */
static bool read_mail(const char *maildir, struct buf *out)
{
	char cmd[GALLERY_PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "cat '%s'/new/* 2>/dev/null", maildir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(out, chunk, n);
	pclose(p);
	return out->len > 0;
}

static void expect_message(const char *maildir)
{
	char new_dir[GALLERY_PATH_MAX + 8];
	snprintf(new_dir, sizeof(new_dir), "%s/new", maildir);
	for (int waited = 0; count_files(new_dir) < 1 && waited < WAIT_MS; waited += 50)
		sleep_ms(50);
	assert_int_equal(count_files(new_dir), 1);
	struct buf mail = BUF_INIT;
	assert_true(read_mail(maildir, &mail));
	assert_non_null(strstr(mail.data, "From: gallery@localhost"));
	assert_non_null(strstr(mail.data, "To: ada@example.org"));
	/* "Bienvenue à la galerie" as an RFC 2047 encoded word. */
	assert_non_null(strstr(mail.data, "Subject: =?UTF-8?B?QmllbnZlbnVlIMOgIGxhIGdhbGVyaWU=?="));
	assert_non_null(strstr(mail.data, "Date: "));
	assert_non_null(strstr(mail.data, "Message-ID: <"));
	assert_non_null(strstr(mail.data, "@localhost>"));
	assert_non_null(strstr(mail.data, "Content-Type: multipart/alternative; boundary="));
	assert_non_null(strstr(mail.data, "Content-Type: text/plain; charset=utf-8"));
	assert_non_null(strstr(mail.data, "Content-Type: text/html; charset=utf-8"));
	assert_non_null(strstr(mail.data, "SGVsbG8gQWRh")); /* "Hello Ada" */
	assert_non_null(strstr(mail.data, "PHA+SGVsbG8gQWRhPC9wPg==")); /* "<p>Hello Ada</p>" */
	buf_free(&mail);
}

/* A mail job reaches a real SMTP server with the headers a mail client needs. */
static void mail_reaches_the_smtp_server(void **state)
{
	(void)state;
	char maildir[GALLERY_PATH_MAX + 16], url[64];
	snprintf(maildir, sizeof(maildir), "%s/maildir", data_dir);
	struct daemon smtp, w;
	int port = harness_free_port();
	assert_true(started_one(&smtp, smtp_start(&smtp, port, maildir)));
	snprintf(url, sizeof(url), "GALLERY_SMTP_URL=smtp://127.0.0.1:%d", port);
	setting settings[] = {data_setting, url, NULL};
	assert_true(started_one(&w, worker_start(&w, settings)));
	assert_true(sql_exec(MAIL_JOB));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done' AND "
				    "attempts = 1",
				    1, WAIT_MS));
	expect_message(maildir);
	assert_int_equal(daemon_stop(&w, SIGTERM), 0);
	daemon_stop(&smtp, SIGTERM);
}

/* With the SMTP server down the job retries with backoff, and is delivered once it is back. */
static void mail_waits_for_a_server_that_is_down(void **state)
{
	(void)state;
	char maildir[GALLERY_PATH_MAX + 16], url[64];
	snprintf(maildir, sizeof(maildir), "%s/maildir", data_dir);
	int port = harness_free_port();
	snprintf(url, sizeof(url), "GALLERY_SMTP_URL=smtp://127.0.0.1:%d", port);
	struct daemon smtp, w;
	setting settings[] = {data_setting, url, NULL};
	assert_true(started_one(&w, worker_start(&w, settings)));
	assert_true(sql_exec(MAIL_JOB));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND "
				    "attempts >= 1 AND error LIKE 'cannot send mail to ada@%'",
				    1, WAIT_MS));
	assert_true(started_one(&smtp, smtp_start(&smtp, port, maildir)));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", 1, WAIT_MS));
	assert_true(job_scalar("attempts", "") >= 2);
	expect_message(maildir);
	assert_true(daemon_wait_log(&w, "mail attempt 1: failed", WAIT_MS));
	assert_int_equal(daemon_stop(&w, SIGTERM), 0);
	daemon_stop(&smtp, SIGTERM);
}

/* Without GALLERY_SMTP_URL the message is an .eml file under DATA_DIR/mail, and the log says where. */
static void mail_without_a_server_is_a_file(void **state)
{
	(void)state;
	struct daemon w;
	setting settings[] = {data_setting, NULL};
	assert_true(started_one(&w, worker_start(&w, settings)));
	assert_true(sql_exec(MAIL_JOB));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'", 1, WAIT_MS));
	char mail_dir[GALLERY_PATH_MAX + 8];
	snprintf(mail_dir, sizeof(mail_dir), "%s/mail", data_dir);
	assert_int_equal(count_files(mail_dir), 1);
	assert_true(daemon_wait_log(&w, "mail to ada@example.org written to", WAIT_MS));
	assert_int_equal(daemon_stop(&w, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(many_jobs_finish_exactly_once, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(a_killed_worker_s_job_runs_again, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(a_resumed_worker_s_late_result_changes_nothing, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(a_crashing_job_dies_and_the_worker_lives, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(sigterm_lets_a_running_job_finish, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(a_database_outage_loses_no_job, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(mail_reaches_the_smtp_server, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(mail_waits_for_a_server_that_is_down, fresh, stop_leftovers),
		cmocka_unit_test_setup_teardown(mail_without_a_server_is_a_file, fresh, stop_leftovers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
