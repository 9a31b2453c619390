/* slab: the memory of cached values, in size classes carved from large pages that are reused, not returned per value. */
#ifndef GALLERY_MEMCACHE_SLAB_H
#define GALLERY_MEMCACHE_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#include "memcache/cache.h"

/*
 * A slab hands out chunks, each a struct cache_value with room after it. A
 * chunk is taken from its class's free list, or carved from the class's
 * newest page, or from a new page while the memory stays within the limit.
 * Freed chunks go back to their class; a page whose chunks are all free can be
 * given back to the system, so that memory can move to another class.
 *
 * No locking of its own: the cache calls it with its lock held.
 */
enum {
	SLAB_PAGE_BYTES = 1024 * 1024, /* the largest page but for chunks larger than it */
	SLAB_NO_CLASS = -1,
};

struct slab;
struct slab_page;

struct slab *slab_create(struct cache *owner, size_t limit);
/* Frees every page; no chunk may be in use any more. */
void slab_destroy(struct slab *s);

/* The class whose chunks have room for room bytes, or SLAB_NO_CLASS if none is that large. */
int slab_class_for(const struct slab *s, size_t room);
size_t slab_class_room(const struct slab *s, int cls);

/*
 * A chunk of class cls, held once, or NULL when the class has no free chunk
 * and no page may be added or reclaimed within the limit: the caller then
 * frees chunks (or whole pages) and tries again.
 */
struct cache_value *slab_alloc(struct slab *s, int cls);
/* Returns a chunk whose last hold was released to its class. */
void slab_free(struct slab *s, struct cache_value *v);

/* A new limit; pages beyond it are given back as soon as their chunks are free. */
void slab_set_limit(struct slab *s, size_t limit);
size_t slab_memory(const struct slab *s);
size_t slab_limit(const struct slab *s);

int slab_page_class(const struct slab_page *p);
/* The chunks carved from page p so far, free or not: index 0 to count - 1. */
size_t slab_page_chunk_count(const struct slab_page *p);
struct cache_value *slab_page_chunk(const struct slab *s, struct slab_page *p, size_t i);

#endif
