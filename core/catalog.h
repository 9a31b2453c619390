/* catalog: the SQL of the images table, and the reading of the statistics rows. */
#ifndef GALLERY_CATALOG_H
#define GALLERY_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/cache_stats_fields.h"
#include "common/db.h"
#include "core/blob.h"
#include "core/key.h"

enum { CATALOG_TIME_MAX = 32, CATALOG_TYPE_MAX = 32, CATALOG_OWNER_MAX = 33 };

struct image_row {
	char key[KEY_MAX_BYTES + 1];
	size_t keylen;
	char location[BLOB_NAME_MAX];
	char content_type[CATALOG_TYPE_MAX];
	uint64_t size_bytes;
	char sha256[BLOB_SHA256_HEX];
	unsigned width, height; /* 0 when unknown */
	uint64_t version;
	char created_at[CATALOG_TIME_MAX]; /* "YYYY-MM-DDTHH:MM:SS.mmmZ", UTC */
	char updated_at[CATALOG_TIME_MAX];
	uint64_t updated_ms; /* updated_at in milliseconds since 1970: half of a page cursor */
	char owner[CATALOG_OWNER_MAX]; /* the owner's username; "" for an anonymous upload */
	uint64_t id;           /* the image's number, given in upload order */
	long long owner_id; /* catalog_upsert: the uploader; deletions: the owner (0: nobody) */
	/* catalog_upsert: the caption to store, when given (not given: the old one stays). */
	bool caption_given;
	const char *caption; /* not owned; checked by captions_check */
	size_t caption_len;
	bool owner_refused; /* catalog_upsert: the key belongs to someone else; nothing changed */
};

/* A place in the listing order (newest first, then key): the row it names is excluded. */
struct catalog_cursor {
	uint64_t updated_ms;
	char key[KEY_MAX_BYTES + 1];
	size_t keylen;
};

/* One cache_stats row: its time and its counts. */
struct stats_point {
	char at[CATALOG_TIME_MAX];
	CACHE_STATS_FIELDS(CACHE_STATS_FIELD_MEMBER)
};

struct config;

struct catalog;

/*
 * The catalog of the database cfg names (cfg must outlive it). Each thread
 * gets a connection of its own on first use, closed when the thread exits.
 */
struct catalog *catalog_open(const struct config *cfg, char *err, size_t errlen);
/* After every other thread that used it is done. */
void catalog_close(struct catalog *c);
/* This thread's last database error. */
const char *catalog_error(struct catalog *c);
/* This thread's connection (NULL without one), for modules that own other tables. */
struct db *catalog_db(struct catalog *c);

typedef bool (*catalog_row_fn)(void *ctx, const struct image_row *row);

enum db_status catalog_find(struct catalog *c, const char *key, size_t keylen,
			    struct image_row *row, bool *found);
/* One row whose image has the content sha256 (the oldest key), e.g. for /thumb's original. */
enum db_status catalog_find_by_sha256(struct catalog *c, const char *sha256,
				      struct image_row *row, bool *found);
/* The row of images.id id (the number search results and tag lists give). */
enum db_status catalog_find_by_id(struct catalog *c, uint64_t id, struct image_row *row, bool *found);
/*
 * Inserts or replaces the row of row->key in one transaction. Sets row->version
 * to the new version and old_location to the file the row named before ("" for
 * a new key). When the connection is lost during COMMIT, the row is read again
 * on a new connection (for up to a few seconds) to learn whether it landed:
 * DB_OK if it did. On failure *in_doubt says whether the row may have been
 * written all the same (that could not be learnt); otherwise nothing changed.
 */
enum db_status catalog_upsert(struct catalog *c, struct image_row *row,
			      char old_location[BLOB_NAME_MAX], bool *in_doubt);
/* What catalog_set_caption did. */
enum catalog_caption_result {
	CATALOG_CAPTION_SET,
	CATALOG_CAPTION_NO_IMAGE,
	CATALOG_CAPTION_FORBIDDEN, /* the image is another user's and the actor is not the admin */
};
/*
 * Replaces key's caption and tags (captions_store) in one transaction, if the
 * actor may: the owner, the admin (actor_admin), or anyone for an ownerless
 * image. row gets the row as it stands after; caption its caption.
 */
enum db_status catalog_set_caption(struct catalog *c, const char *key, size_t keylen,
				   const char *caption, size_t caption_len, long long actor_id,
				   bool actor_admin, struct image_row *row,
				   enum catalog_caption_result *result);
/* key's row and its caption (empty for none) in one query. */
enum db_status catalog_find_captioned(struct catalog *c, const char *key, size_t keylen,
				      struct image_row *row, struct buf *caption, bool *found);
/* A catalog_row_fn that also sees the row's caption (len 0: none). */
typedef bool (*catalog_captioned_fn)(void *ctx, const struct image_row *row, const char *caption,
				     size_t caption_len);
/*
 * Up to limit images, newest first by number, with their captions: those
 * numbered below before_id (0: from the newest); only those tagged tag (the
 * normalised form) unless tag is NULL. A page is a range of an index, however
 * deep. *more says whether more follow.
 */
enum db_status catalog_newest_page(struct catalog *c, const char *tag, size_t taglen,
				   uint64_t before_id, unsigned limit, catalog_captioned_fn fn,
				   void *ctx, bool *more);
enum db_status catalog_location_in_use(struct catalog *c, const char *location, bool *in_use);
/*
 * Deletes every row owner_id owns, in one transaction; after the commit fn
 * sees each row that went (its tags and index entries went with it).
 */
enum db_status catalog_delete_owned(struct catalog *c, long long owner_id, catalog_row_fn fn,
				    void *ctx);
/*
 * Deletes the row of key in one transaction, when allow (given the locked row)
 * says it may go; otherwise nothing changes and *refused is true. After the
 * commit gone sees the row that went; neither is called when there is none.
 * Both deletions call gone also when the COMMIT's answer was lost (and then
 * fail): the rows may be gone.
 */
enum db_status catalog_delete_key(struct catalog *c, const char *key, size_t keylen,
				  catalog_row_fn allow, catalog_row_fn gone, void *ctx,
				  bool *refused);
/* Whether any row has an image of the content sha256 (true when the database cannot tell). */
enum db_status catalog_sha256_in_use(struct catalog *c, const char *sha256, bool *in_use);
/* One page of owner_id's images, newest first; *more says whether any follow. */
enum db_status catalog_owned_page(struct catalog *c, long long owner_id, uint64_t offset,
				  unsigned limit, catalog_row_fn fn, void *ctx, bool *more);
/*
 * Up to limit rows, newest first, whose key contains filter (any case; "" for
 * all): those after `from` (NULL: from the start) or, when backward, the last
 * limit rows before it; either way in listing order. An index in that order
 * makes a page cost its rows, however deep. *more says whether rows lie past
 * the page in the direction read.
 */
enum db_status catalog_page(struct catalog *c, const char *filter, const struct catalog_cursor *from,
			    bool backward, unsigned limit, catalog_row_fn fn, void *ctx, bool *more);
/* How many keys contain filter (a scan: for filtered listings only). */
enum db_status catalog_count_matching(struct catalog *c, const char *filter, uint64_t *count);
/* The number and bytes of all images, from the totals the database keeps (no scan). */
enum db_status catalog_totals(struct catalog *c, uint64_t *count, uint64_t *bytes);

/*
 * Keys read from the database one at a time, on a connection of the stream's
 * own (so any thread may serve it, and the thread's connection stays free), in
 * one snapshot: a stream of any length costs the memory of one row.
 */
struct catalog_keys;
/*
 * after == NULL and limit == 0: every key, newest first, then by key
 * (the listing order). Otherwise the keys after `after` ("" or NULL: from the first) in
 * byte order, which uploads do not reorder, up to limit of them (0: no limit).
 */
enum db_status catalog_keys_open(struct catalog *c, const char *after, size_t afterlen,
				 uint64_t limit, struct catalog_keys **out);
/* The next key (valid until the next call), or *key == NULL after the last. */
enum db_status catalog_keys_next(struct catalog_keys *k, const char **key, size_t *keylen);
/* The stream's last error in words. */
const char *catalog_keys_error(const struct catalog_keys *k);
void catalog_keys_close(struct catalog_keys *k);

/* The cache_stats rows of the last `minutes`, oldest first. */
enum db_status catalog_stats_since(struct catalog *c, unsigned minutes,
				   void (*fn)(void *ctx, const struct stats_point *p), void *ctx);

#endif
