/* page: what the HTML pages share: their data, messages, image entries and cache figures. */
#ifndef GALLERY_PAGE_H
#define GALLERY_PAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/key.h"
#include "core/variants.h"

enum { PAGE_KEY_URL_MAX = 3 * KEY_MAX_BYTES + 1 };

#define PAGE_MB 1048576.0

struct app;

/* "512 B", "1.5 KB", "3.2 MB". */
void page_human_size(uint64_t bytes, char *out, size_t size);
/* Page data with the title and the navigation entry to mark as current. */
cJSON *page_data(const char *title, const char *nav);
/* The page's success or error message. */
void page_message(cJSON *data, bool ok, const char *message);
/* An image row as the templates show it. */
cJSON *page_image_json(const struct image_row *row);
/* The thumbnail's size of an image entry: thumb_s_width, thumb_s_height, ... */
void page_set_thumbnail_size(cJSON *img, enum variant_size size, unsigned width, unsigned height);
/*
 * The thumbnails' exact sizes for an array of image entries (or one entry), one query for all,
 * where they exist; the others keep the sizes their rows predict.
 */
void page_add_thumbnails(struct app *app, cJSON *images);
/* A catalog_row_fn that appends the row's page_image_json to the array ctx. */
bool page_add_image(void *ctx, const struct image_row *row);
/* The configuration in force: the newest row, or what memcache uses without one. */
void page_add_properties(struct app *app, cJSON *data);
/* memcache's totals since start, or a note that it does not answer. */
void page_add_cache_totals(struct app *app, cJSON *data);

#endif
