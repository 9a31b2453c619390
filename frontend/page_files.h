/* page_files: what is no page: /raw image bytes, /thumb thumbnails, /static files and /healthz. */
#ifndef GALLERY_PAGE_FILES_H
#define GALLERY_PAGE_FILES_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result page_raw(struct app *app, struct request *req);
/* GET /thumb/<sha256>/<s|m>: the WebP thumbnail, or the original until it exists. */
enum MHD_Result page_thumb(struct app *app, struct request *req);
enum MHD_Result page_static(struct app *app, struct request *req);
enum MHD_Result page_healthz(struct app *app, struct request *req);

#endif
