/* orphans: removal of image files (and their thumbnails) no row names, at once or, in a database outage, later. */
#include "orphans.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/catalog.h"
#include "core/stripes.h"
#include "core/variants.h"

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

/*
 * Removes the thumbnails of a content no image has any more: their rows first,
 * then their files, so that no row names a missing file (a crash between
 * leaves files the sweep removes). The caller holds the content's stripe lock,
 * which keeps an upload of the same bytes from finding the rows and skipping
 * its thumbnail job meanwhile.
 */
static void do_remove_thumbnails(struct orphans *o, const char *sha256)
{
	struct db *db = catalog_db(o->catalog);
	if (!db || variants_forget(db, sha256) != DB_OK) {
		log_warn("cannot forget the thumbnails of %s: %s; the next start's sweep removes them",
			 sha256, catalog_error(o->catalog));
		return;
	}
	for (enum variant_size size = 0; size < VARIANT_SIZE_COUNT; size++) {
		struct blob_ref thumb = {.kind = variants_blob_kind(size)};
		snprintf(thumb.sha256, sizeof(thumb.sha256), "%s", sha256);
		snprintf(thumb.ext, sizeof(thumb.ext), "webp");
		char err[BLOB_ERR_MAX];
		if (blob_delete(o->blobs, &thumb, err, sizeof(err)) != BLOB_OK)
			log_warn("cannot remove the thumbnail of %s: %s", sha256, err);
	}
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
	/* Equal bytes have one type, so a file no row names is a content no image has. */
	if (!in_use && ref->kind == BLOB_IMAGE)
		do_remove_thumbnails(o, ref->sha256);
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

/*
 * A thumbnail whose content no image has: left by a crash after a deletion's
 * commit, or by a worker stopped between storing a thumbnail and recording it
 * (a worker that finds its image deleted removes what it stored itself).
 */
static void sweep_thumbnail(void *ctx, const struct blob_ref *ref)
{
	struct orphans *o = ctx;
	pthread_mutex_t *lock = stripes_of(o->stripes, ref->sha256);
	pthread_mutex_lock(lock);
	bool in_use = true;
	if (catalog_sha256_in_use(o->catalog, ref->sha256, &in_use) == DB_OK && !in_use)
		do_remove_thumbnails(o, ref->sha256);
	pthread_mutex_unlock(lock);
}

void orphans_sweep(struct orphans *o)
{
	blob_list(o->blobs, BLOB_IMAGE, ORPHAN_MIN_AGE_S, sweep_one, o);
	blob_list(o->blobs, BLOB_THUMB_S, ORPHAN_MIN_AGE_S, sweep_thumbnail, o);
	blob_list(o->blobs, BLOB_THUMB_M, ORPHAN_MIN_AGE_S, sweep_thumbnail, o);
}
