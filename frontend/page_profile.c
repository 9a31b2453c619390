/* page_profile: a user's public profile, /u/<username> and GET /api/users/<username>. */
#include "page_profile.h"

#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/num.h"
#include "core/catalog.h"
#include "core/users.h"
#include "frontend/app.h"
#include "frontend/image_json.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum { PROFILE_PER_PAGE = 24, PROFILE_PAGE_MAX = 100000 };

struct owned_rows {
	struct image_row rows[PROFILE_PER_PAGE];
	size_t n;
};

static bool collect_row(void *ctx, const struct image_row *row)
{
	struct owned_rows *o = ctx;
	if (o->n < PROFILE_PER_PAGE)
		o->rows[o->n++] = *row;
	return true;
}

enum MHD_Result page_profile(struct app *app, struct request *req)
{
	const char *name = req->path_arg;
	char username[USERS_NAME_MAX + 1], err[128];
	/* Profiles are named in lower case; anything else names nobody. */
	if (!users_name_normalize(name, strlen(name), username, err, sizeof(err)) ||
	    strcmp(username, name) != 0)
		return reply_error(app, req, 404, "there is no user with that name");
	const char *page_arg = request_arg(req, "page");
	long page = 1;
	if (page_arg && !num_parse_whole(page_arg, strlen(page_arg), 1, PROFILE_PAGE_MAX, &page))
		return reply_error(app, req, 400, "page must be a whole number from 1");
	struct db *db = catalog_db(app->catalog);
	struct user u;
	enum users_outcome o = db ? users_by_username(db, username, &u) : USERS_UNAVAILABLE;
	if (o == USERS_NOT_FOUND || (o == USERS_OK && !u.verified))
		return reply_error(app, req, 404, "there is no user with that name");
	long long count = 0;
	if (o != USERS_OK || users_image_count(db, u.id, &count) != USERS_OK)
		return reply_error(app, req, 503, "the database does not answer; try again in a moment");
	bool api = request_is_api(req);
	cJSON *images = api ? NULL : cJSON_CreateArray();
	struct owned_rows *owned = api ? calloc(1, sizeof(*owned)) : NULL;
	bool more = false;
	enum db_status s = api && !owned ? DB_FAILED
		: catalog_owned_page(app->catalog, u.id, (uint64_t)(page - 1) * PROFILE_PER_PAGE,
				     PROFILE_PER_PAGE, api ? collect_row : page_add_image,
				     api ? (void *)owned : (void *)images, &more);
	/* The API's images are the one image object every route gives (image_json). */
	if (s == DB_OK && api && !(images = image_json_rows(app, owned->rows, owned->n)))
		s = DB_FAILED;
	free(owned);
	if (s != DB_OK) {
		cJSON_Delete(images);
		return reply_error(app, req, 503, "the database does not answer; try again in a moment");
	}
	if (request_is_api(req)) {
		cJSON *ok = http_success_object();
		cJSON *user = cJSON_AddObjectToObject(ok, "user");
		cJSON_AddStringToObject(user, "username", u.username);
		cJSON_AddStringToObject(user, "joined", u.created_at);
		cJSON_AddNumberToObject(user, "images", (double)count);
		cJSON_AddItemToObject(ok, "images", images);
		cJSON_AddNumberToObject(ok, "page", page);
		cJSON_AddBoolToObject(ok, "more", more);
		return reply_json(req, MHD_HTTP_OK, ok);
	}
	cJSON *data = page_data(u.username, "profile");
	cJSON_AddStringToObject(data, "profile", u.username);
	cJSON_AddStringToObject(data, "joined", u.created_at);
	cJSON_AddNumberToObject(data, "count", (double)count);
	cJSON_AddBoolToObject(data, "has_images", cJSON_GetArraySize(images) > 0);
	cJSON_AddItemToObject(data, "images", images);
	if (page > 1)
		cJSON_AddNumberToObject(data, "prev_page", page - 1);
	if (more)
		cJSON_AddNumberToObject(data, "next_page", page + 1);
	return reply_page(app, req, MHD_HTTP_OK, "profile", data);
}
