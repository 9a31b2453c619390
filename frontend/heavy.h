/* heavy: a bound on requests whose cost grows with the data, so that light ones keep their latency. */
#ifndef GALLERY_HEAVY_H
#define GALLERY_HEAVY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct heavy;

enum {
	/* Requests waiting their turn at once; more are answered 503 at once. */
	HEAVY_QUEUE_MAX = 256,
};

/* Where a request stands in the line; zero (HEAVY_TICKET_NONE) before it asks. */
enum heavy_ticket {
	HEAVY_TICKET_NONE,
	HEAVY_TICKET_WAITING, /* suspended in the line */
	HEAVY_TICKET_GRANTED, /* a place was handed to it; its handler runs again to take it */
	HEAVY_TICKET_EXPIRED, /* its wait is over without a place */
};

enum heavy_turn {
	HEAVY_GO,   /* the caller holds a place: heavy_leave when done */
	HEAVY_WAIT, /* conn is suspended in the line: return MHD_YES; the handler is called again */
	HEAVY_BUSY, /* no place within the wait (or the line is full): answer 503 with Retry-After */
};

/*
 * At most max heavy requests at once (0: no bound); the others wait in line,
 * first come first served, up to wait_ms each, suspended so that they hold no
 * thread. Starts the thread that ends waits that run out. NULL with err.
 */
struct heavy *heavy_start(unsigned max, unsigned wait_ms, char *err, size_t errlen);
/*
 * From a request's handler, with a ticket that lives as long as the request:
 * takes a place, or puts the request in line. Called again once resumed, it
 * answers GO (the place handed over) or BUSY (the wait ran out).
 */
enum heavy_turn heavy_enter(struct heavy *h, struct MHD_Connection *conn, enum heavy_ticket *t);
/* Gives the place back, to the first in line if any. */
void heavy_leave(struct heavy *h);
/* From the request's completion: a place handed to a request that never took it is given back. */
void heavy_forget(struct heavy *h, enum heavy_ticket *t);
/* Ends every wait (they answer 503) and stops the thread; later requests in line answer BUSY. */
void heavy_stop(struct heavy *h);
/* After the HTTP server has stopped. */
void heavy_free(struct heavy *h);

#endif
