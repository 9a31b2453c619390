/* caption_edit: a caption change as the API and the image page make it: checked, allowed, stored. */
#include "caption_edit.h"

#include <string.h>

#include "core/captions.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/request.h"

bool caption_edit_allowed(struct app *app, const struct request *req, const struct image_row *row)
{
	if (!row->owner[0])
		return true;
	if (!req->logged_in)
		return false;
	if (req->user.admin || strcmp(req->user.username, row->owner) == 0)
		return true;
	struct problem ignored;
	return auth_admin_ok(app, req, &ignored);
}

bool caption_edit(struct app *app, const struct request *req, const char *key, size_t keylen,
		  const char *caption, size_t len, struct image_row *row, struct problem *p)
{
	char err[PROBLEM_MESSAGE_MAX];
	if (!captions_check(caption, len, err, sizeof(err)))
		return problem_set(p, 400, "%s", err);
	long long actor = req->logged_in ? req->user.user_id : 0;
	bool admin = req->logged_in && req->user.admin;
	enum catalog_caption_result result;
	enum db_status s = catalog_set_caption(app->catalog, key, keylen, caption, len, actor, admin,
					       row, &result);
	/* Someone else's image: still the sender's to change while no account is the admin. */
	if (s == DB_OK && result == CATALOG_CAPTION_FORBIDDEN && !admin) {
		struct problem admin_p = {0};
		if (auth_admin_ok(app, req, &admin_p))
			s = catalog_set_caption(app->catalog, key, keylen, caption, len, actor, true,
						row, &result);
		else if (admin_p.status == 503)
			s = DB_UNAVAILABLE;
	}
	if (s != DB_OK)
		return problem_set(p, 503, "the database does not answer; try again in a moment");
	switch (result) {
	case CATALOG_CAPTION_SET:
		return true;
	case CATALOG_CAPTION_NO_IMAGE:
		return problem_set(p, 404, "no image with key '%.*s'", (int)keylen, key);
	case CATALOG_CAPTION_FORBIDDEN:
		break;
	}
	return problem_set(p, 403,
			   "the image '%.*s' belongs to another user; only its owner or the admin "
			   "may change its caption",
			   (int)keylen, key);
}

bool caption_edit_json_has_nul(const char *json, size_t len)
{
	static const char nul[] = "u0000";
	for (size_t i = 0; i < len; i++) {
		if (json[i] != '\\')
			continue;
		/* An escape: the next character is escaped, whatever it is. */
		if (i + sizeof(nul) - 1 < len && strncmp(json + i + 1, nul, sizeof(nul) - 1) == 0)
			return true;
		i++;
	}
	return false;
}
