/* cache: keys to reference-counted values under LRU or random replacement. No I/O. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#include "memcache/slab.h"

/*
 * Invalidation versions outlive the items they name, so that a reader that
 * missed before an upload cannot put the old image back after it. They only
 * need to outlast one read, so a bounded FIFO of them is enough.
 */
enum { CACHE_MAX_TOMBSTONES = 8192 };

/*
 * The slab may take capacity plus this share of it (1/SLACK_DIVISOR) and
 * SLAB_MIN_BYTES: room for the unused tail of chunks (at most 1/9 of each,
 * about 1/18 for a spread of sizes) and for values being received, while the
 * whole process (about 12 MB besides the slab) stays within capacity + 15% +
 * 10 MB. Where chunks waste more, memory binds before bytes and the cache
 * holds a little less than its capacity.
 */
enum { SLACK_DIVISOR = 16 };
static const size_t SLAB_MIN_BYTES = SLAB_PAGE_BYTES;

struct item {
	UT_hash_handle hh;
	struct item *lru_prev, *lru_next; /* most recent at lru_head */
	size_t slot;                       /* index in the RR array */
	struct cache_value *value;
	uint64_t version;
	size_t keylen;
	char key[];
};

struct tombstone {
	UT_hash_handle hh;
	struct tombstone *older, *newer;
	uint64_t version;
	size_t keylen;
	char key[];
};

struct cache {
	pthread_mutex_t lock;
	struct item *items; /* uthash table */
	struct item *lru_head, *lru_tail;
	struct item **slots; /* every item, in no order, for uniform random picks */
	size_t slot_cap;
	struct tombstone *tombstones; /* uthash table */
	struct tombstone *oldest_tombstone, *newest_tombstone;
	size_t tombstone_count;
	uint64_t rng;
	struct slab *slab;
	struct cache_stats stats;
};

static size_t memory_limit(size_t capacity)
{
	return capacity ? capacity + capacity / SLACK_DIVISOR + SLAB_MIN_BYTES : 0;
}

struct cache_value *cache_value_new(size_t len, size_t charge)
{
	struct cache_value *v = malloc(sizeof(*v) + len + 1);
	if (!v)
		return NULL;
	*v = (struct cache_value){.charge = charge, .len = len, .data = v->room, .room_len = len + 1,
				  .cls = SLAB_NO_CLASS};
	atomic_init(&v->refs, 1);
	v->data[len] = '\0';
	return v;
}

void cache_value_hold(struct cache_value *v)
{
	atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

static bool drop_hold(struct cache_value *v)
{
	return atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1;
}

/* The last release of a value, with the cache's lock held when it is a chunk. */
static void do_value_free(struct cache_value *v)
{
	if (v->cache)
		slab_free(v->cache->slab, v);
	else
		free(v);
}

void cache_value_release(struct cache_value *v)
{
	if (!v || !drop_hold(v))
		return;
	struct cache *c = v->cache;
	if (!c) {
		free(v);
		return;
	}
	pthread_mutex_lock(&c->lock);
	slab_free(c->slab, v);
	pthread_mutex_unlock(&c->lock);
}

/* cache_value_release for a caller that holds the cache's lock. */
static void do_value_release(struct cache_value *v)
{
	if (drop_hold(v))
		do_value_free(v);
}

static size_t item_charge(const struct item *it)
{
	return it->keylen + it->value->charge;
}

/* xorshift64*: fast, and plenty for picking a victim. */
static uint64_t next_random(struct cache *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ULL;
}

/* Uniform in [0, n), by rejecting the uneven top of the range. */
static size_t random_below(struct cache *c, size_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t r;
	do
		r = next_random(c);
	while (r >= limit);
	return (size_t)(r % n);
}

static void lru_unlink(struct cache *c, struct item *it)
{
	if (it->lru_prev)
		it->lru_prev->lru_next = it->lru_next;
	else
		c->lru_head = it->lru_next;
	if (it->lru_next)
		it->lru_next->lru_prev = it->lru_prev;
	else
		c->lru_tail = it->lru_prev;
	it->lru_prev = it->lru_next = NULL;
}

static void lru_push_front(struct cache *c, struct item *it)
{
	it->lru_prev = NULL;
	it->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = it;
	c->lru_head = it;
	if (!c->lru_tail)
		c->lru_tail = it;
}

static bool slots_reserve(struct cache *c)
{
	if (c->stats.items < c->slot_cap)
		return true;
	size_t cap = c->slot_cap ? c->slot_cap * 2 : 64;
	struct item **slots = realloc(c->slots, cap * sizeof(*slots));
	if (!slots)
		return false;
	c->slots = slots;
	c->slot_cap = cap;
	return true;
}

static void do_remove(struct cache *c, struct item *it)
{
	HASH_DEL(c->items, it);
	lru_unlink(c, it);
	struct item *last = c->slots[c->stats.items - 1];
	c->slots[it->slot] = last;
	last->slot = it->slot;
	c->stats.items--;
	c->stats.bytes -= item_charge(it);
	it->value->item = NULL;
	do_value_release(it->value);
	free(it);
}

static struct item *do_pick_victim(struct cache *c)
{
	return c->stats.policy == CACHE_LRU ? c->lru_tail
					    : c->slots[random_below(c, c->stats.items)];
}

static void do_evict(struct cache *c, struct item *victim)
{
	do_remove(c, victim);
	c->stats.evictions++;
}

static void do_evict_one(struct cache *c)
{
	do_evict(c, do_pick_victim(c));
}

/*
 * Evicts every item stored in the victim's page, so that the page can go to
 * the class that needs memory (memcached's slab page mover, driven by the
 * replacement policy: the class of the item it would evict gives up a page).
 */
static void do_evict_page(struct cache *c, struct slab_page *p)
{
	size_t n = slab_page_chunk_count(p);
	for (size_t i = 0; i < n; i++) {
		struct cache_value *v = slab_page_chunk(c->slab, p, i);
		if (!v->is_free && v->item)
			do_evict(c, v->item);
	}
	c->stats.page_moves++;
}

/*
 * A chunk of class cls. When the memory is all taken, the policy's victim
 * makes room: if it lives in this class its chunk is reused, otherwise its
 * whole page moves here. Held chunks return only at their last release, so
 * this may take more than one victim.
 */
static struct cache_value *do_reserve(struct cache *c, int cls)
{
	for (;;) {
		struct cache_value *v = slab_alloc(c->slab, cls);
		if (v || !c->stats.items)
			return v;
		struct item *victim = do_pick_victim(c);
		struct slab_page *p = victim->value->page;
		if (p && slab_page_class(p) != cls)
			do_evict_page(c, p);
		else
			do_evict(c, victim);
	}
}

struct cache_value *cache_value_reserve(struct cache *c, size_t room)
{
	int cls = slab_class_for(c->slab, room);
	if (cls == SLAB_NO_CLASS)
		return NULL;
	pthread_mutex_lock(&c->lock);
	struct cache_value *v = c->stats.capacity ? do_reserve(c, cls) : NULL;
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void do_evict_to_fit(struct cache *c, size_t extra)
{
	while (c->stats.items && c->stats.bytes + extra > c->stats.capacity)
		do_evict_one(c);
}

/*
 * Applies a new memory limit: empty pages go at once; while the slab is
 * still larger, the policy's victims go, and their pages with them once
 * their last holds are released.
 */
static void do_fit_memory(struct cache *c, size_t limit)
{
	slab_set_limit(c->slab, limit);
	while (slab_memory(c->slab) > limit && c->stats.items)
		do_evict_one(c);
}

static struct item *do_find(struct cache *c, const char *key, size_t keylen)
{
	struct item *it;
	HASH_FIND(hh, c->items, key, keylen, it);
	return it;
}

static struct tombstone *do_find_tombstone(struct cache *c, const char *key, size_t keylen)
{
	struct tombstone *t;
	HASH_FIND(hh, c->tombstones, key, keylen, t);
	return t;
}

static void tombstone_unlink(struct cache *c, struct tombstone *t)
{
	if (t->older)
		t->older->newer = t->newer;
	else
		c->oldest_tombstone = t->newer;
	if (t->newer)
		t->newer->older = t->older;
	else
		c->newest_tombstone = t->older;
}

static void tombstone_push_newest(struct cache *c, struct tombstone *t)
{
	t->newer = NULL;
	t->older = c->newest_tombstone;
	if (c->newest_tombstone)
		c->newest_tombstone->newer = t;
	else
		c->oldest_tombstone = t;
	c->newest_tombstone = t;
}

static void do_drop_oldest_tombstone(struct cache *c)
{
	struct tombstone *t = c->oldest_tombstone;
	tombstone_unlink(c, t);
	HASH_DEL(c->tombstones, t);
	c->tombstone_count--;
	free(t);
}

static void do_remember_version(struct cache *c, const char *key, size_t keylen, uint64_t version)
{
	struct tombstone *t = do_find_tombstone(c, key, keylen);
	if (t) {
		if (version > t->version)
			t->version = version;
		/* a fresh invalidation must outlast one read, however old the key's first */
		tombstone_unlink(c, t);
		tombstone_push_newest(c, t);
		return;
	}
	t = malloc(sizeof(*t) + keylen);
	if (!t)
		return; /* the item is gone anyway; only the stale-put guard is lost */
	memcpy(t->key, key, keylen);
	t->keylen = keylen;
	t->version = version;
	tombstone_push_newest(c, t);
	HASH_ADD_KEYPTR(hh, c->tombstones, t->key, t->keylen, t);
	if (++c->tombstone_count > CACHE_MAX_TOMBSTONES)
		do_drop_oldest_tombstone(c);
}

static bool do_is_stale(struct cache *c, const char *key, size_t keylen, uint64_t version,
			const struct item *current)
{
	if (version == CACHE_UNVERSIONED)
		return false;
	if (current && current->version > version)
		return true;
	struct tombstone *t = do_find_tombstone(c, key, keylen);
	return t && t->version > version;
}

static struct cache_value *do_get(struct cache *c, const char *key, size_t keylen)
{
	c->stats.requests++;
	struct item *it = do_find(c, key, keylen);
	if (!it) {
		c->stats.misses++;
		return NULL;
	}
	c->stats.hits++;
	lru_unlink(c, it);
	lru_push_front(c, it);
	cache_value_hold(it->value);
	return it->value;
}

static enum cache_put_result do_put(struct cache *c, const char *key, size_t keylen,
				    struct cache_value *value, uint64_t version)
{
	c->stats.requests++;
	c->stats.puts++;
	if (c->stats.capacity == 0)
		return CACHE_PUT_DISABLED;
	size_t charge = keylen + value->charge;
	if (charge > c->stats.capacity)
		return CACHE_PUT_TOO_LARGE;
	struct item *old = do_find(c, key, keylen);
	if (do_is_stale(c, key, keylen, version, old)) {
		c->stats.stale_puts++;
		return CACHE_PUT_STALE;
	}
	if (old)
		do_remove(c, old);
	struct item *it = malloc(sizeof(*it) + keylen);
	if (!it || !slots_reserve(c)) {
		free(it);
		return CACHE_PUT_NO_MEMORY;
	}
	do_evict_to_fit(c, charge);
	memcpy(it->key, key, keylen);
	it->keylen = keylen;
	it->version = version;
	it->value = value;
	value->item = it;
	it->slot = c->stats.items;
	c->slots[it->slot] = it;
	lru_push_front(c, it);
	HASH_ADD_KEYPTR(hh, c->items, it->key, it->keylen, it);
	c->stats.items++;
	c->stats.bytes += charge;
	return CACHE_PUT_STORED;
}

static void do_invalidate(struct cache *c, const char *key, size_t keylen, uint64_t version)
{
	c->stats.requests++;
	struct item *it = do_find(c, key, keylen);
	if (it)
		do_remove(c, it);
	if (version != CACHE_UNVERSIONED)
		do_remember_version(c, key, keylen, version);
}

static size_t do_clear(struct cache *c)
{
	c->stats.requests++;
	size_t dropped = c->stats.items;
	while (c->stats.items)
		do_remove(c, c->slots[c->stats.items - 1]);
	return dropped;
}

struct cache *cache_create(size_t capacity, enum cache_policy policy, uint64_t seed)
{
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->slab = slab_create(c, memory_limit(capacity));
	if (!c->slab) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	c->stats.capacity = capacity;
	c->stats.policy = policy;
	c->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
	return c;
}

void cache_destroy(struct cache *c)
{
	if (!c)
		return;
	while (c->stats.items)
		do_remove(c, c->slots[c->stats.items - 1]);
	while (c->oldest_tombstone)
		do_drop_oldest_tombstone(c);
	free(c->slots);
	slab_destroy(c->slab);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct cache_value *cache_get(struct cache *c, const char *key, size_t keylen)
{
	pthread_mutex_lock(&c->lock);
	struct cache_value *v = do_get(c, key, keylen);
	pthread_mutex_unlock(&c->lock);
	return v;
}

enum cache_put_result cache_put(struct cache *c, const char *key, size_t keylen,
				struct cache_value *value, uint64_t version)
{
	pthread_mutex_lock(&c->lock);
	enum cache_put_result r = do_put(c, key, keylen, value, version);
	pthread_mutex_unlock(&c->lock);
	if (r != CACHE_PUT_STORED)
		cache_value_release(value);
	return r;
}

bool cache_put_disabled(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	bool off = c->stats.capacity == 0;
	if (off) {
		c->stats.requests++;
		c->stats.puts++;
	}
	pthread_mutex_unlock(&c->lock);
	return off;
}

void cache_invalidate(struct cache *c, const char *key, size_t keylen, uint64_t version)
{
	pthread_mutex_lock(&c->lock);
	do_invalidate(c, key, keylen, version);
	pthread_mutex_unlock(&c->lock);
}

size_t cache_clear(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	size_t dropped = do_clear(c);
	pthread_mutex_unlock(&c->lock);
	return dropped;
}

void cache_configure(struct cache *c, size_t capacity, enum cache_policy policy)
{
	pthread_mutex_lock(&c->lock);
	c->stats.capacity = capacity;
	c->stats.policy = policy;
	do_evict_to_fit(c, 0);
	do_fit_memory(c, memory_limit(capacity));
	pthread_mutex_unlock(&c->lock);
}

void cache_get_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	out->tombstones = c->tombstone_count;
	out->memory_bytes = slab_memory(c->slab);
	out->memory_limit = slab_limit(c->slab);
	pthread_mutex_unlock(&c->lock);
}

const char *cache_policy_name(enum cache_policy policy)
{
	return policy == CACHE_RR ? "RR" : "LRU";
}

bool cache_policy_parse(const char *name, enum cache_policy *out)
{
	if (strcasecmp(name, "LRU") == 0) {
		*out = CACHE_LRU;
		return true;
	}
	if (strcasecmp(name, "RR") == 0 || strcasecmp(name, "random") == 0) {
		*out = CACHE_RR;
		return true;
	}
	return false;
}
