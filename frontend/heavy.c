/* heavy: a bound on requests whose cost grows with the data, so that light ones keep their latency. */
#include "heavy.h"

bool heavy_enter(struct heavy *h)
{
	unsigned now = atomic_load(&h->running);
	do {
		if (h->max && now >= h->max)
			return false;
	} while (!atomic_compare_exchange_weak(&h->running, &now, now + 1));
	return true;
}

void heavy_leave(struct heavy *h)
{
	atomic_fetch_sub(&h->running, 1);
}
