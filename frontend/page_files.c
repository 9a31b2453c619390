/* page_files: what is no page: /raw image bytes, /thumb thumbnails, /static files and /healthz. */
#include "page_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/http.h"
#include "common/log.h"
#include "core/cache_client.h"
#include "core/catalog.h"
#include "core/imagetype.h"
#include "core/images.h"
#include "core/key.h"
#include "core/variants.h"
#include "frontend/app.h"
#include "frontend/problem.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum { PATH_MAX_BYTES = 1024 };

/* Until its thumbnail exists, /thumb sends the original, which browsers may keep only briefly. */
#define THUMB_IMMUTABLE "public, max-age=31536000, immutable"
#define THUMB_FALLBACK "public, max-age=60"

/*
 * An image opened on its own must not run as a document of ours: no script,
 * no plugin, no form, even when a browser takes the bytes for something else.
 */
static void raw_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
}

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
		raw_headers(r);
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
		raw_headers(r);
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


/* A file of the blob store, with its type, validator and caching; 304 when the ETag matches. */
static enum MHD_Result send_blob(struct app *app, struct request *req, const struct blob_ref *ref,
				 const char *type, const char *etag, const char *caching)
{
	const char *match = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *r = NULL;
	unsigned status = MHD_HTTP_OK;
	if (match && strstr(match, etag)) {
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		char err[BLOB_ERR_MAX] = "";
		int fd = -1;
		uint64_t size = 0;
		enum blob_status st = blob_open_fd(app->blobs, ref, &fd, &size, err, sizeof(err));
		if (st == BLOB_NOT_FOUND)
			return reply_error(app, req, MHD_HTTP_NOT_FOUND, "the image file is gone");
		if (st != BLOB_OK) {
			log_error("thumb: cannot open %s: %s", ref->sha256, err);
			return reply_error(app, req, MHD_HTTP_INTERNAL_SERVER_ERROR,
					   "the image file cannot be read");
		}
		r = MHD_create_response_from_fd(size, fd);
		if (!r)
			close(fd);
		else
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	}
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, caching);
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	}
	return http_queue(req->conn, status, r);
}

enum MHD_Result page_thumb(struct app *app, struct request *req)
{
	const char *arg = req->path_arg;
	const char *slash = strchr(arg, '/');
	char sha[BLOB_SHA256_HEX] = "";
	enum variant_size size;
	if (slash && (size_t)(slash - arg) < sizeof(sha))
		memcpy(sha, arg, (size_t)(slash - arg));
	if (!slash || !variants_sha256_ok(sha) || !variants_size_parse(slash + 1, &size))
		return reply_error(app, req, MHD_HTTP_BAD_REQUEST,
				   "a thumbnail is /thumb/<sha256 of the image, 64 lowercase hex "
				   "digits>/<s or m>");
	struct image_row row;
	bool found = false;
	struct variant v;
	bool made = false;
	if (catalog_find_by_sha256(app->catalog, sha, &row, &found) != DB_OK ||
	    (found && variants_find(catalog_db(app->catalog), sha, size, &v, &made) != DB_OK))
		return reply_error(app, req, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the database does not answer; try again in a moment");
	if (!found)
		return reply_error(app, req, MHD_HTTP_NOT_FOUND, "no image has that sha256");
	char etag[BLOB_SHA256_HEX + 8];
	struct blob_ref ref;
	if (made && blob_ref_parse(variants_blob_kind(size), v.location, &ref)) {
		snprintf(etag, sizeof(etag), "\"%s-%s\"", sha, variants_size_name(size));
		return send_blob(app, req, &ref, "image/webp", etag, THUMB_IMMUTABLE);
	}
	if (!blob_ref_parse(BLOB_IMAGE, row.location, &ref))
		return reply_error(app, req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "the image file cannot be read");
	snprintf(etag, sizeof(etag), "\"%s\"", sha);
	return send_blob(app, req, &ref, row.content_type, etag, THUMB_FALLBACK);
}
