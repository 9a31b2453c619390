/* upload: the step the upload page and POST /api/upload share: the form's key and file, stored. */
#ifndef GALLERY_UPLOAD_H
#define GALLERY_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/problem.h"

struct image_row;
struct request;

/*
 * Stores the uploaded file of the request's form under its key field, with
 * its caption field when there is one (an empty one clears the caption; none
 * keeps the key's caption). blank_keeps: a caption field of only white space
 * counts as none, as on the upload page, whose box is always sent. row gets
 * what was stored.
 */
/* The longest caption field taken (a caption is checked by characters, after). */
enum { UPLOAD_CAPTION_FIELD_MAX = 32 * 1024 };

bool upload_from_form(struct request *req, bool blank_keeps, struct image_row *row,
		      struct problem *p);

#endif
