/* orphans: removal of image files no row names, at once or, in a database outage, later. */
#include "orphans.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/catalog.h"
#include "core/stripes.h"

enum {
	/* Files younger than this may belong to an upload about to commit its row. */
	ORPHAN_MIN_AGE_S = 60,
	/* Files whose orphan check the database could not answer; past this, the start-up sweep. */
	DOUBTFUL_MAX = 64 * 1024,
};

struct orphans {
	struct catalog *catalog;
	struct blob_store *blobs;
	struct stripes *stripes;
	/*
	 * A file whose row failed to commit, or that a new upload replaced, while
	 * the database did not answer whether another row still uses it: it is
	 * kept, and checked again after the next upload that commits.
	 */
	pthread_mutex_t doubtful_lock;
	struct blob_ref *doubtful; /* grown in an outage, up to DOUBTFUL_MAX */
	size_t ndoubtful, doubtful_cap;
	atomic_bool any_doubtful;
};

struct orphans *orphans_create(struct catalog *catalog, struct blob_store *blobs,
			       struct stripes *stripes)
{
	struct orphans *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->catalog = catalog;
	o->blobs = blobs;
	o->stripes = stripes;
	pthread_mutex_init(&o->doubtful_lock, NULL);
	return o;
}

void orphans_destroy(struct orphans *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->doubtful_lock);
	free(o->doubtful);
	free(o);
}

static void remember_doubtful(struct orphans *o, const struct blob_ref *ref, const char *name)
{
	pthread_mutex_lock(&o->doubtful_lock);
	if (o->ndoubtful == o->doubtful_cap && o->doubtful_cap < DOUBTFUL_MAX) {
		size_t cap = o->doubtful_cap ? o->doubtful_cap * 2 : 64;
		void *grown = realloc(o->doubtful, cap * sizeof(*o->doubtful));
		if (grown) {
			o->doubtful = grown;
			o->doubtful_cap = cap;
		}
	}
	if (o->ndoubtful < o->doubtful_cap) {
		o->doubtful[o->ndoubtful++] = *ref;
		atomic_store(&o->any_doubtful, true);
	} else {
		log_warn("image file %s may be unused; the next start's sweep decides", name);
	}
	pthread_mutex_unlock(&o->doubtful_lock);
}

void orphans_remove_if_unused(struct orphans *o, const struct blob_ref *ref)
{
	char name[BLOB_NAME_MAX], err[BLOB_ERR_MAX];
	if (!blob_ref_name(ref, name))
		return;
	pthread_mutex_t *lock = stripes_of(o->stripes, ref->sha256);
	pthread_mutex_lock(lock);
	bool in_use = true;
	enum db_status status = catalog_location_in_use(o->catalog, name, &in_use);
	if (!in_use && blob_delete(o->blobs, ref, err, sizeof(err)) != BLOB_OK)
		log_warn("cannot remove unused image file %s: %s", name, err);
	pthread_mutex_unlock(lock);
	if (status != DB_OK)
		remember_doubtful(o, ref, name);
}

void orphans_recheck(struct orphans *o)
{
	if (!atomic_load(&o->any_doubtful))
		return;
	pthread_mutex_lock(&o->doubtful_lock);
	size_t n = o->ndoubtful;
	pthread_mutex_unlock(&o->doubtful_lock);
	/* Each is checked once: those still in doubt are remembered anew. */
	for (size_t i = 0; i < n; i++) {
		struct blob_ref ref;
		pthread_mutex_lock(&o->doubtful_lock);
		bool any = o->ndoubtful > 0;
		if (any)
			ref = o->doubtful[--o->ndoubtful];
		atomic_store(&o->any_doubtful, o->ndoubtful > 0);
		pthread_mutex_unlock(&o->doubtful_lock);
		if (!any)
			break;
		orphans_remove_if_unused(o, &ref);
	}
}

static void sweep_one(void *ctx, const struct blob_ref *ref)
{
	orphans_remove_if_unused(ctx, ref);
}

void orphans_sweep(struct orphans *o)
{
	blob_list(o->blobs, BLOB_IMAGE, ORPHAN_MIN_AGE_S, sweep_one, o);
}
