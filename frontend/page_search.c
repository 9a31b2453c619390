/* page_search: /search?q= and GET /api/search, a page of images that match, newest first. */
#include "page_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/log.h"
#include "common/num.h"
#include "common/url.h"
#include "core/captions.h"
#include "core/catalog.h"
#include "core/search.h"
#include "frontend/app.h"
#include "frontend/caption_view.h"
#include "frontend/image_json.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum { SEARCH_PAGE_MAX = 50, QUERY_URL_MAX = 3 * SEARCH_QUERY_MAX + 1 };

/* One page's images with their captions. */
struct results {
	struct image_row rows[SEARCH_PER_PAGE];
	char *captions[SEARCH_PER_PAGE];
	size_t caption_lens[SEARCH_PER_PAGE];
	uint64_t ids[SEARCH_PER_PAGE];
	size_t n;
};

static void on_caption(void *ctx, uint64_t image_id, const char *caption, size_t len)
{
	struct results *r = ctx;
	for (size_t i = 0; i < r->n; i++) {
		if (r->ids[i] != image_id || r->captions[i])
			continue;
		r->captions[i] = malloc(len + 1);
		if (r->captions[i]) {
			memcpy(r->captions[i], caption, len);
			r->captions[i][len] = '\0';
			r->caption_lens[i] = len;
		}
	}
}

/* The rows of the page's ids; an image deleted since the search is left out. */
static enum db_status load_results(struct app *app, const struct search_page *page, struct results *r)
{
	for (size_t i = 0; i < page->n; i++) {
		bool found = false;
		enum db_status s = catalog_find_by_id(app->catalog, page->ids[i], &r->rows[r->n], &found);
		if (s != DB_OK)
			return s;
		if (found)
			r->ids[r->n++] = page->ids[i];
	}
	struct db *db = catalog_db(app->catalog);
	return db ? captions_find_batch(db, r->ids, r->n, on_caption, r) : DB_FAILED;
}

static void free_results(struct results *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->captions[i]);
}

/* A grid entry: the image page's fields and the caption, shortened, with its tags as links. */
static cJSON *page_entry(const struct image_row *row, const char *caption, size_t caption_len)
{
	cJSON *img = page_image_json(row);
	if (img && caption && !caption_view_add(img, caption, caption_len, CAPTION_VIEW_SHORT)) {
		cJSON_Delete(img);
		return NULL;
	}
	return img;
}

struct args {
	const char *q;
	size_t qlen;
	uint64_t cursor;
	long page;
};

static bool read_args(struct request *req, struct args *a, char *err, size_t errlen)
{
	a->q = request_arg(req, "q");
	a->qlen = a->q ? strlen(a->q) : 0;
	a->cursor = 0;
	a->page = 1;
	const char *cursor = request_arg(req, "cursor");
	const char *page = request_arg(req, "page");
	if (cursor && (!num_parse_u64(cursor, strlen(cursor), UINT64_MAX, &a->cursor) || !a->cursor)) {
		snprintf(err, errlen, "cursor must be the number a previous page gave as next");
		return false;
	}
	if (page && !num_parse_whole(page, strlen(page), 1, SEARCH_PAGE_MAX, &a->page)) {
		snprintf(err, errlen, "page must be a whole number from 1 to %d", SEARCH_PAGE_MAX);
		return false;
	}
	return true;
}

static unsigned parse_status(enum search_parse_result r)
{
	return r == SEARCH_NO_MEMORY ? 503 : 400;
}

static enum MHD_Result answer_api(struct app *app, struct request *req, const struct args *a,
				  const struct search_page *page, const struct results *r)
{
	struct image_json_item items[SEARCH_PER_PAGE];
	for (size_t i = 0; i < r->n; i++)
		items[i] = (struct image_json_item){&r->rows[i], r->captions[i], r->caption_lens[i]};
	cJSON *list = image_json_array(app, items, r->n);
	if (!list)
		return reply_error(app, req, 503, "out of memory; try again in a moment");
	cJSON *ok = http_success_object();
	cJSON_AddItemToObject(ok, "results", list);
	cJSON_AddNumberToObject(ok, "page", a->page);
	cJSON_AddBoolToObject(ok, "more", page->more);
	if (page->more) {
		char next[24];
		snprintf(next, sizeof(next), "%llu", (unsigned long long)page->next);
		cJSON_AddStringToObject(ok, "next", next);
	} else {
		cJSON_AddNullToObject(ok, "next");
	}
	return reply_json(req, MHD_HTTP_OK, ok);
}

static enum MHD_Result answer_page(struct app *app, struct request *req, const struct args *a,
				   const struct search_page *page, const struct results *r,
				   unsigned status, const char *error)
{
	cJSON *data = page_data("Search", "search");
	cJSON_AddStringToObject(data, "q", a->q ? a->q : "");
	if (error)
		page_message(data, false, error);
	bool searched = a->qlen > 0 && !error;
	cJSON *images = cJSON_AddArrayToObject(data, "results");
	for (size_t i = 0; searched && i < r->n; i++)
		cJSON_AddItemToArray(images, page_entry(&r->rows[i], r->captions[i], r->caption_lens[i]));
	page_add_thumbnails(app, images);
	cJSON_AddBoolToObject(data, "has_results", searched && r->n > 0);
	cJSON_AddBoolToObject(data, "no_results", searched && r->n == 0 && !page->more);
	if (searched && page->more) {
		char q_url[QUERY_URL_MAX], next[QUERY_URL_MAX + 64];
		url_encode(a->q, a->qlen, q_url, sizeof(q_url));
		snprintf(next, sizeof(next), "/search?q=%s&cursor=%llu&page=%ld", q_url,
			 (unsigned long long)page->next, a->page + 1);
		cJSON_AddStringToObject(data, "next_url", next);
	}
	if (searched && a->page > 1)
		cJSON_AddNumberToObject(data, "page", a->page);
	return reply_page(app, req, status, "search", data);
}

enum MHD_Result page_search(struct app *app, struct request *req)
{
	char err[160];
	struct args a;
	struct search_page page = {0};
	struct results r = {0};
	bool api = request_is_api(req);
	if (!read_args(req, &a, err, sizeof(err)))
		return api ? reply_error(app, req, 400, err)
			   : answer_page(app, req, &a, &page, &r, 400, err);
	if (a.qlen == 0)
		return api ? reply_error(app, req, 400, "q must say what to search for")
			   : answer_page(app, req, &a, &page, &r, MHD_HTTP_OK, NULL);
	struct search_query q;
	enum search_parse_result pr = search_parse(a.q, a.qlen, &q, err, sizeof(err));
	if (pr != SEARCH_PARSED) {
		search_query_free(&q);
		/* The page keeps what was typed only when it can be shown again. */
		if (pr == SEARCH_BAD_UTF8 || pr == SEARCH_TOO_LONG) {
			a.q = NULL;
			a.qlen = 0;
		}
		return api ? reply_error(app, req, parse_status(pr), err)
			   : answer_page(app, req, &a, &page, &r, parse_status(pr), err);
	}
	struct db *db = catalog_db(app->catalog);
	size_t skip = a.cursor ? 0 : (size_t)(a.page - 1) * SEARCH_PER_PAGE;
	enum db_status s = db ? search_run(db, &q, a.cursor, skip, &page) : DB_FAILED;
	search_query_free(&q);
	if (s == DB_OK)
		s = load_results(app, &page, &r);
	enum MHD_Result ret;
	if (s != DB_OK) {
		log_warn("search: %s", db ? db_error(db) : "no database connection");
		ret = reply_error(app, req, 503, "the database does not answer; try again in a moment");
	} else if (api) {
		ret = answer_api(app, req, &a, &page, &r);
	} else {
		ret = answer_page(app, req, &a, &page, &r, MHD_HTTP_OK, NULL);
	}
	free_results(&r);
	return ret;
}
