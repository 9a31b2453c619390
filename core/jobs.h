/* jobs: the job queue in MariaDB (enqueue, claim with a lease, fenced completion, admin views). */
#ifndef GALLERY_JOBS_H
#define GALLERY_JOBS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

enum job_kind { JOB_THUMBNAIL, JOB_ENHANCE, JOB_CALC, JOB_MAIL, JOB_KIND_COUNT };
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_DEAD, JOB_STATE_COUNT };

/* What a queue call came to; frontend/ maps these to statuses, the worker to log lines. */
enum jobs_outcome {
	JOBS_OK,
	JOBS_DEDUPED,     /* enqueue: a queued or running job has that key; *id is that job */
	JOBS_EMPTY,       /* claim: nothing to run now */
	JOBS_NOT_FOUND,   /* no job with that id */
	JOBS_LEASE_LOST,  /* the attempt is no longer the job's current one: 0 rows changed */
	JOBS_NOT_DEAD,    /* retry of a job that is not dead */
	JOBS_UNAVAILABLE, /* the database cannot be reached; try again later */
	JOBS_CONFLICT,    /* a deadlock undid the caller's transaction; run it again */
	JOBS_ERROR,       /* anything else; db_error() says what */
};

/* The time fields are Unix milliseconds (UTC), 0 for SQL NULL. */
struct job {
	long long id;
	enum job_kind kind;
	enum job_state state;
	int attempts, max_attempts;
	char *dedupe_key; /* NULL when none */
	char *payload;    /* JSON text */
	char *result;     /* JSON text or NULL */
	char *error;      /* NULL when none */
	int64_t created_at, started_at, finished_at, run_after, lease_until;
};

struct job_request {
	enum job_kind kind;
	const char *payload;    /* JSON text */
	const char *dedupe_key; /* NULL: no dedupe */
	int max_attempts;       /* GALLERY_JOB_MAX_ATTEMPTS of the enqueuing program */
};

/* Backoff before attempt n+1 after n failures: 1 s, 2 s, 4 s, ... at most 5 minutes. */
enum { JOBS_BACKOFF_BASE_MS = 1000, JOBS_BACKOFF_MAX_MS = 300000 };
int64_t jobs_backoff_ms(int failed_attempts);

const char *jobs_kind_name(enum job_kind kind);
bool jobs_kind_parse(const char *name, enum job_kind *kind);
const char *jobs_state_name(enum job_state state);
bool jobs_state_parse(const char *name, enum job_state *state);

/*
 * Enqueue inside the caller's transaction (between db_begin and db_commit on the
 * same db): the job exists if and only if the caller commits. With a dedupe key
 * that a queued or running job of the same kind holds, nothing is added and the
 * answer is JOBS_DEDUPED with that job's id. JOBS_CONFLICT: roll back and redo
 * the whole transaction.
 */
enum jobs_outcome jobs_enqueue_in(struct db *db, const struct job_request *req, long long *id);
/* The same in a transaction of its own, run again after a deadlock. */
enum jobs_outcome jobs_enqueue(struct db *db, const struct job_request *req, long long *id);

/*
 * Claims the next runnable job (queued and past its backoff, or running with
 * its lease run out) in one short transaction with SELECT ... FOR UPDATE SKIP
 * LOCKED: it becomes running, attempts + 1 (the claim's fencing token), leased
 * for lease_s. A job whose lease ran out on its last attempt becomes dead
 * instead and the claim looks further. JOBS_EMPTY when nothing is runnable.
 * The caller owns *out (job_free).
 */
enum jobs_outcome jobs_claim(struct db *db, long lease_s, struct job *out);

/*
 * The fenced calls: each changes the job only while it is running under this
 * attempt, and answers JOBS_LEASE_LOST when it is not (another worker claimed
 * it after the lease ran out, or the admin acted): the caller's work is then
 * to be dropped, not recorded.
 */
enum jobs_outcome jobs_heartbeat(struct db *db, long long id, int attempt, long lease_s);
/* Done, with result_json (a JSON object's text). */
enum jobs_outcome jobs_complete(struct db *db, long long id, int attempt, const char *result_json);
/*
 * A failed attempt: queued again after jobs_backoff_ms(attempt), or dead when
 * permanent or when this was the last attempt; *dead says which (may be NULL).
 */
enum jobs_outcome jobs_fail(struct db *db, long long id, int attempt, const char *error,
			    bool permanent, bool *dead);
/*
 * Hands a running job back (a worker stopping): queued, runnable at once, and
 * its attempt not counted (attempts - 1). This reuses the attempt number for
 * the next claim, which is safe: the releaser is the only holder of that
 * number, it is fenced like the others, and it never writes again.
 */
enum jobs_outcome jobs_release(struct db *db, long long id, int attempt);

/*
 * A run that has done its work and waits only on something outside the queue
 * (memcache taking an invalidation): queued again after delay_ms, keeping
 * result_json for the next run to finish from, and its attempt not counted, as
 * in jobs_release, so that the wait costs no attempt and holds no thread.
 */
enum jobs_outcome jobs_defer(struct db *db, long long id, int attempt, const char *result_json,
			     int64_t delay_ms);

/*
 * The admin's retry of a dead job: queued, runnable at once, with max_attempts
 * more attempts. attempts keeps counting up rather than starting over, so that
 * the number stays a fencing token no older claim can hold.
 */
enum jobs_outcome jobs_retry(struct db *db, long long id, int max_attempts);

enum jobs_outcome jobs_get(struct db *db, long long id, struct job *out);

/*
 * Which of n jobs (n at most JOBS_FINISHED_MAX) are done, dead or gone: one
 * indexed query, for callers that wait on jobs. finished[i] answers ids[i].
 */
enum { JOBS_FINISHED_MAX = 100 };
enum jobs_outcome jobs_finished(struct db *db, const long long *ids, size_t n, bool *finished);

struct jobs_filter {
	bool by_state, by_kind;
	enum job_state state;
	enum job_kind kind;
	long page;     /* from 1 */
	long per_page; /* 1 to JOBS_LIST_MAX */
};
enum { JOBS_LIST_MAX = 200 };
/* The newest jobs first; *more says whether a further page has any. Free with jobs_free_list. */
enum jobs_outcome jobs_list(struct db *db, const struct jobs_filter *filter, struct job **jobs,
			    size_t *count, bool *more);
void jobs_free_list(struct job *jobs, size_t count);

struct jobs_stats {
	long long queued, running, done, dead;
	int64_t oldest_queued_age_ms; /* 0 when nothing is queued */
};
enum jobs_outcome jobs_stats(struct db *db, struct jobs_stats *out);

void job_free(struct job *job);

/*
 * DESIGN.md's job shape: {"id","kind","state","attempts","created_at",
 * "started_at","finished_at","error","result"}, times in ISO 8601 UTC with
 * milliseconds (clock_iso8601) or null. NULL when out of memory.
 */
cJSON *job_to_json(const struct job *job);

#endif
