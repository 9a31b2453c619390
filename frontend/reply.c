/* reply: the front end's answers: JSON for the API, pages from templates, errors as either. */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "common/http.h"
#include "common/log.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/csrf.h"
#include "frontend/request.h"
#include "frontend/tpl.h"

static const char *status_title(unsigned status)
{
	switch (status) {
	case 400: return "Bad request";
	case 401: return "Log in first";
	case 403: return "Forbidden";
	case 409: return "Taken";
	case 429: return "Too many tries";
	case 404: return "Not found";
	case 405: return "Method not allowed";
	case 413: return "Too large";
	case 415: return "Not an image";
	case 503: return "Unavailable";
	case 507: return "Disk full";
	default: return status >= 500 ? "Server error" : "Error";
	}
}

static bool wants_html(const struct request *req)
{
	const char *accept = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);
	return accept && strstr(accept, "text/html");
}

static void add_allow(struct request *req, struct MHD_Response *r, unsigned status)
{
	if (r && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, request_allow(req));
}

enum MHD_Result reply_problem(struct app *app, struct request *req, const struct problem *p)
{
	if (!request_is_api(req) && wants_html(req)) {
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "title", status_title(p->status));
		cJSON_AddNumberToObject(data, "status", p->status);
		cJSON_AddStringToObject(data, "message", p->message);
		return reply_page(app, req, p->status, "error", data);
	}
	struct buf body = BUF_INIT;
	struct MHD_Response *r = NULL;
	if (http_error_json(&body, p->status, p->message))
		r = http_response_buf(&body, "application/json");
	buf_free(&body);
	add_allow(req, r, p->status);
	/* Busy or the database away: both pass within a second or so. */
	if (r && p->status == MHD_HTTP_SERVICE_UNAVAILABLE && !req->retry_after_s)
		req->retry_after_s = 1;
	reply_extra_headers(app, req, r);
	return http_queue(req->conn, p->status, r);
}

enum MHD_Result reply_error(struct app *app, struct request *req, unsigned status,
			    const char *message)
{
	struct problem p;
	problem_set(&p, status, "%s", message);
	return reply_problem(app, req, &p);
}

enum MHD_Result reply_outcome(struct app *app, struct request *req, const struct outcome *o)
{
	struct problem p;
	problem_from_outcome(&p, o);
	return reply_problem(app, req, &p);
}

void reply_extra_headers(struct app *app, struct request *req, struct MHD_Response *r)
{
	if (!r)
		return;
	if (req->set_session[0])
		auth_set_cookie(app, r, req->set_session);
	else if (req->clear_session)
		auth_clear_cookie(app, r);
	if (req->no_store)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (req->retry_after_s) {
		char v[24];
		snprintf(v, sizeof(v), "%u", req->retry_after_s);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
}

static void page_headers(struct MHD_Response *r, const char *referrer_policy)
{
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' blob: data:; "
				"object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", referrer_policy);
}

void reply_page_headers(struct MHD_Response *r)
{
	page_headers(r, "same-origin");
}

enum MHD_Result reply_page(struct app *app, struct request *req, unsigned status,
			   const char *template_name, cJSON *data)
{
	char token[CSRF_TOKEN_LEN + 1];
	bool fresh_token = false;
	if (req->logged_in) {
		auth_csrf_token(app, req, token);
		cJSON *user = cJSON_AddObjectToObject(data, "me");
		cJSON_AddStringToObject(user, "username", req->user.username);
	} else {
		csrf_token(req->conn, token, &fresh_token);
		cJSON_AddBoolToObject(data, "anonymous", true);
	}
	cJSON_AddStringToObject(data, "csrf_token", token);
	struct buf page = BUF_INIT;
	struct MHD_Response *r = NULL;
	char err[256] = "no data";
	bool rendered = data && tpl_render(app->templates, template_name, data, &page, err,
					   sizeof(err));
	if (rendered)
		r = http_response_buf(&page, "text/html; charset=utf-8");
	else
		log_error("cannot render template %s: %s", template_name, err);
	buf_free(&page);
	cJSON_Delete(data);
	/* Not the error page: it could fail the same way. */
	if (!rendered)
		return http_send_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "the page could not be rendered");
	if (r) {
		/* A page whose address holds a secret (a mailed token) sends no Referer on. */
		page_headers(r, req->no_referrer ? "no-referrer" : "same-origin");
		reply_extra_headers(app, req, r);
		if (fresh_token)
			csrf_set_cookie(r, token);
	}
	add_allow(req, r, status);
	return http_queue(req->conn, status, r);
}

enum MHD_Result reply_json_with(struct app *app, struct request *req, unsigned status, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;
	struct buf body = BUF_INIT;
	struct MHD_Response *r = NULL;
	if (text && buf_puts(&body, text))
		r = http_response_buf(&body, "application/json");
	cJSON_free(text);
	buf_free(&body);
	cJSON_Delete(json);
	reply_extra_headers(app, req, r);
	return http_queue(req->conn, status, r);
}

enum MHD_Result reply_json(struct request *req, unsigned status, cJSON *json)
{
	enum MHD_Result ret = json ? http_send_json(req->conn, status, json)
				   : http_queue(req->conn, status, NULL);
	cJSON_Delete(json);
	return ret;
}

enum MHD_Result reply_redirect(struct request *req, const char *location)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
		reply_page_headers(r);
	}
	return http_queue(req->conn, MHD_HTTP_SEE_OTHER, r);
}

enum MHD_Result reply_page_refusal(struct app *app, struct request *req, unsigned status,
				   const char *template_name, cJSON *data, const char *message)
{
	if (wants_html(req))
		return reply_page(app, req, status, template_name, data);
	cJSON_Delete(data);
	return reply_error(app, req, status, message);
}
