/* captions: the rules of a caption, and the one place that writes an image's caption and tags. */
#include "captions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/buf.h"
#include "common/num.h"
#include "core/search_index.h"

/* Two parameters a tag: the database layer binds at most 32 a statement. */
enum { CAPTIONS_TAGS_PER_INSERT = 16 };

/* A refusal that names the first byte of the offending character. */
static bool refuse_at(char *err, size_t errlen, const char *what, size_t byte)
{
	if (err && errlen)
		snprintf(err, errlen, "the caption %s (byte %zu)", what, byte);
	return false;
}

bool captions_check(const char *text, size_t len, char *err, size_t errlen)
{
	size_t chars = 0;
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			return refuse_at(err, errlen, "is not valid UTF-8", i + 1);
		if (cp == 0)
			return refuse_at(err, errlen, "contains a NUL character", i + 1);
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
		    (cp >= 0x80 && cp <= 0x9F))
			return refuse_at(err, errlen, "contains a control character", i + 1);
		i += (size_t)n;
		chars++;
	}
	if (chars > CAPTIONS_CHARS_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "the caption is %zu characters; the limit is %d", chars,
				 CAPTIONS_CHARS_MAX);
		return false;
	}
	return true;
}

/* The tags of image_id, which has none stored. */
static enum db_status insert_tags(struct db *db, uint64_t image_id, const struct hashtags *t)
{
	enum db_status status = DB_OK;
	/*
	 * The id is a parameter too, never in the text: each text is a statement
	 * prepared once per connection and kept, so an id in it would prepare one
	 * more per upload, until the server's max_prepared_stmt_count refused them.
	 */
	for (unsigned first = 0; status == DB_OK && first < t->n; first += CAPTIONS_TAGS_PER_INSERT) {
		unsigned n = t->n - first < CAPTIONS_TAGS_PER_INSERT ? t->n - first
								      : CAPTIONS_TAGS_PER_INSERT;
		struct buf sql = BUF_INIT;
		struct db_param params[2 * CAPTIONS_TAGS_PER_INSERT];
		bool ok = buf_puts(&sql, "INSERT INTO image_tags (tag, image_id) VALUES ");
		for (unsigned i = 0; ok && i < n; i++) {
			ok = buf_puts(&sql, i ? ", (?, ?)" : "(?, ?)");
			params[2 * i] = DB_STRN(t->tags[first + i].norm, t->tags[first + i].normlen);
			params[2 * i + 1] = DB_INT((long long)image_id);
		}
		status = ok ? db_exec(db, sql.data, params, 2 * n, NULL, NULL) : DB_FAILED;
		buf_free(&sql);
	}
	return status;
}

enum db_status captions_store(struct db *db, uint64_t image_id, const char *caption, size_t len,
			      struct hashtags *tags)
{
	struct hashtags found;
	struct hashtags *t = tags ? tags : &found;
	hashtags_extract(caption, len, t);
	struct db_param set[] = {
		len ? DB_STRN(caption, len) : (struct db_param){.type = DB_PARAM_NULL},
		DB_INT((long long)image_id),
	};
	/* updated_at is named so that ON UPDATE leaves it: it is the file's time, not the caption's. */
	enum db_status status = db_exec(db,
					"UPDATE images SET caption = ?, updated_at = updated_at "
					"WHERE id = ?",
					set, 2, NULL, NULL);
	struct db_param id[] = {DB_INT((long long)image_id)};
	if (status == DB_OK)
		status = db_exec(db, "DELETE FROM image_tags WHERE image_id = ?", id, 1, NULL, NULL);
	if (status == DB_OK)
		status = insert_tags(db, image_id, t);
	/* The search terms change with the caption, in the same transaction. */
	return status == DB_OK ? search_index_replace(db, image_id) : status;
}

enum db_status captions_store_new(struct db *db, uint64_t image_id, const char *key, size_t keylen,
				  const char *caption, size_t len)
{
	enum db_status status = DB_OK;
	if (len) {
		struct hashtags t;
		hashtags_extract(caption, len, &t);
		status = insert_tags(db, image_id, &t);
	}
	return status == DB_OK ? search_index_write(db, image_id, key, keylen, caption, len, true)
			       : status;
}

struct caption_walk {
	captions_fn fn;
	void *ctx;
};

static bool on_caption(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct caption_walk *w = ctx;
	uint64_t id;
	if (ncols == 2 && cols[0] && cols[1] && num_parse_u64(cols[0], lens[0], UINT64_MAX, &id))
		w->fn(w->ctx, id, cols[1], lens[1]);
	return true;
}

enum db_status captions_find_batch(struct db *db, const uint64_t *ids, size_t n, captions_fn fn,
				   void *ctx)
{
	if (n == 0)
		return DB_OK;
	/* The ids are numbers, so they can go in the text as a list of literals. */
	struct buf sql = BUF_INIT;
	bool ok = buf_puts(&sql, "SELECT id, caption FROM images WHERE caption IS NOT NULL AND id IN (");
	for (size_t i = 0; ok && i < n; i++)
		ok = buf_printf(&sql, "%s%llu", i ? ", " : "", (unsigned long long)ids[i]);
	ok = ok && buf_puts(&sql, ")");
	struct caption_walk w = {fn, ctx};
	enum db_status status = ok ? db_exec(db, sql.data, NULL, 0, on_caption, &w) : DB_FAILED;
	buf_free(&sql);
	return status;
}
