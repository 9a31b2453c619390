/* page_cache: the cache's pages: its configuration (and clearing it) and its statistics. */
#ifndef GALLERY_PAGE_CACHE_H
#define GALLERY_PAGE_CACHE_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result page_cache_properties(struct app *app, struct request *req);
enum MHD_Result page_cache_stats(struct app *app, struct request *req);

#endif
