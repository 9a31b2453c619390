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
#include "frontend/heavy.h"
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
	bool more;
	catalog_page(app->catalog, "", NULL, false, RECENT_IMAGES, page_add_image, recent, &more);
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
	if (!p.status && upload_from_form(req, true, &row, &p)) {
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

/* A page cursor as links carry it: the row's time in ms, ':', the key. */
static bool parse_cursor(const char *text, struct catalog_cursor *cur)
{
	const char *colon = strchr(text, ':');
	size_t keylen = colon ? strlen(colon + 1) : 0;
	if (!colon || keylen > KEY_MAX_BYTES ||
	    !num_parse_u64(text, (size_t)(colon - text), UINT64_MAX / 2, &cur->updated_ms))
		return false;
	memcpy(cur->key, colon + 1, keylen + 1);
	cur->keylen = keylen;
	return true;
}

static void add_cursor(cJSON *data, const char *name, const struct image_row *row)
{
	char text[32 + KEY_MAX_BYTES + 1], url[3 * sizeof(text)];
	snprintf(text, sizeof(text), "%llu:%s", (unsigned long long)row->updated_ms, row->key);
	url_encode(text, strlen(text), url, sizeof(url));
	cJSON_AddStringToObject(data, name, url);
}

struct key_rows {
	cJSON *keys;
	struct image_row first, last;
	unsigned n;
};

static bool on_key_row(void *ctx, const struct image_row *row)
{
	struct key_rows *rows = ctx;
	if (!rows->n++)
		rows->first = *row;
	rows->last = *row;
	return page_add_image(rows->keys, row);
}

/*
 * Pages by keyset: a link names the row it continues from (after: older rows,
 * before: newer ones), so a deep page costs what the first one does and
 * uploads between two clicks neither repeat nor skip a row.
 */
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
	/* Page numbers are from older links; they are checked, and the first page shown. */
	long page = 1;
	const char *page_text = request_arg(req, "page");
	if (page_text && !num_parse_whole(page_text, strlen(page_text), 1, PAGE_MAX, &page)) {
		page_message(data, false, "The page must be a whole number from 1 to 1000000.");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "keys", data);
	}
	const char *after = request_arg(req, "after"), *before = request_arg(req, "before");
	struct catalog_cursor cur;
	const char *cursor_text = after ? after : before;
	if (cursor_text && !parse_cursor(cursor_text, &cur)) {
		page_message(data, false, "That link to a page of keys is damaged; start from the first page.");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "keys", data);
	}
	bool backward = !after && before;
	bool heavy = *filter;
	/* A filter's count reads every key: such pages share the bound of whole lists. */
	if (heavy && !heavy_enter(&app->heavy)) {
		page_message(data, false, "Too many lists are being read; try again in a moment.");
		return reply_page(app, req, MHD_HTTP_SERVICE_UNAVAILABLE, "keys", data);
	}
	struct key_rows rows = {.keys = cJSON_AddArrayToObject(data, "keys")};
	uint64_t total = 0, bytes = 0;
	bool more = false;
	enum db_status status =
		catalog_page(app->catalog, filter, cursor_text ? &cur : NULL, backward, KEYS_PER_PAGE,
			     on_key_row, &rows, &more);
	if (status == DB_OK)
		status = *filter ? catalog_count_matching(app->catalog, filter, &total)
				 : catalog_totals(app->catalog, &total, &bytes);
	if (heavy)
		heavy_leave(&app->heavy);
	if (status != DB_OK) {
		page_message(data, false, "The database does not answer; try again in a moment.");
		return reply_page(app, req, MHD_HTTP_SERVICE_UNAVAILABLE, "keys", data);
	}
	page_add_thumbnails(app, rows.keys);
	cJSON_AddNumberToObject(data, "total", (double)total);
	cJSON_AddBoolToObject(data, "counted", true);
	cJSON_AddBoolToObject(data, "has_keys", rows.n > 0);
	char q[PAGE_KEY_URL_MAX];
	url_encode(filter, strlen(filter), q, sizeof(q));
	cJSON_AddStringToObject(data, "q_url", q);
	/* Newer rows exist before this page when it was reached from one, or read back to. */
	if (rows.n && (backward ? more : cursor_text != NULL))
		add_cursor(data, "newer", &rows.first);
	if (rows.n && (backward || more))
		add_cursor(data, "older", &rows.last);
	return reply_page(app, req, MHD_HTTP_OK, "keys", data);
}

/* Saves the form's capacity and policy; returns the status to answer with. */
