/* api_images: the JSON API of images that ECE1779 clients speak: upload, list_keys, key. */
#ifndef GALLERY_API_IMAGES_H
#define GALLERY_API_IMAGES_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result api_upload(struct app *app, struct request *req);
enum MHD_Result api_list_keys(struct app *app, struct request *req);
enum MHD_Result api_key(struct app *app, struct request *req);

#endif
