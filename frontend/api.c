/* api: the JSON API that ECE1779 clients speak: upload, list_keys, key, and stats. */
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "frontend/app.h"
#include "core/cache_client.h"
#include "core/catalog.h"
#include "common/num.h"
#include "core/key.h"

enum { STATS_DEFAULT_MINUTES = 10, STATS_MAX_MINUTES = 24 * 60 };

/* The checked key of an upload form; false with p filled. */
static bool form_key(const struct request *req, const char **key, size_t *len, struct problem *p)
{
	*key = form_field(req->form, "key", len);
	if (!*key)
		return problem_set(p, 400, "the form has no 'key' field; give the image a key");
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(*key, *len, err, sizeof(err)))
		return problem_set(p, 400, "%s", err);
	return true;
}

bool upload_from_form(struct request *req, struct image_row *row, struct problem *p)
{
	const char *key;
	size_t keylen;
	if (!form_key(req, &key, &keylen, p))
		return false;
	if (!form_has_file(req->form) || form_file_bytes(req->form) == 0)
		return problem_set(p, 400, form_has_file(req->form)
						   ? "the file is empty; choose an image file"
						   : "the form has no 'file' field; attach an image");
	struct images_upload *upload = req->upload;
	req->upload = NULL;
	struct outcome o;
	if (images_upload_commit(upload, key, keylen, row, &o))
		return true;
	problem_from_outcome(p, &o);
	return false;
}

enum MHD_Result api_upload(struct app *app, struct request *req)
{
	struct image_row row;
	struct problem p;
	if (!upload_from_form(req, &row, &p))
		return reply_problem(app, req, &p);
	return reply_json(req, MHD_HTTP_OK, http_success_object());
}

static bool add_key(void *ctx, const struct image_row *row)
{
	return cJSON_AddItemToArray(ctx, cJSON_CreateString(row->key));
}

enum MHD_Result api_list_keys(struct app *app, struct request *req)
{
	cJSON *root = http_success_object();
	cJSON *keys = cJSON_AddArrayToObject(root, "keys");
	if (!keys) {
		cJSON_Delete(root);
		return reply_error(app, req, 500, "out of memory");
	}
	if (catalog_all(app->catalog, add_key, keys) != DB_OK) {
		cJSON_Delete(root);
		return reply_error(app, req, 503, "the database does not answer; try again in a moment");
	}
	return reply_json(req, MHD_HTTP_OK, root);
}

enum MHD_Result api_key(struct app *app, struct request *req)
{
	const char *key = req->path_arg;
	size_t keylen = strlen(key);
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err)))
		return reply_error(app, req, 400, err);
	struct buf answer = BUF_INIT;
	struct outcome o;
	if (!images_read_json(app->images, key, keylen, &answer, &o)) {
		buf_free(&answer);
		return reply_outcome(app, req, &o);
	}
	struct MHD_Response *r = http_response_buf(&answer, "application/json");
	buf_free(&answer);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return http_queue(req->conn, MHD_HTTP_OK, r);
}

static void add_point(void *ctx, const struct stats_point *sp)
{
	cJSON *point = cJSON_CreateObject();
	if (!point)
		return;
	cJSON_AddStringToObject(point, "at", sp->at);
	cJSON_AddNumberToObject(point, "cache_size", (double)sp->cache_size);
	cJSON_AddNumberToObject(point, "key_count", (double)sp->key_count);
	cJSON_AddNumberToObject(point, "request_count", (double)sp->request_count);
	cJSON_AddNumberToObject(point, "hit_count", (double)sp->hit_count);
	cJSON_AddNumberToObject(point, "miss_count", (double)sp->miss_count);
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
