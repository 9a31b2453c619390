/* request: one request from its first callback to its completion, and what handlers ask of it. */
#ifndef GALLERY_REQUEST_H
#define GALLERY_REQUEST_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/http.h"
#include "core/sessions.h"
#include "frontend/heavy.h"
#include "frontend/problem.h"

struct form;
struct images_upload;
struct login_pending;
struct upload_pending;
struct route;

struct request {
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct route *route; /* the router's; NULL when no route matched */
	bool api;                  /* answers in JSON: an API route, or a path under /api/ */
	const char *allow;         /* the methods the route takes, for an Allow header */
	const char *path_arg;      /* what follows a prefix route's path, e.g. the key */
	struct form *form;         /* the POSTed form, if any */
	struct images_upload *upload;
	uint64_t body_bytes, body_limit;
	struct problem problem; /* set when the body was refused; status 0 when fine */
	bool answered;
	struct http_body json; /* a JSON body, on routes that take one */
	bool has_json;
	bool resumed; /* its handler suspended it to wait, and a waiter resumed it */
	enum heavy_ticket heavy; /* its place in the line of heavy requests */
	bool auth_done;             /* auth_resolve ran */
	bool logged_in;             /* user names who sent it */
	bool by_cookie;             /* through the session cookie (so CSRF applies), not a bearer token */
	struct session_user user;
	/* What the answer carries besides its body (reply_extra_headers). */
	char set_session[TOKEN_CHARS + 1]; /* a new session cookie; "" for none */
	bool clear_session, no_store, no_referrer;
	unsigned retry_after_s;
	struct login_pending *login; /* a login waiting for its password check (api_account.c) */
	struct upload_pending *upload_pending; /* an upload waiting for its durable steps (upload.c) */
};

bool request_is_post(const struct request *req);
bool request_is_api(const struct request *req);
/* The methods the request's route takes, for an Allow header ("" without a route). */
const char *request_allow(const struct request *req);
/* A query-string argument, or NULL. */
const char *request_arg(const struct request *req, const char *name);

#endif
