/* heavy: a bound on requests whose cost grows with the data, so that light ones keep their latency. */
#ifndef GALLERY_HEAVY_H
#define GALLERY_HEAVY_H

#include <stdatomic.h>
#include <stdbool.h>

struct heavy {
	atomic_uint running;
	unsigned max; /* at once; 0: no bound */
};

/* Takes a place, or false when all are taken: answer 503 with Retry-After. */
bool heavy_enter(struct heavy *h);
void heavy_leave(struct heavy *h);

#endif
