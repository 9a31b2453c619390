/* syncgroup: group commit for durability work: per target, one thread syncs for all who came before it began. */
#include "syncgroup.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* The rounds of one target, counted from 1; all under the group's lock. */
struct target {
	unsigned long begun;	   /* rounds started */
	unsigned long done;	   /* rounds finished: begun, or begun - 1 while one runs */
	unsigned long failed;	   /* the last round that failed; 0 for none */
	int failed_err;
	bool running;
};

struct syncgroup {
	syncgroup_fn *fn;
	void *ctx;
	unsigned ntargets;
	pthread_mutex_t lock;
	pthread_cond_t round_done;
	struct target targets[];
};

struct syncgroup *syncgroup_create(syncgroup_fn *fn, void *ctx, unsigned targets)
{
	struct syncgroup *g = calloc(1, sizeof(*g) + (size_t)targets * sizeof(g->targets[0]));
	if (!g)
		return NULL;
	g->fn = fn;
	g->ctx = ctx;
	g->ntargets = targets;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->round_done, NULL);
	return g;
}

void syncgroup_destroy(struct syncgroup *g)
{
	if (!g)
		return;
	pthread_cond_destroy(&g->round_done);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int syncgroup_sync(struct syncgroup *g, unsigned target)
{
	if (target >= g->ntargets)
		return g->fn(g->ctx, target); /* not one the group knows: no sharing */
	struct target *t = &g->targets[target];
	pthread_mutex_lock(&g->lock);
	/* A round running now may have begun before our change: the next one covers it. */
	unsigned long needed = t->begun + 1;
	while (t->done < needed) {
		if (t->running) {
			pthread_cond_wait(&g->round_done, &g->lock);
			continue;
		}
		unsigned long round = ++t->begun;
		t->running = true;
		pthread_mutex_unlock(&g->lock);
		int err = g->fn(g->ctx, target);
		pthread_mutex_lock(&g->lock);
		t->running = false;
		t->done = round;
		if (err) {
			t->failed = round;
			t->failed_err = err;
		}
		pthread_cond_broadcast(&g->round_done);
	}
	/*
	 * A later round of the target may have run before this caller woke; a
	 * failure there counts too, as the caller cannot tell which round's
	 * success was its own.
	 */
	int err = t->failed >= needed ? t->failed_err : 0;
	pthread_mutex_unlock(&g->lock);
	return err;
}
