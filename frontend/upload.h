/* upload: the step the upload page and POST /api/upload share: the form's key and file, stored. */
#ifndef GALLERY_UPLOAD_H
#define GALLERY_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/problem.h"

struct app;
struct image_row;
struct request;
struct upload_pending;

/* The longest caption field taken (a caption is checked by characters, after). */
enum { UPLOAD_CAPTION_FIELD_MAX = 32 * 1024 };

enum upload_result {
	UPLOAD_STORED,	/* row gets what was stored */
	UPLOAD_REFUSED, /* p says why */
	UPLOAD_WAITING, /* suspended: the handler returns MHD_YES and is called again */
};

/*
 * Stores the uploaded file of the request's form under its key field, with
 * its caption field when there is one (an empty one clears the caption; none
 * keeps the key's caption). blank_keeps: a caption field of only white space
 * counts as none, as on the upload page, whose box is always sent.
 *
 * The durable steps (the file's and its folder's syncs, the row's commit)
 * mostly wait on the disk, so they run on the upload threads (app->uploads)
 * while the request waits suspended: the request threads keep serving, and
 * more uploads can wait at once and share their syncs. The first call answers
 * UPLOAD_WAITING; libmicrohttpd calls the handler again once they ran, and
 * this call answers how it went.
 */
enum upload_result upload_from_form(struct app *app, struct request *req, bool blank_keeps,
				    struct image_row *row, struct problem *p);

/* Frees what a request's upload left (router_completed); pending may be NULL. */
void upload_pending_free(struct upload_pending *pending);

#endif
