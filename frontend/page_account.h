/* page_account: /account: password, API tokens, log out everywhere, delete the account. */
#ifndef GALLERY_PAGE_ACCOUNT_H
#define GALLERY_PAGE_ACCOUNT_H

#include <microhttpd.h>

struct app;
struct request;

enum MHD_Result page_account(struct app *app, struct request *req);

#endif
