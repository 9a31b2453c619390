/* page: what the HTML pages share: their data, messages, image entries and cache figures. */
#include "page.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/url.h"
#include "core/cache_client.h"
#include "core/cache_config.h"
#include "core/catalog.h"
#include "core/variants.h"
#include "frontend/app.h"

void page_human_size(uint64_t bytes, char *out, size_t size)
{
	if (bytes < 1024)
		snprintf(out, size, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1048576)
		snprintf(out, size, "%.1f KB", bytes / 1024.0);
	else
		snprintf(out, size, "%.1f MB", bytes / PAGE_MB);
}

/* Page data with the title and the navigation entry to mark as current. */
cJSON *page_data(const char *title, const char *nav)
{
	cJSON *data = cJSON_CreateObject();
	if (!data)
		return NULL;
	cJSON_AddStringToObject(data, "title", title);
	char name[32];
	snprintf(name, sizeof(name), "nav_%s", nav);
	cJSON_AddBoolToObject(data, name, true);
	return data;
}

void page_message(cJSON *data, bool ok, const char *message)
{
	cJSON_AddStringToObject(data, ok ? "success" : "error", message);
}

cJSON *page_image_json(const struct image_row *row)
{
	cJSON *img = cJSON_CreateObject();
	if (!img)
		return NULL;
	char url_key[PAGE_KEY_URL_MAX], size[32];
	url_encode(row->key, row->keylen, url_key, sizeof(url_key));
	page_human_size(row->size_bytes, size, sizeof(size));
	cJSON_AddStringToObject(img, "key", row->key);
	cJSON_AddStringToObject(img, "key_url", url_key);
	cJSON_AddStringToObject(img, "content_type", row->content_type);
	cJSON_AddStringToObject(img, "size", size);
	cJSON_AddNumberToObject(img, "size_bytes", (double)row->size_bytes);
	cJSON_AddStringToObject(img, "uploaded_at", row->updated_at);
	if (row->owner[0])
		cJSON_AddStringToObject(img, "owner", row->owner);
	if (row->width && row->height) {
		cJSON_AddNumberToObject(img, "width", row->width);
		cJSON_AddNumberToObject(img, "height", row->height);
	}
	cJSON_AddStringToObject(img, "sha256", row->sha256);
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++) {
		const char *vs = variants_size_name((enum variant_size)i);
		char url[96], name[16];
		snprintf(url, sizeof(url), "/thumb/%s/%s", row->sha256, vs);
		snprintf(name, sizeof(name), "thumb_%s", vs);
		cJSON_AddStringToObject(img, name, url);
	}
	/* Until the thumbnails exist, their sizes as the row's dimensions predict them. */
	for (int i = 0; row->width && row->height && i < VARIANT_SIZE_COUNT; i++) {
		enum variant_size vs = (enum variant_size)i;
		unsigned px = variants_size_px(vs), w = row->width, h = row->height;
		unsigned longest = w > h ? w : h;
		if (longest > px) {
			w = (unsigned)((double)w * px / longest + 0.5);
			h = (unsigned)((double)h * px / longest + 0.5);
		}
		page_set_thumbnail_size(img, vs, w ? w : 1, h ? h : 1);
	}
	return img;
}

void page_set_thumbnail_size(cJSON *img, enum variant_size size, unsigned width, unsigned height)
{
	char name[32];
	const char *fields[] = {"width", "height"};
	unsigned values[] = {width, height};
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "thumb_%s_%s", variants_size_name(size), fields[i]);
		cJSON_DeleteItemFromObject(img, name);
		cJSON_AddNumberToObject(img, name, values[i]);
	}
}

struct thumb_walk {
	cJSON *const *items;
	size_t n;
};

static void on_variant(void *ctx, const char *sha256, const struct variant *v)
{
	struct thumb_walk *walk = ctx;
	for (size_t i = 0; i < walk->n; i++) {
		const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(walk->items[i], "sha256"));
		if (sha && strcmp(sha, sha256) == 0)
			page_set_thumbnail_size(walk->items[i], v->size, v->width, v->height);
	}
}

void page_add_thumbnails(struct app *app, cJSON *images)
{
	enum { GRID_MAX = 256 };
	cJSON *items[GRID_MAX];
	const char *shas[GRID_MAX];
	size_t n = 0;
	cJSON *img;
	cJSON *list = cJSON_IsArray(images) ? images : NULL;
	cJSON_ArrayForEach(img, list) {
		const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(img, "sha256"));
		if (!sha || n == GRID_MAX)
			continue;
		items[n] = img;
		shas[n++] = sha;
	}
	if (cJSON_IsObject(images)) {
		items[0] = images;
		shas[0] = cJSON_GetStringValue(cJSON_GetObjectItem(images, "sha256"));
		n = shas[0] != NULL;
	}
	struct db *db = catalog_db(app->catalog);
	struct thumb_walk walk = {items, n};
	/* Without an answer the predicted sizes stand: the tiles still show. */
	if (db)
		variants_find_batch(db, shas, n, on_variant, &walk);
}

bool page_add_image(void *ctx, const struct image_row *row)
{
	return cJSON_AddItemToArray(ctx, page_image_json(row));
}

/* The configuration in force: the newest row, or what memcache uses without one. */
void page_add_properties(struct app *app, cJSON *data)
{
	struct cache_config props;
	bool found = false;
	cache_config_load(catalog_db(app->catalog), &props, &found);
	cJSON_AddNumberToObject(data, "capacity_mb",
				found ? props.capacity_mb : CACHE_DEFAULT_CAPACITY_MB);
	bool rr = found && strcmp(props.policy, "RR") == 0;
	cJSON_AddStringToObject(data, "policy_name",
				rr ? "Random Replacement" : "Least Recently Used");
	cJSON_AddBoolToObject(data, rr ? "policy_rr" : "policy_lru", true);
	if (found)
		cJSON_AddStringToObject(data, "set_at", props.set_at);
}

/* memcache's totals since start, or a note that it does not answer. */
void page_add_cache_totals(struct app *app, cJSON *data)
{
	cJSON *stats = NULL;
	if (cache_client_stats(app->cache, &stats) == CACHE_ANSWER_OK && stats) {
		cJSON_AddItemToObject(data, "cache", stats);
		cJSON *bytes = cJSON_GetObjectItem(stats, "bytes");
		char size[32];
		page_human_size(cJSON_IsNumber(bytes) ? (uint64_t)bytes->valuedouble : 0, size,
			    sizeof(size));
		cJSON_AddStringToObject(stats, "size", size);
		cJSON *capacity = cJSON_GetObjectItem(stats, "capacity_bytes");
		page_human_size(cJSON_IsNumber(capacity) ? (uint64_t)capacity->valuedouble : 0, size,
			    sizeof(size));
		cJSON_AddStringToObject(stats, "capacity", size);
	} else {
		cJSON_Delete(stats);
		cJSON_AddBoolToObject(data, "cache_down", true);
	}
}

