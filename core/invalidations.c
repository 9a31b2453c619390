/* invalidations: one memcache's missed invalidations, sent again; reads skip those keys. */
#include "invalidations.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/cache_client.h"
#include "core/key.h"

/* Invalidations memcache missed, kept to send again; past this the cache is cleared. */
enum { PENDING_MAX = 256 };

struct pending_invalidation {
	char key[KEY_MAX_BYTES];
	size_t keylen;
	uint64_t version;
};

/*
 * An upload whose invalidation memcache did not take (down or slow) leaves
 * the old value there. Until it is sent again, reads of that key skip the
 * cache; when there are too many, the whole cache is cleared instead.
 */
struct invalidations {
	struct cache_client *cache;
	pthread_mutex_t lock;
	struct pending_invalidation pending[PENDING_MAX];
	size_t npending;
	bool clear_pending;
	uint64_t overflows;      /* times the list was full: a clear is owed for each */
	atomic_bool any_pending; /* read without the lock on every request */
	/*
	 * Held by the one reader that sends the list again, without lock, so
	 * that other reads never wait on memcache for it.
	 */
	pthread_mutex_t resend_lock;
	struct log_limit missed; /* warnings of missed invalidations */
};

struct invalidations *invalidations_create(struct cache_client *cache)
{
	struct invalidations *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return NULL;
	inv->cache = cache;
	inv->missed = (struct log_limit)LOG_LIMIT_INIT;
	pthread_mutex_init(&inv->lock, NULL);
	pthread_mutex_init(&inv->resend_lock, NULL);
	return inv;
}

void invalidations_destroy(struct invalidations *inv)
{
	if (!inv)
		return;
	pthread_mutex_destroy(&inv->lock);
	pthread_mutex_destroy(&inv->resend_lock);
	free(inv);
}

void invalidations_send(struct invalidations *inv, const char *key, size_t keylen,
			uint64_t version)
{
	if (cache_client_invalidate(inv->cache, key, keylen, version) == CACHE_ANSWER_OK)
		return;
	pthread_mutex_lock(&inv->lock);
	if (inv->npending < PENDING_MAX) {
		struct pending_invalidation *p = &inv->pending[inv->npending++];
		memcpy(p->key, key, keylen);
		p->keylen = keylen;
		p->version = version;
	} else {
		inv->clear_pending = true;
		inv->overflows++;
	}
	atomic_store(&inv->any_pending, true);
	pthread_mutex_unlock(&inv->lock);
	log_warn_limited(&inv->missed, "memcache missed an invalidation; reads of that key skip "
				       "it until it is sent again");
}

/*
 * Sends the missed invalidations again, with lock held only to read and
 * update the list. Only this function removes entries, and one thread at a
 * time runs it; others only append, so entries below the count read at the
 * start stay where they are.
 */
static void resend_pending(struct invalidations *inv)
{
	bool sent[PENDING_MAX] = {false};
	pthread_mutex_lock(&inv->lock);
	size_t count = inv->npending;
	bool clear = inv->clear_pending;
	uint64_t overflows = inv->overflows;
	pthread_mutex_unlock(&inv->lock);

	/* A clear covers every invalidation missed before it was sent. */
	bool cleared = clear && cache_client_clear(inv->cache, NULL) == CACHE_ANSWER_OK;
	for (size_t i = 0; i < count && (!clear || cleared); i++) {
		struct pending_invalidation p;
		pthread_mutex_lock(&inv->lock);
		p = inv->pending[i];
		pthread_mutex_unlock(&inv->lock);
		sent[i] = cleared || cache_client_invalidate(inv->cache, p.key, p.keylen,
							     p.version) == CACHE_ANSWER_OK;
	}

	pthread_mutex_lock(&inv->lock);
	size_t kept = 0;
	for (size_t i = 0; i < inv->npending; i++) {
		if (i >= count || !sent[i])
			inv->pending[kept++] = inv->pending[i];
	}
	inv->npending = kept;
	/* A list that overflowed again meanwhile still owes a clear. */
	if (cleared && inv->overflows == overflows)
		inv->clear_pending = false;
	atomic_store(&inv->any_pending, kept > 0 || inv->clear_pending);
	pthread_mutex_unlock(&inv->lock);
}

bool invalidations_flush(struct invalidations *inv)
{
	if (!atomic_load(&inv->any_pending))
		return true;
	pthread_mutex_lock(&inv->resend_lock);
	resend_pending(inv);
	pthread_mutex_unlock(&inv->resend_lock);
	return !atomic_load(&inv->any_pending);
}

bool invalidations_cache_usable(struct invalidations *inv, const char *key, size_t keylen)
{
	if (!atomic_load(&inv->any_pending))
		return true;
	if (pthread_mutex_trylock(&inv->resend_lock) == 0) {
		resend_pending(inv);
		pthread_mutex_unlock(&inv->resend_lock);
	}
	pthread_mutex_lock(&inv->lock);
	bool usable = !inv->clear_pending;
	for (size_t i = 0; usable && i < inv->npending; i++)
		usable = inv->pending[i].keylen != keylen ||
			 memcmp(inv->pending[i].key, key, keylen) != 0;
	pthread_mutex_unlock(&inv->lock);
	return usable;
}
