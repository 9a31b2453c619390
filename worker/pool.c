/* pool: the worker's threads that claim and run jobs, and the heartbeat that keeps their leases. */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "core/jobs.h"
#include "worker/kinds.h"

enum {
	/* An idle claimer looks again after 100 to 200 ms: a new job starts within 0.5 s. */
	IDLE_POLL_MS = 100,
	IDLE_JITTER_MS = 100,
	/* While the database does not answer: wait this long between tries. */
	DB_RETRY_MS = 500,
	/* After the grace, isolated jobs get this long to be killed and handed back. */
	CANCEL_WAIT_MS = 3000,
	/* A deferred job (JOB_RUN_DEFERRED) is tried again this much later, by any worker. */
	DEFER_MS = 1000,
	ERR_SIZE = 1024,
};

/* A claimer's job while it runs one: what the heartbeat extends. */
struct slot {
	long long id;
	int attempt;
	bool active;
	bool lost;
	bool finishing; /* its outcome is being recorded: no heartbeat, no "lost" alarm */
};

struct claimer {
	struct pool *pool;
	size_t index;
	pthread_t thread;
	unsigned seed;
};

struct pool {
	const struct config *cfg;
	const char *self_path;
	const struct worker_env *env;
	size_t nthreads;
	long lease_s;
	pthread_mutex_t lock;
	pthread_cond_t wake;     /* stopping, or a claimer ended */
	size_t running_threads;  /* claimers and heartbeat not yet ended */
	atomic_bool stopping;    /* no more claims */
	atomic_bool cancel;      /* give running jobs back now */
	struct slot *slots;      /* under lock */
	struct claimer *claimers;
	pthread_t heartbeat;
	struct log_limit db_down;
};

/* Sleeps up to ms, waking at once when *flag is set. */
static void pause_until(struct pool *p, long ms, const atomic_bool *flag)
{
	struct timespec until = clock_deadline(ms);
	pthread_mutex_lock(&p->lock);
	while (!atomic_load(flag) && pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0)
		;
	pthread_mutex_unlock(&p->lock);
}

/* A claimer's sleep: over when the pool stops claiming. */
static void pause_ms(struct pool *p, long ms)
{
	pause_until(p, ms, &p->stopping);
}

static void thread_ended(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->running_threads--;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

static void set_slot(struct pool *p, size_t i, const struct job *job)
{
	pthread_mutex_lock(&p->lock);
	p->slots[i] = (struct slot){job ? job->id : 0, job ? job->attempts : 0, job != NULL, false,
				    false};
	pthread_mutex_unlock(&p->lock);
}

static void slot_finishing(struct pool *p, size_t i)
{
	pthread_mutex_lock(&p->lock);
	p->slots[i].finishing = true;
	pthread_mutex_unlock(&p->lock);
}

/* A fenced write that the database refuses for now is tried again until it answers. */
static bool keep_trying(struct pool *p, enum jobs_outcome outcome, struct db *db)
{
	if (outcome != JOBS_UNAVAILABLE && outcome != JOBS_CONFLICT)
		return false;
	log_warn_limited(&p->db_down, "worker: cannot record a job's outcome (%s); trying again",
			 db_error(db));
	if (atomic_load(&p->cancel))
		return false;
	pause_ms(p, DB_RETRY_MS);
	return true;
}

/* Records what the run came to and logs the job's one line. */
static void record(struct pool *p, struct db *db, const struct job *job,
		   enum job_run run, const struct buf *result, const char *err, int64_t ms)
{
	const char *kind = jobs_kind_name(job->kind);
	enum jobs_outcome outcome = JOBS_ERROR; /* every run value sets it; gcc -O1 cannot tell */
	bool dead = false;
	do {
		switch (run) {
		case JOB_RUN_DONE:
			outcome = jobs_complete(db, job->id, job->attempts,
						result->data ? result->data : "{}");
			break;
		case JOB_RUN_CANCELLED:
			outcome = jobs_release(db, job->id, job->attempts);
			break;
		case JOB_RUN_RECORDED:
			outcome = JOBS_OK;
			break;
		case JOB_RUN_DEFERRED:
			outcome = jobs_defer(db, job->id, job->attempts,
					     result->data ? result->data : "{}", DEFER_MS);
			break;
		case JOB_RUN_RETRY:
		case JOB_RUN_FAILED:
			outcome = jobs_fail(db, job->id, job->attempts, err,
					    run == JOB_RUN_FAILED, &dead);
			break;
		}
	} while (keep_trying(p, outcome, db));

	if (outcome == JOBS_LEASE_LOST) {
		log_warn("job %lld %s attempt %d: lease lost after %lld ms; its outcome is "
			 "dropped (0 rows changed): another attempt owns the job",
			 job->id, kind, job->attempts, (long long)ms);
	} else if (outcome != JOBS_OK) {
		log_error("job %lld %s attempt %d: cannot record its outcome: %s; the lease will "
			  "run out and the job run again",
			  job->id, kind, job->attempts, db_error(db));
	} else if (run == JOB_RUN_DONE) {
		log_info("job %lld %s attempt %d: done in %lld ms", job->id, kind, job->attempts,
			 (long long)ms);
	} else if (run == JOB_RUN_RECORDED) {
		log_info("job %lld %s attempt %d: done in %lld ms: %s", job->id, kind,
			 job->attempts, (long long)ms, err);
	} else if (run == JOB_RUN_DEFERRED) {
		/* A run that defers again says nothing new: only the first says why. */
		if (*err)
			log_info("job %lld %s attempt %d: waits in the queue after %lld ms, again "
				 "in %d ms: %s",
				 job->id, kind, job->attempts, (long long)ms, (int)DEFER_MS, err);
	} else if (run == JOB_RUN_CANCELLED) {
		log_info("job %lld %s attempt %d: handed back after %lld ms (the worker stops)",
			 job->id, kind, job->attempts, (long long)ms);
	} else if (dead) {
		log_warn("job %lld %s attempt %d: dead after %lld ms: %s", job->id, kind,
			 job->attempts, (long long)ms, err);
	} else {
		log_warn("job %lld %s attempt %d: failed in %lld ms, again in %lld ms: %s", job->id,
			 kind, job->attempts, (long long)ms, (long long)jobs_backoff_ms(job->attempts),
			 err);
	}
}

static void run_one(struct claimer *c, struct db *db, const struct job *job)
{
	struct pool *p = c->pool;
	set_slot(p, c->index, job);
	char err[ERR_SIZE] = "";
	struct buf result = BUF_INIT;
	int64_t start = clock_ms();
	const struct job_kind_entry *entry = kinds_find(p->cfg, job->kind);
	enum job_run run = JOB_RUN_FAILED;
	if (!entry || !entry->run) {
		snprintf(err, sizeof(err), "this worker cannot run %s jobs",
			 jobs_kind_name(job->kind));
	} else {
		struct job_ctx ctx = {
			.cfg = p->cfg,
			.job = job,
			.self_path = p->self_path,
			.cancel = &p->cancel,
			.db = db,
			.blobs = p->env->blobs,
			.images = p->env->images,
			.lease_s = p->lease_s,
		};
		run = entry->run(&ctx, &result, err, sizeof(err));
	}
	slot_finishing(p, c->index);
	record(p, db, job, run, &result, err, clock_ms() - start);
	buf_free(&result);
	set_slot(p, c->index, NULL);
}

static void *claimer_main(void *arg)
{
	struct claimer *c = arg;
	struct pool *p = c->pool;
	struct db *db = db_open(p->cfg);
	bool db_was_down = false;
	while (db && !atomic_load(&p->stopping)) {
		struct job job;
		enum jobs_outcome outcome = jobs_claim(db, p->lease_s, &job);
		if (outcome == JOBS_OK) {
			if (db_was_down)
				log_info("worker: the database answers again");
			db_was_down = false;
			run_one(c, db, &job);
			job_free(&job);
		} else if (outcome == JOBS_EMPTY) {
			db_was_down = false;
			pause_ms(p, IDLE_POLL_MS + (long)(rand_r(&c->seed) % IDLE_JITTER_MS));
		} else {
			db_was_down = true;
			log_warn_limited(&p->db_down, "worker: cannot claim jobs: %s; waiting",
					 db_error(db));
			pause_ms(p, DB_RETRY_MS);
		}
	}
	db_close(db);
	thread_ended(p);
	return NULL;
}

static void *heartbeat_main(void *arg)
{
	struct pool *p = arg;
	struct db *db = db_open(p->cfg);
	/* Three heartbeats per lease: one lost to a slow database still leaves time. */
	long interval_ms = p->lease_s * 1000 / 3;
	/* It runs until pool_stop has no job left to keep a lease for. */
	while (db && !atomic_load(&p->cancel)) {
		pause_until(p, interval_ms, &p->cancel);
		if (atomic_load(&p->cancel))
			break;
		for (size_t i = 0; i < p->nthreads; i++) {
			pthread_mutex_lock(&p->lock);
			struct slot s = p->slots[i];
			pthread_mutex_unlock(&p->lock);
			if (!s.active || s.lost || s.finishing)
				continue;
			enum jobs_outcome outcome = jobs_heartbeat(db, s.id, s.attempt, p->lease_s);
			if (outcome == JOBS_LEASE_LOST) {
				/* Unless the job itself ended meanwhile, another claim took it. */
				pthread_mutex_lock(&p->lock);
				struct slot now = p->slots[i];
				bool lost = now.active && !now.finishing && now.id == s.id &&
					    now.attempt == s.attempt;
				p->slots[i].lost = p->slots[i].lost || lost;
				pthread_mutex_unlock(&p->lock);
				if (lost)
					log_warn("job %lld attempt %d: lease lost (the heartbeat "
						 "changed 0 rows); its outcome will be dropped",
						 s.id, s.attempt);
			} else if (outcome != JOBS_OK) {
				log_warn_limited(&p->db_down, "worker: heartbeat failed: %s",
						 db_error(db));
			}
		}
	}
	db_close(db);
	thread_ended(p);
	return NULL;
}

static void pool_free(struct pool *p)
{
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->claimers);
	free(p->slots);
	free(p);
}

struct pool *pool_start(const struct config *cfg, const char *self_path,
			const struct worker_env *env, char *err, size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	long n = cfg->worker_threads > 0 ? cfg->worker_threads : sysconf(_SC_NPROCESSORS_ONLN);
	p->nthreads = n > 0 ? (size_t)n : 1;
	p->cfg = cfg;
	p->self_path = self_path;
	p->env = env;
	p->lease_s = cfg->job_lease_s;
	p->db_down = (struct log_limit)LOG_LIMIT_INIT;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	p->slots = calloc(p->nthreads, sizeof(*p->slots));
	p->claimers = calloc(p->nthreads, sizeof(*p->claimers));
	if (!p->slots || !p->claimers) {
		snprintf(err, errlen, "out of memory");
		pool_free(p);
		return NULL;
	}
	if (pthread_create(&p->heartbeat, NULL, heartbeat_main, p) != 0) {
		snprintf(err, errlen, "cannot start the heartbeat thread");
		pool_free(p);
		return NULL;
	}
	p->running_threads = 1;
	unsigned seed = (unsigned)clock_ms() ^ (unsigned)getpid();
	for (size_t i = 0; i < p->nthreads; i++) {
		struct claimer *c = &p->claimers[i];
		*c = (struct claimer){p, i, 0, seed + (unsigned)i * 7919u};
		pthread_mutex_lock(&p->lock);
		p->running_threads++;
		pthread_mutex_unlock(&p->lock);
		if (pthread_create(&c->thread, NULL, claimer_main, c) != 0) {
			snprintf(err, errlen, "cannot start worker thread %zu", i + 1);
			thread_ended(p);
			p->nthreads = i;
			pool_stop(p, 0);
			return NULL;
		}
	}
	return p;
}

/* Waits until only `left` threads run or deadline_ms passes; true when they had ended. */
static bool wait_threads(struct pool *p, size_t left, int64_t deadline_ms)
{
	pthread_mutex_lock(&p->lock);
	while (p->running_threads > left) {
		int64_t wait = deadline_ms - clock_ms();
		if (wait <= 0)
			break;
		struct timespec until = clock_deadline(wait);
		pthread_cond_timedwait(&p->wake, &p->lock, &until);
	}
	bool ended = p->running_threads <= left;
	pthread_mutex_unlock(&p->lock);
	return ended;
}

/* Gives back the jobs of claimers that are still busy after the grace (in-thread kinds). */
static void release_remaining(struct pool *p)
{
	struct db *db = db_open(p->cfg);
	for (size_t i = 0; db && i < p->nthreads; i++) {
		pthread_mutex_lock(&p->lock);
		struct slot s = p->slots[i];
		pthread_mutex_unlock(&p->lock);
		if (!s.active)
			continue;
		enum jobs_outcome outcome = jobs_release(db, s.id, s.attempt);
		log_info("job %lld attempt %d: %s", s.id, s.attempt,
			 outcome == JOBS_OK ? "handed back (the worker stops)"
					    : "could not be handed back; its lease will run out");
	}
	db_close(db);
}

bool pool_stop(struct pool *p, long grace_ms)
{
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stopping, true);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	/* The heartbeat keeps the leases of running jobs until they end. */
	bool ended = wait_threads(p, 1, clock_ms() + grace_ms);
	if (!ended) {
		atomic_store(&p->cancel, true);
		pthread_mutex_lock(&p->lock);
		pthread_cond_broadcast(&p->wake);
		pthread_mutex_unlock(&p->lock);
		ended = wait_threads(p, 1, clock_ms() + CANCEL_WAIT_MS);
	}
	atomic_store(&p->cancel, true);
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (!ended) {
		release_remaining(p);
		return false;
	}
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->claimers[i].thread, NULL);
	pthread_join(p->heartbeat, NULL);
	pool_free(p);
	return true;
}
