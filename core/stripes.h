/* stripes: a fixed set of locks picked by content hash, so work on one file is serialised. */
#ifndef GALLERY_STRIPES_H
#define GALLERY_STRIPES_H

#include <pthread.h>

struct stripes;

struct stripes *stripes_create(void);
void stripes_destroy(struct stripes *st);
/* The lock of the file whose SHA-256 (or name, which starts with it) is hex. */
pthread_mutex_t *stripes_of(struct stripes *st, const char *hex);

#endif
