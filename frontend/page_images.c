/* page_images: the pages of images: home, upload, find an image, the list of keys. */
#include "page_images.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/num.h"
#include "common/url.h"
#include "core/catalog.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"
#include "frontend/form.h"
#include "frontend/page.h"
#include "frontend/page_jobs.h"
#include "frontend/reply.h"
#include "frontend/request.h"
#include "frontend/upload.h"

enum {
	RECENT_IMAGES = 12,
	KEYS_PER_PAGE = 100,
	PAGE_MAX = 1000000,
};

enum MHD_Result page_home(struct app *app, struct request *req)
{
	cJSON *data = page_data("Gallery", "home");
	uint64_t count = 0, bytes = 0;
	if (catalog_totals(app->catalog, &count, &bytes) != DB_OK)
		page_message(data, false, "The database does not answer; try again in a moment.");
	char size[32];
	page_human_size(bytes, size, sizeof(size));
	cJSON_AddNumberToObject(data, "count", (double)count);
	cJSON_AddStringToObject(data, "total_size", size);
	page_add_properties(app, data);
	page_add_cache_totals(app, data);
	cJSON *recent = cJSON_AddArrayToObject(data, "recent");
	uint64_t total;
	catalog_page(app->catalog, "", 0, RECENT_IMAGES, page_add_image, recent, &total);
	page_add_thumbnails(app, recent);
	cJSON_AddBoolToObject(data, "has_recent", cJSON_GetArraySize(recent) > 0);
	return reply_page(app, req, MHD_HTTP_OK, "home", data);
}

enum MHD_Result page_upload(struct app *app, struct request *req)
{
	cJSON *data = page_data("Upload an image", "upload");
	cJSON_AddNumberToObject(data, "max_upload_mb", (double)app->cfg->max_upload_mb);
	size_t keylen = 0;
	const char *key = request_is_post(req) && req->form ? form_field(req->form, "key", &keylen)
							     : NULL;
	/* The form shows back the key typed; an empty field before the first post. */
	cJSON_AddStringToObject(data, "key", key ? key : "");
	if (!request_is_post(req))
		return reply_page(app, req, MHD_HTTP_OK, "upload", data);
	struct problem p = req->problem;
	struct image_row row;
	if (!p.status && upload_from_form(req, &row, &p)) {
		cJSON_AddItemToObject(data, "uploaded", page_image_json(&row));
		page_message(data, true, "Uploaded.");
		return reply_page(app, req, MHD_HTTP_OK, "upload", data);
	}
	page_message(data, false, p.message);
	return reply_page(app, req, p.status, "upload", data);
}

enum MHD_Result page_image(struct app *app, struct request *req)
{
	cJSON *data = page_data("Find an image", "image");
	size_t keylen = 0;
	const char *key = request_is_post(req) && req->form ? form_field(req->form, "key", &keylen)
							     : request_arg(req, "key");
	cJSON_AddStringToObject(data, "key", key && !req->problem.status ? key : "");
	if (req->problem.status) {
		page_message(data, false, req->problem.message);
		return reply_page(app, req, req->problem.status, "image", data);
	}
	if (!key)
		return reply_page(app, req, MHD_HTTP_OK, "image", data);
	if (!request_is_post(req))
		keylen = strlen(key);
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err))) {
		page_message(data, false, err);
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "image", data);
	}
	struct image_row row;
	struct outcome o;
	if (!images_find(app->images, key, keylen, &row, &o)) {
		page_message(data, false, o.message);
		return reply_page(app, req, problem_status_of(o.code), "image", data);
	}
	cJSON *image = page_image_json(&row);
	cJSON_AddItemToObject(data, "image", image);
	page_add_thumbnails(app, image);
	page_jobs_add_enhance(app, req, image,
			      cJSON_GetStringValue(cJSON_GetObjectItem(image, "key_url")));
	return reply_page(app, req, MHD_HTTP_OK, "image", data);
}

static void add_pager(cJSON *data, long page, uint64_t total, const char *filter)
{
	long pages = (long)((total + KEYS_PER_PAGE - 1) / KEYS_PER_PAGE);
	char q[PAGE_KEY_URL_MAX];
	url_encode(filter, strlen(filter), q, sizeof(q));
	cJSON_AddStringToObject(data, "q_url", q);
	cJSON_AddNumberToObject(data, "page", (double)page);
	cJSON_AddNumberToObject(data, "pages", (double)(pages ? pages : 1));
	if (page > 1)
		cJSON_AddNumberToObject(data, "prev_page", (double)(page - 1));
	if (page < pages)
		cJSON_AddNumberToObject(data, "next_page", (double)(page + 1));
}

enum MHD_Result page_keys(struct app *app, struct request *req)
{
	cJSON *data = page_data("All keys", "keys");
	const char *filter = request_arg(req, "q");
	if (!filter)
		filter = "";
	cJSON_AddStringToObject(data, "q", filter);
	if (strlen(filter) > KEY_MAX_BYTES) {
		page_message(data, false, "The filter is longer than a key can be (255 bytes).");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "keys", data);
	}
	long page = 1;
	const char *page_text = request_arg(req, "page");
	if (page_text && !num_parse_whole(page_text, strlen(page_text), 1, PAGE_MAX, &page)) {
		page_message(data, false, "The page must be a whole number from 1 to 1000000.");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "keys", data);
	}
	cJSON *keys = cJSON_AddArrayToObject(data, "keys");
	uint64_t total = 0;
	if (catalog_page(app->catalog, filter, (uint64_t)(page - 1) * KEYS_PER_PAGE, KEYS_PER_PAGE,
			 page_add_image, keys, &total) != DB_OK) {
		page_message(data, false, "The database does not answer; try again in a moment.");
		return reply_page(app, req, MHD_HTTP_SERVICE_UNAVAILABLE, "keys", data);
	}
	page_add_thumbnails(app, keys);
	cJSON_AddNumberToObject(data, "total", (double)total);
	cJSON_AddBoolToObject(data, "has_keys", cJSON_GetArraySize(keys) > 0);
	add_pager(data, page, total, filter);
	return reply_page(app, req, MHD_HTTP_OK, "keys", data);
}

/* Saves the form's capacity and policy; returns the status to answer with. */
