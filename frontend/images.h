/* images: the read and write paths: memcache first, then the catalog and the disk. */
#ifndef GALLERY_IMAGES_H
#define GALLERY_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/catalog.h"
#include "frontend/problem.h"

struct config;
struct images;
struct images_upload;

struct cache_client;
/* catalog and cache are the caller's, and must outlive the images. */
struct images *images_open(const struct config *cfg, struct catalog *catalog,
			   struct cache_client *cache, char *err, size_t errlen);
void images_close(struct images *im);
/* Removes image files that no row names, left by a crash between file and row. */
void images_sweep_orphans(struct images *im);

/* The JSON API's answer for key: {"success":"true","content":"<base64>"}. */
bool images_read_json(struct images *im, const char *key, size_t keylen, struct buf *answer,
		      struct problem *p);
/* The row of key; a 404 or 503 problem when there is none or no database. */
bool images_find(struct images *im, const char *key, size_t keylen, struct image_row *row,
		 struct problem *p);
/* The bytes of key's image, from memcache when it has them. */
bool images_read_bytes(struct images *im, const char *key, size_t keylen, struct buf *bytes,
		       struct problem *p);

/* An upload streams into a temporary file while it arrives. */
struct images_upload *images_upload_begin(struct images *im, struct problem *p);
/* A form sink: refuses bytes that do not start like an image, or a full disk. */
bool images_upload_write(void *upload, const char *data, size_t len);
/* Why the last write refused. */
const struct problem *images_upload_problem(const struct images_upload *u);
/*
 * Checks the file, stores it, commits the row, makes memcache forget the old
 * value, and frees u. row gets what was stored.
 */
bool images_upload_commit(struct images_upload *u, const char *key, size_t keylen,
			  struct image_row *row, struct problem *p);
void images_upload_abort(struct images_upload *u);

#endif
