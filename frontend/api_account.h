/* api_account: sign-up, verification, login and logout, as pages and as JSON. */
#ifndef GALLERY_API_ACCOUNT_H
#define GALLERY_API_ACCOUNT_H

#include <microhttpd.h>

struct app;
struct request;

/* Each answers as a page or as JSON after the route (request_is_api). */
enum MHD_Result account_signup(struct app *app, struct request *req);
enum MHD_Result account_verify(struct app *app, struct request *req);
enum MHD_Result account_resend(struct app *app, struct request *req);
enum MHD_Result account_login(struct app *app, struct request *req);
enum MHD_Result account_logout(struct app *app, struct request *req);
enum MHD_Result account_me(struct app *app, struct request *req);
enum MHD_Result account_forgot(struct app *app, struct request *req);
enum MHD_Result account_reset(struct app *app, struct request *req);

#endif
