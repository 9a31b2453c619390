/* variants: the thumbnails made of each image content (the image_variants table) and their jobs. */
#include "variants.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/num.h"
#include "core/jobs.h"

static const char *const SIZE_NAMES[VARIANT_SIZE_COUNT] = {"s", "m"};
static const unsigned SIZE_PX[VARIANT_SIZE_COUNT] = {VARIANT_S_PX, VARIANT_M_PX};
static const enum blob_kind SIZE_KINDS[VARIANT_SIZE_COUNT] = {BLOB_THUMB_S, BLOB_THUMB_M};

const char *variants_size_name(enum variant_size size)
{
	return (unsigned)size < VARIANT_SIZE_COUNT ? SIZE_NAMES[size] : "?";
}

bool variants_size_parse(const char *name, enum variant_size *size)
{
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++)
		if (strcmp(name, SIZE_NAMES[i]) == 0) {
			*size = (enum variant_size)i;
			return true;
		}
	return false;
}

unsigned variants_size_px(enum variant_size size)
{
	return (unsigned)size < VARIANT_SIZE_COUNT ? SIZE_PX[size] : 0;
}

enum blob_kind variants_blob_kind(enum variant_size size)
{
	return (unsigned)size < VARIANT_SIZE_COUNT ? SIZE_KINDS[size] : BLOB_KIND_COUNT;
}

bool variants_sha256_ok(const char *text)
{
	size_t n = 0;
	for (; text[n]; n++)
		if (!((text[n] >= '0' && text[n] <= '9') || (text[n] >= 'a' && text[n] <= 'f')))
			return false;
	return n == BLOB_SHA256_HEX - 1;
}

enum db_status variants_record(struct db *db, const char *sha256, const struct variant *v)
{
	struct db_param params[] = {
		DB_STR(sha256),
		DB_STR(variants_size_name(v->size)),
		DB_STR(v->location),
		DB_INT(v->width),
		DB_INT(v->height),
		DB_INT((long long)v->bytes),
	};
	/* Made twice (a lease lost and the job run again), the file and row are the same. */
	return db_exec(db,
		       "INSERT INTO image_variants (sha256, size, location, width, height, bytes) "
		       "VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE location = "
		       "VALUES(location), width = VALUES(width), height = VALUES(height), "
		       "bytes = VALUES(bytes)",
		       params, sizeof(params) / sizeof(params[0]), NULL, NULL);
}

static bool on_any(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)cols;
	(void)lens;
	(void)ncols;
	*(bool *)ctx = true;
	return false;
}

enum db_status variants_content_in_use(struct db *db, const char *sha256, bool *in_use)
{
	struct db_param params[] = {DB_STR(sha256)};
	*in_use = false;
	return db_exec(db, "SELECT 1 FROM images WHERE sha256 = ? LIMIT 1", params, 1, on_any,
		       in_use);
}

enum { RECORD_TRIES = 3 };

enum db_status variants_record_while_used(struct db *db, const char *sha256,
					  const struct variant *v, size_t n, bool *in_use)
{
	struct db_param params[] = {DB_STR(sha256)};
	enum db_status status = DB_CONFLICT;
	/* A deadlock victim is run again from its start. */
	for (int tries = 0; status == DB_CONFLICT && tries < RECORD_TRIES; tries++) {
		*in_use = false;
		status = db_begin(db);
		if (status != DB_OK)
			return status;
		/*
		 * One row is enough: while it is locked, the content stays in use. A
		 * delete or an upload that holds a row of it is waited for, and is
		 * then seen as committed (READ COMMITTED reads the newest rows).
		 */
		status = db_exec(db, "SELECT 1 FROM images WHERE sha256 = ? LIMIT 1 "
				     "LOCK IN SHARE MODE",
				 params, 1, on_any, in_use);
		for (size_t i = 0; status == DB_OK && *in_use && i < n; i++)
			status = variants_record(db, sha256, &v[i]);
		if (status == DB_OK)
			status = db_commit(db);
		if (status != DB_OK)
			db_rollback(db);
	}
	if (status != DB_OK)
		*in_use = true; /* as for files: when in doubt, keep */
	return status;
}

enum db_status variants_forget(struct db *db, const char *sha256)
{
	struct db_param params[] = {DB_STR(sha256)};
	return db_exec(db, "DELETE FROM image_variants WHERE sha256 = ?", params, 1, NULL, NULL);
}

#define VARIANT_COLUMNS "sha256, size, location, width, height, bytes"

/* A row of VARIANT_COLUMNS; false when it is not one. */
static bool parse_variant(char **cols, const unsigned long *lens, unsigned ncols,
			  struct variant *v)
{
	uint64_t w, h;
	if (ncols != 6 || !cols[0] || !cols[1] || !cols[2] || !variants_size_parse(cols[1], &v->size) ||
	    lens[2] >= sizeof(v->location) || !cols[3] || !cols[4] || !cols[5] ||
	    !num_parse_u64(cols[3], lens[3], UINT32_MAX, &w) ||
	    !num_parse_u64(cols[4], lens[4], UINT32_MAX, &h) ||
	    !num_parse_u64(cols[5], lens[5], UINT64_MAX, &v->bytes))
		return false;
	memcpy(v->location, cols[2], lens[2] + 1);
	v->width = (unsigned)w;
	v->height = (unsigned)h;
	return true;
}

struct one_variant {
	struct variant *v;
	bool found;
};

static bool on_one(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct one_variant *one = ctx;
	one->found = parse_variant(cols, lens, ncols, one->v);
	return false;
}

enum db_status variants_find(struct db *db, const char *sha256, enum variant_size size,
			     struct variant *v, bool *found)
{
	struct one_variant one = {v, false};
	struct db_param params[] = {DB_STR(sha256), DB_STR(variants_size_name(size))};
	enum db_status status = db_exec(db,
					"SELECT " VARIANT_COLUMNS " FROM image_variants "
					"WHERE sha256 = ? AND size = ?",
					params, 2, on_one, &one);
	*found = status == DB_OK && one.found;
	return status;
}

struct batch {
	variants_fn fn;
	void *ctx;
};

static bool on_each(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct batch *b = ctx;
	struct variant v;
	if (parse_variant(cols, lens, ncols, &v))
		b->fn(b->ctx, cols[0], &v);
	return true;
}

enum db_status variants_find_batch(struct db *db, const char *const *sha256s, size_t n,
				   variants_fn fn, void *ctx)
{
	if (n == 0)
		return DB_OK;
	/* The hashes are checked hex, so they can go in the text as a list of literals. */
	struct buf sql = BUF_INIT;
	bool ok = buf_puts(&sql, "SELECT " VARIANT_COLUMNS " FROM image_variants WHERE sha256 IN (");
	size_t listed = 0;
	for (size_t i = 0; ok && i < n; i++) {
		if (!variants_sha256_ok(sha256s[i]))
			continue;
		ok = buf_printf(&sql, "%s'%s'", listed++ ? ", " : "", sha256s[i]);
	}
	ok = ok && buf_puts(&sql, ")");
	enum db_status status = DB_OK;
	if (!ok)
		status = DB_FAILED;
	else if (listed)
		status = db_exec(db, sql.data, NULL, 0, on_each, &(struct batch){fn, ctx});
	buf_free(&sql);
	return status;
}

static bool on_count(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	uint64_t *count = ctx;
	if (ncols < 1 || !cols[0] || !num_parse_u64(cols[0], lens[0], UINT64_MAX, count))
		*count = 0;
	return false;
}

enum db_status variants_enqueue_in(struct db *db, const char *sha256, const char *ext,
				   int max_attempts)
{
	uint64_t made = 0;
	struct db_param params[] = {DB_STR(sha256)};
	enum db_status status = db_exec(db, "SELECT COUNT(*) FROM image_variants WHERE sha256 = ?",
					params, 1, on_count, &made);
	if (status != DB_OK || made >= VARIANT_SIZE_COUNT)
		return status;
	cJSON *payload = cJSON_CreateObject();
	char *text = NULL;
	if (payload && cJSON_AddStringToObject(payload, "sha256", sha256) &&
	    cJSON_AddStringToObject(payload, "ext", ext))
		text = cJSON_PrintUnformatted(payload);
	cJSON_Delete(payload);
	if (!text)
		return DB_FAILED;
	struct job_request req = {JOB_THUMBNAIL, text, sha256, max_attempts};
	long long id;
	enum jobs_outcome outcome = jobs_enqueue_in(db, &req, &id);
	free(text);
	switch (outcome) {
	case JOBS_OK:
	case JOBS_DEDUPED:
		return DB_OK;
	case JOBS_UNAVAILABLE:
		return DB_UNAVAILABLE;
	case JOBS_CONFLICT:
		return DB_CONFLICT;
	default:
		return DB_FAILED;
	}
}
