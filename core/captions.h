/* captions: the rules of a caption, and the one place that writes an image's caption and tags. */
#ifndef GALLERY_CAPTIONS_H
#define GALLERY_CAPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "core/hashtags.h"

enum {
	CAPTIONS_CHARS_MAX = 2200,
	/* A caption of CAPTIONS_CHARS_MAX characters of at most 4 bytes each. */
	CAPTIONS_BYTES_MAX = 4 * CAPTIONS_CHARS_MAX,
};

/*
 * True for a caption we keep: valid UTF-8, at most 2,200 characters, no NUL
 * and no control character but tab and line breaks. Otherwise false with a
 * message that says what to fix (truncated to errlen), e.g.
 *   "the caption is 2201 characters; the limit is 2200"
 *   "the caption is not valid UTF-8 (byte 7)"
 *   "the caption contains a NUL character (byte 3)"
 */
bool captions_check(const char *text, size_t len, char *err, size_t errlen);

/*
 * Replaces the caption of image image_id (len 0: none) and its tags, inside
 * the caller's transaction on db: the caption and its tags change together or
 * not at all. The caption must have passed captions_check. tags (may be NULL)
 * gets the tags stored. The image's updated_at stays: it says when its file
 * was uploaded.
 */
enum db_status captions_store(struct db *db, uint64_t image_id, const char *caption, size_t len,
			      struct hashtags *tags);
/*
 * The tags and search terms of image image_id, just inserted in the caller's
 * transaction with caption (len 0: none) in its row: what captions_store
 * does, less what a new image cannot have yet (a caption to replace, tags and
 * terms to delete).
 */
enum db_status captions_store_new(struct db *db, uint64_t image_id, const char *key, size_t keylen,
				  const char *caption, size_t len);

typedef void (*captions_fn)(void *ctx, uint64_t image_id, const char *caption, size_t len);
/* The captions of the images ids[0..n), one query for all; fn sees those that have one. */
enum db_status captions_find_batch(struct db *db, const uint64_t *ids, size_t n, captions_fn fn,
				   void *ctx);

#endif
