/* search_index: the write side of search, the terms of each image in search_terms. */
#ifndef GALLERY_SEARCH_INDEX_H
#define GALLERY_SEARCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"

/*
 * Replaces the search terms of image image_id (images.id) by those of its key
 * and caption as they stand in the caller's open transaction (call it after
 * writing them, before the commit, so that the index changes with them or not
 * at all). No such row: nothing to do, DB_OK.
 */
enum db_status search_index_replace(struct db *db, uint64_t image_id);

/*
 * The same for an image whose key and caption (caption_len 0: none) the caller
 * holds, as just written in its transaction; fresh says the image was inserted
 * by that transaction, so it has no terms to replace yet.
 */
enum db_status search_index_write(struct db *db, uint64_t image_id, const char *key,
				  size_t keylen, const char *caption, size_t caption_len,
				  bool fresh);

/*
 * Indexes, in one transaction, up to `limit` of the images below the
 * search_backfill mark (newest first; images that existed before the index,
 * or before a change of its terms) and moves the mark past them; *indexed says
 * how many, *done whether none are left.
 */
enum db_status search_index_backfill(struct db *db, unsigned limit, bool *done, size_t *indexed);

/*
 * search_index_backfill in a thread of its own, on a connection of its own, a
 * batch at a time until none are left or search_backfill_stop, so that a large
 * gallery from before the index starts serving at once. NULL when no thread
 * could start (the next start tries again).
 */
struct config;
struct search_backfill;
struct search_backfill *search_backfill_start(const struct config *cfg);
/* Stops after the batch under way and waits for the thread; NULL does nothing. */
void search_backfill_stop(struct search_backfill *b);

#endif
