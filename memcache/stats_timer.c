/* stats_timer: a thread that writes one cache_stats row per interval. */
#include "stats_timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "memcache/cache.h"
#include "memcache/cache_sql.h"

struct stats_timer {
	struct cache *cache;
	struct cache_sql *sql;
	unsigned interval_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	struct cache_stats last; /* totals at the previous row, for per-interval counts */
	bool db_down;            /* so that an outage is logged once, not every interval */
};

static void write_row(struct stats_timer *t)
{
	struct cache_stats now;
	cache_get_stats(t->cache, &now);
	struct cache_stats_row row = {
		.cache_size = now.bytes,
		.key_count = now.items,
		.request_count = now.requests - t->last.requests,
		.hit_count = now.hits - t->last.hits,
		.miss_count = now.misses - t->last.misses,
	};
	/* The interval's counts are spent either way: an outage loses its rows. */
	t->last = now;
	char err[CACHE_SQL_ERR_LEN];
	enum db_status status = cache_sql_insert_stats(t->sql, &row, err, sizeof(err));
	if (status != DB_OK && !t->db_down)
		log_warn("stats: cannot write cache_stats rows, losing them until the database "
			 "answers: %s",
			 err);
	else if (status == DB_OK && t->db_down)
		log_info("stats: database answers again; cache_stats rows resume");
	t->db_down = status != DB_OK;
}

static void *run(void *arg)
{
	struct stats_timer *t = arg;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	pthread_mutex_lock(&t->lock);
	/* Every pass ends with a row, so a stop, however early, still writes the last one. */
	for (bool last = false; !last;) {
		deadline.tv_sec += t->interval_s;
		int rc = 0;
		while (!t->stopping && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&t->wake, &t->lock, &deadline);
		last = t->stopping;
		pthread_mutex_unlock(&t->lock);
		write_row(t);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct stats_timer *stats_timer_start(struct cache *cache, struct cache_sql *sql,
				      unsigned interval_s)
{
	struct stats_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cache = cache;
	t->sql = sql;
	t->interval_s = interval_s;
	cache_get_stats(cache, &t->last);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

void stats_timer_stop(struct stats_timer *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
