/* heavy: a bound on requests whose cost grows with the data, so that light ones keep their latency. */
#include "heavy.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

/*
 * Why a line of suspended requests rather than a 503 at once: a burst of list
 * clients (16 calling /api/list_keys together) is then served, in turn, instead
 * of refused and left to retry. Why suspended rather than blocked: a pool
 * thread of libmicrohttpd serves many connections, so a handler that waited
 * would hold up the light requests of its thread, which the bound is for.
 */

struct waiter {
	struct MHD_Connection *conn;
	enum heavy_ticket *ticket; /* NULL once forgotten: skipped */
	int64_t deadline_ms;       /* clock_ms() */
};

struct heavy {
	unsigned max, wait_ms;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	unsigned running; /* places taken, including those handed to a request not yet resumed */
	/* The line, oldest first: a ring; the deadlines grow from head to tail. */
	struct waiter line[HEAVY_QUEUE_MAX];
	size_t head, count;
	bool stopping, started;
	pthread_t thread;
};

static struct waiter *line_at(struct heavy *h, size_t i)
{
	return &h->line[(h->head + i) % HEAVY_QUEUE_MAX];
}

static struct waiter pop(struct heavy *h)
{
	struct waiter w = h->line[h->head];
	h->head = (h->head + 1) % HEAVY_QUEUE_MAX;
	h->count--;
	return w;
}

/*
 * A place given back: to the first request in line, whose connection is
 * returned for the caller to resume once the lock is released, or to the pool.
 * Lock held.
 */
static struct MHD_Connection *hand_on(struct heavy *h)
{
	while (h->count) {
		struct waiter w = pop(h);
		if (!w.ticket)
			continue;
		*w.ticket = HEAVY_TICKET_GRANTED;
		return w.conn;
	}
	h->running--;
	return NULL;
}

/* Ends the waits that ran out (all of them when stopping) into out; lock held. */
static size_t expire(struct heavy *h, struct MHD_Connection **out)
{
	int64_t now = clock_ms();
	size_t n = 0;
	while (h->count && (h->stopping || !h->line[h->head].ticket ||
			    h->line[h->head].deadline_ms <= now)) {
		struct waiter w = pop(h);
		if (!w.ticket)
			continue;
		*w.ticket = HEAVY_TICKET_EXPIRED;
		out[n++] = w.conn;
	}
	return n;
}

/* Resumes connections outside the lock, so that no lock of ours is held inside libmicrohttpd's. */
static void resume_all(struct MHD_Connection **conns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
}

static void *run(void *arg)
{
	struct heavy *h = arg;
	struct MHD_Connection **ready = malloc(HEAVY_QUEUE_MAX * sizeof(*ready));
	pthread_mutex_lock(&h->lock);
	for (;;) {
		size_t n = ready ? expire(h, ready) : 0;
		if (n) {
			pthread_mutex_unlock(&h->lock);
			resume_all(ready, n);
			pthread_mutex_lock(&h->lock);
			continue;
		}
		if (h->stopping)
			break;
		if (!h->count) {
			pthread_cond_wait(&h->wake, &h->lock);
			continue;
		}
		int64_t left = h->line[h->head].deadline_ms - clock_ms();
		struct timespec until = clock_deadline(left > 0 ? (long)left : 0);
		pthread_cond_timedwait(&h->wake, &h->lock, &until);
	}
	pthread_mutex_unlock(&h->lock);
	free(ready);
	return NULL;
}

struct heavy *heavy_start(unsigned max, unsigned wait_ms, char *err, size_t errlen)
{
	struct heavy *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->max = max;
	h->wait_ms = wait_ms;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&h->thread, NULL, run, h);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the heavy requests' thread: %s", strerror(rc));
		heavy_free(h);
		return NULL;
	}
	h->started = true;
	return h;
}

enum heavy_turn heavy_enter(struct heavy *h, struct MHD_Connection *conn, enum heavy_ticket *t)
{
	enum heavy_turn turn = HEAVY_BUSY;
	pthread_mutex_lock(&h->lock);
	switch (*t) {
	case HEAVY_TICKET_GRANTED:
		/* Its place was counted when it was handed over. */
		turn = HEAVY_GO;
		break;
	case HEAVY_TICKET_EXPIRED:
		break;
	case HEAVY_TICKET_WAITING:
		/* Still in line (a suspended request is not called): nothing changes. */
		turn = HEAVY_WAIT;
		break;
	case HEAVY_TICKET_NONE:
		/* A place is free only when nobody waits: places go to the line first. */
		if (!h->max || h->running < h->max) {
			h->running++;
			turn = HEAVY_GO;
		} else if (h->wait_ms && !h->stopping && h->count < HEAVY_QUEUE_MAX) {
			*line_at(h, h->count) = (struct waiter){conn, t, clock_ms() + h->wait_ms};
			h->count++;
			/* Under the lock, so that nobody resumes it before it is suspended. */
			MHD_suspend_connection(conn);
			pthread_cond_signal(&h->wake);
			turn = HEAVY_WAIT;
		}
		break;
	}
	if (turn != HEAVY_WAIT)
		*t = HEAVY_TICKET_NONE;
	else
		*t = HEAVY_TICKET_WAITING;
	pthread_mutex_unlock(&h->lock);
	return turn;
}

void heavy_leave(struct heavy *h)
{
	pthread_mutex_lock(&h->lock);
	struct MHD_Connection *next = hand_on(h);
	pthread_mutex_unlock(&h->lock);
	if (next)
		MHD_resume_connection(next);
}

void heavy_forget(struct heavy *h, enum heavy_ticket *t)
{
	if (!h || *t == HEAVY_TICKET_NONE)
		return;
	struct MHD_Connection *next = NULL;
	pthread_mutex_lock(&h->lock);
	if (*t == HEAVY_TICKET_GRANTED) {
		next = hand_on(h);
	} else if (*t == HEAVY_TICKET_WAITING) {
		for (size_t i = 0; i < h->count; i++)
			if (line_at(h, i)->ticket == t)
				line_at(h, i)->ticket = NULL;
	}
	*t = HEAVY_TICKET_NONE;
	pthread_mutex_unlock(&h->lock);
	if (next)
		MHD_resume_connection(next);
}

void heavy_stop(struct heavy *h)
{
	if (!h || !h->started)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	h->started = false;
}

void heavy_free(struct heavy *h)
{
	if (!h)
		return;
	heavy_stop(h);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
