/* stripes: a fixed set of locks picked by content hash, so work on one file is serialised. */
#include "stripes.h"

#include <stdio.h>
#include <stdlib.h>

/* Writes and removals of one file, and the row commits that name it, share a stripe. */
enum { LOCK_STRIPES = 256 };

struct stripes {
	pthread_mutex_t locks[LOCK_STRIPES];
};

struct stripes *stripes_create(void)
{
	struct stripes *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	for (unsigned i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_init(&st->locks[i], NULL);
	return st;
}

void stripes_destroy(struct stripes *st)
{
	if (!st)
		return;
	for (unsigned i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_destroy(&st->locks[i]);
	free(st);
}

pthread_mutex_t *stripes_of(struct stripes *st, const char *hex)
{
	unsigned stripe = 0;
	sscanf(hex, "%2x", &stripe);
	return &st->locks[stripe % LOCK_STRIPES];
}
