/* router: libmicrohttpd callbacks that route each request to its page or API handler. */
#include "router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/http.h"
#include "core/images.h"
#include "frontend/api_account.h"
#include "frontend/api_cache.h"
#include "frontend/api_images.h"
#include "frontend/api_jobs.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/csrf.h"
#include "frontend/form.h"
#include "frontend/origin.h"
#include "frontend/page_account.h"
#include "frontend/page_cache.h"
#include "frontend/page_delete.h"
#include "frontend/page_files.h"
#include "frontend/page_images.h"
#include "frontend/page_jobs.h"
#include "frontend/page_profile.h"
#include "frontend/page_search.h"
#include "frontend/page_tags.h"
#include "frontend/reply.h"
#include "frontend/request.h"
#include "frontend/upload.h"
#include "common/url.h"

typedef enum MHD_Result (*handler_fn)(struct app *app, struct request *req);

enum body_kind {
	BODY_IGNORED, /* a body, if any, is read and dropped */
	BODY_FORM,    /* small text fields */
	BODY_UPLOAD,  /* text fields and a "file" streamed to disk */
	BODY_PARAMS,  /* a JSON object, small text fields, or nothing */
	BODY_NUMBERS, /* as BODY_PARAMS, with room for calc's 10,000 numbers in one field */
	BODY_CAPTION, /* as BODY_PARAMS, with room for a caption of 2,200 characters in one field */
};

enum {
	/* What multipart framing and the text fields may add to the file itself. */
	UPLOAD_FRAMING_BYTES = 64 * 1024,
	FORM_MAX_BYTES = 64 * 1024,
	/* 10,000 numbers of 17 characters with separators, percent-encoded, and room to spare. */
	NUMBERS_MAX_BYTES = 1024 * 1024,
};

struct route {
	const char *path;
	bool prefix;
	const char *allow;
	enum body_kind body;
	bool api;
	handler_fn fn;
};

static const struct route routes[] = {
	{"/", false, "GET, HEAD", BODY_IGNORED, false, page_home},
	{"/upload_image", false, "GET, HEAD, POST", BODY_UPLOAD, false, page_upload},
	{"/image", false, "GET, HEAD, POST", BODY_FORM, false, page_image},
	{"/keys_list", false, "GET, HEAD", BODY_IGNORED, false, page_keys},
	{"/cache_properties", false, "GET, HEAD, POST", BODY_FORM, false, page_cache_properties},
	{"/cache_stats", false, "GET, HEAD", BODY_IGNORED, false, page_cache_stats},
	{"/raw/", true, "GET, HEAD", BODY_IGNORED, false, page_raw},
	{"/thumb/", true, "GET, HEAD", BODY_IGNORED, false, page_thumb},
	{"/static/", true, "GET, HEAD", BODY_IGNORED, false, page_static},
	{"/healthz", false, "GET, HEAD", BODY_IGNORED, false, page_healthz},
	{"/api/upload", false, "POST", BODY_UPLOAD, true, api_upload},
	{"/api/list_keys", false, "GET, HEAD, POST", BODY_IGNORED, true, api_list_keys},
	{"/api/key/", true, "GET, HEAD, POST, DELETE", BODY_IGNORED, true, api_key},
	{"/api/stats", false, "GET, HEAD", BODY_IGNORED, true, api_stats},
	{"/api/calc", false, "POST", BODY_NUMBERS, true, api_calc},
	{"/api/enhance/", true, "POST", BODY_PARAMS, true, api_enhance},
	{"/api/jobs", false, "GET, HEAD", BODY_IGNORED, true, api_jobs_list},
	{"/api/jobs/", true, "GET, HEAD, POST", BODY_IGNORED, true, api_job},
	{"/calc", false, "GET, HEAD, POST", BODY_NUMBERS, false, page_calc},
	{"/jobs", false, "GET, HEAD", BODY_IGNORED, false, page_jobs},
	{"/jobs/", true, "GET, HEAD, POST", BODY_FORM, false, page_job},
	{"/enhance", false, "POST", BODY_FORM, false, page_enhance},
	{"/signup", false, "GET, HEAD, POST", BODY_FORM, false, account_signup},
	{"/login", false, "GET, HEAD, POST", BODY_FORM, false, account_login},
	{"/logout", false, "POST", BODY_FORM, false, account_logout},
	{"/verify", false, "GET, HEAD, POST", BODY_FORM, false, account_verify},
	{"/resend_verification", false, "POST", BODY_FORM, false, account_resend},
	{"/api/signup", false, "POST", BODY_FORM, true, account_signup},
	{"/api/login", false, "POST", BODY_FORM, true, account_login},
	{"/api/logout", false, "POST", BODY_IGNORED, true, account_logout},
	{"/api/verify", false, "POST", BODY_FORM, true, account_verify},
	{"/api/resend_verification", false, "POST", BODY_FORM, true, account_resend},
	{"/api/me", false, "GET, HEAD", BODY_IGNORED, true, account_me},
	{"/account", false, "GET, HEAD, POST", BODY_FORM, false, page_account},
	{"/forgot_password", false, "GET, HEAD, POST", BODY_FORM, false, account_forgot},
	{"/reset_password", false, "GET, HEAD, POST", BODY_FORM, false, account_reset},
	{"/api/forgot_password", false, "POST", BODY_FORM, true, account_forgot},
	{"/u/", true, "GET, HEAD", BODY_IGNORED, false, page_profile},
	{"/api/users/", true, "GET, HEAD", BODY_IGNORED, true, page_profile},
	{"/api/reset_password", false, "POST", BODY_FORM, true, account_reset},
	{"/api/delete/", true, "POST", BODY_IGNORED, true, api_delete},
	{"/delete", false, "GET, HEAD, POST", BODY_FORM, false, page_delete},
	{"/search", false, "GET, HEAD", BODY_IGNORED, false, page_search},
	{"/api/search", false, "GET, HEAD", BODY_IGNORED, true, page_search},
	{"/api/image/", true, "GET, HEAD", BODY_IGNORED, true, api_image},
	{"/api/caption/", true, "POST", BODY_CAPTION, true, api_caption},
	{"/caption", false, "POST", BODY_CAPTION, false, page_caption},
	{"/tags/", true, "GET, HEAD", BODY_IGNORED, false, page_tags},
};

static const struct route *find_route(const char *url, const char **arg)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);
		if (r->prefix ? strncmp(url, r->path, n) == 0 : strcmp(url, r->path) == 0) {
			*arg = url + n;
			return r;
		}
	}
	return NULL;
}

static bool method_allowed(const char *allow, const char *method)
{
	size_t n = strlen(method);
	for (const char *at = allow; (at = strstr(at, method)); at += n)
		if ((at == allow || at[-1] == ' ') && (at[n] == ',' || at[n] == '\0'))
			return true;
	return false;
}

/*
 * Reads whose answer is the same whoever asks (an image's bytes or base64, a
 * thumbnail, a static file): a session cookie on them costs no database work,
 * so that a logged-in browser reads as fast as an anonymous client.
 */
static bool answer_is_anyones(const struct request *req)
{
	handler_fn fn = req->route ? req->route->fn : NULL;
	bool read = strcmp(req->method, MHD_HTTP_METHOD_GET) == 0 ||
		    strcmp(req->method, MHD_HTTP_METHOD_HEAD) == 0;
	return read && (fn == api_key || fn == page_raw || fn == page_thumb || fn == page_static);
}

static enum MHD_Result answer(struct app *app, struct request *req)
{
	req->answered = true;
	if (req->problem.status && req->route->api)
		return reply_problem(app, req, &req->problem);
	return req->route->fn(app, req);
}

static void refuse_too_large(struct app *app, struct request *req)
{
	problem_set(&req->problem, 413, "the file is larger than the limit of %llu MB",
		    (unsigned long long)(app->max_upload_bytes >> 20));
}

/* Sets up the form (and the upload) a POST carries, or records why not. */
static void start_body(struct app *app, struct request *req)
{
	enum body_kind kind = req->route->body;
	uint64_t limit = kind == BODY_UPLOAD    ? app->max_upload_bytes
			 : kind == BODY_NUMBERS ? NUMBERS_MAX_BYTES
						: FORM_MAX_BYTES;
	req->body_limit = limit + UPLOAD_FRAMING_BYTES;
	if (http_announces_too_large(req->conn, req->body_limit)) {
		refuse_too_large(app, req);
		return;
	}
	if (kind == BODY_PARAMS || kind == BODY_NUMBERS || kind == BODY_CAPTION) {
		const char *type = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_TYPE);
		/* A POST with no body at all takes every default. */
		if (!type)
			return;
		if (strncasecmp(type, "application/json", 16) == 0) {
			req->has_json = true;
			http_body_begin(&req->json, req->conn, (size_t)limit);
			return;
		}
	}
	struct form_sink sink = {images_upload_write, NULL};
	if (req->route->body == BODY_UPLOAD) {
		struct outcome o;
		req->upload = images_upload_begin(app->images, &o);
		if (!req->upload) {
			problem_from_outcome(&req->problem, &o);
			return;
		}
		sink.ctx = req->upload;
	}
	req->form = form_create(req->conn, limit, req->upload ? &sink : NULL);
	if (!req->form)
		problem_set(&req->problem, 400,
			    "send the form as multipart/form-data (or "
			    "application/x-www-form-urlencoded without a file)");
	else if (kind == BODY_NUMBERS)
		form_set_field_max(req->form, NUMBERS_MAX_BYTES);
	else if (kind == BODY_UPLOAD || kind == BODY_CAPTION)
		form_set_field_max(req->form, UPLOAD_CAPTION_FIELD_MAX);
}

static void form_failed(struct app *app, struct request *req)
{
	switch (form_error(req->form)) {
	case FORM_FILE_TOO_LARGE:
		refuse_too_large(app, req);
		break;
	case FORM_FIELD_TOO_LARGE:
		problem_set(&req->problem, 400, "the field '%s' is too long",
			    form_field_name_too_large(req->form));
		break;
	case FORM_SINK_REFUSED:
		problem_from_outcome(&req->problem, images_upload_outcome(req->upload));
		break;
	case FORM_MALFORMED:
	case FORM_OK:
		problem_set(&req->problem, 400, "the form is malformed (broken multipart body)");
		break;
	}
}

static enum MHD_Result first_call(struct app *app, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, void **req_cls)
{
	struct request *req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	*req_cls = req;
	req->conn = conn;
	req->url = url;
	req->method = method;
	/* Paths under /api/ that are no route answer as the API does too: in JSON. */
	req->api = strncmp(url, "/api/", 5) == 0;
	if (http_lacks_host(conn, version)) {
		req->answered = true;
		return reply_error(app, req, 400, "an HTTP/1.1 request needs a Host header");
	}
	/* Before any body is read: an upload's body streams into the blob store as it comes. */
	if (!origin_check(app->origins, conn, method, &req->problem)) {
		req->answered = true;
		return reply_problem(app, req, &req->problem);
	}
	req->route = find_route(url, &req->path_arg);
	if (req->route) {
		req->api = req->route->api;
		req->allow = req->route->allow;
	}
	if (!req->route) {
		req->answered = true;
		return reply_error(app, req, 404, "there is no page here");
	}
	if (!method_allowed(req->route->allow, method)) {
		req->answered = true;
		struct problem p;
		problem_set(&p, 405, "this path takes only %s", req->route->allow);
		return reply_problem(app, req, &p);
	}
	req->body_limit = FORM_MAX_BYTES;
	if (request_is_post(req) && req->route->body != BODY_IGNORED)
		start_body(app, req);
	else if (http_announces_too_large(conn, req->body_limit))
		problem_set(&req->problem, 413, "this path takes no body of that size");
	/* Refuse an oversized or unusable upload before its body is read. */
	if (req->problem.status)
		return answer(app, req);
	return MHD_YES;
}

enum MHD_Result router_handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct app *app = cls;
	struct request *req = *req_cls;
	if (!req)
		return first_call(app, conn, url, method, version, req_cls);
	if (*upload_data_size) {
		req->body_bytes += *upload_data_size;
		if (req->has_json && !req->problem.status)
			http_body_feed(&req->json, upload_data, upload_data_size);
		bool fed = req->problem.status || !req->form ||
			   form_feed(req->form, upload_data, *upload_data_size);
		*upload_data_size = 0;
		if (!fed)
			form_failed(app, req);
		else if (req->has_json && req->json.too_large && !req->problem.status)
			problem_set(&req->problem, 413, "the body is larger than this path takes");
		else if (req->body_bytes > req->body_limit)
			problem_set(&req->problem, 413, "the body is larger than this path takes");
		/*
		 * libmicrohttpd answers only once the body is read, so a refused body
		 * is read and dropped, up to the limit; past it the connection is cut.
		 */
		if (req->problem.status && req->body_bytes > req->body_limit)
			return MHD_NO;
		return MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
	if (req->form && !req->problem.status && !form_finish(req->form))
		form_failed(app, req);
	/* Who sent it: a request with no session cookie and no bearer token costs nothing here. */
	if (!req->problem.status && !answer_is_anyones(req) && !auth_resolve(app, req)) {
		req->answered = true;
		return reply_problem(app, req, &req->problem);
	}
	if (!req->problem.status && !req->logged_in && req->route->body == BODY_UPLOAD &&
	    !app->cfg->anonymous_uploads)
		problem_set(&req->problem, 401, "log in to upload: this gallery takes no anonymous uploads");
	if (!req->problem.status && request_is_post(req) && req->by_cookie) {
		/* A browser's session rides along on every request: writes need its CSRF token too. */
		if (!auth_csrf_ok(app, req, req->form ? form_field(req->form, CSRF_FIELD, NULL) : NULL))
			problem_set(&req->problem, 403,
				    "this form is out of date or came from another site (its CSRF "
				    "token does not match your session); reload and send it again");
	} else if (req->form && !req->problem.status && !req->route->api &&
		   !csrf_form_ok(conn, form_field(req->form, CSRF_FIELD, NULL))) {
		/* Page forms come from our own pages; the API is for programs, which have no cookies. */
		problem_set(&req->problem, 403,
			    "this form is out of date or came from another site; "
			    "check it and send it again");
	}
	return answer(app, req);
}

void router_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)conn, (void)toe;
	struct app *app = cls;
	struct request *req = *req_cls;
	if (!req)
		return;
	heavy_forget(app->heavy, &req->heavy);
	form_destroy(req->form);
	images_upload_abort(req->upload);
	buf_free(&req->json.buf);
	free(req->login); /* one block; its check ended before the request could */
	upload_pending_free(req->upload_pending);
	free(req);
	*req_cls = NULL;
}

size_t router_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls, (void)conn;
	return url_decode_inplace(s, strlen(s));
}
