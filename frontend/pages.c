/* pages: the HTML pages, /raw image bytes, /healthz and /static files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/http.h"
#include "common/log.h"
#include "frontend/app.h"
#include "core/cache_client.h"
#include "core/catalog.h"
#include "common/num.h"
#include "common/url.h"
#include "core/imagetype.h"
#include "core/key.h"

enum {
	RECENT_IMAGES = 12,
	KEYS_PER_PAGE = 100,
	STATS_MINUTES = 10,
	CAPACITY_MAX_MB = 4096,
	KEY_URL_MAX = 3 * KEY_MAX_BYTES + 1,
	PATH_MAX_BYTES = 1024,
	PAGE_MAX = 1000000,
};

static const double MB = 1048576.0;

static void human_size(uint64_t bytes, char *out, size_t size)
{
	if (bytes < 1024)
		snprintf(out, size, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1048576)
		snprintf(out, size, "%.1f KB", bytes / 1024.0);
	else
		snprintf(out, size, "%.1f MB", bytes / MB);
}

/* Page data with the title and the navigation entry to mark as current. */
static cJSON *page_data(const char *title, const char *nav)
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

static void set_message(cJSON *data, bool ok, const char *message)
{
	cJSON_AddStringToObject(data, ok ? "success" : "error", message);
}

static cJSON *image_json(const struct image_row *row)
{
	cJSON *img = cJSON_CreateObject();
	if (!img)
		return NULL;
	char url_key[KEY_URL_MAX], size[32];
	url_encode(row->key, row->keylen, url_key, sizeof(url_key));
	human_size(row->size_bytes, size, sizeof(size));
	cJSON_AddStringToObject(img, "key", row->key);
	cJSON_AddStringToObject(img, "key_url", url_key);
	cJSON_AddStringToObject(img, "content_type", row->content_type);
	cJSON_AddStringToObject(img, "size", size);
	cJSON_AddNumberToObject(img, "size_bytes", (double)row->size_bytes);
	cJSON_AddStringToObject(img, "uploaded_at", row->updated_at);
	if (row->width && row->height) {
		cJSON_AddNumberToObject(img, "width", row->width);
		cJSON_AddNumberToObject(img, "height", row->height);
	}
	return img;
}

static bool add_image(void *ctx, const struct image_row *row)
{
	return cJSON_AddItemToArray(ctx, image_json(row));
}

/* The configuration in force: the newest row, or what memcache uses without one. */
static void add_properties(struct app *app, cJSON *data)
{
	struct cache_properties props;
	bool found = false;
	catalog_properties(app->catalog, &props, &found);
	cJSON_AddNumberToObject(data, "capacity_mb", found ? props.capacity_mb : CACHE_DEFAULT_CAPACITY_MB);
	bool rr = found && strcmp(props.policy, "RR") == 0;
	cJSON_AddStringToObject(data, "policy_name",
				rr ? "Random Replacement" : "Least Recently Used");
	cJSON_AddBoolToObject(data, rr ? "policy_rr" : "policy_lru", true);
	if (found)
		cJSON_AddStringToObject(data, "set_at", props.set_at);
}

/* memcache's totals since start, or a note that it does not answer. */
static void add_cache_totals(struct app *app, cJSON *data)
{
	cJSON *stats = NULL;
	if (cache_client_stats(app->cache, &stats) == CACHE_ANSWER_OK && stats) {
		cJSON_AddItemToObject(data, "cache", stats);
		cJSON *bytes = cJSON_GetObjectItem(stats, "bytes");
		char size[32];
		human_size(cJSON_IsNumber(bytes) ? (uint64_t)bytes->valuedouble : 0, size,
			    sizeof(size));
		cJSON_AddStringToObject(stats, "size", size);
		cJSON *capacity = cJSON_GetObjectItem(stats, "capacity_bytes");
		human_size(cJSON_IsNumber(capacity) ? (uint64_t)capacity->valuedouble : 0, size,
			    sizeof(size));
		cJSON_AddStringToObject(stats, "capacity", size);
	} else {
		cJSON_Delete(stats);
		cJSON_AddBoolToObject(data, "cache_down", true);
	}
}

enum MHD_Result page_home(struct app *app, struct request *req)
{
	cJSON *data = page_data("Gallery", "home");
	uint64_t count = 0, bytes = 0;
	if (catalog_totals(app->catalog, &count, &bytes) != DB_OK)
		set_message(data, false, "The database does not answer; try again in a moment.");
	char size[32];
	human_size(bytes, size, sizeof(size));
	cJSON_AddNumberToObject(data, "count", (double)count);
	cJSON_AddStringToObject(data, "total_size", size);
	add_properties(app, data);
	add_cache_totals(app, data);
	cJSON *recent = cJSON_AddArrayToObject(data, "recent");
	uint64_t total;
	catalog_page(app->catalog, "", 0, RECENT_IMAGES, add_image, recent, &total);
	cJSON_AddBoolToObject(data, "has_recent", cJSON_GetArraySize(recent) > 0);
	return reply_page(app, req, MHD_HTTP_OK, "home", data);
}

enum MHD_Result page_upload(struct app *app, struct request *req)
{
	cJSON *data = page_data("Upload an image", "upload");
	cJSON_AddNumberToObject(data, "max_upload_mb", (double)app->cfg->max_upload_mb);
	if (!request_is_post(req))
		return reply_page(app, req, MHD_HTTP_OK, "upload", data);
	size_t keylen = 0;
	const char *key = req->form ? form_field(req->form, "key", &keylen) : NULL;
	if (key)
		cJSON_AddStringToObject(data, "key", key);
	struct problem p = req->problem;
	struct image_row row;
	if (!p.status && upload_from_form(req, &row, &p)) {
		cJSON_AddItemToObject(data, "uploaded", image_json(&row));
		set_message(data, true, "Uploaded.");
		return reply_page(app, req, MHD_HTTP_OK, "upload", data);
	}
	set_message(data, false, p.message);
	return reply_page(app, req, p.status, "upload", data);
}

enum MHD_Result page_image(struct app *app, struct request *req)
{
	cJSON *data = page_data("Find an image", "image");
	size_t keylen = 0;
	const char *key = request_is_post(req) && req->form ? form_field(req->form, "key", &keylen)
							     : request_arg(req, "key");
	if (req->problem.status) {
		set_message(data, false, req->problem.message);
		return reply_page(app, req, req->problem.status, "image", data);
	}
	if (!key)
		return reply_page(app, req, MHD_HTTP_OK, "image", data);
	if (!request_is_post(req))
		keylen = strlen(key);
	cJSON_AddStringToObject(data, "key", key);
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err))) {
		set_message(data, false, err);
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "image", data);
	}
	struct image_row row;
	struct outcome o;
	if (!images_find(app->images, key, keylen, &row, &o)) {
		set_message(data, false, o.message);
		return reply_page(app, req, problem_status_of(o.code), "image", data);
	}
	cJSON_AddItemToObject(data, "image", image_json(&row));
	return reply_page(app, req, MHD_HTTP_OK, "image", data);
}

static void add_pager(cJSON *data, long page, uint64_t total, const char *filter)
{
	long pages = (long)((total + KEYS_PER_PAGE - 1) / KEYS_PER_PAGE);
	char q[KEY_URL_MAX];
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
	if (strlen(filter) > KEY_MAX_BYTES) {
		set_message(data, false, "The filter is longer than a key can be (255 bytes).");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "keys", data);
	}
	long page = 1;
	const char *page_text = request_arg(req, "page");
	if (page_text && !num_parse_whole(page_text, strlen(page_text), 1, PAGE_MAX, &page)) {
		set_message(data, false, "The page must be a whole number from 1 to 1000000.");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "keys", data);
	}
	cJSON_AddStringToObject(data, "q", filter);
	cJSON *keys = cJSON_AddArrayToObject(data, "keys");
	uint64_t total = 0;
	if (catalog_page(app->catalog, filter, (uint64_t)(page - 1) * KEYS_PER_PAGE, KEYS_PER_PAGE, add_image, keys,
			 &total) != DB_OK) {
		set_message(data, false, "The database does not answer; try again in a moment.");
		return reply_page(app, req, MHD_HTTP_SERVICE_UNAVAILABLE, "keys", data);
	}
	cJSON_AddNumberToObject(data, "total", (double)total);
	cJSON_AddBoolToObject(data, "has_keys", cJSON_GetArraySize(keys) > 0);
	add_pager(data, page, total, filter);
	return reply_page(app, req, MHD_HTTP_OK, "keys", data);
}

/* Saves the form's capacity and policy; returns the status to answer with. */
static unsigned save_properties(struct app *app, struct request *req, cJSON *data)
{
	size_t capacity_len = 0, policy_len = 0;
	const char *capacity = form_field(req->form, "capacity", &capacity_len);
	const char *policy = form_field(req->form, "policy", &policy_len);
	long mb;
	if (!num_parse_whole(capacity, capacity_len, 0, CAPACITY_MAX_MB, &mb)) {
		set_message(data, false, "Capacity must be a whole number of MB from 0 to 4096.");
		return MHD_HTTP_BAD_REQUEST;
	}
	/* The lengths count too: a form value may hold a NUL, as in "RR%00". */
	if (!policy || policy_len != strlen(policy) ||
	    (strcmp(policy, "LRU") != 0 && strcmp(policy, "RR") != 0)) {
		set_message(data, false, "Choose Least Recently Used or Random Replacement.");
		return MHD_HTTP_BAD_REQUEST;
	}
	if (catalog_save_properties(app->catalog, mb, policy) != DB_OK) {
		set_message(data, false, "The database does not answer; nothing was saved.");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	set_message(data, true,
		    cache_client_refresh(app->cache) == CACHE_ANSWER_OK
			    ? "Saved; the cache uses it now."
			    : "Saved; the cache does not answer and will use it when it starts.");
	return MHD_HTTP_OK;
}

static unsigned clear_cache(struct app *app, cJSON *data)
{
	long long dropped = 0;
	if (cache_client_clear(app->cache, &dropped) != CACHE_ANSWER_OK) {
		set_message(data, false, "The cache does not answer; nothing was cleared.");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	char message[96];
	snprintf(message, sizeof(message), "Cleared the cache: %lld item%s dropped.", dropped,
		 dropped == 1 ? "" : "s");
	set_message(data, true, message);
	return MHD_HTTP_OK;
}

enum MHD_Result page_cache_properties(struct app *app, struct request *req)
{
	cJSON *data = page_data("Cache configuration", "properties");
	unsigned status = MHD_HTTP_OK;
	if (req->problem.status) {
		status = req->problem.status;
		set_message(data, false, req->problem.message);
	} else if (request_is_post(req)) {
		const char *action = form_field(req->form, "action", NULL);
		status = action && strcmp(action, "clear") == 0 ? clear_cache(app, data)
								: save_properties(app, req, data);
	}
	add_properties(app, data);
	if (status == MHD_HTTP_BAD_REQUEST) {
		/* Show back what was typed, with the reason it was refused. */
		const char *capacity = form_field(req->form, "capacity", NULL);
		cJSON_ReplaceItemInObject(data, "capacity_mb",
					  cJSON_CreateString(capacity ? capacity : ""));
	}
	add_cache_totals(app, data);
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
	snprintf(text, sizeof(text), "%.2f", sp->cache_size / MB);
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
		set_message(data, false, "The database does not answer; try again in a moment.");
	cJSON_AddBoolToObject(data, "has_rows", cJSON_GetArraySize(rows) > 0);
	add_properties(app, data);
	add_cache_totals(app, data);
	return reply_page(app, req, MHD_HTTP_OK, "cache_stats", data);
}

/*
 * The database does not answer, but memcache may hold the image: send its bytes,
 * typed by their sniffed type, without the row's ETag (so nothing is cached long).
 */
static enum MHD_Result raw_without_row(struct app *app, struct request *req, const char *key,
				       size_t keylen)
{
	struct buf bytes = BUF_INIT;
	struct outcome o;
	if (!images_read_bytes(app->images, key, keylen, &bytes, &o)) {
		buf_free(&bytes);
		return reply_outcome(app, req, &o);
	}
	const char *type =
	    image_type_mime(image_sniff((const unsigned char *)bytes.data, bytes.len));
	struct MHD_Response *r = http_response_buf(&bytes, type ? type : "application/octet-stream");
	buf_free(&bytes);
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	}
	return http_queue(req->conn, MHD_HTTP_OK, r);
}

enum MHD_Result page_raw(struct app *app, struct request *req)
{
	const char *key = req->path_arg;
	size_t keylen = strlen(key);
	char err[PROBLEM_MESSAGE_MAX], etag[BLOB_SHA256_HEX + 2];
	if (!key_is_valid(key, keylen, err, sizeof(err)))
		return reply_error(app, req, MHD_HTTP_BAD_REQUEST, err);
	struct image_row row;
	struct outcome o;
	if (!images_find(app->images, key, keylen, &row, &o)) {
		if (o.code == OUTCOME_UNAVAILABLE)
			return raw_without_row(app, req, key, keylen);
		return reply_outcome(app, req, &o);
	}
	snprintf(etag, sizeof(etag), "\"%s\"", row.sha256);
	const char *match = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *r = NULL;
	unsigned status = MHD_HTTP_OK;
	if (match && strstr(match, etag)) {
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		struct buf bytes = BUF_INIT;
		if (!images_read_bytes(app->images, key, keylen, &bytes, &o)) {
			buf_free(&bytes);
			return reply_outcome(app, req, &o);
		}
		r = http_response_buf(&bytes, row.content_type);
		buf_free(&bytes);
	}
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		/* Keys can be given new images, so browsers check back (cheaply, by ETag). */
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		if (request_arg(req, "download"))
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, "attachment");
	}
	return http_queue(req->conn, status, r);
}

enum MHD_Result page_healthz(struct app *app, struct request *req)
{
	uint64_t count, bytes;
	bool db_up = catalog_totals(app->catalog, &count, &bytes) == DB_OK;
	cJSON *stats = NULL;
	bool cache_up = cache_client_stats(app->cache, &stats) == CACHE_ANSWER_OK;
	cJSON_Delete(stats);
	cJSON *root = http_success_object();
	cJSON_AddStringToObject(root, "database", db_up ? "up" : "down");
	cJSON_AddStringToObject(root, "cache", cache_up ? "up" : "down");
	return reply_json(req, MHD_HTTP_OK, root);
}

static const char *static_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".css", "text/css; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".svg", "image/svg+xml"},           {".png", "image/png"},
		{".ico", "image/x-icon"},            {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* Only plain names below the folder: no "..", no hidden files, no odd characters. */
static bool static_path_ok(const char *path)
{
	if (!*path || strlen(path) > PATH_MAX_BYTES)
		return false;
	for (const char *c = path; *c; c++) {
		bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' ||
			     *c == '/';
		if (!plain || ((c == path || c[-1] == '/') && (*c == '.' || *c == '/')))
			return false;
	}
	return true;
}

enum MHD_Result page_static(struct app *app, struct request *req)
{
	const char *path = req->path_arg;
	const char *type = static_type(path);
	if (!static_path_ok(path) || !type)
		return reply_error(app, req, MHD_HTTP_NOT_FOUND, "there is no such file");
	char full[PATH_MAX_BYTES * 2];
	/* Chart.js comes from the Debian package, where it keeps its own updates. */
	if (strcmp(path, "vendor/chart.js") == 0)
		snprintf(full, sizeof(full), "%s", app->cfg->chartjs_file);
	else
		snprintf(full, sizeof(full), "%s/%s", app->cfg->static_dir, path);
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return reply_error(app, req, MHD_HTTP_NOT_FOUND, "there is no such file");
	}
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return http_queue(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	return http_queue(req->conn, MHD_HTTP_OK, r);
}
