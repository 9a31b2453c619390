/* search_index: the write side of search, the terms of each image in search_terms. */
#include "search_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/num.h"
#include "core/search_terms.h"

enum { BACKFILL_ATTEMPTS = 3, BACKFILL_BATCH = 100 };

struct image_text {
	bool found;
	uint64_t id;
	struct buf key, caption;
	bool ok;
};

static bool on_image_text(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct image_text *t = ctx;
	if (ncols < 3 || !cols[0] || !cols[1] || !num_parse_u64(cols[0], lens[0], UINT64_MAX, &t->id))
		return false;
	t->found = true;
	t->ok = buf_append(&t->key, cols[1], lens[1]) &&
		(!cols[2] || buf_append(&t->caption, cols[2], lens[2]));
	return false;
}

/*
 * The terms as one JSON array, which JSON_TABLE turns into rows, so that any
 * number of them is one statement. Terms are letters, digits and marks only;
 * quotes and backslashes are escaped all the same.
 */
static bool terms_json(const struct search_term_set *set, struct buf *out)
{
	bool ok = buf_append(out, "[", 1);
	for (size_t i = 0; ok && i < set->n; i++) {
		ok = buf_append(out, i ? ",\"" : "\"", i ? 2 : 1);
		for (const char *p = set->terms[i]; ok && *p; p++)
			ok = (*p == '"' || *p == '\\' ? buf_append(out, "\\", 1) : true) &&
			     buf_append(out, p, 1);
		ok = ok && buf_append(out, "\"", 1);
	}
	return ok && buf_append(out, "]", 1);
}

static enum db_status write_terms(struct db *db, uint64_t id, const struct image_text *t)
{
	struct search_term_set set = {0};
	struct buf json = {0};
	enum db_status s = DB_FAILED;
	/* A key or caption that is no UTF-8 (none passes the checks) is indexed as nothing. */
	if (!search_terms_add(&set, t->key.data ? t->key.data : "", t->key.len))
		log_warn("search: the key of image %llu is not indexed", (unsigned long long)id);
	if (t->caption.len && !search_terms_add(&set, t->caption.data, t->caption.len))
		log_warn("search: the caption of image %llu is not indexed", (unsigned long long)id);
	search_terms_finish(&set);
	struct db_param idp[] = {DB_INT((long long)id)};
	s = db_exec(db, "DELETE FROM search_terms WHERE image_id = ?", idp, 1, NULL, NULL);
	if (s != DB_OK || set.n == 0)
		goto out;
	if (!terms_json(&set, &json)) {
		s = DB_FAILED;
		goto out;
	}
	struct db_param p[] = {DB_INT((long long)id), DB_STRN(json.data, json.len)};
	s = db_exec(db,
		    "INSERT INTO search_terms (term, image_id) SELECT t.term, ? FROM "
		    "JSON_TABLE(?, '$[*]' COLUMNS (term VARCHAR(32) CHARACTER SET utf8mb4 PATH '$')) AS t",
		    p, 2, NULL, NULL);
out:
	buf_free(&json);
	search_terms_free(&set);
	return s;
}

enum db_status search_index_replace(struct db *db, uint64_t image_id)
{
	struct image_text t = {.ok = true};
	struct db_param p[] = {DB_INT((long long)image_id)};
	enum db_status s = db_exec(db, "SELECT id, image_key, caption FROM images WHERE id = ?",
				   p, 1, on_image_text, &t);
	if (s == DB_OK && !t.ok)
		s = DB_FAILED;
	if (s == DB_OK && t.found)
		s = write_terms(db, t.id, &t);
	buf_free(&t.key);
	buf_free(&t.caption);
	return s;
}

static bool on_number(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	if (ncols >= 1 && cols[0] && !num_parse_u64(cols[0], lens[0], UINT64_MAX, ctx))
		*(uint64_t *)ctx = 0;
	return false;
}

/* One image below the mark, indexed and the mark moved past it, in one transaction. */
static enum db_status backfill_one(struct db *db, bool *done)
{
	enum db_status s = db_begin(db);
	if (s != DB_OK)
		return s;
	uint64_t mark = 0;
	s = db_exec(db, "SELECT next_id FROM search_backfill WHERE one = 1 FOR UPDATE", NULL, 0,
		    on_number, &mark);
	struct image_text t = {.ok = true};
	if (s == DB_OK && mark > 0) {
		struct db_param p[] = {DB_INT((long long)mark)};
		s = db_exec(db,
			    "SELECT id, image_key, caption FROM images WHERE id <= ? "
			    "ORDER BY id DESC LIMIT 1",
			    p, 1, on_image_text, &t);
	}
	if (s == DB_OK && t.found)
		s = t.ok ? write_terms(db, t.id, &t) : DB_FAILED;
	if (s == DB_OK && mark > 0) {
		struct db_param p[] = {DB_INT(t.found ? (long long)t.id - 1 : 0)};
		s = db_exec(db, "UPDATE search_backfill SET next_id = ? WHERE one = 1", p, 1, NULL,
			    NULL);
	}
	*done = s == DB_OK && (mark == 0 || !t.found || t.id <= 1);
	if (s == DB_OK)
		s = db_commit(db);
	if (s != DB_OK)
		db_rollback(db);
	buf_free(&t.key);
	buf_free(&t.caption);
	return s;
}

enum db_status search_index_backfill(struct db *db, unsigned limit, bool *done)
{
	*done = false;
	enum db_status s = DB_OK;
	for (unsigned i = 0; i < limit && !*done; i++) {
		s = backfill_one(db, done);
		for (unsigned a = 1; s == DB_CONFLICT && a < BACKFILL_ATTEMPTS; a++)
			s = backfill_one(db, done);
		if (s != DB_OK)
			return s;
	}
	return s;
}

struct search_backfill {
	const struct config *cfg;
	pthread_t thread;
	atomic_bool stop;
};

static void *backfill_thread(void *arg)
{
	struct search_backfill *b = arg;
	struct db *db = db_open(b->cfg);
	bool done = false;
	unsigned long batches = 0;
	enum db_status s = db ? DB_OK : DB_FAILED;
	while (s == DB_OK && !done && !atomic_load(&b->stop)) {
		s = search_index_backfill(db, BACKFILL_BATCH, &done);
		batches++;
	}
	if (s != DB_OK)
		log_warn("search: older images are not all in the search index yet: %s",
			 db ? db_error(db) : "no database connection");
	else if (done && batches > 1)
		log_info("search: older images are in the search index");
	db_close(db);
	return NULL;
}

struct search_backfill *search_backfill_start(const struct config *cfg)
{
	struct search_backfill *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->cfg = cfg;
	atomic_init(&b->stop, false);
	if (pthread_create(&b->thread, NULL, backfill_thread, b) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void search_backfill_stop(struct search_backfill *b)
{
	if (!b)
		return;
	atomic_store(&b->stop, true);
	pthread_join(b->thread, NULL);
	free(b);
}
