/* page_delete: deleting an image: the API routes, the confirm page, and the image page's button. */
#ifndef GALLERY_PAGE_DELETE_H
#define GALLERY_PAGE_DELETE_H

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/catalog.h"

struct app;
struct request;

/* POST /api/delete/<key>, and DELETE /api/key/<key> (the key in req->path_arg). */
enum MHD_Result api_delete(struct app *app, struct request *req);
/* GET /delete?key=: the confirm page; POST /delete (key, CSRF token): the deletion. */
enum MHD_Result page_delete(struct app *app, struct request *req);
/* Marks the image entry of row with "can_delete" when the request may delete it. */
void page_delete_offer(struct app *app, const struct request *req, cJSON *image,
		       const struct image_row *row);

#endif
