/* jobs: the job queue in MariaDB (enqueue, claim with a lease, fenced completion, admin views). */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/db.h"

enum {
	/* Leases ran out on their last attempt: claims that mark them dead before giving up. */
	CLAIM_MAX_SWEEPS = 8,
	ENQUEUE_MAX_TRIES = 5,
};

static const char *const KIND_NAMES[JOB_KIND_COUNT] = {"thumbnail", "enhance", "calc", "mail"};
static const char *const STATE_NAMES[JOB_STATE_COUNT] = {"queued", "running", "done", "dead"};

/* The columns every read of a job selects, in the order row_to_job expects. */
#define JOB_COLUMNS                                                                           \
	"id, kind, state, attempts, max_attempts, dedupe_key, payload, result, error, "       \
	"FLOOR(UNIX_TIMESTAMP(created_at) * 1000), FLOOR(UNIX_TIMESTAMP(started_at) * 1000), " \
	"FLOOR(UNIX_TIMESTAMP(finished_at) * 1000), FLOOR(UNIX_TIMESTAMP(run_after) * 1000), " \
	"FLOOR(UNIX_TIMESTAMP(lease_until) * 1000)"
enum { JOB_NCOLS = 14 };

int64_t jobs_backoff_ms(int failed_attempts)
{
	int64_t ms = JOBS_BACKOFF_BASE_MS;
	for (int i = 1; i < failed_attempts && ms < JOBS_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < JOBS_BACKOFF_MAX_MS ? ms : JOBS_BACKOFF_MAX_MS;
}

const char *jobs_kind_name(enum job_kind kind)
{
	return (unsigned)kind < JOB_KIND_COUNT ? KIND_NAMES[kind] : "unknown";
}

bool jobs_kind_parse(const char *name, enum job_kind *kind)
{
	for (int k = 0; k < JOB_KIND_COUNT; k++)
		if (strcmp(name, KIND_NAMES[k]) == 0) {
			*kind = (enum job_kind)k;
			return true;
		}
	return false;
}

const char *jobs_state_name(enum job_state state)
{
	return (unsigned)state < JOB_STATE_COUNT ? STATE_NAMES[state] : "unknown";
}

bool jobs_state_parse(const char *name, enum job_state *state)
{
	for (int s = 0; s < JOB_STATE_COUNT; s++)
		if (strcmp(name, STATE_NAMES[s]) == 0) {
			*state = (enum job_state)s;
			return true;
		}
	return false;
}

static enum jobs_outcome outcome_of(enum db_status status)
{
	switch (status) {
	case DB_OK:
		return JOBS_OK;
	case DB_UNAVAILABLE:
		return JOBS_UNAVAILABLE;
	case DB_CONFLICT:
		return JOBS_CONFLICT;
	case DB_FAILED:
		break;
	}
	return JOBS_ERROR;
}

void job_free(struct job *job)
{
	if (!job)
		return;
	free(job->dedupe_key);
	free(job->payload);
	free(job->result);
	free(job->error);
	memset(job, 0, sizeof(*job));
}

static char *dup_col(const char *col, unsigned long len, bool *ok)
{
	if (!col)
		return NULL;
	char *s = malloc(len + 1);
	if (!s) {
		*ok = false;
		return NULL;
	}
	memcpy(s, col, len);
	s[len] = '\0';
	return s;
}

/* A number column; *ok turns false when it holds no number. */
static int64_t num_col(const char *col, bool *ok)
{
	long long v;
	if (!db_column_int(col, &v))
		*ok = false;
	return v;
}

/* Fills job from a row of JOB_COLUMNS; false when out of memory or the row is not one. */
static bool row_to_job(struct job *job, char **cols, const unsigned long *lens, unsigned ncols)
{
	memset(job, 0, sizeof(*job));
	if (ncols < JOB_NCOLS || !cols[1] || !cols[2])
		return false;
	bool ok = jobs_kind_parse(cols[1], &job->kind) && jobs_state_parse(cols[2], &job->state);
	job->id = num_col(cols[0], &ok);
	job->attempts = (int)num_col(cols[3], &ok);
	job->max_attempts = (int)num_col(cols[4], &ok);
	job->dedupe_key = dup_col(cols[5], lens[5], &ok);
	job->payload = dup_col(cols[6] ? cols[6] : "", cols[6] ? lens[6] : 0, &ok);
	job->result = dup_col(cols[7], lens[7], &ok);
	job->error = dup_col(cols[8], lens[8], &ok);
	job->created_at = num_col(cols[9], &ok);
	job->started_at = num_col(cols[10], &ok);
	job->finished_at = num_col(cols[11], &ok);
	job->run_after = num_col(cols[12], &ok);
	job->lease_until = num_col(cols[13], &ok);
	if (!ok)
		job_free(job);
	return ok;
}

struct one_job {
	struct job *job;
	bool found, ok;
	int64_t now; /* a claim's extra column: the server's clock */
};

static bool on_job_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct one_job *one = ctx;
	one->found = true;
	one->ok = row_to_job(one->job, cols, lens, ncols);
	if (ncols > JOB_NCOLS)
		one->now = num_col(cols[JOB_NCOLS], &one->ok);
	return false;
}

struct two_numbers {
	bool found;
	long long a, b;
};

static bool on_numbers_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct two_numbers *n = ctx;
	n->found = ncols >= 2 && db_column_int(cols[0], &n->a) && db_column_int(cols[1], &n->b);
	return false;
}

enum jobs_outcome jobs_enqueue_in(struct db *db, const struct job_request *req, long long *id)
{
	/*
	 * A duplicate active key turns the insert into a no-op that leaves the
	 * existing job's id in LAST_INSERT_ID(); ROW_COUNT() then says 0, not 1.
	 */
	struct db_param params[] = {
		DB_STR(jobs_kind_name(req->kind)),
		req->dedupe_key ? DB_STR(req->dedupe_key) : (struct db_param){.type = DB_PARAM_NULL},
		DB_STR(req->payload),
		DB_INT(req->max_attempts > 0 ? req->max_attempts : 1),
	};
	enum db_status status = db_exec(db,
					"INSERT INTO jobs (kind, dedupe_key, payload, max_attempts) "
					"VALUES (?, ?, ?, ?) "
					"ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
					params, 4, NULL, NULL);
	if (status != DB_OK)
		return outcome_of(status);
	struct two_numbers n = {0};
	status = db_exec(db, "SELECT LAST_INSERT_ID(), ROW_COUNT()", NULL, 0, on_numbers_row, &n);
	if (status != DB_OK)
		return outcome_of(status);
	if (!n.found)
		return JOBS_ERROR;
	*id = n.a;
	return n.b == 1 ? JOBS_OK : JOBS_DEDUPED;
}

enum jobs_outcome jobs_enqueue(struct db *db, const struct job_request *req, long long *id)
{
	enum jobs_outcome outcome = JOBS_CONFLICT;
	for (int i = 0; i < ENQUEUE_MAX_TRIES && outcome == JOBS_CONFLICT; i++) {
		outcome = outcome_of(db_begin(db));
		if (outcome != JOBS_OK)
			return outcome;
		outcome = jobs_enqueue_in(db, req, id);
		if (outcome == JOBS_OK || outcome == JOBS_DEDUPED) {
			enum jobs_outcome committed = outcome_of(db_commit(db));
			if (committed != JOBS_OK)
				outcome = committed;
		} else {
			db_rollback(db);
		}
	}
	return outcome;
}

/* One claim transaction; *again when it only marked an expired job dead. */
static enum jobs_outcome claim_once(struct db *db, long lease_s, struct job *out, bool *again)
{
	*again = false;
	enum db_status status = db_begin(db);
	if (status != DB_OK)
		return outcome_of(status);
	struct one_job one = {.job = out};
	/*
	 * The index (pending, run_after, id) hands rows over in order; SKIP LOCKED
	 * steps past the rows other claimers hold, so claimers never wait on each
	 * other. The extra column is the server's clock, the one every time uses.
	 */
	status = db_exec(db,
			 "SELECT " JOB_COLUMNS ", FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) FROM jobs "
			 "WHERE pending = 1 AND run_after <= NOW(3) ORDER BY run_after, id LIMIT 1 "
			 "FOR UPDATE SKIP LOCKED",
			 NULL, 0, on_job_row, &one);
	if (status != DB_OK)
		goto out_rollback;
	if (!one.found) {
		db_rollback(db);
		return JOBS_EMPTY;
	}
	if (!one.ok) {
		status = DB_FAILED;
		goto out_rollback;
	}
	bool expired = out->state == JOB_RUNNING;
	if (expired && out->attempts >= out->max_attempts) {
		char error[160];
		snprintf(error, sizeof(error),
			 "the lease of attempt %d ran out: the worker stopped or hung, and that "
			 "was the last attempt", out->attempts);
		struct db_param dead[] = {DB_STR(error), DB_INT(out->id)};
		status = db_exec(db,
				 "UPDATE jobs SET state = 'dead', error = ?, finished_at = NOW(3), "
				 "lease_until = NULL WHERE id = ?",
				 dead, 2, NULL, NULL);
		if (status != DB_OK)
			goto out_rollback;
		job_free(out);
		*again = true;
		return outcome_of(db_commit(db));
	}
	char error[120];
	snprintf(error, sizeof(error), "the lease of attempt %d ran out: the worker stopped or hung",
		 out->attempts);
	struct db_param claim[] = {
		expired ? DB_STR(error) : (struct db_param){.type = DB_PARAM_NULL},
		DB_INT(one.now),
		DB_INT(lease_s),
		DB_INT(lease_s),
		DB_INT(out->id),
	};
	status = db_exec(db,
			 "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
			 "error = COALESCE(?, error), started_at = FROM_UNIXTIME(? / 1000), "
			 "finished_at = NULL, "
			 "lease_until = NOW(3) + INTERVAL ? SECOND, "
			 "run_after = NOW(3) + INTERVAL ? SECOND WHERE id = ?",
			 claim, 5, NULL, NULL);
	if (status != DB_OK)
		goto out_rollback;
	status = db_commit(db);
	if (status != DB_OK) {
		job_free(out);
		return outcome_of(status);
	}
	if (expired) {
		free(out->error);
		out->error = strdup(error);
	}
	out->state = JOB_RUNNING;
	out->attempts++;
	out->started_at = one.now;
	out->finished_at = 0;
	return JOBS_OK;
out_rollback:
	db_rollback(db);
	job_free(out);
	return outcome_of(status);
}

enum jobs_outcome jobs_claim(struct db *db, long lease_s, struct job *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < CLAIM_MAX_SWEEPS; i++) {
		bool again;
		enum jobs_outcome outcome = claim_once(db, lease_s, out, &again);
		if (outcome != JOBS_OK || !again)
			return outcome;
	}
	return JOBS_EMPTY;
}

/* Runs a fenced UPDATE whose last two parameters are id and attempt. */
static enum jobs_outcome fenced(struct db *db, const char *sql, const struct db_param *params,
				size_t n)
{
	enum db_status status = db_exec(db, sql, params, n, NULL, NULL);
	if (status != DB_OK)
		return outcome_of(status);
	return db_affected_rows(db) == 1 ? JOBS_OK : JOBS_LEASE_LOST;
}

#define FENCE " WHERE id = ? AND attempts = ? AND state = 'running'"

enum jobs_outcome jobs_heartbeat(struct db *db, long long id, int attempt, long lease_s)
{
	/*
	 * Always a change, even within the millisecond of the claim: an UPDATE that
	 * leaves its row as it was counts 0 rows, which would read as a lost lease.
	 */
	struct db_param params[] = {DB_INT(lease_s), DB_INT(id), DB_INT(attempt)};
	return fenced(db,
		      "UPDATE jobs SET lease_until = GREATEST(NOW(3) + INTERVAL ? SECOND, "
		      "lease_until + INTERVAL 1000 MICROSECOND), run_after = lease_until" FENCE,
		      params, 3);
}

enum jobs_outcome jobs_complete(struct db *db, long long id, int attempt, const char *result_json)
{
	struct db_param params[] = {DB_STR(result_json), DB_INT(id), DB_INT(attempt)};
	return fenced(db,
		      "UPDATE jobs SET state = 'done', result = ?, error = NULL, "
		      "finished_at = NOW(3), lease_until = NULL, run_after = NOW(3)" FENCE,
		      params, 3);
}

enum jobs_outcome jobs_fail(struct db *db, long long id, int attempt, const char *error,
			    bool permanent, bool *dead)
{
	/* Single-table UPDATE assigns left to right: state is decided last. */
	struct db_param params[] = {
		DB_STR(error),
		DB_INT(permanent),
		DB_INT(jobs_backoff_ms(attempt) * 1000),
		DB_INT(permanent),
		DB_INT(permanent),
		DB_INT(id),
		DB_INT(attempt),
	};
	enum jobs_outcome outcome = fenced(
		db,
		"UPDATE jobs SET error = ?, lease_until = NULL, "
		"run_after = IF(? OR attempts >= max_attempts, NOW(3), "
		"NOW(3) + INTERVAL ? MICROSECOND), "
		"finished_at = IF(? OR attempts >= max_attempts, NOW(3), NULL), "
		"state = IF(? OR attempts >= max_attempts, 'dead', 'queued')" FENCE,
		params, 7);
	if (outcome != JOBS_OK || !dead)
		return outcome;
	struct db_param by_id[] = {DB_INT(id)};
	struct two_numbers n = {0};
	enum db_status status = db_exec(db, "SELECT state = 'dead', 0 FROM jobs WHERE id = ?",
					by_id, 1, on_numbers_row, &n);
	*dead = status == DB_OK && n.found && n.a == 1;
	return JOBS_OK;
}

enum jobs_outcome jobs_release(struct db *db, long long id, int attempt)
{
	struct db_param params[] = {DB_INT(id), DB_INT(attempt)};
	return fenced(db,
		      "UPDATE jobs SET state = 'queued', attempts = attempts - 1, "
		      "lease_until = NULL, run_after = NOW(3)" FENCE,
		      params, 2);
}

enum jobs_outcome jobs_defer(struct db *db, long long id, int attempt, const char *result_json,
			     int64_t delay_ms)
{
	struct db_param params[] = {DB_STR(result_json), DB_INT(delay_ms * 1000), DB_INT(id),
				    DB_INT(attempt)};
	return fenced(db,
		      "UPDATE jobs SET state = 'queued', attempts = attempts - 1, result = ?, "
		      "lease_until = NULL, run_after = NOW(3) + INTERVAL ? MICROSECOND" FENCE,
		      params, 4);
}

enum jobs_outcome jobs_get(struct db *db, long long id, struct job *out)
{
	memset(out, 0, sizeof(*out));
	struct db_param params[] = {DB_INT(id)};
	struct one_job one = {.job = out};
	enum db_status status = db_exec(db, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?",
					params, 1, on_job_row, &one);
	if (status != DB_OK)
		return outcome_of(status);
	if (!one.found)
		return JOBS_NOT_FOUND;
	return one.ok ? JOBS_OK : JOBS_ERROR;
}

enum jobs_outcome jobs_retry(struct db *db, long long id, int max_attempts)
{
	struct db_param params[] = {DB_INT(max_attempts > 0 ? max_attempts : 1), DB_INT(id)};
	enum db_status status = db_exec(db,
					"UPDATE jobs SET state = 'queued', "
					"max_attempts = attempts + ?, run_after = NOW(3), "
					"finished_at = NULL WHERE id = ? AND state = 'dead'",
					params, 2, NULL, NULL);
	if (status != DB_OK)
		return outcome_of(status);
	if (db_affected_rows(db) == 1)
		return JOBS_OK;
	struct job job;
	enum jobs_outcome outcome = jobs_get(db, id, &job);
	job_free(&job);
	return outcome == JOBS_OK ? JOBS_NOT_DEAD : outcome;
}

struct unfinished {
	const long long *ids;
	size_t n;
	bool *finished;
};

static bool on_unfinished_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct unfinished *u = ctx;
	long long id = 0;
	if (ncols < 1 || !db_column_int(cols[0], &id))
		return true;
	for (size_t i = 0; i < u->n; i++)
		if (u->ids[i] == id)
			u->finished[i] = false;
	return true;
}

enum jobs_outcome jobs_finished(struct db *db, const long long *ids, size_t n, bool *finished)
{
	if (n == 0)
		return JOBS_OK;
	if (n > JOBS_FINISHED_MAX)
		return JOBS_ERROR;
	/* The rows that still run or wait; every other id is finished or gone. */
	char sql[128 + 2 * JOBS_FINISHED_MAX];
	size_t at = (size_t)snprintf(sql, sizeof(sql),
				     "SELECT id FROM jobs WHERE state IN ('queued', 'running') AND id IN (?");
	for (size_t i = 1; i < n; i++)
		at += (size_t)snprintf(sql + at, sizeof(sql) - at, ",?");
	snprintf(sql + at, sizeof(sql) - at, ")");
	struct db_param params[JOBS_FINISHED_MAX];
	for (size_t i = 0; i < n; i++) {
		params[i] = DB_INT(ids[i]);
		finished[i] = true;
	}
	struct unfinished u = {ids, n, finished};
	return outcome_of(db_exec(db, sql, params, n, on_unfinished_row, &u));
}

struct job_list {
	struct job *jobs;
	size_t count, cap;
	bool ok;
};

static bool on_list_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct job_list *list = ctx;
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		struct job *grown = realloc(list->jobs, cap * sizeof(*grown));
		if (!grown) {
			list->ok = false;
			return false;
		}
		list->jobs = grown;
		list->cap = cap;
	}
	if (!row_to_job(&list->jobs[list->count], cols, lens, ncols)) {
		list->ok = false;
		return false;
	}
	list->count++;
	return true;
}

void jobs_free_list(struct job *jobs, size_t count)
{
	for (size_t i = 0; jobs && i < count; i++)
		job_free(&jobs[i]);
	free(jobs);
}

enum jobs_outcome jobs_list(struct db *db, const struct jobs_filter *filter, struct job **jobs,
			    size_t *count, bool *more)
{
	static const char *const SQL[2][2] = {
		{"SELECT " JOB_COLUMNS " FROM jobs ORDER BY id DESC LIMIT ? OFFSET ?",
		 "SELECT " JOB_COLUMNS " FROM jobs WHERE kind = ? ORDER BY id DESC LIMIT ? OFFSET ?"},
		{"SELECT " JOB_COLUMNS " FROM jobs WHERE state = ? ORDER BY id DESC LIMIT ? OFFSET ?",
		 "SELECT " JOB_COLUMNS " FROM jobs WHERE state = ? AND kind = ? "
		 "ORDER BY id DESC LIMIT ? OFFSET ?"},
	};
	*jobs = NULL;
	*count = 0;
	*more = false;
	long per_page = filter->per_page < 1 ? 1
			: filter->per_page > JOBS_LIST_MAX ? JOBS_LIST_MAX
							   : filter->per_page;
	long page = filter->page < 1 ? 1 : filter->page;
	struct db_param params[4];
	size_t n = 0;
	if (filter->by_state)
		params[n++] = DB_STR(jobs_state_name(filter->state));
	if (filter->by_kind)
		params[n++] = DB_STR(jobs_kind_name(filter->kind));
	/* One row more than a page tells whether there is another. */
	params[n++] = DB_INT(per_page + 1);
	params[n++] = DB_INT((page - 1) * per_page);
	struct job_list list = {.ok = true};
	enum db_status status = db_exec(db, SQL[filter->by_state][filter->by_kind], params, n,
					on_list_row, &list);
	if (status != DB_OK || !list.ok) {
		jobs_free_list(list.jobs, list.count);
		return status != DB_OK ? outcome_of(status) : JOBS_ERROR;
	}
	if (list.count > (size_t)per_page) {
		job_free(&list.jobs[per_page]);
		list.count = (size_t)per_page;
		*more = true;
	}
	*jobs = list.jobs;
	*count = list.count;
	return JOBS_OK;
}

static bool on_state_count(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct jobs_stats *stats = ctx;
	enum job_state state;
	if (ncols < 2 || !cols[0] || !jobs_state_parse(cols[0], &state))
		return true;
	long long n;
	if (!db_column_int(cols[1], &n))
		return true;
	long long *slot[JOB_STATE_COUNT] = {&stats->queued, &stats->running, &stats->done,
					    &stats->dead};
	*slot[state] = n;
	return true;
}

enum jobs_outcome jobs_stats(struct db *db, struct jobs_stats *out)
{
	memset(out, 0, sizeof(*out));
	enum db_status status = db_exec(db, "SELECT state, COUNT(*) FROM jobs GROUP BY state",
					NULL, 0, on_state_count, out);
	if (status != DB_OK)
		return outcome_of(status);
	/* Ids grow with time, so the lowest queued id is the oldest queued job. */
	struct two_numbers n = {0};
	status = db_exec(db,
			 "SELECT FLOOR(TIMESTAMPDIFF(MICROSECOND, created_at, NOW(3)) / 1000), 0 "
			 "FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1",
			 NULL, 0, on_numbers_row, &n);
	if (status != DB_OK)
		return outcome_of(status);
	out->oldest_queued_age_ms = n.found && n.a > 0 ? n.a : 0;
	return JOBS_OK;
}

static bool add_time(cJSON *obj, const char *name, int64_t unix_ms)
{
	if (!unix_ms)
		return cJSON_AddNullToObject(obj, name) != NULL;
	char text[CLOCK_ISO_SIZE];
	clock_iso8601(unix_ms, text);
	return cJSON_AddStringToObject(obj, name, text) != NULL;
}

cJSON *job_to_json(const struct job *job)
{
	cJSON *obj = cJSON_CreateObject();
	if (!obj)
		return NULL;
	bool ok = cJSON_AddNumberToObject(obj, "id", (double)job->id) &&
		  cJSON_AddStringToObject(obj, "kind", jobs_kind_name(job->kind)) &&
		  cJSON_AddStringToObject(obj, "state", jobs_state_name(job->state)) &&
		  cJSON_AddNumberToObject(obj, "attempts", job->attempts) &&
		  add_time(obj, "created_at", job->created_at) &&
		  add_time(obj, "started_at", job->started_at) &&
		  add_time(obj, "finished_at", job->finished_at) &&
		  (job->error ? cJSON_AddStringToObject(obj, "error", job->error)
			      : cJSON_AddNullToObject(obj, "error"));
	/*
	 * The result goes out as stored, not parsed and printed again: cJSON keeps
	 * numbers as doubles and prints 2^53 - 1 as 9.00719925474099e+15. A result
	 * that is not JSON (never written by us) goes out as its text.
	 */
	cJSON *result = cJSON_CreateNull();
	if (job->result) {
		cJSON *parsed = cJSON_ParseWithOpts(job->result, NULL, true);
		cJSON_Delete(result);
		result = parsed ? cJSON_CreateRaw(job->result) : cJSON_CreateString(job->result);
		cJSON_Delete(parsed);
	}
	if (!ok || !result || !cJSON_AddItemToObject(obj, "result", result)) {
		cJSON_Delete(result);
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}
