/* page_cache: the cache's pages: its configuration (and clearing it) and its statistics. */
#include "page_cache.h"

#include <stdio.h>
#include <string.h>

#include "common/num.h"
#include "core/cache_client.h"
#include "core/cache_config.h"
#include "core/catalog.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/form.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum {
	STATS_MINUTES = 10,
	CAPACITY_MAX_MB = 4096,
};

static unsigned save_properties(struct app *app, struct request *req, cJSON *data)
{
	size_t capacity_len = 0, policy_len = 0;
	const char *capacity = form_field(req->form, "capacity", &capacity_len);
	const char *policy = form_field(req->form, "policy", &policy_len);
	long mb;
	if (!num_parse_whole(capacity, capacity_len, 0, CAPACITY_MAX_MB, &mb)) {
		page_message(data, false, "Capacity must be a whole number of MB from 0 to 4096.");
		return MHD_HTTP_BAD_REQUEST;
	}
	/* The lengths count too: a form value may hold a NUL, as in "RR%00". */
	if (!policy || policy_len != strlen(policy) ||
	    (strcmp(policy, "LRU") != 0 && strcmp(policy, "RR") != 0)) {
		page_message(data, false, "Choose Least Recently Used or Random Replacement.");
		return MHD_HTTP_BAD_REQUEST;
	}
	if (cache_config_save(catalog_db(app->catalog), mb, policy) != DB_OK) {
		page_message(data, false, "The database does not answer; nothing was saved.");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	page_message(data, true,
		    cache_client_refresh(app->cache) == CACHE_ANSWER_OK
			    ? "Saved; the cache uses it now."
			    : "Saved; the cache does not answer and will use it when it starts.");
	return MHD_HTTP_OK;
}

static unsigned clear_cache(struct app *app, cJSON *data)
{
	long long dropped = 0;
	if (cache_client_clear(app->cache, &dropped) != CACHE_ANSWER_OK) {
		page_message(data, false, "The cache does not answer; nothing was cleared.");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	char message[96];
	snprintf(message, sizeof(message), "Cleared the cache: %lld item%s dropped.", dropped,
		 dropped == 1 ? "" : "s");
	page_message(data, true, message);
	return MHD_HTTP_OK;
}

enum MHD_Result page_cache_properties(struct app *app, struct request *req)
{
	cJSON *data = page_data("Cache configuration", "properties");
	unsigned status = MHD_HTTP_OK;
	if (req->problem.status) {
		status = req->problem.status;
		page_message(data, false, req->problem.message);
	} else if (request_is_post(req) && !auth_admin_ok(app, req, &req->problem)) {
		status = req->problem.status;
		cJSON_AddBoolToObject(data, "admin_needed", true);
		page_message(data, false, req->problem.message);
	} else if (request_is_post(req)) {
		const char *action = form_field(req->form, "action", NULL);
		status = action && strcmp(action, "clear") == 0 ? clear_cache(app, data)
								: save_properties(app, req, data);
	}
	page_add_properties(app, data);
	if (status == MHD_HTTP_BAD_REQUEST) {
		/* Show back what was typed, with the reason it was refused. */
		const char *capacity = form_field(req->form, "capacity", NULL);
		cJSON_ReplaceItemInObject(data, "capacity_mb",
					  cJSON_CreateString(capacity ? capacity : ""));
	}
	page_add_cache_totals(app, data);
	return reply_page(app, req, status, "cache_properties", data);
}

static void add_stats_row(void *ctx, const struct stats_point *sp)
{
	cJSON *row = cJSON_CreateObject();
	if (!row)
		return;
	uint64_t gets = sp->hit_count + sp->miss_count;
	char text[32];
	cJSON_AddStringToObject(row, "at", sp->at);
	cJSON_AddNumberToObject(row, "items", (double)sp->key_count);
	snprintf(text, sizeof(text), "%.2f", sp->cache_size / PAGE_MB);
	cJSON_AddStringToObject(row, "size_mb", text);
	cJSON_AddNumberToObject(row, "requests", (double)sp->request_count);
	if (gets) {
		snprintf(text, sizeof(text), "%.1f%%", 100.0 * sp->hit_count / gets);
		cJSON_AddStringToObject(row, "hit_rate", text);
		snprintf(text, sizeof(text), "%.1f%%", 100.0 * sp->miss_count / gets);
		cJSON_AddStringToObject(row, "miss_rate", text);
	}
	/* Newest first: the table is read from the top. */
	cJSON_InsertItemInArray(ctx, 0, row);
}

enum MHD_Result page_cache_stats(struct app *app, struct request *req)
{
	cJSON *data = page_data("Cache statistics", "stats");
	cJSON *rows = cJSON_AddArrayToObject(data, "rows");
	if (catalog_stats_since(app->catalog, STATS_MINUTES, add_stats_row, rows) != DB_OK)
		page_message(data, false, "The database does not answer; try again in a moment.");
	cJSON_AddBoolToObject(data, "has_rows", cJSON_GetArraySize(rows) > 0);
	page_add_properties(app, data);
	page_add_cache_totals(app, data);
	return reply_page(app, req, MHD_HTTP_OK, "cache_stats", data);
}

/*
 * The database does not answer, but memcache may hold the image: send its bytes,
 * typed by their sniffed type, without the row's ETag (so nothing is cached long).
 */
