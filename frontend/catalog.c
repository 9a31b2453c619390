/* catalog: the only SQL the front end speaks: images, cache configuration, statistics. */
#include "catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"

enum {
	LIKE_PATTERN_MAX = 2 * KEY_MAX_BYTES + 3,
	/* InnoDB may still pick an upload as a deadlock victim; it is simply run again. */
	UPSERT_ATTEMPTS = 5,
};

static const struct config *catalog_cfg;
static pthread_key_t db_key;

static void close_thread_db(void *db)
{
	db_close(db);
}

bool catalog_init(const struct config *cfg)
{
	catalog_cfg = cfg;
	return pthread_key_create(&db_key, close_thread_db) == 0;
}

static struct db *thread_db(void)
{
	struct db *db = pthread_getspecific(db_key);
	if (!db) {
		db = db_open(catalog_cfg);
		if (db)
			pthread_setspecific(db_key, db);
	}
	return db;
}

const char *catalog_error(void)
{
	struct db *db = thread_db();
	return db ? db_error(db) : "out of memory";
}

static enum db_status exec(const char *sql, const struct db_param *params, size_t n,
			   db_row_fn on_row, void *ctx)
{
	struct db *db = thread_db();
	return db ? db_exec(db, sql, params, n, on_row, ctx) : DB_FAILED;
}

#define IMAGE_COLUMNS                                                                         \
	"image_key, location, content_type, size_bytes, sha256, COALESCE(width, 0), "        \
	"COALESCE(height, 0), version, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), " \
	"DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')"
enum { IMAGE_COLUMN_COUNT = 10 };

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

static bool parse_image_row(char **cols, const unsigned long *lens, unsigned ncols,
			    struct image_row *row)
{
	if (ncols != IMAGE_COLUMN_COUNT || !cols[0] || lens[0] > KEY_MAX_BYTES)
		return false;
	memcpy(row->key, cols[0], lens[0]);
	row->key[lens[0]] = '\0';
	row->keylen = lens[0];
	copy_text(row->location, sizeof(row->location), cols[1]);
	copy_text(row->content_type, sizeof(row->content_type), cols[2]);
	row->size_bytes = cols[3] ? strtoull(cols[3], NULL, 10) : 0;
	copy_text(row->sha256, sizeof(row->sha256), cols[4]);
	row->width = cols[5] ? (unsigned)strtoul(cols[5], NULL, 10) : 0;
	row->height = cols[6] ? (unsigned)strtoul(cols[6], NULL, 10) : 0;
	row->version = cols[7] ? strtoull(cols[7], NULL, 10) : 0;
	copy_time(row->created_at, cols[8]);
	copy_time(row->updated_at, cols[9]);
	return true;
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

enum db_status catalog_find(const char *key, size_t keylen, struct image_row *row, bool *found)
{
	struct one_row one = {row, false};
	struct db_param params[] = {DB_STRN(key, keylen)};
	enum db_status status = exec("SELECT " IMAGE_COLUMNS " FROM images WHERE image_key = ?",
				     params, 1, on_one_row, &one);
	*found = one.found;
	return status;
}

static bool on_first_text(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	if (ncols >= 1 && cols[0])
		copy_text(ctx, STORAGE_LOCATION_MAX, cols[0]);
	return false;
}

static bool on_first_number(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	if (ncols >= 1 && cols[0])
		*(uint64_t *)ctx = strtoull(cols[0], NULL, 10);
	return false;
}

static enum db_status upsert_once(struct image_row *row, char old_location[STORAGE_LOCATION_MAX],
				  bool *in_doubt)
{
	struct db *db = thread_db();
	if (!db)
		return DB_FAILED;
	old_location[0] = '\0';
	struct db_param key[] = {DB_STRN(row->key, row->keylen)};
	struct db_param values[] = {
		DB_STRN(row->key, row->keylen), DB_STR(row->location), DB_STR(row->content_type),
		DB_INT((long long)row->size_bytes), DB_STR(row->sha256),
		row->width ? DB_INT(row->width) : (struct db_param){.type = DB_PARAM_NULL},
		row->height ? DB_INT(row->height) : (struct db_param){.type = DB_PARAM_NULL},
	};
	enum db_status status = db_begin(db);
	if (status != DB_OK)
		return status;
	/* The lock orders concurrent uploads of one key, so each learns the file it replaced. */
	status = db_exec(db, "SELECT location FROM images WHERE image_key = ? FOR UPDATE", key, 1,
			 on_first_text, old_location);
	if (status == DB_OK)
		status = db_exec(db,
				 "INSERT INTO images (image_key, location, content_type, size_bytes, "
				 "sha256, width, height) VALUES (?, ?, ?, ?, ?, ?, ?) "
				 "ON DUPLICATE KEY UPDATE location = VALUES(location), "
				 "content_type = VALUES(content_type), size_bytes = VALUES(size_bytes), "
				 "sha256 = VALUES(sha256), width = VALUES(width), "
				 "height = VALUES(height), version = version + 1",
				 values, sizeof(values) / sizeof(values[0]), NULL, NULL);
	if (status == DB_OK)
		status = db_exec(db, "SELECT version FROM images WHERE image_key = ?", key, 1,
				 on_first_number, &row->version);
	if (status == DB_OK) {
		status = db_commit(db);
		*in_doubt = status == DB_UNAVAILABLE;
	}
	if (status != DB_OK)
		db_rollback(db);
	return status;
}

enum db_status catalog_upsert(struct image_row *row, char old_location[STORAGE_LOCATION_MAX],
			      bool *in_doubt)
{
	enum db_status status;
	int attempts = 0;
	do {
		*in_doubt = false;
		status = upsert_once(row, old_location, in_doubt);
	} while (status == DB_CONFLICT && ++attempts < UPSERT_ATTEMPTS);
	return status;
}

enum db_status catalog_location_in_use(const char *location, bool *in_use)
{
	uint64_t count = 0;
	struct db_param params[] = {DB_STR(location)};
	enum db_status status = exec("SELECT COUNT(*) FROM images WHERE location = ?", params, 1,
				     on_first_number, &count);
	/* When in doubt, keep the file: an orphan costs disk, a missing file loses an image. */
	*in_use = status != DB_OK || count > 0;
	return status;
}

struct row_walk {
	catalog_row_fn fn;
	void *ctx;
};

static bool on_each_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct row_walk *walk = ctx;
	struct image_row row;
	return parse_image_row(cols, lens, ncols, &row) && walk->fn(walk->ctx, &row);
}

enum db_status catalog_all(catalog_row_fn fn, void *ctx)
{
	struct row_walk walk = {fn, ctx};
	return exec("SELECT " IMAGE_COLUMNS " FROM images ORDER BY updated_at DESC, image_key", NULL,
		    0, on_each_row, &walk);
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

enum db_status catalog_page(const char *filter, uint64_t offset, unsigned limit,
			    catalog_row_fn fn, void *ctx, uint64_t *total)
{
	char pattern[LIKE_PATTERN_MAX];
	like_pattern(filter, pattern, sizeof(pattern));
	struct db_param count_params[] = {DB_STR(pattern)};
	*total = 0;
	enum db_status status = exec("SELECT COUNT(*) FROM images WHERE image_key "
				     "COLLATE utf8mb4_general_ci LIKE ?",
				     count_params, 1, on_first_number, total);
	if (status != DB_OK)
		return status;
	struct db_param params[] = {DB_STR(pattern), DB_INT((long long)limit),
				    DB_INT((long long)offset)};
	struct row_walk walk = {fn, ctx};
	return exec("SELECT " IMAGE_COLUMNS " FROM images WHERE image_key "
		    "COLLATE utf8mb4_general_ci LIKE ? "
		    "ORDER BY updated_at DESC, image_key LIMIT ? OFFSET ?",
		    params, 3, on_each_row, &walk);
}

struct totals {
	uint64_t *count, *bytes;
};

static bool on_totals(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct totals *t = ctx;
	if (ncols == 2) {
		*t->count = cols[0] ? strtoull(cols[0], NULL, 10) : 0;
		*t->bytes = cols[1] ? strtoull(cols[1], NULL, 10) : 0;
	}
	return false;
}

enum db_status catalog_totals(uint64_t *count, uint64_t *bytes)
{
	struct totals t = {count, bytes};
	*count = *bytes = 0;
	return exec("SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM images", NULL, 0, on_totals,
		    &t);
}

enum db_status catalog_save_properties(long capacity_mb, const char *policy)
{
	struct db_param params[] = {DB_INT(capacity_mb), DB_STR(policy)};
	return exec("INSERT INTO cache_properties (max_capacity, replacement_policy) VALUES (?, ?)",
		    params, 2, NULL, NULL);
}

struct one_properties {
	struct cache_properties *out;
	bool found;
};

static bool on_properties(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct one_properties *p = ctx;
	if (ncols != 3 || !cols[0] || !cols[1])
		return false;
	p->out->capacity_mb = strtol(cols[0], NULL, 10);
	copy_text(p->out->policy, sizeof(p->out->policy), cols[1]);
	copy_time(p->out->set_at, cols[2]);
	p->found = true;
	return false;
}

enum db_status catalog_properties(struct cache_properties *out, bool *found)
{
	struct one_properties p = {out, false};
	enum db_status status =
		exec("SELECT max_capacity, replacement_policy, "
		     "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') FROM cache_properties "
		     "ORDER BY id DESC LIMIT 1",
		     NULL, 0, on_properties, &p);
	*found = p.found;
	return status;
}

struct stats_walk {
	void (*fn)(void *ctx, const struct stats_point *p);
	void *ctx;
};

static bool on_stats_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct stats_walk *walk = ctx;
	if (ncols != 6)
		return false;
	struct stats_point p;
	copy_time(p.at, cols[0]);
	uint64_t *fields[] = {&p.cache_size, &p.key_count, &p.request_count, &p.hit_count,
			      &p.miss_count};
	for (unsigned i = 0; i < 5; i++)
		*fields[i] = cols[i + 1] ? strtoull(cols[i + 1], NULL, 10) : 0;
	walk->fn(walk->ctx, &p);
	return true;
}

enum db_status catalog_stats_since(unsigned minutes,
				   void (*fn)(void *ctx, const struct stats_point *p), void *ctx)
{
	struct stats_walk walk = {fn, ctx};
	struct db_param params[] = {DB_INT(minutes)};
	return exec("SELECT DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), cache_size, "
		    "key_count, request_count, hit_count, miss_count FROM cache_stats "
		    "WHERE created_at >= NOW(3) - INTERVAL ? MINUTE ORDER BY id",
		    params, 1, on_stats_row, &walk);
}
