/* job_wait: requests that wait for a job to finish (?wait=S), suspended and resumed by one thread. */
#include "job_wait.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "core/catalog.h"
#include "core/jobs.h"

/*
 * Why suspend instead of sleeping in the handler: libmicrohttpd's pool threads
 * each serve many connections through epoll, so a handler that slept for 20 s
 * would stall every other connection of its thread. A suspended connection
 * costs a slot here and no thread, and no database connection is held while it
 * waits: one thread asks about all waited-on jobs with one indexed query.
 */

struct waiter {
	struct MHD_Connection *conn;
	long long id;
	int64_t deadline_ms; /* clock_ms() */
};

struct job_wait {
	struct catalog *catalog;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct waiter waiters[JOB_WAIT_MAX_WAITERS];
	size_t count;
	bool stopping, started;
	pthread_t thread;
};

static void wait_on(struct job_wait *w, long ms)
{
	struct timespec until = clock_deadline(ms);
	pthread_cond_timedwait(&w->wake, &w->lock, &until);
}

/* Which of ids have finished, asked in batches; on a database failure none have. */
static void read_finished(struct job_wait *w, const long long *ids, size_t n, bool *finished)
{
	struct db *db = catalog_db(w->catalog);
	for (size_t at = 0; at < n; at += JOBS_FINISHED_MAX) {
		size_t batch = n - at < JOBS_FINISHED_MAX ? n - at : JOBS_FINISHED_MAX;
		if (!db || jobs_finished(db, ids + at, batch, finished + at) != JOBS_OK)
			memset(finished + at, 0, batch * sizeof(*finished));
	}
}

static bool id_finished(long long id, const long long *ids, const bool *finished, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (finished[i] && ids[i] == id)
			return true;
	return false;
}

/* Resumes (and forgets) the waiters whose job finished or whose time is up; lock held. */
static void do_resume_ready(struct job_wait *w, const long long *ids, const bool *finished,
			    size_t n)
{
	int64_t now = clock_ms();
	for (size_t i = w->count; i-- > 0;) {
		struct waiter *x = &w->waiters[i];
		if (!w->stopping && now < x->deadline_ms && !id_finished(x->id, ids, finished, n))
			continue;
		MHD_resume_connection(x->conn);
		*x = w->waiters[--w->count];
	}
}

static void *run(void *arg)
{
	struct job_wait *w = arg;
	long long *ids = malloc(JOB_WAIT_MAX_WAITERS * sizeof(*ids));
	bool *finished = malloc(JOB_WAIT_MAX_WAITERS * sizeof(*finished));
	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		if (w->count == 0) {
			pthread_cond_wait(&w->wake, &w->lock);
			continue;
		}
		size_t n = 0;
		if (ids && finished) {
			n = w->count;
			for (size_t i = 0; i < n; i++)
				ids[i] = w->waiters[i].id;
			pthread_mutex_unlock(&w->lock);
			read_finished(w, ids, n, finished);
			pthread_mutex_lock(&w->lock);
		}
		do_resume_ready(w, ids, finished, n);
		if (!w->stopping && w->count)
			wait_on(w, JOB_WAIT_POLL_MS);
	}
	do_resume_ready(w, NULL, NULL, 0);
	pthread_mutex_unlock(&w->lock);
	free(ids);
	free(finished);
	return NULL;
}

struct job_wait *job_wait_start(struct catalog *catalog, char *err, size_t errlen)
{
	struct job_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->catalog = catalog;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&w->thread, NULL, run, w);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the job wait thread: %s", strerror(rc));
		job_wait_free(w);
		return NULL;
	}
	w->started = true;
	return w;
}

bool job_wait_add(struct job_wait *w, struct MHD_Connection *conn, long long id, int64_t wait_ms)
{
	pthread_mutex_lock(&w->lock);
	bool added = !w->stopping && w->count < JOB_WAIT_MAX_WAITERS;
	if (added) {
		w->waiters[w->count++] = (struct waiter){conn, id, clock_ms() + wait_ms};
		/* Under the lock, so that the thread cannot resume it before it is suspended. */
		MHD_suspend_connection(conn);
		pthread_cond_signal(&w->wake);
	}
	bool stopping = w->stopping;
	pthread_mutex_unlock(&w->lock);
	if (!added)
		log_warn("job_wait: %s; answering job %lld at once",
			 stopping ? "stopping" : "too many requests waiting", id);
	return added;
}

void job_wait_stop(struct job_wait *w)
{
	if (!w || !w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void job_wait_free(struct job_wait *w)
{
	if (!w)
		return;
	job_wait_stop(w);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
