/* page_images: the pages of images: home (the feed), upload, an image and its caption, the list of keys. */
#include "page_images.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/num.h"
#include "common/url.h"
#include "core/captions.h"
#include "core/catalog.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"
#include "frontend/caption_edit.h"
#include "frontend/caption_view.h"
#include "frontend/form.h"
#include "frontend/heavy.h"
#include "frontend/page.h"
#include "frontend/page_delete.h"
#include "frontend/page_jobs.h"
#include "frontend/reply.h"
#include "frontend/request.h"
#include "frontend/upload.h"

enum {
	FEED_IMAGES = 20,
	KEYS_PER_PAGE = 100,
	PAGE_MAX = 1000000,
};

/* A page's image entry with its caption, shortened or whole, and its tags. */
static cJSON *captioned_json(const struct image_row *row, const char *caption, size_t len,
			     size_t short_chars)
{
	cJSON *img = page_image_json(row);
	if (img && !caption_view_add(img, caption, len, short_chars)) {
		cJSON_Delete(img);
		return NULL;
	}
	return img;
}

struct feed {
	cJSON *images;
	uint64_t last_id;
	unsigned n;
};

static bool on_feed_row(void *ctx, const struct image_row *row, const char *caption, size_t len)
{
	struct feed *f = ctx;
	f->last_id = row->id;
	f->n++;
	return cJSON_AddItemToArray(f->images, captioned_json(row, caption, len, CAPTION_VIEW_SHORT));
}

bool page_add_feed(struct app *app, cJSON *data, const char *tag, size_t taglen,
		   const char *before_text, unsigned *shown)
{
	*shown = 0;
	uint64_t before = 0;
	if (before_text && !num_parse_u64(before_text, strlen(before_text), UINT64_MAX / 2, &before))
		return false;
	struct feed f = {cJSON_AddArrayToObject(data, "recent"), 0, 0};
	bool more = false;
	enum db_status s = catalog_newest_page(app->catalog, tag, taglen, before, FEED_IMAGES,
					       on_feed_row, &f, &more);
	if (s != DB_OK)
		page_message(data, false, "The database does not answer; try again in a moment.");
	page_add_thumbnails(app, f.images);
	cJSON_AddBoolToObject(data, "has_recent", f.n > 0);
	if (more && f.n) {
		char next[24];
		snprintf(next, sizeof(next), "%llu", (unsigned long long)f.last_id);
		cJSON_AddStringToObject(data, "older", next);
	}
	if (before_text)
		cJSON_AddBoolToObject(data, "paged", true);
	*shown = f.n;
	return true;
}

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
	unsigned shown;
	/* Newest first by upload number; "before" names the last image of the page before. */
	if (!page_add_feed(app, data, NULL, 0, request_arg(req, "before"), &shown)) {
		static const char damaged[] =
			"That link to older images is damaged; start from the newest.";
		page_message(data, false, damaged);
		return reply_page_refusal(app, req, MHD_HTTP_BAD_REQUEST, "home", data, damaged);
	}
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
	const char *caption = request_is_post(req) && req->form
				      ? form_field(req->form, "caption", NULL) : NULL;
	cJSON_AddStringToObject(data, "caption", caption ? caption : "");
	cJSON_AddNumberToObject(data, "caption_max", CAPTIONS_CHARS_MAX);
	if (!request_is_post(req))
		return reply_page(app, req, MHD_HTTP_OK, "upload", data);
	struct problem p = req->problem;
	struct image_row row;
	enum upload_result r = p.status ? UPLOAD_REFUSED : upload_from_form(app, req, true, &row, &p);
	if (r == UPLOAD_WAITING) {
		cJSON_Delete(data);
		return MHD_YES;
	}
	if (r == UPLOAD_STORED) {
		cJSON_AddItemToObject(data, "uploaded", page_image_json(&row));
		page_message(data, true, "Uploaded.");
		return reply_page(app, req, MHD_HTTP_OK, "upload", data);
	}
	page_message(data, false, p.message);
	return reply_page(app, req, p.status, "upload", data);
}

/*
 * The image page of key, with its caption and, for those who may change it,
 * the edit form (showing typed, when given, instead of the stored caption).
 */
static enum MHD_Result show_image(struct app *app, struct request *req, cJSON *data,
				  const char *key, size_t keylen, unsigned status,
				  const char *typed)
{
	struct image_row row;
	struct buf caption = BUF_INIT;
	bool found = false;
	if (catalog_find_captioned(app->catalog, key, keylen, &row, &caption, &found) != DB_OK) {
		buf_free(&caption);
		page_message(data, false, "The database does not answer; try again in a moment.");
		return reply_page(app, req, MHD_HTTP_SERVICE_UNAVAILABLE, "image", data);
	}
	if (!found) {
		buf_free(&caption);
		char message[PROBLEM_MESSAGE_MAX];
		snprintf(message, sizeof(message), "no image with key '%.*s'", (int)keylen, key);
		page_message(data, false, message);
		return reply_page(app, req, MHD_HTTP_NOT_FOUND, "image", data);
	}
	cJSON *image = captioned_json(&row, caption.data, caption.len, 0);
	buf_free(&caption);
	cJSON_AddItemToObject(data, "image", image);
	if (image && caption_edit_allowed(app, req, &row)) {
		cJSON *edit = cJSON_AddObjectToObject(image, "caption_edit");
		const char *shown = typed ? typed
				  : cJSON_GetStringValue(cJSON_GetObjectItem(image, "caption"));
		cJSON_AddStringToObject(edit, "text", shown ? shown : "");
		cJSON_AddNumberToObject(edit, "max", CAPTIONS_CHARS_MAX);
	}
	page_add_thumbnails(app, image);
	page_jobs_add_enhance(app, req, image,
			      cJSON_GetStringValue(cJSON_GetObjectItem(image, "key_url")));
	page_delete_offer(app, req, image, &row);
	return reply_page(app, req, status, "image", data);
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
	if (request_arg(req, "captioned"))
		page_message(data, true, "Caption saved.");
	return show_image(app, req, data, key, keylen, MHD_HTTP_OK, NULL);
}

enum MHD_Result page_caption(struct app *app, struct request *req)
{
	cJSON *data = page_data("Find an image", "image");
	size_t keylen = 0, len = 0;
	const char *key = req->form ? form_field(req->form, "key", &keylen) : NULL;
	const char *caption = req->form ? form_field(req->form, "caption", &len) : NULL;
	cJSON_AddStringToObject(data, "key", key ? key : "");
	char err[PROBLEM_MESSAGE_MAX];
	struct problem p = req->problem;
	if (!p.status && !key)
		problem_set(&p, 400, "the form has no 'key' field");
	else if (!p.status && !key_is_valid(key, keylen, err, sizeof(err)))
		problem_set(&p, 400, "%s", err);
	else if (!p.status && !caption)
		problem_set(&p, 400, "the form has no 'caption' field");
	struct image_row row;
	if (!p.status && caption_edit(app, req, key, keylen, caption, len, &row, &p)) {
		/* After the POST, a GET: reloading the page does not send the form again. */
		char url_key[PAGE_KEY_URL_MAX], location[sizeof(url_key) + 64];
		url_encode(key, keylen, url_key, sizeof(url_key));
		snprintf(location, sizeof(location), "/image?key=%s&captioned=1", url_key);
		cJSON_Delete(data);
		return reply_redirect(req, location);
	}
	page_message(data, false, p.message);
	if (!key || p.status == 404 || !key_is_valid(key, keylen, NULL, 0))
		return reply_page(app, req, p.status, "image", data);
	/* The form comes back with what was typed, so nothing is lost to a refusal. */
	return show_image(app, req, data, key, keylen, p.status, caption);
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
	switch (heavy ? heavy_enter(app->heavy, req->conn, &req->heavy) : HEAVY_GO) {
	case HEAVY_GO:
		break;
	case HEAVY_WAIT:
		cJSON_Delete(data);
		/* libmicrohttpd calls the handler again when its turn comes or its wait is over. */
		req->answered = false;
		return MHD_YES;
	case HEAVY_BUSY:
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
		heavy_leave(app->heavy);
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
