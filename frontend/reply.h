/* reply: the front end's answers: JSON for the API, pages from templates, errors as either. */
#ifndef GALLERY_REPLY_H
#define GALLERY_REPLY_H

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/outcome.h"
#include "frontend/problem.h"

struct app;
struct request;

/* JSON on API routes and for clients that do not ask for HTML; a page otherwise. */
enum MHD_Result reply_problem(struct app *app, struct request *req, const struct problem *p);
enum MHD_Result reply_error(struct app *app, struct request *req, unsigned status,
			    const char *message);
/* A core outcome, with the status problem_status_of gives it. */
enum MHD_Result reply_outcome(struct app *app, struct request *req, const struct outcome *o);
/* Renders template with data (deleted here), inside the shared layout. */
enum MHD_Result reply_page(struct app *app, struct request *req, unsigned status,
			   const char *template_name, cJSON *data);
enum MHD_Result reply_json(struct request *req, unsigned status, cJSON *json);
/*
 * A page's refusal: the page (template over data) for a browser, the JSON
 * error with message for a client that does not ask for HTML, as elsewhere.
 */
enum MHD_Result reply_page_refusal(struct app *app, struct request *req, unsigned status,
				   const char *template_name, cJSON *data, const char *message);
/* 303 See Other to location (a path of ours), the answer to a page form that queued work. */
enum MHD_Result reply_redirect(struct request *req, const char *location);
/* reply_json with reply_extra_headers. */
enum MHD_Result reply_json_with(struct app *app, struct request *req, unsigned status, cJSON *json);
/* Adds what the request asks for besides the body: session cookie, no-store, Retry-After. */
void reply_extra_headers(struct app *app, struct request *req, struct MHD_Response *r);
/* Adds the headers every page carries. */
void reply_page_headers(struct MHD_Response *r);

#endif
