/* syncgroup: group commit for durability work: one thread syncs for all who joined before it began. */
#include "syncgroup.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* One caller waiting, on its own stack: it leaves only once done is set under the lock. */
struct member {
	int target;
	int err;
	bool done;
	struct member *next;
};

struct syncgroup {
	syncgroup_fn *fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t round_done;
	struct member *waiting; /* joined since the running round began */
	bool running;		/* a leader is calling fn, without the lock */
};

struct syncgroup *syncgroup_create(syncgroup_fn *fn, void *ctx)
{
	struct syncgroup *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->fn = fn;
	g->ctx = ctx;
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

/* One fn call per distinct target of the batch; its answer goes to every member with that target. */
static void run_round(struct syncgroup *g, struct member *batch)
{
	for (struct member *m = batch; m; m = m->next) {
		struct member *first = batch;
		while (first != m && first->target != m->target)
			first = first->next;
		/* A batch is as long as the callers that can wait at once: a few dozen at most. */
		m->err = first == m ? g->fn(g->ctx, m->target) : first->err;
	}
}

int syncgroup_sync(struct syncgroup *g, int target)
{
	struct member me = {.target = target};
	pthread_mutex_lock(&g->lock);
	me.next = g->waiting;
	g->waiting = &me;
	while (!me.done) {
		if (g->running) {
			pthread_cond_wait(&g->round_done, &g->lock);
			continue;
		}
		/* Lead a round for everyone who joined before it; later arrivals wait for the next. */
		struct member *batch = g->waiting;
		g->waiting = NULL;
		g->running = true;
		pthread_mutex_unlock(&g->lock);
		run_round(g, batch);
		pthread_mutex_lock(&g->lock);
		g->running = false;
		while (batch) {
			/* Read next first: once done is set, the member may return and its frame go. */
			struct member *next = batch->next;
			batch->done = true;
			batch = next;
		}
		pthread_cond_broadcast(&g->round_done);
	}
	pthread_mutex_unlock(&g->lock);
	return me.err;
}
