/* page_images: the pages of images: home, upload, find an image, the list of keys. */
#ifndef GALLERY_PAGE_IMAGES_H
#define GALLERY_PAGE_IMAGES_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result page_home(struct app *app, struct request *req);
enum MHD_Result page_upload(struct app *app, struct request *req);
enum MHD_Result page_image(struct app *app, struct request *req);
enum MHD_Result page_keys(struct app *app, struct request *req);

#endif
