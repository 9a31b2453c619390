/* upload: the step the upload page and POST /api/upload share: the form's key and file, stored. */
#ifndef GALLERY_UPLOAD_H
#define GALLERY_UPLOAD_H

#include <stdbool.h>

#include "frontend/problem.h"

struct image_row;
struct request;

/* Stores the uploaded file of the request's form under its key field; row gets what was stored. */
bool upload_from_form(struct request *req, struct image_row *row, struct problem *p);

#endif
