/* page: what the HTML pages share: their data, messages, image entries and cache figures. */
#include "page.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/url.h"
#include "core/cache_client.h"
#include "core/cache_config.h"
#include "core/catalog.h"
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
	return img;
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

