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
 * Indexes, each in a transaction of its own, up to `limit` of the images that
 * existed before the index (newest first); *done says whether none are left.
 */
enum db_status search_index_backfill(struct db *db, unsigned limit, bool *done);

#endif
