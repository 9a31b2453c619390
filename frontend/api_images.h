/* api_images: the JSON API of images: upload, list_keys, key (as ECE1779 clients speak them), image, caption. */
#ifndef GALLERY_API_IMAGES_H
#define GALLERY_API_IMAGES_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result api_upload(struct app *app, struct request *req);
enum MHD_Result api_list_keys(struct app *app, struct request *req);
enum MHD_Result api_key(struct app *app, struct request *req);
/* GET /api/image/<key>: the image's details (image_json). */
enum MHD_Result api_image(struct app *app, struct request *req);
/* POST /api/caption/<key>: replaces the caption (form or JSON field "caption"). */
enum MHD_Result api_caption(struct app *app, struct request *req);

#endif
