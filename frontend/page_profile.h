/* page_profile: a user's public profile, /u/<username> and GET /api/users/<username>. */
#ifndef GALLERY_PAGE_PROFILE_H
#define GALLERY_PAGE_PROFILE_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result page_profile(struct app *app, struct request *req);

#endif
