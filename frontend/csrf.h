/*
 * csrf: the token that page forms carry, so another site cannot post them.
 * Double-submit: the token sits in a cookie and in a hidden field of every page
 * form, and a form POST is taken only when the two agree. No state is kept, so
 * any number of front ends can share the work.
 */
#ifndef GALLERY_CSRF_H
#define GALLERY_CSRF_H

#include <microhttpd.h>
#include <stdbool.h>

enum { CSRF_TOKEN_LEN = 32 }; /* lowercase hex characters */

#define CSRF_COOKIE "gallery_csrf"
#define CSRF_FIELD "csrf_token"

/*
 * The request's token when its cookie holds a well-formed one; otherwise a new
 * random token, and *fresh says it has to be sent with csrf_set_cookie.
 */
void csrf_token(struct MHD_Connection *conn, char token[CSRF_TOKEN_LEN + 1], bool *fresh);
void csrf_set_cookie(struct MHD_Response *r, const char *token);
/* True when field (the form's token, may be NULL) equals the request's cookie. */
bool csrf_form_ok(struct MHD_Connection *conn, const char *field);

#endif
