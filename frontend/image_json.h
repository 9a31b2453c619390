/* image_json: the one JSON shape of an image in the API (/api/image, /api/caption, search, users). */
#ifndef GALLERY_IMAGE_JSON_H
#define GALLERY_IMAGE_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/catalog.h"

struct app;

/* An image with the caption it has now (caption_len 0: none). */
struct image_json_item {
	const struct image_row *row;
	const char *caption;
	size_t caption_len;
};

/*
 * {key, owner, caption, tags[], content_type, size_bytes, width, height,
 * sha256, created_at, updated_at, thumbnails:{s, m}}: owner a username or
 * null, caption null when there is none, tags the caption's normalised tags in
 * its order, width and height null when unknown, thumbnails URLs once made,
 * null before. The thumbnails of all n are looked up in one query. NULL when
 * memory runs out.
 */
cJSON *image_json_array(struct app *app, const struct image_json_item *items, size_t n);
/* One image's object, as image_json_array makes it. */
cJSON *image_json_object(struct app *app, const struct image_row *row, const char *caption,
			 size_t caption_len);
/*
 * As image_json_array for rows read without their captions: the captions are
 * read in one query (by the rows' ids) first. NULL as well when they cannot be.
 */
cJSON *image_json_rows(struct app *app, const struct image_row *rows, size_t n);

#endif
