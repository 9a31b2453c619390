/* image_json: the one JSON shape of an image in the API (/api/image, /api/caption, search, users). */
#include "image_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/captions.h"
#include "core/hashtags.h"
#include "core/variants.h"
#include "frontend/app.h"

enum { THUMB_URL_MAX = 96 };

static bool add_or_null(cJSON *obj, const char *name, const char *value)
{
	return value ? cJSON_AddStringToObject(obj, name, value) != NULL
		     : cJSON_AddNullToObject(obj, name) != NULL;
}

static cJSON *make_object(const struct image_json_item *it)
{
	const struct image_row *row = it->row;
	cJSON *img = cJSON_CreateObject();
	if (!img)
		return NULL;
	bool ok = add_or_null(img, "key", row->key) &&
		  add_or_null(img, "owner", row->owner[0] ? row->owner : NULL);
	char *caption = NULL;
	if (ok && it->caption_len) {
		caption = malloc(it->caption_len + 1);
		ok = caption != NULL;
		if (ok) {
			memcpy(caption, it->caption, it->caption_len);
			caption[it->caption_len] = '\0';
		}
	}
	ok = ok && add_or_null(img, "caption", caption);
	free(caption);
	cJSON *tags = ok ? cJSON_AddArrayToObject(img, "tags") : NULL;
	ok = tags != NULL;
	if (ok && it->caption_len) {
		struct hashtags *found = malloc(sizeof(*found));
		ok = found != NULL;
		if (ok)
			hashtags_extract(it->caption, it->caption_len, found);
		for (unsigned i = 0; ok && i < found->n; i++)
			ok = cJSON_AddItemToArray(tags, cJSON_CreateString(found->tags[i].norm));
		free(found);
	}
	ok = ok && cJSON_AddStringToObject(img, "content_type", row->content_type) &&
	     cJSON_AddNumberToObject(img, "size_bytes", (double)row->size_bytes);
	if (ok && row->width && row->height)
		ok = cJSON_AddNumberToObject(img, "width", row->width) &&
		     cJSON_AddNumberToObject(img, "height", row->height);
	else if (ok)
		ok = cJSON_AddNullToObject(img, "width") && cJSON_AddNullToObject(img, "height");
	ok = ok && cJSON_AddStringToObject(img, "sha256", row->sha256) &&
	     cJSON_AddStringToObject(img, "created_at", row->created_at) &&
	     cJSON_AddStringToObject(img, "updated_at", row->updated_at);
	cJSON *thumbs = ok ? cJSON_AddObjectToObject(img, "thumbnails") : NULL;
	for (int i = 0; thumbs && i < VARIANT_SIZE_COUNT; i++)
		if (!cJSON_AddNullToObject(thumbs, variants_size_name((enum variant_size)i)))
			thumbs = NULL;
	if (!thumbs) {
		cJSON_Delete(img);
		return NULL;
	}
	return img;
}

struct thumb_walk {
	cJSON *const *objects;
	const struct image_json_item *items;
	size_t n;
};

/* A thumbnail that exists replaces its null with its URL. */
static void on_variant(void *ctx, const char *sha256, const struct variant *v)
{
	struct thumb_walk *w = ctx;
	const char *size = variants_size_name(v->size);
	char url[THUMB_URL_MAX];
	snprintf(url, sizeof(url), "/thumb/%s/%s", sha256, size);
	for (size_t i = 0; i < w->n; i++) {
		if (strcmp(w->items[i].row->sha256, sha256) != 0)
			continue;
		cJSON *thumbs = cJSON_GetObjectItem(w->objects[i], "thumbnails");
		cJSON *url_item = cJSON_CreateString(url);
		if (thumbs && url_item)
			cJSON_ReplaceItemInObject(thumbs, size, url_item);
		else
			cJSON_Delete(url_item);
	}
}

cJSON *image_json_array(struct app *app, const struct image_json_item *items, size_t n)
{
	cJSON *array = cJSON_CreateArray();
	cJSON **objects = calloc(n ? n : 1, sizeof(*objects));
	const char **shas = calloc(n ? n : 1, sizeof(*shas));
	bool ok = array && objects && shas;
	for (size_t i = 0; ok && i < n; i++) {
		objects[i] = make_object(&items[i]);
		shas[i] = items[i].row->sha256;
		ok = objects[i] && cJSON_AddItemToArray(array, objects[i]);
		if (!ok)
			cJSON_Delete(objects[i]);
	}
	struct db *db = ok ? catalog_db(app->catalog) : NULL;
	struct thumb_walk walk = {objects, items, n};
	/* Without an answer the thumbnails stay null: /raw still serves every image. */
	if (db)
		variants_find_batch(db, shas, n, on_variant, &walk);
	free(objects);
	free(shas);
	if (!ok) {
		cJSON_Delete(array);
		return NULL;
	}
	return array;
}

cJSON *image_json_object(struct app *app, const struct image_row *row, const char *caption,
			 size_t caption_len)
{
	struct image_json_item item = {row, caption, caption_len};
	cJSON *array = image_json_array(app, &item, 1);
	cJSON *img = array ? cJSON_DetachItemFromArray(array, 0) : NULL;
	cJSON_Delete(array);
	return img;
}

struct caption_fill {
	struct image_json_item *items;
	char **copies;
	size_t n;
};

static void on_caption(void *ctx, uint64_t image_id, const char *caption, size_t len)
{
	struct caption_fill *f = ctx;
	for (size_t i = 0; i < f->n; i++) {
		if (f->items[i].row->id != image_id || f->copies[i])
			continue;
		/* The row's text is the database's until the next row: each item keeps a copy. */
		f->copies[i] = malloc(len ? len : 1);
		if (!f->copies[i])
			continue;
		memcpy(f->copies[i], caption, len);
		f->items[i].caption = f->copies[i];
		f->items[i].caption_len = len;
	}
}

cJSON *image_json_rows(struct app *app, const struct image_row *rows, size_t n)
{
	struct image_json_item *items = calloc(n ? n : 1, sizeof(*items));
	char **copies = calloc(n ? n : 1, sizeof(*copies));
	uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	cJSON *array = NULL;
	if (items && copies && ids) {
		for (size_t i = 0; i < n; i++) {
			items[i].row = &rows[i];
			ids[i] = rows[i].id;
		}
		struct caption_fill fill = {items, copies, n};
		struct db *db = catalog_db(app->catalog);
		/* A missing caption would read as none: better no answer than a wrong one. */
		if (db && captions_find_batch(db, ids, n, on_caption, &fill) == DB_OK)
			array = image_json_array(app, items, n);
	}
	for (size_t i = 0; copies && i < n; i++)
		free(copies[i]);
	free(copies);
	free(items);
	free(ids);
	return array;
}
