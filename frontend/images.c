/* images: the read and write paths: memcache first, then the catalog and the disk. */
#include "images.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/http.h"
#include "common/log.h"
#include "common/b64.h"
#include "core/cache_client.h"
#include "frontend/storage.h"
#include "core/imagetype.h"
#include "core/key.h"

enum {
	/* File writes and row commits of one content hash are serialised by a stripe lock. */
	LOCK_STRIPES = 256,
	/* Enough of the file's head to find the dimensions of most images. */
	HEAD_BYTES = 64 * 1024,
	/* A reader that finds the row's file replaced under it looks again this often. */
	READ_ATTEMPTS = 3,
	/* Files younger than this may belong to an upload about to commit its row. */
	ORPHAN_MIN_AGE_S = 60,
	HTTP_INSUFFICIENT_STORAGE = 507,
	/* Invalidations memcache missed, kept to send again; past this the cache is cleared. */
	PENDING_MAX = 256,
	/* Files whose orphan check the database could not answer; past this, the start-up sweep. */
	DOUBTFUL_MAX = 64 * 1024,
};

struct pending_invalidation {
	char key[KEY_MAX_BYTES];
	size_t keylen;
	uint64_t version;
};

struct images {
	struct catalog *catalog;    /* not owned */
	struct cache_client *cache; /* not owned */
	struct storage *storage;
	pthread_mutex_t stripes[LOCK_STRIPES];
	/*
	 * An upload whose invalidation memcache did not take (down or slow) leaves
	 * the old value there. Until it is sent again, reads of that key skip the
	 * cache; when there are too many, the whole cache is cleared instead.
	 */
	pthread_mutex_t pending_lock;
	struct pending_invalidation pending[PENDING_MAX];
	size_t npending;
	bool clear_pending;
	uint64_t overflows;      /* times the list was full: a clear is owed for each */
	atomic_bool any_pending; /* read without the lock on every request */
	/*
	 * Held by the one reader that sends the list again, without pending_lock,
	 * so that other reads never wait on memcache for it.
	 */
	pthread_mutex_t resend_lock;
	/*
	 * A file whose row failed to commit, or that a new upload replaced, while
	 * the database did not answer whether another row still uses it: it is
	 * kept, and checked again after the next upload that commits.
	 */
	pthread_mutex_t doubtful_lock;
	char (*doubtful)[STORAGE_LOCATION_MAX]; /* grown in an outage, up to DOUBTFUL_MAX */
	size_t ndoubtful, doubtful_cap;
	atomic_bool any_doubtful;
};

struct images_upload {
	struct images *im;
	struct storage_upload *file;
	unsigned char head[HEAD_BYTES];
	size_t head_len;
	enum image_type type;
	struct problem problem;
};

struct images *images_open(const struct config *cfg, struct catalog *catalog,
			   struct cache_client *cache, char *err, size_t errlen)
{
	struct images *im = calloc(1, sizeof(*im));
	if (!im) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	im->storage = storage_open(cfg->data_dir, err, errlen);
	if (!im->storage)
		goto out_free;
	im->catalog = catalog;
	im->cache = cache;
	for (unsigned i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_init(&im->stripes[i], NULL);
	pthread_mutex_init(&im->pending_lock, NULL);
	pthread_mutex_init(&im->resend_lock, NULL);
	pthread_mutex_init(&im->doubtful_lock, NULL);
	return im;
out_free:
	free(im);
	return NULL;
}

void images_close(struct images *im)
{
	if (!im)
		return;
	for (unsigned i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_destroy(&im->stripes[i]);
	pthread_mutex_destroy(&im->pending_lock);
	pthread_mutex_destroy(&im->resend_lock);
	pthread_mutex_destroy(&im->doubtful_lock);
	free(im->doubtful);
	storage_close(im->storage);
	free(im);
}

/* Locations start with the first two hex digits of the hash: the stripe. */
static pthread_mutex_t *stripe_of(struct images *im, const char *location)
{
	unsigned stripe = 0;
	sscanf(location, "%2x", &stripe);
	return &im->stripes[stripe % LOCK_STRIPES];
}

static void remember_doubtful(struct images *im, const char *location)
{
	pthread_mutex_lock(&im->doubtful_lock);
	if (im->ndoubtful == im->doubtful_cap && im->doubtful_cap < DOUBTFUL_MAX) {
		size_t cap = im->doubtful_cap ? im->doubtful_cap * 2 : 64;
		void *grown = realloc(im->doubtful, cap * sizeof(*im->doubtful));
		if (grown) {
			im->doubtful = grown;
			im->doubtful_cap = cap;
		}
	}
	if (im->ndoubtful < im->doubtful_cap) {
		snprintf(im->doubtful[im->ndoubtful++], STORAGE_LOCATION_MAX, "%s", location);
		atomic_store(&im->any_doubtful, true);
	} else {
		log_warn("image file %s may be unused; the next start's sweep decides", location);
	}
	pthread_mutex_unlock(&im->doubtful_lock);
}

static void remove_if_orphan(struct images *im, const char *location)
{
	pthread_mutex_t *lock = stripe_of(im, location);
	pthread_mutex_lock(lock);
	bool in_use = true;
	enum db_status status = catalog_location_in_use(im->catalog, location, &in_use);
	if (!in_use && !storage_remove(im->storage, location))
		log_warn("cannot remove unused image file %s: %s", location, strerror(errno));
	pthread_mutex_unlock(lock);
	if (status != DB_OK)
		remember_doubtful(im, location);
}

/* Checks the doubtful files again, once each: those still in doubt are remembered anew. */
static void recheck_doubtful(struct images *im)
{
	if (!atomic_load(&im->any_doubtful))
		return;
	pthread_mutex_lock(&im->doubtful_lock);
	size_t n = im->ndoubtful;
	pthread_mutex_unlock(&im->doubtful_lock);
	char location[STORAGE_LOCATION_MAX];
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&im->doubtful_lock);
		bool any = im->ndoubtful > 0;
		if (any)
			memcpy(location, im->doubtful[--im->ndoubtful], sizeof(location));
		atomic_store(&im->any_doubtful, im->ndoubtful > 0);
		pthread_mutex_unlock(&im->doubtful_lock);
		if (!any)
			break;
		remove_if_orphan(im, location);
	}
}

static void sweep_one(void *ctx, const char *location)
{
	remove_if_orphan(ctx, location);
}

void images_sweep_orphans(struct images *im)
{
	storage_each_file(im->storage, ORPHAN_MIN_AGE_S, sweep_one, im);
}

static void invalidate(struct images *im, const char *key, size_t keylen, uint64_t version)
{
	if (cache_client_invalidate(im->cache, key, keylen, version) == CACHE_ANSWER_OK)
		return;
	pthread_mutex_lock(&im->pending_lock);
	if (im->npending < PENDING_MAX) {
		struct pending_invalidation *p = &im->pending[im->npending++];
		memcpy(p->key, key, keylen);
		p->keylen = keylen;
		p->version = version;
	} else {
		im->clear_pending = true;
		im->overflows++;
	}
	atomic_store(&im->any_pending, true);
	pthread_mutex_unlock(&im->pending_lock);
	static struct log_limit missed = LOG_LIMIT_INIT;
	log_warn_limited(&missed, "memcache missed an invalidation; reads of that key skip it "
				  "until it is sent again");
}

/*
 * Sends the missed invalidations again, with pending_lock held only to read
 * and update the list. Only this function removes entries, and one thread at
 * a time runs it; others only append, so entries below the count read at the
 * start stay where they are.
 */
static void resend_pending(struct images *im)
{
	bool sent[PENDING_MAX] = {false};
	pthread_mutex_lock(&im->pending_lock);
	size_t count = im->npending;
	bool clear = im->clear_pending;
	uint64_t overflows = im->overflows;
	pthread_mutex_unlock(&im->pending_lock);

	/* A clear covers every invalidation missed before it was sent. */
	bool cleared = clear && cache_client_clear(im->cache, NULL) == CACHE_ANSWER_OK;
	for (size_t i = 0; i < count && (!clear || cleared); i++) {
		struct pending_invalidation p;
		pthread_mutex_lock(&im->pending_lock);
		p = im->pending[i];
		pthread_mutex_unlock(&im->pending_lock);
		sent[i] = cleared || cache_client_invalidate(im->cache, p.key, p.keylen, p.version) ==
					     CACHE_ANSWER_OK;
	}

	pthread_mutex_lock(&im->pending_lock);
	size_t kept = 0;
	for (size_t i = 0; i < im->npending; i++) {
		if (i >= count || !sent[i])
			im->pending[kept++] = im->pending[i];
	}
	im->npending = kept;
	/* A list that overflowed again meanwhile still owes a clear. */
	if (cleared && im->overflows == overflows)
		im->clear_pending = false;
	atomic_store(&im->any_pending, kept > 0 || im->clear_pending);
	pthread_mutex_unlock(&im->pending_lock);
}

/* True when memcache may be used for key: no invalidation of it is missing. */
static bool cache_usable_for(struct images *im, const char *key, size_t keylen)
{
	if (!atomic_load(&im->any_pending))
		return true;
	if (pthread_mutex_trylock(&im->resend_lock) == 0) {
		resend_pending(im);
		pthread_mutex_unlock(&im->resend_lock);
	}
	pthread_mutex_lock(&im->pending_lock);
	bool usable = !im->clear_pending;
	for (size_t i = 0; usable && i < im->npending; i++)
		usable = im->pending[i].keylen != keylen ||
			 memcmp(im->pending[i].key, key, keylen) != 0;
	pthread_mutex_unlock(&im->pending_lock);
	return usable;
}

/* A file that could not be stored: 507 when the disk is full, else 500 with message. */
static bool cannot_store(struct problem *p, bool disk_full, const char *message)
{
	if (disk_full)
		return problem_set(p, HTTP_INSUFFICIENT_STORAGE,
				   "the server's disk is full; the image was not stored");
	return problem_set(p, 500, message);
}

static bool unavailable(struct images *im, struct problem *p)
{
	static struct log_limit unanswered = LOG_LIMIT_INIT;
	log_warn_limited(&unanswered, "database: %s", catalog_error(im->catalog));
	return problem_set(p, 503, "the database does not answer; try again in a moment");
}

bool images_find(struct images *im, const char *key, size_t keylen, struct image_row *row,
		 struct problem *p)
{
	bool found = false;
	if (catalog_find(im->catalog, key, keylen, row, &found) != DB_OK)
		return unavailable(im, p);
	if (!found)
		return problem_set(p, 404, "no image with key '%.*s'", (int)keylen, key);
	return true;
}

/*
 * The file of the key's current row. An upload may replace the row and remove
 * the old file between our two reads; then the row is read again.
 */
static bool read_current_file(struct images *im, const char *key, size_t keylen,
			      struct image_row *row, struct buf *bytes, struct problem *p)
{
	for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		if (!images_find(im, key, keylen, row, p))
			return false;
		buf_reset(bytes);
		if (storage_read(im->storage, row->location, bytes))
			return true;
		if (errno != ENOENT)
			break;
	}
	log_error("cannot read image file %s: %s", row->location, strerror(errno));
	return problem_set(p, 500, "the image file cannot be read");
}

/* memcache's answer for key, unless a missed invalidation keeps it from being asked. */
static enum cache_answer cached_get(struct images *im, const char *key, size_t keylen,
				    struct buf *answer)
{
	if (!cache_usable_for(im, key, keylen))
		return CACHE_ANSWER_DOWN;
	return cache_client_get(im->cache, key, keylen, answer);
}

bool images_read_json(struct images *im, const char *key, size_t keylen, struct buf *answer,
		      struct problem *p)
{
	enum cache_answer cached = cached_get(im, key, keylen, answer);
	size_t len;
	if (cached == CACHE_ANSWER_OK && cache_client_content(answer, &len))
		return true;
	buf_reset(answer);
	struct image_row row;
	struct buf bytes = BUF_INIT;
	bool ok = read_current_file(im, key, keylen, &row, &bytes, p);
	if (ok && !(buf_puts(answer, HTTP_CONTENT_HEAD) && b64_encode(bytes.data, bytes.len, answer) &&
		    buf_puts(answer, HTTP_CONTENT_TAIL)))
		ok = problem_set(p, 500, "out of memory");
	buf_free(&bytes);
	/* After a miss (not when memcache is down) the value goes back with its version. */
	const char *b64;
	if (ok && cached == CACHE_ANSWER_MISS && (b64 = cache_client_content(answer, &len)))
		cache_client_put(im->cache, key, keylen, b64, len, row.version);
	return ok;
}

bool images_read_bytes(struct images *im, const char *key, size_t keylen, struct buf *bytes,
		       struct problem *p)
{
	struct buf answer = BUF_INIT;
	const char *b64;
	size_t len;
	bool ok = images_read_json(im, key, keylen, &answer, p);
	if (ok && (!(b64 = cache_client_content(&answer, &len)) || !b64_decode(b64, len, bytes)))
		ok = problem_set(p, 500, "out of memory");
	buf_free(&answer);
	return ok;
}

struct images_upload *images_upload_begin(struct images *im, struct problem *p)
{
	struct images_upload *u = calloc(1, sizeof(*u));
	if (!u) {
		problem_set(p, 500, "out of memory");
		return NULL;
	}
	char err[256];
	u->im = im;
	u->file = storage_upload_begin(im->storage, err, sizeof(err));
	if (!u->file) {
		bool full = storage_disk_full(errno);
		log_error("upload: %s", err);
		cannot_store(p, full, "the server cannot store files right now");
		free(u);
		return NULL;
	}
	return u;
}

static bool refuse_not_an_image(struct images_upload *u)
{
	return problem_set(&u->problem, 415,
			   "the file is not a JPEG, PNG, GIF or WebP image (judged by its bytes, "
			   "not its name)");
}

bool images_upload_write(void *upload, const char *data, size_t len)
{
	struct images_upload *u = upload;
	if (u->head_len < HEAD_BYTES) {
		size_t n = len < HEAD_BYTES - u->head_len ? len : HEAD_BYTES - u->head_len;
		memcpy(u->head + u->head_len, data, n);
		u->head_len += n;
		/* Refuse a non-image at its first bytes rather than after the whole body. */
		if (u->type == IMAGE_UNKNOWN && u->head_len >= IMAGE_SNIFF_BYTES) {
			u->type = image_sniff(u->head, u->head_len);
			if (u->type == IMAGE_UNKNOWN)
				return refuse_not_an_image(u);
		}
	}
	if (storage_upload_write(u->file, data, len))
		return true;
	bool full = storage_upload_disk_full(u->file);
	if (!full)
		log_error("upload: write failed: %s", strerror(errno));
	return cannot_store(&u->problem, full, "the file could not be written");
}

const struct problem *images_upload_problem(const struct images_upload *u)
{
	return &u->problem;
}

void images_upload_abort(struct images_upload *u)
{
	if (!u)
		return;
	storage_upload_abort(u->file);
	free(u);
}

static bool check_upload(struct images_upload *u, struct problem *p)
{
	if (storage_upload_size(u->file) == 0)
		return problem_set(p, 400, "the file is empty; choose an image file");
	if (u->type == IMAGE_UNKNOWN)
		u->type = image_sniff(u->head, u->head_len);
	if (u->type == IMAGE_UNKNOWN) {
		refuse_not_an_image(u);
		*p = u->problem;
		return false;
	}
	return true;
}

/* Writes the file and the row under the hash's stripe lock; frees the upload's file. */
static bool store(struct images_upload *u, struct image_row *row, char *old_location,
		  struct problem *p)
{
	struct images *im = u->im;
	char err[256];
	if (!storage_upload_finish(u->file, row->sha256, err, sizeof(err))) {
		bool full = storage_upload_disk_full(u->file);
		log_error("upload: %s", err);
		storage_upload_abort(u->file);
		return cannot_store(p, full, "the file could not be saved");
	}
	pthread_mutex_t *lock = stripe_of(u->im, row->sha256);
	pthread_mutex_lock(lock);
	bool created = false, in_doubt = false, ask_catalog = false;
	bool ok = storage_upload_commit(u->file, image_type_ext(u->type), row->location, &created,
					err, sizeof(err));
	if (!ok) {
		bool full = storage_disk_full(errno);
		log_error("upload: %s", err);
		cannot_store(p, full, "the file could not be saved");
	} else if (catalog_upsert(im->catalog, row, old_location, &in_doubt) != DB_OK) {
		ok = unavailable(im, p);
		/*
		 * Under the stripe lock no row can name a file this upload has just
		 * made, so it goes at once: a database outage must not fill the disk
		 * with files of refused uploads. When the COMMIT was lost in doubt,
		 * or the file was an existing copy, only the catalog can tell.
		 */
		if (created && !in_doubt) {
			if (!storage_remove(u->im->storage, row->location))
				log_warn("cannot remove unused image file %s: %s", row->location,
					 strerror(errno));
		} else {
			ask_catalog = true;
		}
	}
	pthread_mutex_unlock(lock);
	/* A file the catalog cannot vouch for now is swept as an orphan at a later start. */
	if (ask_catalog)
		remove_if_orphan(u->im, row->location);
	return ok;
}

bool images_upload_commit(struct images_upload *u, const char *key, size_t keylen,
			  struct image_row *row, struct problem *p)
{
	if (!check_upload(u, p)) {
		images_upload_abort(u);
		return false;
	}
	memset(row, 0, sizeof(*row));
	memcpy(row->key, key, keylen);
	row->keylen = keylen;
	snprintf(row->content_type, sizeof(row->content_type), "%s", image_type_mime(u->type));
	row->size_bytes = storage_upload_size(u->file);
	image_dimensions(u->head, u->head_len, u->type, &row->width, &row->height);
	char old_location[STORAGE_LOCATION_MAX] = "";
	struct images *im = u->im;
	bool ok = store(u, row, old_location, p);
	free(u);
	if (!ok)
		return false;
	/* Only now may the cache forget: a read from here on finds the new row. */
	invalidate(im, key, keylen, row->version);
	if (old_location[0] && strcmp(old_location, row->location) != 0)
		remove_if_orphan(im, old_location);
	/* This commit shows the database answers again. */
	recheck_doubtful(im);
	return true;
}
