/* offload: work that would hold a request thread (a login's hash) runs on threads of its own while the request waits suspended. */
#ifndef GALLERY_OFFLOAD_H
#define GALLERY_OFFLOAD_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Why: libmicrohttpd's pool threads each serve many connections, so a handler
 * that waits (for one of the few argon2 slots, then tens of milliseconds of
 * hashing) stalls every read on its thread. A flood of logins then starves
 * image reads. Suspended instead, the request costs its thread nothing; the
 * offload threads run at a lower CPU priority, so reads come first and logins
 * queue.
 */
struct offload;

struct offload_task {
	void (*run)(void *ctx);       /* on an offload thread */
	void *ctx;
	struct MHD_Connection *conn;  /* suspended by offload_submit, resumed after run */
	atomic_bool finished;         /* run has returned */
	struct offload_task *next;    /* the queue's */
};

/* threads threads at nice_value (Linux nices each thread); NULL with err when one does not start. */
struct offload *offload_start(unsigned threads, int nice_value, char *err, size_t errlen);
/*
 * Returns once no task is queued or running, every one having resumed its
 * request: call it before the server that owns those requests stops.
 */
void offload_drain(struct offload *o);
/* Runs the tasks still queued, then stops the threads. */
void offload_stop(struct offload *o);
/*
 * Suspends t->conn and queues t. The handler returns MHD_YES; libmicrohttpd
 * calls it again once run has finished, when t->finished is true. t must stay
 * until then.
 */
void offload_submit(struct offload *o, struct offload_task *t);

#endif
