/* kinds: the worker's table of job kinds (kind -> run function, in-thread or isolated). */
#ifndef GALLERY_KINDS_H
#define GALLERY_KINDS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "core/jobs.h"
#include "worker/isolate.h"

struct blob_store;
struct config;
struct db;
struct images;

/* What the worker opens once and its jobs share (threads may use them at once). */
struct worker_env {
	struct blob_store *blobs; /* DATA_DIR's store: originals, thumbnails, logs */
	struct images *images;    /* the write path uploads use: file, row, cache */
};

/* What a run function gets: the job as claimed and the process's settings. */
struct job_ctx {
	const struct config *cfg;
	const struct job *job;
	const char *self_path;     /* the worker binary, for isolate_run */
	const atomic_bool *cancel; /* set when the worker stops: give the job back */
	struct db *db;             /* the claiming thread's connection */
	struct blob_store *blobs;
	struct images *images;
	long lease_s; /* for a fenced check (jobs_heartbeat) before a visible write */
};

enum job_run {
	JOB_RUN_DONE,      /* result holds the result's JSON object */
	JOB_RUN_RETRY,     /* failed for now: another attempt after a backoff */
	JOB_RUN_FAILED,    /* failed for good (bad input): dead at once */
	JOB_RUN_CANCELLED, /* stopped because the worker stops: handed back */
	/*
	 * Done, and already recorded as done by the run itself (jobs_complete in
	 * the transaction that decided it); err says why, for the job's log line.
	 */
	JOB_RUN_RECORDED,
	/*
	 * The work is done but the job waits on something outside (memcache to
	 * take an invalidation): queued again after a short wait, its attempt not
	 * counted, with result kept for the next run to finish from (job->result).
	 * err says why for the job's log line; empty, no line (a wait that goes on).
	 */
	JOB_RUN_DEFERRED,
};

typedef enum job_run (*job_run_fn)(const struct job_ctx *ctx, struct buf *result, char *err,
				   size_t errlen);

/*
 * One row per kind. Isolated kinds decode untrusted bytes: their run function
 * does the database and blob-store work in the worker and hands the decoding to
 * isolate_run, whose child runs one of kinds_isolated_ops().
 */
struct job_kind_entry {
	enum job_kind kind;
	bool isolated;
	job_run_fn run; /* NULL: this worker cannot run the kind yet */
};

/*
 * The entry for kind. With GALLERY_TEST_CRASH_KIND naming it (a test hook),
 * the kind runs the isolated "test" operation instead (job_test.c).
 */
const struct job_kind_entry *kinds_find(const struct config *cfg, enum job_kind kind);
/* The operations a --run-isolated child may run. */
const struct isolate_op *kinds_isolated_ops(size_t *count);

/* The run functions, one file each. */
enum job_run job_calc_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen);
enum job_run job_mail_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen);
enum job_run job_thumbnail_run(const struct job_ctx *ctx, struct buf *result, char *err,
			      size_t errlen);
enum isolate_op_status job_thumbnail_op(const struct buf *in, struct buf *out, char *err,
					size_t errlen);
enum job_run job_enhance_run(const struct job_ctx *ctx, struct buf *result, char *err,
			    size_t errlen);
enum isolate_op_status job_enhance_op(const struct buf *in, struct buf *out, char *err,
				      size_t errlen);
enum job_run job_test_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen);
enum isolate_op_status job_test_op(const struct buf *in, struct buf *out, char *err,
				   size_t errlen);

#endif
