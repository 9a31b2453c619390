/* app: what the front end's router, API and pages share (private to frontend/). */
#ifndef GALLERY_APP_H
#define GALLERY_APP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "frontend/form.h"
#include "core/images.h"
#include "frontend/problem.h"

struct config;
struct tpl_set;

struct app {
	const struct config *cfg;
	struct catalog *catalog;
	struct cache_client *cache;
	struct blob_store *blobs;
	struct images *images;
	struct tpl_set *templates;
	uint64_t max_upload_bytes;
};

struct route;

/* One request from its first callback to its completion. */
struct request {
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct route *route;
	const char *path_arg; /* what follows a prefix route's path, e.g. the key */
	struct form *form;    /* the POSTed form, if any */
	struct images_upload *upload;
	uint64_t body_bytes, body_limit;
	struct problem problem; /* set when the body was refused; status 0 when fine */
	bool answered;
};

typedef enum MHD_Result (*handler_fn)(struct app *app, struct request *req);

/* api.c */
enum MHD_Result api_upload(struct app *app, struct request *req);
enum MHD_Result api_list_keys(struct app *app, struct request *req);
enum MHD_Result api_key(struct app *app, struct request *req);
enum MHD_Result api_stats(struct app *app, struct request *req);
/* Stores the uploaded file of a form under its key field; the API and the page share it. */
bool upload_from_form(struct request *req, struct image_row *row, struct problem *p);

/* pages.c */
enum MHD_Result page_home(struct app *app, struct request *req);
enum MHD_Result page_upload(struct app *app, struct request *req);
enum MHD_Result page_image(struct app *app, struct request *req);
enum MHD_Result page_keys(struct app *app, struct request *req);
enum MHD_Result page_cache_properties(struct app *app, struct request *req);
enum MHD_Result page_cache_stats(struct app *app, struct request *req);
enum MHD_Result page_raw(struct app *app, struct request *req);
enum MHD_Result page_healthz(struct app *app, struct request *req);
enum MHD_Result page_static(struct app *app, struct request *req);

/* reply.c */
/* JSON on API routes and for clients that do not ask for HTML; a page otherwise. */
enum MHD_Result reply_problem(struct app *app, struct request *req, const struct problem *p);
enum MHD_Result reply_error(struct app *app, struct request *req, unsigned status,
			    const char *message);
/* A core outcome, with its status. */
enum MHD_Result reply_outcome(struct app *app, struct request *req, const struct outcome *o);
/* Renders template with data (deleted here), inside the shared layout. */
enum MHD_Result reply_page(struct app *app, struct request *req, unsigned status,
			   const char *template_name, cJSON *data);
enum MHD_Result reply_json(struct request *req, unsigned status, cJSON *json);
/* Adds the headers every page carries. */
void reply_page_headers(struct MHD_Response *r);
bool request_is_post(const struct request *req);
bool request_is_api(const struct request *req);
/* The methods the request's route takes, for an Allow header. */
const char *request_allow(const struct request *req);
/* A query-string argument, or NULL. */
const char *request_arg(const struct request *req, const char *name);

#endif
