/* search_index: the write side of search, the terms of each image in search_terms. */
#include "search_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/num.h"
#include "core/search_terms.h"

enum {
	BACKFILL_ATTEMPTS = 3,
	/*
	 * Images per transaction of the backfill: one commit, one delete and one
	 * insert for all of them, instead of a transaction and three statements
	 * each; small enough that the rows it locks (and an edit of one of them
	 * waits for) are held for a few tens of milliseconds.
	 */
	BACKFILL_BATCH = 100,
	/* Failed batches in a row after which the backfill waits for the next start. */
	BACKFILL_FAILURES_MAX = 10,
	BACKFILL_PAUSE_MS = 1000,
};

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

/* The index terms of an image's key and caption, sorted and distinct. */
static void image_terms(const struct image_text *t, struct search_term_set *set)
{
	/* A key or caption that is no UTF-8 (none passes the checks) is indexed as nothing. */
	if (!search_terms_add(set, t->key.data ? t->key.data : "", t->key.len))
		log_warn("search: the key of image %llu is not indexed", (unsigned long long)t->id);
	if (t->caption.len && !search_terms_add(set, t->caption.data, t->caption.len))
		log_warn("search: the caption of image %llu is not indexed", (unsigned long long)t->id);
	search_terms_finish(set);
}

/*
 * Terms as JSON strings, which JSON_TABLE turns into rows, so that any number
 * of them is one statement: `"term"`, or `["term",id]` when id is not 0.
 * Terms are letters, digits and marks only; quotes and backslashes are escaped
 * all the same.
 */
static bool terms_json(const struct search_term_set *set, uint64_t id, struct buf *out)
{
	bool ok = true;
	for (size_t i = 0; ok && i < set->n; i++) {
		ok = (out->len > 1 ? buf_append(out, ",", 1) : true) &&
		     (id ? buf_append(out, "[\"", 2) : buf_append(out, "\"", 1));
		for (const char *p = set->terms[i]; ok && *p; p++)
			ok = (*p == '"' || *p == '\\' ? buf_append(out, "\\", 1) : true) &&
			     buf_append(out, p, 1);
		ok = ok && (id ? buf_printf(out, "\",%llu]", (unsigned long long)id)
			       : buf_append(out, "\"", 1));
	}
	return ok;
}

static enum db_status write_terms(struct db *db, const struct image_text *t, bool fresh)
{
	struct search_term_set set = {0};
	struct buf json = BUF_INIT;
	enum db_status s = DB_OK;
	image_terms(t, &set);
	struct db_param idp[] = {DB_INT((long long)t->id)};
	if (!fresh)
		s = db_exec(db, "DELETE FROM search_terms WHERE image_id = ?", idp, 1, NULL, NULL);
	if (s != DB_OK || set.n == 0)
		goto out;
	if (!buf_append(&json, "[", 1) || !terms_json(&set, 0, &json) || !buf_append(&json, "]", 1)) {
		s = DB_FAILED;
		goto out;
	}
	struct db_param p[] = {DB_INT((long long)t->id), DB_STRN(json.data, json.len)};
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
		s = write_terms(db, &t, false);
	buf_free(&t.key);
	buf_free(&t.caption);
	return s;
}

enum db_status search_index_write(struct db *db, uint64_t image_id, const char *key,
				  size_t keylen, const char *caption, size_t caption_len,
				  bool fresh)
{
	struct image_text t = {.found = true, .id = image_id, .ok = true};
	enum db_status s = buf_append(&t.key, key, keylen) &&
				   (!caption_len || buf_append(&t.caption, caption, caption_len))
			       ? write_terms(db, &t, fresh)
			       : DB_FAILED;
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

/* The images of one backfill transaction, newest first, and all their terms as one JSON array. */
struct batch {
	struct buf json;
	size_t n;
	uint64_t highest, lowest;
	bool ok;
};

static bool on_batch_image(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct batch *b = ctx;
	struct image_text t = {.ok = true};
	on_image_text(&t, cols, lens, ncols);
	struct search_term_set set = {0};
	b->ok = b->ok && t.found && t.ok;
	if (b->ok) {
		image_terms(&t, &set);
		b->ok = terms_json(&set, t.id, &b->json);
	}
	if (b->ok) {
		if (b->n++ == 0)
			b->highest = t.id;
		b->lowest = t.id;
	}
	search_terms_free(&set);
	buf_free(&t.key);
	buf_free(&t.caption);
	return b->ok;
}

/*
 * Up to `limit` images below the mark indexed, and the mark moved past them,
 * in one transaction. Their rows are read FOR UPDATE, so that a caption edit
 * or a delete of one of them waits for this commit (or this waits for theirs)
 * rather than have its terms replaced by those of the text read before it.
 */
static enum db_status backfill_batch(struct db *db, unsigned limit, bool *done, size_t *indexed)
{
	enum db_status s = db_begin(db);
	if (s != DB_OK)
		return s;
	uint64_t mark = 0;
	s = db_exec(db, "SELECT next_id FROM search_backfill WHERE one = 1 FOR UPDATE", NULL, 0,
		    on_number, &mark);
	struct batch b = {.json = BUF_INIT};
	b.ok = buf_append(&b.json, "[", 1);
	if (s == DB_OK && mark > 0) {
		struct db_param p[] = {DB_INT((long long)mark), DB_INT(limit)};
		s = db_exec(db,
			    "SELECT id, image_key, caption FROM images WHERE id <= ? "
			    "ORDER BY id DESC LIMIT ? FOR UPDATE",
			    p, 2, on_batch_image, &b);
		if (s == DB_OK && !(b.ok && buf_append(&b.json, "]", 1)))
			s = DB_FAILED;
	}
	/* Every id in [lowest, highest] is one of the batch: it took all the ids below the mark. */
	if (s == DB_OK && b.n) {
		struct db_param p[] = {DB_INT((long long)b.lowest), DB_INT((long long)b.highest)};
		s = db_exec(db, "DELETE FROM search_terms WHERE image_id BETWEEN ? AND ?", p, 2, NULL,
			    NULL);
	}
	if (s == DB_OK && b.json.len > 2) {
		struct db_param p[] = {DB_STRN(b.json.data, b.json.len)};
		s = db_exec(db,
			    "INSERT INTO search_terms (term, image_id) SELECT t.term, t.image_id FROM "
			    "JSON_TABLE(?, '$[*]' COLUMNS (term VARCHAR(32) CHARACTER SET utf8mb4 "
			    "PATH '$[0]', image_id BIGINT UNSIGNED PATH '$[1]')) AS t",
			    p, 1, NULL, NULL);
	}
	bool last = b.n < limit || b.lowest <= 1;
	if (s == DB_OK && mark > 0) {
		struct db_param p[] = {DB_INT(last ? 0 : (long long)b.lowest - 1)};
		s = db_exec(db, "UPDATE search_backfill SET next_id = ? WHERE one = 1", p, 1, NULL,
			    NULL);
	}
	*done = s == DB_OK && (mark == 0 || last);
	*indexed = s == DB_OK ? b.n : 0;
	if (s == DB_OK)
		s = db_commit(db);
	if (s != DB_OK)
		db_rollback(db);
	buf_free(&b.json);
	return s;
}

enum db_status search_index_backfill(struct db *db, unsigned limit, bool *done, size_t *indexed)
{
	*done = false;
	*indexed = 0;
	if (limit == 0)
		return DB_OK;
	enum db_status s = backfill_batch(db, limit, done, indexed);
	for (unsigned a = 1; s == DB_CONFLICT && a < BACKFILL_ATTEMPTS; a++)
		s = backfill_batch(db, limit, done, indexed);
	return s;
}

struct search_backfill {
	const struct config *cfg;
	pthread_t thread;
	atomic_bool stop;
};

/* Sleeps ms, or less when asked to stop. */
static void pause_unless_stopped(struct search_backfill *b, unsigned ms)
{
	for (unsigned waited = 0; waited < ms && !atomic_load(&b->stop); waited += 100) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void *backfill_thread(void *arg)
{
	struct search_backfill *b = arg;
	struct db *db = db_open(b->cfg);
	bool done = false;
	unsigned long long images = 0;
	unsigned failures = 0;
	size_t indexed = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum db_status s = db ? DB_OK : DB_FAILED;
	while (db && !done && !atomic_load(&b->stop)) {
		s = search_index_backfill(db, BACKFILL_BATCH, &done, &indexed);
		images += indexed;
		if (s == DB_OK) {
			failures = 0;
			continue;
		}
		/*
		 * A busy or restarting server (a batch past the read timeout, a lost
		 * connection) is waited out, so that a re-index of a large gallery does
		 * not stop until the next start; a database that keeps failing is not.
		 */
		if (++failures == BACKFILL_FAILURES_MAX)
			break;
		log_warn("search: indexing older images paused: %s", db_error(db));
		pause_unless_stopped(b, BACKFILL_PAUSE_MS * failures);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s != DB_OK)
		log_warn("search: older images are not all in the search index yet (%llu indexed): %s",
			 images, db ? db_error(db) : "no database connection");
	else if (!done)
		log_info("search: indexing older images stopped (%llu indexed in %.1f s); the next start goes on",
			 images, secs);
	else if (images > 0)
		log_info("search: older images are in the search index (%llu indexed in %.1f s)",
			 images, secs);
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
