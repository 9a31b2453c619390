/* api_images: the JSON API of images that ECE1779 clients speak: upload, list_keys, key. */
#include "api_images.h"

#include <string.h>

#include "common/http.h"
#include "core/catalog.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"
#include "frontend/reply.h"
#include "frontend/request.h"
#include "frontend/upload.h"

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

