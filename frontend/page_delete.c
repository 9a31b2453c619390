/* page_delete: deleting an image: the API routes, the confirm page, and the image page's button. */
#include "page_delete.h"

#include <string.h>

#include "common/http.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/form.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

/*
 * What the request may delete besides its own images: any image as the
 * admin; an ownerless one as whoever auth_admin_ok lets take admin actions
 * (the admin, or anyone while there is none). False on a database outage (p).
 */
static bool rights_of(struct app *app, const struct request *req, struct images_rights *who,
		      struct problem *p)
{
	who->user_id = req->logged_in ? req->user.user_id : 0;
	who->admin = req->logged_in && req->user.admin;
	struct problem refused;
	who->ownerless = auth_admin_ok(app, req, &refused);
	if (!who->ownerless && refused.status != MHD_HTTP_FORBIDDEN) {
		*p = refused;
		return false;
	}
	return true;
}

/* Deletes key for the request; false with the status and message in p. */
static bool delete_for(struct app *app, const struct request *req, const char *key, size_t keylen,
		       struct problem *p)
{
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err)))
		return problem_set(p, MHD_HTTP_BAD_REQUEST, "%s", err);
	struct images_rights who;
	if (!rights_of(app, req, &who, p))
		return false;
	struct outcome o;
	if (!images_delete(app->images, key, keylen, &who, NULL, &o)) {
		problem_from_outcome(p, &o);
		return false;
	}
	return true;
}

enum MHD_Result api_delete(struct app *app, struct request *req)
{
	struct problem p;
	/*
	 * The router checks the CSRF token of a browser's POST; a DELETE sent with
	 * the session cookie needs its header as much.
	 */
	if (req->by_cookie && !request_is_post(req) && !auth_csrf_ok(app, req, NULL)) {
		problem_set(&p, MHD_HTTP_FORBIDDEN,
			    "a request that the session cookie authenticates needs the "
			    AUTH_CSRF_HEADER " header");
		return reply_problem(app, req, &p);
	}
	const char *key = req->path_arg;
	if (!delete_for(app, req, key, strlen(key), &p))
		return reply_problem(app, req, &p);
	return reply_json(req, MHD_HTTP_OK, http_success_object());
}

static bool allowed(const struct images_rights *who, const struct image_row *row,
		    const struct request *req)
{
	if (row->owner[0])
		return who->admin || (req->logged_in && strcmp(row->owner, req->user.username) == 0);
	return who->ownerless;
}

void page_delete_offer(struct app *app, const struct request *req, cJSON *image,
		       const struct image_row *row)
{
	bool admin = req->logged_in && req->user.admin;
	struct images_rights who = {.admin = admin, .ownerless = admin};
	struct problem p;
	/* Only an ownerless image asks the database whether there is an admin. */
	bool may = row->owner[0] || who.admin ? allowed(&who, row, req)
					      : rights_of(app, req, &who, &p) && allowed(&who, row, req);
	if (image && may)
		cJSON_AddBoolToObject(image, "can_delete", true);
}

enum MHD_Result page_delete(struct app *app, struct request *req)
{
	cJSON *data = page_data("Delete an image", "image");
	size_t keylen = 0;
	const char *key = request_is_post(req) && req->form ? form_field(req->form, "key", &keylen)
							     : request_arg(req, "key");
	if (req->problem.status) {
		page_message(data, false, req->problem.message);
		return reply_page(app, req, req->problem.status, "delete", data);
	}
	if (!key || !*key) {
		page_message(data, false, "Say which image to delete: its key is missing.");
		return reply_page(app, req, MHD_HTTP_BAD_REQUEST, "delete", data);
	}
	if (!request_is_post(req))
		keylen = strlen(key);
	struct problem p;
	if (request_is_post(req)) {
		if (!delete_for(app, req, key, keylen, &p)) {
			page_message(data, false, p.message);
			return reply_page(app, req, p.status, "delete", data);
		}
		cJSON_AddStringToObject(data, "deleted", key);
		page_message(data, true, "Deleted.");
		return reply_page(app, req, MHD_HTTP_OK, "delete", data);
	}
	/* The confirm page: shown only to those who may delete, as the form's answer would be. */
	char err[PROBLEM_MESSAGE_MAX];
	struct image_row row;
	struct outcome o;
	struct images_rights who;
	if (!key_is_valid(key, keylen, err, sizeof(err))) {
		problem_set(&p, MHD_HTTP_BAD_REQUEST, "%s", err);
	} else if (!images_find(app->images, key, keylen, &row, &o)) {
		problem_from_outcome(&p, &o);
	} else if (!rights_of(app, req, &who, &p)) {
		/* p says why */
	} else if (!allowed(&who, &row, req)) {
		problem_set(&p, MHD_HTTP_FORBIDDEN,
			    "the image '%s' is not yours to delete; only its owner or the "
			    "gallery's admin may",
			    row.key);
	} else {
		cJSON *image = page_image_json(&row);
		cJSON_AddItemToObject(data, "confirm", image);
		page_add_thumbnails(app, image);
		return reply_page(app, req, MHD_HTTP_OK, "delete", data);
	}
	page_message(data, false, p.message);
	return reply_page(app, req, p.status, "delete", data);
}
