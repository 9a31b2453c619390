/* page_tags: /tags/<tag>, the images that carry a hashtag, newest first. */
#ifndef GALLERY_PAGE_TAGS_H
#define GALLERY_PAGE_TAGS_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result page_tags(struct app *app, struct request *req);

#endif
