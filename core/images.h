/* images: the read and write paths of images: memcache, then the catalog and the blob store. */
#ifndef GALLERY_IMAGES_H
#define GALLERY_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/catalog.h"
#include "core/outcome.h"

struct blob_store;
struct cache_client;
struct images;
struct images_upload;

/* catalog, cache and blobs are the caller's, and must outlive the images. */
struct images *images_open(struct catalog *catalog, struct cache_client *cache,
			   struct blob_store *blobs, char *err, size_t errlen);
void images_close(struct images *im);
/* Uploads whose header declares more than max_pixels (width x height) are refused; 0: no limit. */
void images_set_max_pixels(struct images *im, uint64_t max_pixels);
/* Removes image files that no row names, left by a crash between file and row. */
void images_sweep_orphans(struct images *im);

/*
 * The JSON API's answer for key, {"success":"true","content":"<base64>"}, as
 * memcache holds it: a hit is handed on without a copy or a parse.
 */
bool images_read_json(struct images *im, const char *key, size_t keylen, struct buf *answer,
		      struct outcome *o);
/* The bytes of key's image: a hit's base64 decoded once, or the file itself on a miss. */
bool images_read_bytes(struct images *im, const char *key, size_t keylen, struct buf *bytes,
		       struct outcome *o);
/* The row of key; OUTCOME_NOT_FOUND or OUTCOME_UNAVAILABLE when there is none or no database. */
bool images_find(struct images *im, const char *key, size_t keylen, struct image_row *row,
		 struct outcome *o);

/* An upload streams into the blob store while it arrives. */
struct images_upload *images_upload_begin(struct images *im, struct outcome *o);
/* A form sink: refuses bytes that do not start like an image, or a full disk. */
bool images_upload_write(void *upload, const char *data, size_t len);
/* Why the last write refused. */
const struct outcome *images_upload_outcome(const struct images_upload *u);
/*
 * Deletes every image of owner_id: the rows, then the cached values and the
 * files no other row names. *count says how many went.
 */
bool images_delete_owned(struct images *im, long long owner_id, unsigned long *count,
			 struct outcome *o);
/* The account the upload is for (0: anonymous); an owned key refuses other uploaders. */
void images_upload_set_owner(struct images_upload *u, long long owner_id);
/*
 * The caption to store with the upload (checked by captions_check; not copied:
 * it must live until the commit). Without this call the key keeps its caption.
 */
void images_upload_set_caption(struct images_upload *u, const char *caption, size_t len);
/*
 * Checks the file, stores it, commits the row, makes memcache forget the old
 * value, and frees u. row gets what was stored.
 */
bool images_upload_commit(struct images_upload *u, const char *key, size_t keylen,
			  struct image_row *row, struct outcome *o);
void images_upload_abort(struct images_upload *u);

#endif
