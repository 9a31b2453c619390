/* page_search: /search?q= and GET /api/search, a page of images that match, newest first. */
#ifndef GALLERY_PAGE_SEARCH_H
#define GALLERY_PAGE_SEARCH_H

#include <microhttpd.h>

struct app;
struct request;

/* Both routes: q, and cursor (the next a page gave) or page; JSON on the API route. */
enum MHD_Result page_search(struct app *app, struct request *req);

#endif
