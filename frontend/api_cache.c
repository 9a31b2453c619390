/* api_cache: GET /api/stats, the cache statistics rows and memcache's totals. */
#include "api_cache.h"

#include <string.h>

#include "common/http.h"
#include "common/num.h"
#include "core/cache_client.h"
#include "core/catalog.h"
#include "frontend/app.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum { STATS_DEFAULT_MINUTES = 10, STATS_MAX_MINUTES = 24 * 60 };

static void add_point(void *ctx, const struct stats_point *sp)
{
	cJSON *point = cJSON_CreateObject();
	if (!point)
		return;
	cJSON_AddStringToObject(point, "at", sp->at);
#define ADD_FIELD(name) cJSON_AddNumberToObject(point, #name, (double)sp->name);
	CACHE_STATS_FIELDS(ADD_FIELD)
#undef ADD_FIELD
	cJSON_AddItemToArray(ctx, point);
}

enum MHD_Result api_stats(struct app *app, struct request *req)
{
	const char *text = request_arg(req, "minutes");
	long minutes = STATS_DEFAULT_MINUTES;
	if (text && !num_parse_whole(text, strlen(text), 1, STATS_MAX_MINUTES, &minutes))
		return reply_error(app, req, 400, "minutes must be a whole number from 1 to 1440");
	cJSON *root = http_success_object();
	cJSON *rows = cJSON_AddArrayToObject(root, "rows");
	if (!rows) {
		cJSON_Delete(root);
		return reply_error(app, req, 500, "out of memory");
	}
	if (catalog_stats_since(app->catalog, (unsigned)minutes, add_point, rows) != DB_OK) {
		cJSON_Delete(root);
		return reply_error(app, req, 503, "the database does not answer; try again in a moment");
	}
	/* memcache's own totals since it started, or null while it does not answer. */
	cJSON *cache = NULL;
	if (cache_client_stats(app->cache, &cache) != CACHE_ANSWER_OK) {
		cJSON_Delete(cache);
		cache = cJSON_CreateNull();
	}
	cJSON_AddItemToObject(root, "cache", cache);
	return reply_json(req, MHD_HTTP_OK, root);
}
