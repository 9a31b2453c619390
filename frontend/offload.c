/* offload: work that would hold a request thread (a login's hash) runs on threads of its own while the request waits suspended. */
#include "offload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { OFFLOAD_THREADS_MAX = 64 };

struct offload {
	pthread_mutex_t lock;
	pthread_cond_t queued;
	pthread_cond_t idle; /* no task queued or running */
	struct offload_task *head, *tail; /* first in, first out */
	unsigned running;
	bool stopping;
	int nice_value;
	pthread_t threads[OFFLOAD_THREADS_MAX];
	unsigned nthreads;
};

static void *offload_main(void *arg)
{
	struct offload *o = arg;
	setpriority(PRIO_PROCESS, (id_t)gettid(), o->nice_value);
	pthread_mutex_lock(&o->lock);
	for (;;) {
		while (!o->head && !o->stopping)
			pthread_cond_wait(&o->queued, &o->lock);
		struct offload_task *t = o->head;
		if (!t)
			break;
		o->head = t->next;
		if (!o->head)
			o->tail = NULL;
		o->running++;
		pthread_mutex_unlock(&o->lock);
		t->run(t->ctx);
		atomic_store(&t->finished, true);
		MHD_resume_connection(t->conn);
		pthread_mutex_lock(&o->lock);
		if (--o->running == 0 && !o->head)
			pthread_cond_broadcast(&o->idle);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

struct offload *offload_start(unsigned threads, int nice_value, char *err, size_t errlen)
{
	struct offload *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->queued, NULL);
	pthread_cond_init(&o->idle, NULL);
	o->nice_value = nice_value;
	if (threads < 1)
		threads = 1;
	if (threads > OFFLOAD_THREADS_MAX)
		threads = OFFLOAD_THREADS_MAX;
	for (; o->nthreads < threads; o->nthreads++) {
		int rc = pthread_create(&o->threads[o->nthreads], NULL, offload_main, o);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
			offload_stop(o);
			return NULL;
		}
	}
	return o;
}

void offload_stop(struct offload *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	o->stopping = true;
	pthread_cond_broadcast(&o->queued);
	pthread_mutex_unlock(&o->lock);
	for (unsigned i = 0; i < o->nthreads; i++)
		pthread_join(o->threads[i], NULL);
	pthread_cond_destroy(&o->queued);
	pthread_cond_destroy(&o->idle);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

void offload_drain(struct offload *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	while (o->head || o->running)
		pthread_cond_wait(&o->idle, &o->lock);
	pthread_mutex_unlock(&o->lock);
}

void offload_submit(struct offload *o, struct offload_task *t)
{
	t->next = NULL;
	atomic_store(&t->finished, false);
	/* Before the queue: the task may end, and resume it, before this returns. */
	MHD_suspend_connection(t->conn);
	pthread_mutex_lock(&o->lock);
	if (o->tail)
		o->tail->next = t;
	else
		o->head = t;
	o->tail = t;
	pthread_cond_signal(&o->queued);
	pthread_mutex_unlock(&o->lock);
}
