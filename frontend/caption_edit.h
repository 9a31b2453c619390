/* caption_edit: a caption change as the API and the image page make it: checked, allowed, stored. */
#ifndef GALLERY_CAPTION_EDIT_H
#define GALLERY_CAPTION_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/catalog.h"
#include "frontend/problem.h"

struct app;
struct request;

/*
 * Whether the request's sender may change the caption of row: its owner, the
 * admin (anyone while no account is the admin), or anyone when the image has
 * no owner. A request without a session costs no query.
 */
bool caption_edit_allowed(struct app *app, const struct request *req, const struct image_row *row);
/*
 * Replaces key's caption (len 0: none) and tags when the sender may; row gets
 * the row after. False with p: 400 for a caption captions_check refuses, 404
 * for no image, 403 for someone else's image, 503 without a database.
 */
bool caption_edit(struct app *app, const struct request *req, const char *key, size_t keylen,
		  const char *caption, size_t len, struct image_row *row, struct problem *p);
/* Whether a JSON text holds an escaped NUL (\u0000) inside a string. */
bool caption_edit_json_has_nul(const char *json, size_t len);

#endif
