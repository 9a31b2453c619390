/* api_cache: GET /api/stats, the cache statistics rows and memcache's totals. */
#ifndef GALLERY_API_CACHE_H
#define GALLERY_API_CACHE_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result api_stats(struct app *app, struct request *req);

#endif
