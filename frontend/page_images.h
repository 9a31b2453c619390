/* page_images: the pages of images: home (the feed), upload, an image and its caption, the list of keys. */
#ifndef GALLERY_PAGE_IMAGES_H
#define GALLERY_PAGE_IMAGES_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct app;
struct request;

enum MHD_Result page_home(struct app *app, struct request *req);
enum MHD_Result page_upload(struct app *app, struct request *req);
enum MHD_Result page_image(struct app *app, struct request *req);
enum MHD_Result page_keys(struct app *app, struct request *req);
/* POST /caption: the image page's caption form (key, caption). */
enum MHD_Result page_caption(struct app *app, struct request *req);
/*
 * Adds a page of the newest images, with captions and tags, to data ("recent",
 * "has_recent", "older": the cursor of the next page): all of them, or those
 * tagged tag (normalised) when tag is not NULL; before_text is the cursor
 * given (NULL: the newest). False when the cursor is malformed.
 */
bool page_add_feed(struct app *app, cJSON *data, const char *tag, size_t taglen,
		   const char *before_text, unsigned *shown);

#endif
