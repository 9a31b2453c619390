/* pool: the worker's threads that claim and run jobs, and the heartbeat that keeps their leases. */
#ifndef GALLERY_POOL_H
#define GALLERY_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct pool;
struct worker_env;

/*
 * Starts cfg->worker_threads claimers (0: one per core) and the heartbeat
 * thread; env is the caller's and must outlive the pool.
 */
struct pool *pool_start(const struct config *cfg, const char *self_path,
			const struct worker_env *env, char *err, size_t errlen);

/*
 * Stops claiming, lets running jobs finish for up to grace_ms, then stops the
 * isolated ones (their children are killed) and hands every job still running
 * back to the queue (jobs_release: queued, its attempt not counted). Frees p
 * when every thread has ended; returns false when one had not (the process is
 * about to exit, which ends it).
 */
bool pool_stop(struct pool *p, long grace_ms);

#endif
