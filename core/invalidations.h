/* invalidations: one memcache's missed invalidations, sent again; reads skip those keys. */
#ifndef GALLERY_INVALIDATIONS_H
#define GALLERY_INVALIDATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache_client;
struct invalidations;

/* The list of the memcache cache talks to; cache must outlive it. */
struct invalidations *invalidations_create(struct cache_client *cache);
void invalidations_destroy(struct invalidations *inv);
/*
 * Makes memcache forget key's values older than version. When memcache does
 * not take it (down or slow), the invalidation is kept to be sent again.
 */
void invalidations_send(struct invalidations *inv, const char *key, size_t keylen,
			uint64_t version);
/*
 * Sends every missed invalidation again now, waiting for a thread that is
 * already doing so. True when memcache has taken them all: none is missing.
 * For a writer that must not report its write done before memcache forgot.
 */
bool invalidations_flush(struct invalidations *inv);
/*
 * True when memcache may be asked for key: no invalidation of it is missing.
 * First sends the missed ones again, unless another thread is doing so.
 */
bool invalidations_cache_usable(struct invalidations *inv, const char *key, size_t keylen);

#endif
