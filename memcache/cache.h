/* cache: keys to reference-counted values under LRU or random replacement. No I/O. */
#ifndef GALLERY_CACHE_H
#define GALLERY_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cache_policy { CACHE_LRU, CACHE_RR };

struct cache;
struct slab_page;

/*
 * A value is shared by the cache and by whoever is sending it: the last
 * release frees it, so an evicted value stays valid while a response uses it.
 * Values the cache allocates are chunks of its slab (memcache/slab.h): the
 * last release returns the chunk to its size class, it is never unmapped.
 */
struct cache_value {
	atomic_size_t refs;
	size_t charge; /* bytes counted against capacity besides the key */
	size_t len;
	char *data;  /* the len stored bytes, somewhere in room */
	size_t room_len;
	/* The rest belongs to the cache. */
	struct cache *cache; /* NULL for a value of its own allocation */
	struct slab_page *page;
	void *item; /* the item that stores this value, NULL while none does */
	struct cache_value *free_prev, *free_next;
	int cls;
	bool is_free;
	char room[];
};

/* A new value of len bytes (data left for the caller to fill), held once. */
struct cache_value *cache_value_new(size_t len, size_t charge);
/*
 * A chunk of the cache's own memory with at least room bytes of room, held
 * once, data at room and len 0: the caller writes the value into it and sets
 * data, len and charge before cache_put. NULL when caching is off, room is
 * larger than the largest size class, or no memory can be freed for it (every
 * chunk is in use by requests); the caller may fall back to cache_value_new.
 */
struct cache_value *cache_value_reserve(struct cache *c, size_t room);
void cache_value_hold(struct cache_value *v);
void cache_value_release(struct cache_value *v);

/* Counters since start; adding one here adds it to /stats. */
#define CACHE_COUNTERS(X) \
	X(requests)       \
	X(hits)           \
	X(misses)         \
	X(puts)           \
	X(evictions)      \
	X(stale_puts)     \
	X(page_moves)

#define CACHE_COUNTER_MEMBER(name) uint64_t name;

struct cache_stats {
	size_t items;
	size_t bytes;
	size_t capacity;
	enum cache_policy policy;
	size_t tombstones;
	size_t memory_bytes; /* pages of values taken from the system */
	size_t memory_limit;
	CACHE_COUNTERS(CACHE_COUNTER_MEMBER)
};

enum cache_put_result {
	CACHE_PUT_STORED,
	CACHE_PUT_DISABLED,  /* capacity is 0: nothing is stored, and that is fine */
	CACHE_PUT_TOO_LARGE, /* key + value exceed the whole capacity */
	CACHE_PUT_STALE,     /* the version is older than what the cache knows */
	CACHE_PUT_NO_MEMORY,
};

/* A version of 0 means "unversioned": such a put is never refused as stale. */
enum { CACHE_UNVERSIONED = 0 };

struct cache *cache_create(size_t capacity, enum cache_policy policy, uint64_t seed);
void cache_destroy(struct cache *c);

/* On a hit, returns the value held for the caller, who releases it. */
struct cache_value *cache_get(struct cache *c, const char *key, size_t keylen);
/* Takes the caller's hold on value whatever the result. */
enum cache_put_result cache_put(struct cache *c, const char *key, size_t keylen,
				struct cache_value *value, uint64_t version);
/*
 * When caching is off (capacity 0), counts a put as cache_put counts one and
 * returns true: the caller answers as for CACHE_PUT_DISABLED without making
 * a value to hand over. False, counting nothing, when caching is on.
 */
bool cache_put_disabled(struct cache *c);
/*
 * Forgets key, and remembers version so that a later put with an older
 * version is refused. Invalidating an absent key is fine.
 */
void cache_invalidate(struct cache *c, const char *key, size_t keylen, uint64_t version);
/* Drops every item; returns how many. */
size_t cache_clear(struct cache *c);
/* Applies a new capacity and policy at once, evicting to fit. */
void cache_configure(struct cache *c, size_t capacity, enum cache_policy policy);
void cache_get_stats(struct cache *c, struct cache_stats *out);

const char *cache_policy_name(enum cache_policy policy);
bool cache_policy_parse(const char *name, enum cache_policy *out);

#endif
