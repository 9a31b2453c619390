/* job_wait: requests that wait for a job to finish (?wait=S), suspended and resumed by one thread. */
#ifndef GALLERY_JOB_WAIT_H
#define GALLERY_JOB_WAIT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct catalog;
struct job_wait;

enum {
	JOB_WAIT_MAX_S = 20,         /* the longest ?wait= a request may ask for */
	JOB_WAIT_POLL_MS = 100,      /* how often the waited-on jobs' rows are read */
	JOB_WAIT_MAX_WAITERS = 1000, /* requests suspended at once; more answer at once */
};

/*
 * Starts the thread that reads, every JOB_WAIT_POLL_MS while anyone waits, which
 * waited-on jobs have finished (one query for all of them, on its own database
 * connection from catalog), and resumes their requests.
 */
struct job_wait *job_wait_start(struct catalog *catalog, char *err, size_t errlen);
/*
 * From a request's handler: suspends conn until job id is done, dead or gone,
 * or wait_ms have passed; libmicrohttpd then calls the handler again. False
 * (nothing suspended) when stopping or full: answer at once.
 */
bool job_wait_add(struct job_wait *w, struct MHD_Connection *conn, long long id, int64_t wait_ms);
/* Resumes every waiting request and stops the thread; later adds answer false. */
void job_wait_stop(struct job_wait *w);
/* After the HTTP server has stopped. */
void job_wait_free(struct job_wait *w);

#endif
