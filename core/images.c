/* images: the read and write paths of images: memcache, then the catalog and the blob store. */
#include "images.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/hit_json.h"
#include "common/log.h"
#include "core/blob.h"
#include "core/cache_client.h"
#include "core/imagetype.h"
#include "core/invalidations.h"
#include "core/key.h"
#include "core/orphans.h"
#include "core/stripes.h"

enum {
	/* A reader that finds the row's file replaced under it looks again this often. */
	READ_ATTEMPTS = 3,
};

struct images {
	struct catalog *catalog;    /* not owned */
	struct cache_client *cache; /* not owned */
	struct blob_store *blobs;   /* not owned */
	struct stripes *stripes;
	struct invalidations *invalidations; /* those of cache */
	struct orphans *orphans;
	struct log_limit unanswered; /* warnings of database outages */
	uint64_t max_pixels;         /* 0: no limit */
};

struct images_upload {
	struct images *im;
	struct blob_put *file;
	struct image_probe probe; /* the type and size, learnt from the head as it arrives */
	struct outcome outcome;
	long long owner_id; /* 0: an anonymous upload */
	bool caption_given;
	const char *caption; /* not owned */
	size_t caption_len;
};

struct images *images_open(struct catalog *catalog, struct cache_client *cache,
			   struct blob_store *blobs, char *err, size_t errlen)
{
	struct images *im = calloc(1, sizeof(*im));
	if (!im)
		goto out_nomem;
	im->catalog = catalog;
	im->cache = cache;
	im->blobs = blobs;
	im->unanswered = (struct log_limit)LOG_LIMIT_INIT;
	im->stripes = stripes_create();
	im->invalidations = invalidations_create(cache);
	if (im->stripes)
		im->orphans = orphans_create(catalog, blobs, im->stripes);
	if (!im->stripes || !im->invalidations || !im->orphans) {
		images_close(im);
		goto out_nomem;
	}
	return im;
out_nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void images_close(struct images *im)
{
	if (!im)
		return;
	orphans_destroy(im->orphans);
	invalidations_destroy(im->invalidations);
	stripes_destroy(im->stripes);
	free(im);
}

void images_set_max_pixels(struct images *im, uint64_t max_pixels)
{
	im->max_pixels = max_pixels;
}

void images_sweep_orphans(struct images *im)
{
	orphans_sweep(im->orphans);
}

/* A file that could not be stored: DISK_FULL when the disk is full, else INTERNAL with message. */
static bool cannot_store(struct outcome *o, enum blob_status st, const char *message)
{
	if (st == BLOB_DISK_FULL)
		return outcome_set(o, OUTCOME_DISK_FULL,
				   "the server's disk is full; the image was not stored");
	return outcome_set(o, OUTCOME_INTERNAL, "%s", message);
}

static bool unavailable(struct images *im, struct outcome *o)
{
	log_warn_limited(&im->unanswered, "database: %s", catalog_error(im->catalog));
	return outcome_set(o, OUTCOME_UNAVAILABLE,
			   "the database does not answer; try again in a moment");
}

bool images_find(struct images *im, const char *key, size_t keylen, struct image_row *row,
		 struct outcome *o)
{
	bool found = false;
	if (catalog_find(im->catalog, key, keylen, row, &found) != DB_OK)
		return unavailable(im, o);
	if (!found)
		return outcome_set(o, OUTCOME_NOT_FOUND, "no image with key '%.*s'", (int)keylen, key);
	return true;
}

/*
 * The file of the key's current row. An upload may replace the row and remove
 * the old file between our two reads; then the row is read again.
 */
static bool read_current_file(struct images *im, const char *key, size_t keylen,
			      struct image_row *row, struct buf *bytes, struct outcome *o)
{
	char err[BLOB_ERR_MAX] = "";
	for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		if (!images_find(im, key, keylen, row, o))
			return false;
		buf_reset(bytes);
		struct blob_ref ref;
		if (!blob_ref_parse(BLOB_IMAGE, row->location, &ref)) {
			snprintf(err, sizeof(err), "not a file name this store makes");
			break;
		}
		enum blob_status st = blob_get(im->blobs, &ref, bytes, err, sizeof(err));
		if (st == BLOB_OK)
			return true;
		if (st != BLOB_NOT_FOUND)
			break;
	}
	log_error("cannot read image file %s: %s", row->location, err);
	return outcome_set(o, OUTCOME_INTERNAL, "the image file cannot be read");
}

/* memcache's answer for key, unless a missed invalidation keeps it from being asked. */
static enum cache_answer cached_get(struct images *im, const char *key, size_t keylen,
				    struct buf *answer)
{
	if (!invalidations_cache_usable(im->invalidations, key, keylen))
		return CACHE_ANSWER_DOWN;
	return cache_client_get(im->cache, key, keylen, answer);
}

/* Appends the JSON answer for bytes: the shape memcache holds and /api/key sends. */
static bool wrap_json(const struct buf *bytes, struct buf *answer)
{
	return buf_puts(answer, HIT_JSON_HEAD) && b64_encode(bytes->data, bytes->len, answer) &&
	       buf_puts(answer, HIT_JSON_TAIL);
}

/* After a miss (not when memcache is down) the value goes back with its version. */
static void cache_put(struct images *im, const struct image_row *row, const struct buf *answer)
{
	size_t len;
	const char *b64 = cache_client_content(answer, &len);
	if (b64)
		cache_client_put(im->cache, row->key, row->keylen, b64, len, row->version);
}

bool images_read_json(struct images *im, const char *key, size_t keylen, struct buf *answer,
		      struct outcome *o)
{
	enum cache_answer cached = cached_get(im, key, keylen, answer);
	if (cached == CACHE_ANSWER_OK && cache_client_content(answer, NULL))
		return true;
	buf_reset(answer);
	struct image_row row;
	struct buf bytes = BUF_INIT;
	bool ok = read_current_file(im, key, keylen, &row, &bytes, o);
	if (ok && !wrap_json(&bytes, answer))
		ok = outcome_set(o, OUTCOME_INTERNAL, "out of memory");
	buf_free(&bytes);
	if (ok && cached == CACHE_ANSWER_MISS)
		cache_put(im, &row, answer);
	return ok;
}

bool images_read_bytes(struct images *im, const char *key, size_t keylen, struct buf *bytes,
		       struct outcome *o)
{
	struct buf answer = BUF_INIT;
	enum cache_answer cached = cached_get(im, key, keylen, &answer);
	const char *b64;
	size_t len;
	bool ok = true;
	if (cached == CACHE_ANSWER_OK && (b64 = cache_client_content(&answer, &len))) {
		/* The base64 span is decoded once, straight into the bytes. */
		if (!b64_decode(b64, len, bytes))
			ok = outcome_set(o, OUTCOME_INTERNAL, "out of memory");
		buf_free(&answer);
		return ok;
	}
	buf_reset(&answer);
	struct image_row row;
	ok = read_current_file(im, key, keylen, &row, bytes, o);
	/* The file is sent as it is; only memcache needs the base64. */
	if (ok && cached == CACHE_ANSWER_MISS && wrap_json(bytes, &answer))
		cache_put(im, &row, &answer);
	buf_free(&answer);
	return ok;
}

struct images_upload *images_upload_begin(struct images *im, struct outcome *o)
{
	struct images_upload *u = calloc(1, sizeof(*u));
	if (!u) {
		outcome_set(o, OUTCOME_INTERNAL, "out of memory");
		return NULL;
	}
	char err[BLOB_ERR_MAX];
	u->im = im;
	image_probe_init(&u->probe);
	enum blob_status st = blob_put_begin(im->blobs, &u->file, err, sizeof(err));
	if (st != BLOB_OK) {
		log_error("upload: %s", err);
		cannot_store(o, st, "the server cannot store files right now");
		free(u);
		return NULL;
	}
	return u;
}

/*
 * Judges what the probe has learnt: a file of no image type (415), an image
 * whose header gives no size (415: it would reach a decoder unmeasured), or a
 * size over the pixel limit (413: a decompression bomb is small on the wire).
 */
static bool judge_probe(struct images_upload *u, enum image_probe_state state)
{
	const struct image_probe *p = &u->probe;
	switch (state) {
	case IMAGE_PROBE_MORE:
		return true;
	case IMAGE_PROBE_NOT_IMAGE:
		return outcome_set(&u->outcome, OUTCOME_NOT_AN_IMAGE,
				   "the file is not a JPEG, PNG, GIF or WebP image (judged by its "
				   "bytes, not its name)");
	case IMAGE_PROBE_NO_SIZE:
		return outcome_set(&u->outcome, OUTCOME_NOT_AN_IMAGE,
				   "the file starts like a %s image but its header does not give "
				   "its width and height; save it again with an image editor",
				   image_type_ext(p->type));
	case IMAGE_PROBE_SIZED:
		break;
	}
	uint64_t pixels = (uint64_t)p->width * p->height;
	if (u->im->max_pixels && pixels > u->im->max_pixels)
		return outcome_set(&u->outcome, OUTCOME_TOO_LARGE,
				   "the image declares %u x %u pixels (%llu), more than the limit "
				   "of %llu; make it smaller",
				   p->width, p->height, (unsigned long long)pixels,
				   (unsigned long long)u->im->max_pixels);
	return true;
}

bool images_upload_write(void *upload, const char *data, size_t len)
{
	struct images_upload *u = upload;
	/* Refuse a non-image or a bomb at its first bytes rather than after the whole body. */
	if (!judge_probe(u, image_probe_feed(&u->probe, (const unsigned char *)data, len)))
		return false;
	char err[BLOB_ERR_MAX];
	enum blob_status st = blob_put_write(u->file, data, len, err, sizeof(err));
	if (st == BLOB_OK)
		return true;
	if (st != BLOB_DISK_FULL)
		log_error("upload: write failed: %s", err);
	return cannot_store(&u->outcome, st, "the file could not be written");
}

const struct outcome *images_upload_outcome(const struct images_upload *u)
{
	return &u->outcome;
}

void images_upload_abort(struct images_upload *u)
{
	if (!u)
		return;
	blob_put_abort(u->file);
	free(u);
}

static bool check_upload(struct images_upload *u, struct outcome *o)
{
	if (blob_put_size(u->file) == 0)
		return outcome_set(o, OUTCOME_BAD_INPUT, "the file is empty; choose an image file");
	if (!judge_probe(u, image_probe_finish(&u->probe))) {
		*o = u->outcome;
		return false;
	}
	return true;
}

/* Writes the file and the row under the hash's stripe lock; frees the upload's file. */
static bool store(struct images_upload *u, struct image_row *row, char *old_location,
		  bool *in_doubt, struct outcome *o)
{
	struct images *im = u->im;
	char err[BLOB_ERR_MAX];
	enum blob_status st = blob_put_finish(u->file, row->sha256, err, sizeof(err));
	if (st != BLOB_OK) {
		log_error("upload: %s", err);
		blob_put_abort(u->file);
		return cannot_store(o, st, "the file could not be saved");
	}
	pthread_mutex_t *lock = stripes_of(im->stripes, row->sha256);
	pthread_mutex_lock(lock);
	bool created = false, ask_catalog = false;
	*in_doubt = false;
	struct blob_ref ref;
	st = blob_put_commit(u->file, BLOB_IMAGE, image_type_ext(u->probe.type), &ref, &created, err,
			     sizeof(err));
	bool ok = st == BLOB_OK;
	if (ok)
		blob_ref_name(&ref, row->location);
	if (!ok) {
		log_error("upload: %s", err);
		cannot_store(o, st, "the file could not be saved");
	} else if (catalog_upsert(im->catalog, row, old_location, in_doubt) != DB_OK) {
		ok = row->owner_refused
			     ? outcome_set(o, OUTCOME_FORBIDDEN,
					   "the key '%s' belongs to another user; choose another key",
					   row->key)
			     : unavailable(im, o);
		if (*in_doubt)
			outcome_set(o, OUTCOME_UNAVAILABLE,
				    "the database went away while storing the upload; the upload "
				    "may have been stored; read the key to see");
		/*
		 * Under the stripe lock no row can name a file this upload has just
		 * made, so it goes at once: a database outage must not fill the disk
		 * with files of refused uploads. When the COMMIT was lost in doubt,
		 * or the file was an existing copy, only the catalog can tell.
		 */
		if (created && !*in_doubt) {
			if (blob_delete(im->blobs, &ref, err, sizeof(err)) != BLOB_OK)
				log_warn("cannot remove unused image file %s: %s", row->location,
					 err);
		} else {
			ask_catalog = true;
		}
	}
	pthread_mutex_unlock(lock);
	/* A file the catalog cannot vouch for now is swept as an orphan at a later start. */
	if (ask_catalog)
		orphans_remove_if_unused(im->orphans, &ref);
	return ok;
}

struct gone {
	struct image_row *rows;
	size_t n, cap;
	bool nomem;
};

static bool collect_row(void *ctx, const struct image_row *row)
{
	struct gone *g = ctx;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct image_row *rows = realloc(g->rows, cap * sizeof(*rows));
		if (!rows) {
			g->nomem = true;
			return false;
		}
		g->rows = rows;
		g->cap = cap;
	}
	g->rows[g->n++] = *row;
	return true;
}

bool images_delete_owned(struct images *im, long long owner_id, unsigned long *count,
			 struct outcome *o)
{
	struct gone g = {0};
	*count = 0;
	enum db_status s = catalog_delete_owned(im->catalog, owner_id, collect_row, &g);
	if (s != DB_OK || g.nomem) {
		free(g.rows);
		return g.nomem ? outcome_set(o, OUTCOME_INTERNAL, "out of memory")
			       : unavailable(im, o);
	}
	for (size_t i = 0; i < g.n; i++) {
		/* Values of the version that went, and older, are forgotten. */
		invalidations_send(im->invalidations, g.rows[i].key, g.rows[i].keylen,
				   g.rows[i].version + 1);
		struct blob_ref ref;
		if (blob_ref_parse(BLOB_IMAGE, g.rows[i].location, &ref))
			orphans_remove_if_unused(im->orphans, &ref);
	}
	*count = g.n;
	free(g.rows);
	return true;
}

void images_upload_set_owner(struct images_upload *u, long long owner_id)
{
	u->owner_id = owner_id;
}

void images_upload_set_caption(struct images_upload *u, const char *caption, size_t len)
{
	u->caption_given = true;
	u->caption = caption;
	u->caption_len = len;
}

bool images_upload_commit(struct images_upload *u, const char *key, size_t keylen,
			  struct image_row *row, struct outcome *o)
{
	if (!check_upload(u, o)) {
		images_upload_abort(u);
		return false;
	}
	memset(row, 0, sizeof(*row));
	memcpy(row->key, key, keylen);
	row->keylen = keylen;
	row->owner_id = u->owner_id;
	row->caption_given = u->caption_given;
	row->caption = u->caption;
	row->caption_len = u->caption_len;
	snprintf(row->content_type, sizeof(row->content_type), "%s",
		 image_type_mime(u->probe.type));
	row->size_bytes = blob_put_size(u->file);
	row->width = u->probe.width;
	row->height = u->probe.height;
	char old_location[BLOB_NAME_MAX] = "";
	struct images *im = u->im;
	bool in_doubt = false;
	bool ok = store(u, row, old_location, &in_doubt, o);
	free(u);
	/*
	 * A commit that may have landed may have replaced what memcache holds:
	 * it must forget the key either way, or reads would serve the old bytes.
	 */
	if (!ok && in_doubt)
		invalidations_send(im->invalidations, key, keylen, row->version);
	if (!ok)
		return false;
	/* Only now may the cache forget: a read from here on finds the new row. */
	invalidations_send(im->invalidations, key, keylen, row->version);
	struct blob_ref old;
	if (old_location[0] && strcmp(old_location, row->location) != 0 &&
	    blob_ref_parse(BLOB_IMAGE, old_location, &old))
		orphans_remove_if_unused(im->orphans, &old);
	/* This commit shows the database answers again. */
	orphans_recheck(im->orphans);
	return true;
}
