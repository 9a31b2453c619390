/* catalog: the SQL of the images table, and the reading of the statistics rows. */
#include "catalog.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/num.h"
#include "common/config.h"
#include "core/captions.h"
#include "core/search_index.h"
#include "core/variants.h"

enum {
	LIKE_PATTERN_MAX = 2 * KEY_MAX_BYTES + 3,
	/* InnoDB may still pick an upload as a deadlock victim; it is simply run again. */
	UPSERT_ATTEMPTS = 5,
	/* How long an upload whose COMMIT lost its answer may spend learning whether it landed. */
	DOUBT_RESOLVE_MS = 3000,
	DOUBT_RETRY_MS = 100,
	/* Idle connections kept for streams; the front end bounds how many run at once. */
	STREAM_DBS_IDLE = 4,
};

enum commit_fate { COMMIT_LANDED, COMMIT_LOST, COMMIT_UNKNOWN };

struct catalog {
	const struct config *cfg;
	pthread_key_t db_key; /* each thread's connection, closed when the thread exits */
	pthread_mutex_t idle_lock;
	struct db *idle[STREAM_DBS_IDLE]; /* connections of finished streams */
	unsigned nidle;
};

static void close_thread_db(void *db)
{
	db_close(db);
}

struct catalog *catalog_open(const struct config *cfg, char *err, size_t errlen)
{
	struct catalog *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	if (pthread_key_create(&c->db_key, close_thread_db) != 0) {
		snprintf(err, errlen, "cannot set up database connections");
		free(c);
		return NULL;
	}
	if (pthread_mutex_init(&c->idle_lock, NULL) != 0) {
		snprintf(err, errlen, "cannot set up database connections");
		pthread_key_delete(c->db_key);
		free(c);
		return NULL;
	}
	return c;
}

void catalog_close(struct catalog *c)
{
	if (!c)
		return;
	/* Other threads' connections went with their threads (the key's destructor). */
	struct db *db = pthread_getspecific(c->db_key);
	if (db) {
		pthread_setspecific(c->db_key, NULL);
		db_close(db);
	}
	pthread_key_delete(c->db_key);
	for (unsigned i = 0; i < c->nidle; i++)
		db_close(c->idle[i]);
	pthread_mutex_destroy(&c->idle_lock);
	free(c);
}

static struct db *thread_db(struct catalog *c)
{
	struct db *db = pthread_getspecific(c->db_key);
	if (!db) {
		db = db_open(c->cfg);
		if (db)
			pthread_setspecific(c->db_key, db);
	}
	return db;
}

struct db *catalog_db(struct catalog *c)
{
	return thread_db(c);
}

const char *catalog_error(struct catalog *c)
{
	struct db *db = thread_db(c);
	return db ? db_error(db) : "out of memory";
}

static enum db_status exec(struct catalog *c, const char *sql, const struct db_param *params,
			   size_t n, db_row_fn on_row, void *ctx)
{
	struct db *db = thread_db(c);
	return db ? db_exec(db, sql, params, n, on_row, ctx) : DB_FAILED;
}

#define IMAGE_COLUMNS                                                                         \
	"image_key, location, content_type, size_bytes, sha256, COALESCE(width, 0), "        \
	"COALESCE(height, 0), version, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), " \
	"DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%fZ'), "                               \
	"CAST(ROUND(UNIX_TIMESTAMP(updated_at) * 1000) AS UNSIGNED), "                      \
	"(SELECT username FROM users WHERE users.id = images.owner_id), images.id"
enum { IMAGE_COLUMN_COUNT = 13 };

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* %f gives microseconds; a millisecond is plenty for people and graphs. */
static void copy_time(char *dst, const char *src)
{
	copy_text(dst, CATALOG_TIME_MAX, src);
	char *dot = strchr(dst, '.');
	if (dot && strlen(dot) > 5)
		memmove(dot + 4, dot + strlen(dot) - 1, 2);
}

/* A number column through the strict parser; NULL reads as 0, anything else odd as no row. */
static bool column_u64(const char *text, unsigned long len, uint64_t *out)
{
	*out = 0;
	return !text || num_parse_u64(text, len, UINT64_MAX, out);
}

static bool parse_image_row(char **cols, const unsigned long *lens, unsigned ncols,
			    struct image_row *row)
{
	if (ncols < IMAGE_COLUMN_COUNT || !cols[0] || lens[0] > KEY_MAX_BYTES)
		return false;
	memcpy(row->key, cols[0], lens[0]);
	row->key[lens[0]] = '\0';
	row->keylen = lens[0];
	copy_text(row->location, sizeof(row->location), cols[1]);
	copy_text(row->content_type, sizeof(row->content_type), cols[2]);
	if (!column_u64(cols[3], lens[3], &row->size_bytes))
		return false;
	copy_text(row->sha256, sizeof(row->sha256), cols[4]);
	uint64_t width, height;
	if (!column_u64(cols[5], lens[5], &width) || !column_u64(cols[6], lens[6], &height) ||
	    width > UINT_MAX || height > UINT_MAX || !column_u64(cols[7], lens[7], &row->version))
		return false;
	row->width = (unsigned)width;
	row->height = (unsigned)height;
	copy_time(row->created_at, cols[8]);
	copy_time(row->updated_at, cols[9]);
	copy_text(row->owner, sizeof(row->owner), cols[11]);
	row->caption_given = false;
	row->caption = NULL;
	row->caption_len = 0;
	return column_u64(cols[10], lens[10], &row->updated_ms) &&
	       column_u64(cols[12], lens[12], &row->id);
}

struct one_row {
	struct image_row *row;
	bool found;
};

static bool on_one_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct one_row *one = ctx;
	one->found = parse_image_row(cols, lens, ncols, one->row);
	return false;
}

enum db_status catalog_find(struct catalog *c, const char *key, size_t keylen,
			    struct image_row *row, bool *found)
{
	struct one_row one = {row, false};
	struct db_param params[] = {DB_STRN(key, keylen)};
	enum db_status status = exec(c, "SELECT " IMAGE_COLUMNS " FROM images WHERE image_key = ?",
				     params, 1, on_one_row, &one);
	*found = one.found;
	return status;
}

enum db_status catalog_find_by_sha256(struct catalog *c, const char *sha256,
				      struct image_row *row, bool *found)
{
	struct one_row one = {row, false};
	struct db_param params[] = {DB_STR(sha256)};
	enum db_status status = exec(c,
				     "SELECT " IMAGE_COLUMNS " FROM images WHERE sha256 = ? "
				     "ORDER BY created_at, image_key LIMIT 1",
				     params, 1, on_one_row, &one);
	*found = one.found;
	return status;
}

enum db_status catalog_find_by_id(struct catalog *c, uint64_t id, struct image_row *row, bool *found)
{
	struct one_row one = {row, false};
	struct db_param params[] = {DB_INT((long long)id)};
	enum db_status status = exec(c, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", params,
				     1, on_one_row, &one);
	*found = one.found;
	return status;
}

static bool on_first_number(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	if (ncols >= 1 && !column_u64(cols[0], lens[0], ctx))
		log_warn("catalog: a count that is no number: '%s'", cols[0]);
	return false;
}

struct current_owner {
	char *location;
	long long owner_id;
};

static bool on_location_owner(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct current_owner *c = ctx;
	if (ncols >= 2 && cols[0] && db_column_int(cols[1], &c->owner_id))
		copy_text(c->location, BLOB_NAME_MAX, cols[0]);
	return false;
}

static bool on_version_id(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct image_row *row = ctx;
	if (ncols != 2 || !column_u64(cols[0], lens[0], &row->version) ||
	    !column_u64(cols[1], lens[1], &row->id))
		log_warn("catalog: a version or id that is no number");
	return false;
}

static enum db_status upsert_once(struct catalog *c, struct image_row *row,
				  char old_location[BLOB_NAME_MAX], bool *in_doubt)
{
	struct db *db = thread_db(c);
	if (!db)
		return DB_FAILED;
	old_location[0] = '\0';
	struct db_param key[] = {DB_STRN(row->key, row->keylen)};
	struct db_param values[] = {
		DB_STRN(row->key, row->keylen), DB_STR(row->location), DB_STR(row->content_type),
		DB_INT((long long)row->size_bytes), DB_STR(row->sha256),
		row->width ? DB_INT(row->width) : (struct db_param){.type = DB_PARAM_NULL},
		row->height ? DB_INT(row->height) : (struct db_param){.type = DB_PARAM_NULL},
		row->owner_id ? DB_INT(row->owner_id) : (struct db_param){.type = DB_PARAM_NULL},
		row->caption_given && row->caption_len ? DB_STRN(row->caption, row->caption_len)
						       : (struct db_param){.type = DB_PARAM_NULL},
	};
	struct current_owner current = {old_location, 0};
	row->owner_refused = false;
	enum db_status status = db_begin(db);
	if (status != DB_OK)
		return status;
	/* The lock orders concurrent uploads of one key, so each learns the file it replaced. */
	status = db_exec(db, "SELECT location, owner_id FROM images WHERE image_key = ? FOR UPDATE",
			 key, 1, on_location_owner, &current);
	/* An owned key is its owner's alone; an ownerless one anybody's (and an uploader's after). */
	if (status == DB_OK && current.owner_id && current.owner_id != row->owner_id) {
		row->owner_refused = true;
		status = DB_FAILED;
	}
	/* A new key's row takes its caption at once; an existing key's is replaced below. */
	if (status == DB_OK)
		status = db_exec(db,
				 "INSERT INTO images (image_key, location, content_type, size_bytes, "
				 "sha256, width, height, owner_id, caption) "
				 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
				 "ON DUPLICATE KEY UPDATE location = VALUES(location), "
				 "content_type = VALUES(content_type), size_bytes = VALUES(size_bytes), "
				 "sha256 = VALUES(sha256), width = VALUES(width), "
				 "height = VALUES(height), owner_id = COALESCE(owner_id, VALUES(owner_id)), "
				 "version = version + 1",
				 values, sizeof(values) / sizeof(values[0]), NULL, NULL);
	/* One row inserted; an existing row updated counts two. */
	bool inserted = status == DB_OK && db_affected_rows(db) == 1;
	if (status == DB_OK)
		status = db_exec(db, "SELECT version, id FROM images WHERE image_key = ?", key, 1,
				 on_version_id, row);
	if (status == DB_OK && inserted)
		status = captions_store_new(db, row->id, row->key, row->keylen,
					    row->caption_given ? row->caption : NULL,
					    row->caption_given ? row->caption_len : 0);
	/* An upload that names no caption keeps the one the key has; an empty one clears it. */
	else if (status == DB_OK && row->caption_given)
		status = captions_store(db, row->id, row->caption, row->caption_len, NULL);
	/* The thumbnails' job exists if and only if the row does: one commit for both. */
	struct blob_ref ref;
	if (status == DB_OK && blob_ref_parse(BLOB_IMAGE, row->location, &ref))
		status = variants_enqueue_in(db, row->sha256, ref.ext, (int)c->cfg->job_max_attempts);
	if (status == DB_OK) {
		status = db_commit(db);
		*in_doubt = status == DB_UNAVAILABLE;
	}
	if (status != DB_OK)
		db_rollback(db);
	return status;
}

/*
 * Whether the transaction that gave row its version committed, judged from
 * the row as it stands: our version and our file's hash mean it did; an older
 * version, another hash at ours, or no row mean it did not. A newer version
 * may have replaced ours or followed a loss, so it tells nothing.
 */
static enum commit_fate judge_row(const struct image_row *ours, const struct image_row *now,
				  bool found)
{
	if (!found || now->version < ours->version)
		return COMMIT_LOST;
	if (now->version > ours->version)
		return COMMIT_UNKNOWN;
	if (strcmp(now->sha256, ours->sha256) == 0 && strcmp(now->location, ours->location) == 0)
		return COMMIT_LANDED;
	return COMMIT_LOST;
}

/* Reads the row again (on a new connection) until it tells, or the time is up. */
static enum commit_fate learn_fate(struct catalog *c, const struct image_row *row)
{
	int64_t deadline = clock_ms() + DOUBT_RESOLVE_MS;
	for (;;) {
		struct image_row now;
		bool found = false;
		if (catalog_find(c, row->key, row->keylen, &now, &found) == DB_OK)
			return judge_row(row, &now, found);
		if (clock_ms() + DOUBT_RETRY_MS > deadline)
			return COMMIT_UNKNOWN;
		struct timespec pause = {0, DOUBT_RETRY_MS * 1000000L};
		nanosleep(&pause, NULL);
	}
}

enum db_status catalog_upsert(struct catalog *c, struct image_row *row,
			      char old_location[BLOB_NAME_MAX], bool *in_doubt)
{
	enum db_status status;
	int attempts = 0;
	do {
		*in_doubt = false;
		status = upsert_once(c, row, old_location, in_doubt);
	} while (status == DB_CONFLICT && ++attempts < UPSERT_ATTEMPTS);
	if (!*in_doubt)
		return status;
	/* The COMMIT went out and its answer was lost: the row itself says what happened. */
	enum commit_fate fate = learn_fate(c, row);
	log_warn("catalog: the answer to the COMMIT of key '%.*s' version %llu was lost; it %s",
		 (int)row->keylen, row->key, (unsigned long long)row->version,
		 fate == COMMIT_LANDED ? "landed"
		 : fate == COMMIT_LOST ? "did not land"
				       : "cannot be learnt in time");
	*in_doubt = fate == COMMIT_UNKNOWN;
	return fate == COMMIT_LANDED ? DB_OK : DB_UNAVAILABLE;
}

struct captioned_one {
	struct image_row *row;
	struct buf *caption;
	bool found, nomem;
};

static bool on_captioned_one(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct captioned_one *one = ctx;
	one->found = ncols == IMAGE_COLUMN_COUNT + 1 && parse_image_row(cols, lens, ncols, one->row);
	buf_reset(one->caption);
	if (one->found && cols[IMAGE_COLUMN_COUNT] &&
	    !buf_append(one->caption, cols[IMAGE_COLUMN_COUNT], lens[IMAGE_COLUMN_COUNT]))
		one->nomem = true;
	return false;
}

enum db_status catalog_find_captioned(struct catalog *c, const char *key, size_t keylen,
				      struct image_row *row, struct buf *caption, bool *found)
{
	struct captioned_one one = {row, caption, false, false};
	struct db_param params[] = {DB_STRN(key, keylen)};
	enum db_status status = exec(c, "SELECT " IMAGE_COLUMNS ", caption FROM images "
				     "WHERE image_key = ?", params, 1, on_captioned_one, &one);
	*found = one.found;
	return status == DB_OK && one.nomem ? DB_FAILED : status;
}

struct caption_target {
	uint64_t id;
	long long owner_id;
	bool found;
};

static bool on_caption_target(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct caption_target *t = ctx;
	t->found = ncols == 2 && column_u64(cols[0], lens[0], &t->id) &&
		   db_column_int(cols[1], &t->owner_id);
	return false;
}

static enum db_status set_caption_once(struct catalog *c, const char *key, size_t keylen,
				       const char *caption, size_t caption_len, long long actor_id,
				       bool actor_admin, enum catalog_caption_result *result)
{
	struct db *db = thread_db(c);
	if (!db)
		return DB_FAILED;
	struct db_param p[] = {DB_STRN(key, keylen)};
	struct caption_target t = {0, 0, false};
	enum db_status status = db_begin(db);
	if (status != DB_OK)
		return status;
	/* The lock keeps an upload from giving the image an owner between the check and the write. */
	status = db_exec(db, "SELECT id, owner_id FROM images WHERE image_key = ? FOR UPDATE", p, 1,
			 on_caption_target, &t);
	*result = !t.found ? CATALOG_CAPTION_NO_IMAGE
		  : t.owner_id && t.owner_id != actor_id && !actor_admin ? CATALOG_CAPTION_FORBIDDEN
									  : CATALOG_CAPTION_SET;
	if (status == DB_OK && *result == CATALOG_CAPTION_SET)
		status = captions_store(db, t.id, caption, caption_len, NULL);
	if (status == DB_OK && *result == CATALOG_CAPTION_SET)
		status = db_commit(db);
	/* A refusal or a failure changes nothing. */
	if (status != DB_OK || *result != CATALOG_CAPTION_SET)
		db_rollback(db);
	return status;
}

enum db_status catalog_set_caption(struct catalog *c, const char *key, size_t keylen,
				   const char *caption, size_t caption_len, long long actor_id,
				   bool actor_admin, struct image_row *row,
				   enum catalog_caption_result *result)
{
	enum db_status status;
	int attempts = 0;
	do {
		*result = CATALOG_CAPTION_NO_IMAGE;
		status = set_caption_once(c, key, keylen, caption, caption_len, actor_id, actor_admin,
					  result);
	} while (status == DB_CONFLICT && ++attempts < UPSERT_ATTEMPTS);
	if (status != DB_OK || *result != CATALOG_CAPTION_SET)
		return status;
	bool found = false;
	status = catalog_find(c, key, keylen, row, &found);
	if (status == DB_OK && !found)
		*result = CATALOG_CAPTION_NO_IMAGE;
	return status;
}

struct captioned_walk {
	catalog_captioned_fn fn;
	void *ctx;
	unsigned limit, seen;
};

static bool on_captioned_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct captioned_walk *w = ctx;
	/* The row past the limit only says that more follow. */
	if (++w->seen > w->limit)
		return false;
	struct image_row row;
	if (ncols != IMAGE_COLUMN_COUNT + 1 || !parse_image_row(cols, lens, ncols, &row))
		return true;
	const char *caption = cols[IMAGE_COLUMN_COUNT];
	return w->fn(w->ctx, &row, caption ? caption : "", caption ? lens[IMAGE_COLUMN_COUNT] : 0);
}

enum db_status catalog_newest_page(struct catalog *c, const char *tag, size_t taglen,
				   uint64_t before_id, unsigned limit, catalog_captioned_fn fn,
				   void *ctx, bool *more)
{
	struct captioned_walk w = {fn, ctx, limit, 0};
	long long before = before_id && before_id <= LLONG_MAX ? (long long)before_id : LLONG_MAX;
	enum db_status status;
	if (tag) {
		/* The tag's list is its primary key's range, newest first. */
		struct db_param p[] = {DB_STRN(tag, taglen), DB_INT(before), DB_INT((long long)limit + 1)};
		status = exec(c, "SELECT " IMAGE_COLUMNS ", images.caption FROM image_tags "
			      "JOIN images ON images.id = image_tags.image_id "
			      "WHERE image_tags.tag = ? AND image_tags.image_id < ? "
			      "ORDER BY image_tags.image_id DESC LIMIT ?",
			      p, 3, on_captioned_row, &w);
	} else {
		struct db_param p[] = {DB_INT(before), DB_INT((long long)limit + 1)};
		status = exec(c, "SELECT " IMAGE_COLUMNS ", caption FROM images FORCE INDEX "
			      "(images_by_id) WHERE id < ? ORDER BY id DESC LIMIT ?",
			      p, 2, on_captioned_row, &w);
	}
	*more = w.seen > limit;
	return status;
}

enum db_status catalog_location_in_use(struct catalog *c, const char *location, bool *in_use)
{
	uint64_t count = 0;
	struct db_param params[] = {DB_STR(location)};
	enum db_status status = exec(c, "SELECT COUNT(*) FROM images WHERE location = ?", params, 1,
				     on_first_number, &count);
	/* When in doubt, keep the file: an orphan costs disk, a missing file loses an image. */
	*in_use = status != DB_OK || count > 0;
	return status;
}

/* The rows a deletion locked, kept until its commit. */
struct delete_walk {
	catalog_row_fn allow; /* NULL: every row may go */
	void *ctx;
	struct image_row *rows;
	size_t n, cap;
	bool refused, nomem;
};

static bool on_row_to_delete(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct delete_walk *w = ctx;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 4;
		struct image_row *rows = realloc(w->rows, cap * sizeof(*rows));
		if (!rows) {
			w->nomem = true;
			return false;
		}
		w->rows = rows;
		w->cap = cap;
	}
	struct image_row *row = &w->rows[w->n];
	/* The image's columns, then its owner's id, which rights are judged by. */
	uint64_t owner_id = 0;
	if (ncols != IMAGE_COLUMN_COUNT + 1 || !parse_image_row(cols, lens, ncols - 1, row) ||
	    !column_u64(cols[ncols - 1], lens[ncols - 1], &owner_id) || owner_id > LLONG_MAX) {
		w->nomem = true; /* a row that cannot be read is not deleted unseen */
		return false;
	}
	row->owner_id = (long long)owner_id;
	w->n++;
	if (w->allow && !w->allow(w->ctx, row))
		w->refused = true;
	return !w->refused;
}

/*
 * Deletes the rows select_sql locks and delete_sql removes (the same rows, by
 * the same parameters) in one transaction: allow sees each first, and none
 * goes when it refuses one (*refused). After the commit gone sees each row
 * that went. Their tags and index entries go with them (ON DELETE CASCADE),
 * their totals by trigger.
 */
static enum db_status delete_where(struct catalog *c, const char *select_sql,
				   const char *delete_sql, const struct db_param *p, size_t n,
				   catalog_row_fn allow, catalog_row_fn gone, void *ctx,
				   bool *refused)
{
	struct db *db = thread_db(c);
	if (!db)
		return DB_FAILED;
	struct delete_walk w = {allow, ctx, NULL, 0, 0, false, false};
	enum db_status status;
	bool in_doubt = false;
	int attempts = 0;
	do {
		/* A deadlock victim is run again, and sees the rows anew. */
		w.n = 0;
		w.refused = w.nomem = false;
		status = db_begin(db);
		if (status != DB_OK)
			break;
		status = db_exec(db, select_sql, p, n, on_row_to_delete, &w);
		if (status == DB_OK && w.nomem)
			status = DB_FAILED;
		if (status == DB_OK && !w.refused)
			status = db_exec(db, delete_sql, p, n, NULL, NULL);
		if (status == DB_OK && !w.refused) {
			status = db_commit(db);
			in_doubt = status != DB_OK && status != DB_CONFLICT;
		}
		if (status != DB_OK || w.refused)
			db_rollback(db);
	} while (status == DB_CONFLICT && ++attempts < UPSERT_ATTEMPTS);
	*refused = status == DB_OK && w.refused;
	/*
	 * A COMMIT whose answer was lost may have landed: gone's work (forgetting
	 * the cached value, removing files no row names, as the database says) is
	 * harmless if it did not, and needed if it did. The caller still fails.
	 */
	if ((status == DB_OK && !w.refused) || in_doubt)
		for (size_t i = 0; i < w.n; i++)
			gone(ctx, &w.rows[i]);
	free(w.rows);
	return status;
}

enum db_status catalog_delete_owned(struct catalog *c, long long owner_id, catalog_row_fn fn,
				    void *ctx)
{
	struct db_param p[] = {DB_INT(owner_id)};
	bool refused;
	return delete_where(c, "SELECT " IMAGE_COLUMNS ", owner_id FROM images WHERE owner_id = ? "
			    "FOR UPDATE",
			    "DELETE FROM images WHERE owner_id = ?", p, 1, NULL, fn, ctx, &refused);
}

enum db_status catalog_delete_key(struct catalog *c, const char *key, size_t keylen,
				  catalog_row_fn allow, catalog_row_fn gone, void *ctx,
				  bool *refused)
{
	struct db_param p[] = {DB_STRN(key, keylen)};
	return delete_where(c, "SELECT " IMAGE_COLUMNS ", owner_id FROM images WHERE image_key = ? "
			    "FOR UPDATE",
			    "DELETE FROM images WHERE image_key = ?", p, 1, allow, gone, ctx,
			    refused);
}

enum db_status catalog_sha256_in_use(struct catalog *c, const char *sha256, bool *in_use)
{
	uint64_t count = 0;
	struct db_param params[] = {DB_STR(sha256)};
	enum db_status status = exec(c, "SELECT COUNT(*) FROM images WHERE sha256 = ?", params, 1,
				     on_first_number, &count);
	/* As for files: when in doubt, keep. */
	*in_use = status != DB_OK || count > 0;
	return status;
}

struct counted_walk {
	catalog_row_fn fn;
	void *ctx;
	unsigned limit, seen;
};

static bool on_counted_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct counted_walk *w = ctx;
	/* The row past the limit only says that more follow. */
	if (++w->seen > w->limit)
		return false;
	struct image_row row;
	return parse_image_row(cols, lens, ncols, &row) && w->fn(w->ctx, &row);
}

enum db_status catalog_owned_page(struct catalog *c, long long owner_id, uint64_t offset,
				  unsigned limit, catalog_row_fn fn, void *ctx, bool *more)
{
	struct counted_walk w = {fn, ctx, limit, 0};
	struct db_param p[] = {DB_INT(owner_id), DB_INT((long long)limit + 1),
			       DB_INT((long long)offset)};
	enum db_status s = exec(c, "SELECT " IMAGE_COLUMNS " FROM images WHERE owner_id = ? "
			      "ORDER BY created_at DESC, image_key LIMIT ? OFFSET ?",
			      p, 3, on_counted_row, &w);
	*more = w.seen > limit;
	return s;
}

/* A LIKE pattern that matches filter as plain text anywhere in the key. */
static void like_pattern(const char *filter, char *out, size_t size)
{
	size_t n = 0;
	out[n++] = '%';
	for (const char *c = filter; *c && n + 3 < size; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			out[n++] = '\\';
		out[n++] = *c;
	}
	out[n++] = '%';
	out[n] = '\0';
}

#define PAGE_FILTER "WHERE image_key COLLATE utf8mb4_general_ci LIKE ? "
/*
 * The index images_by_recent is in listing order; naming it keeps the planner
 * from sorting the whole table when its estimate of a range is off.
 */
#define PAGE_FROM "FROM images FORCE INDEX (images_by_recent) " PAGE_FILTER
#define PAGE_AFTER                                                                           \
	"AND (updated_at < FROM_UNIXTIME(? / 1000) OR "                                     \
	"(updated_at = FROM_UNIXTIME(? / 1000) AND image_key > ?)) "
#define PAGE_BEFORE                                                                          \
	"AND (updated_at > FROM_UNIXTIME(? / 1000) OR "                                     \
	"(updated_at = FROM_UNIXTIME(? / 1000) AND image_key < ?)) "
#define PAGE_FORWARD "ORDER BY updated_at DESC, image_key LIMIT ?"
#define PAGE_BACKWARD "ORDER BY updated_at, image_key DESC LIMIT ?"

struct page_walk {
	struct image_row *rows;
	unsigned limit, n;
	bool more;
};

/* One row past the limit is read to learn whether there is more. */
static bool on_page_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct page_walk *walk = ctx;
	if (walk->n == walk->limit) {
		walk->more = true;
		return false;
	}
	if (parse_image_row(cols, lens, ncols, &walk->rows[walk->n]))
		walk->n++;
	return true;
}

enum db_status catalog_page(struct catalog *c, const char *filter, const struct catalog_cursor *from,
			    bool backward, unsigned limit, catalog_row_fn fn, void *ctx, bool *more)
{
	*more = false;
	char pattern[LIKE_PATTERN_MAX];
	like_pattern(filter, pattern, sizeof(pattern));
	struct page_walk walk = {calloc(limit ? limit : 1, sizeof(struct image_row)), limit, 0, false};
	if (!walk.rows)
		return DB_FAILED;
	enum db_status status;
	if (!from) {
		struct db_param params[] = {DB_STR(pattern), DB_INT((long long)limit + 1)};
		status = exec(c, "SELECT " IMAGE_COLUMNS " " PAGE_FROM PAGE_FORWARD, params, 2,
			      on_page_row, &walk);
	} else {
		long long ms = from->updated_ms > LLONG_MAX ? LLONG_MAX : (long long)from->updated_ms;
		struct db_param params[] = {DB_STR(pattern), DB_INT(ms), DB_INT(ms),
					    DB_STRN(from->key, from->keylen),
					    DB_INT((long long)limit + 1)};
		status = backward ? exec(c, "SELECT " IMAGE_COLUMNS " " PAGE_FROM PAGE_BEFORE
					 PAGE_BACKWARD, params, 5, on_page_row, &walk)
				  : exec(c, "SELECT " IMAGE_COLUMNS " " PAGE_FROM PAGE_AFTER
					 PAGE_FORWARD, params, 5, on_page_row, &walk);
	}
	if (status == DB_OK) {
		*more = walk.more;
		for (unsigned i = 0; i < walk.n; i++) {
			const struct image_row *row = &walk.rows[backward ? walk.n - 1 - i : i];
			if (!fn(ctx, row))
				break;
		}
	}
	free(walk.rows);
	return status;
}

enum db_status catalog_count_matching(struct catalog *c, const char *filter, uint64_t *count)
{
	char pattern[LIKE_PATTERN_MAX];
	like_pattern(filter, pattern, sizeof(pattern));
	struct db_param params[] = {DB_STR(pattern)};
	*count = 0;
	return exec(c, "SELECT COUNT(*) FROM images " PAGE_FILTER, params, 1, on_first_number,
		    count);
}

struct totals {
	uint64_t *count, *bytes;
};

static bool on_totals(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct totals *t = ctx;
	if (ncols == 2 && (!column_u64(cols[0], lens[0], t->count) ||
			   !column_u64(cols[1], lens[1], t->bytes)))
		log_warn("catalog: totals that are no numbers");
	return false;
}

enum db_status catalog_totals(struct catalog *c, uint64_t *count, uint64_t *bytes)
{
	struct totals t = {count, bytes};
	*count = *bytes = 0;
	/* Slots may be negative one by one; only their sums mean something. */
	return exec(c, "SELECT CAST(COALESCE(SUM(image_count), 0) AS UNSIGNED), "
		    "CAST(COALESCE(SUM(total_bytes), 0) AS UNSIGNED) FROM image_totals",
		    NULL, 0, on_totals, &t);
}

struct catalog_keys {
	struct catalog *catalog;
	struct db *db;
	struct db_cursor *cursor;
};

static struct db *take_stream_db(struct catalog *c)
{
	struct db *db = NULL;
	pthread_mutex_lock(&c->idle_lock);
	if (c->nidle)
		db = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->idle_lock);
	return db ? db : db_open(c->cfg);
}

static void give_back_stream_db(struct catalog *c, struct db *db)
{
	pthread_mutex_lock(&c->idle_lock);
	if (c->nidle < STREAM_DBS_IDLE) {
		c->idle[c->nidle++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&c->idle_lock);
	db_close(db);
}

enum db_status catalog_keys_open(struct catalog *c, const char *after, size_t afterlen,
				 uint64_t limit, struct catalog_keys **out)
{
	*out = NULL;
	struct catalog_keys *k = calloc(1, sizeof(*k));
	if (!k)
		return DB_FAILED;
	k->catalog = c;
	k->db = take_stream_db(c);
	if (!k->db) {
		free(k);
		return DB_FAILED;
	}
	enum db_status status;
	if (!after && !limit) {
		status = db_cursor_open(k->db, "SELECT image_key FROM images FORCE INDEX "
					"(images_by_recent) ORDER BY updated_at DESC, image_key",
					NULL, 0, &k->cursor);
	} else {
		struct db_param params[] = {
			DB_STRN(after ? after : "", after ? afterlen : 0),
			DB_INT(limit && limit < LLONG_MAX ? (long long)limit : LLONG_MAX),
		};
		status = db_cursor_open(k->db, "SELECT image_key FROM images WHERE image_key > ? "
					"ORDER BY image_key LIMIT ?",
					params, 2, &k->cursor);
	}
	if (status != DB_OK) {
		log_warn("catalog: cannot list keys: %s", db_error(k->db));
		catalog_keys_close(k);
		return status;
	}
	*out = k;
	return DB_OK;
}

enum db_status catalog_keys_next(struct catalog_keys *k, const char **key, size_t *keylen)
{
	char **cols;
	unsigned long *lens;
	unsigned ncols;
	*key = NULL;
	*keylen = 0;
	enum db_status status = db_cursor_next(k->cursor, &cols, &lens, &ncols);
	if (status != DB_OK || ncols == 0)
		return status;
	if (!cols[0])
		return DB_FAILED;
	*key = cols[0];
	*keylen = lens[0];
	return DB_OK;
}

const char *catalog_keys_error(const struct catalog_keys *k)
{
	return db_error(k->db);
}

void catalog_keys_close(struct catalog_keys *k)
{
	if (!k)
		return;
	db_cursor_close(k->cursor);
	give_back_stream_db(k->catalog, k->db);
	free(k);
}

#define STATS_FIELD_ONE(name) +1
#define STATS_FIELD_POINTER(name) &p.name,
#define STATS_FIELD_COLUMN(name) #name ", "
enum { STATS_FIELD_COUNT = 0 CACHE_STATS_FIELDS(STATS_FIELD_ONE) };

struct stats_walk {
	void (*fn)(void *ctx, const struct stats_point *p);
	void *ctx;
};

static bool on_stats_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct stats_walk *walk = ctx;
	if (ncols != STATS_FIELD_COUNT + 1)
		return false;
	struct stats_point p;
	uint64_t *fields[] = {CACHE_STATS_FIELDS(STATS_FIELD_POINTER)};
	for (unsigned i = 0; i < STATS_FIELD_COUNT; i++)
		if (!column_u64(cols[i], lens[i], fields[i]))
			return false;
	copy_time(p.at, cols[STATS_FIELD_COUNT]);
	walk->fn(walk->ctx, &p);
	return true;
}

enum db_status catalog_stats_since(struct catalog *c, unsigned minutes,
				   void (*fn)(void *ctx, const struct stats_point *p), void *ctx)
{
	struct stats_walk walk = {fn, ctx};
	struct db_param params[] = {DB_INT(minutes)};
	return exec(c, "SELECT " CACHE_STATS_FIELDS(STATS_FIELD_COLUMN)
		    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') FROM cache_stats "
		    "WHERE created_at >= NOW(3) - INTERVAL ? MINUTE ORDER BY id",
		    params, 1, on_stats_row, &walk);
}
