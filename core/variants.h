/* variants: the thumbnails made of each image content (the image_variants table) and their jobs. */
#ifndef GALLERY_VARIANTS_H
#define GALLERY_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "core/blob.h"

/* DESIGN.md's sizes: the longest side of 's' and 'm'. */
enum variant_size { VARIANT_S, VARIANT_M, VARIANT_SIZE_COUNT };
enum { VARIANT_S_PX = 512, VARIANT_M_PX = 1440 };

struct variant {
	enum variant_size size;
	char location[BLOB_NAME_MAX]; /* the blob store's name of the WebP */
	unsigned width, height;
	uint64_t bytes;
};

/* "s" or "m". */
const char *variants_size_name(enum variant_size size);
bool variants_size_parse(const char *name, enum variant_size *size);
/* The longest side of size, in pixels. */
unsigned variants_size_px(enum variant_size size);
/* The blob kind that holds size's files. */
enum blob_kind variants_blob_kind(enum variant_size size);
/* Whether text is 64 lowercase hex digits, as image hashes are written. */
bool variants_sha256_ok(const char *text);

/* Records (or records again, the same) a thumbnail of the content sha256. */
enum db_status variants_record(struct db *db, const char *sha256, const struct variant *v);
/*
 * Records the n thumbnails of sha256 only while an image has that content: one
 * transaction reads an image row of it with a shared lock, which holds back a
 * delete (or an upload that replaces the content) until the rows are in, so
 * that its removal of the content's thumbnails, after its commit, finds them.
 * *in_use false: no image has the content, and nothing was recorded.
 */
enum db_status variants_record_while_used(struct db *db, const char *sha256,
					  const struct variant *v, size_t n, bool *in_use);
/*
 * Whether an image has the content sha256, as committed rows say (no lock).
 * Inside the caller's transaction or on its own.
 */
enum db_status variants_content_in_use(struct db *db, const char *sha256, bool *in_use);
/*
 * Forgets the thumbnails of the content sha256 (its rows; the caller removes
 * the files after), once no image has that content.
 */
enum db_status variants_forget(struct db *db, const char *sha256);
/* The thumbnail of sha256 in size; *found false when none is made yet. */
enum db_status variants_find(struct db *db, const char *sha256, enum variant_size size,
			     struct variant *v, bool *found);

/* Called for each thumbnail that a batch lookup finds. */
typedef void (*variants_fn)(void *ctx, const char *sha256, const struct variant *v);
/* Every thumbnail of any of the n hashes (those that fail variants_sha256_ok are skipped), in one query. */
enum db_status variants_find_batch(struct db *db, const char *const *sha256s, size_t n,
				   variants_fn fn, void *ctx);

/*
 * The thumbnail job of a content, inside the caller's transaction (an upload's
 * commit): enqueued when the content lacks a size, deduplicated by the hash, so
 * that any number of uploads of the same bytes make one job. ext is the
 * original's file extension (its BLOB_IMAGE ref). Payload:
 *   {"sha256":"<64 hex>","ext":"jpg"}
 * DB_CONFLICT: the caller's transaction was undone; run it again.
 */
enum db_status variants_enqueue_in(struct db *db, const char *sha256, const char *ext,
				   int max_attempts);

#endif
