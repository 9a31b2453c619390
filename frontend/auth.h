/* auth: who a request comes from (session cookie or bearer token), and the cookie and CSRF token tied to it. */
#ifndef GALLERY_AUTH_H
#define GALLERY_AUTH_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/token.h"
#include "frontend/problem.h"

#define AUTH_COOKIE "gallery_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

enum { AUTH_KEY_BYTES = 32, AUTH_ADDRESS_MAX = 64 };

struct app;
struct request;

/* The server's key for CSRF tokens, in DATA_DIR/csrf.key (made on first start), shared by front ends. */
bool auth_load_key(const char *data_dir, unsigned char key[AUTH_KEY_BYTES], char *err,
		   size_t errlen);
/*
 * Resolves the request's cookie or bearer token, once; a request with neither
 * costs nothing. False when the answer must be an error: a malformed or unknown
 * bearer token (401) or a database that does not answer (503), in req->problem.
 */
bool auth_resolve(struct app *app, struct request *req);
/* The CSRF token of a logged-in request: an HMAC of its session under the server key. */
void auth_csrf_token(const struct app *app, const struct request *req, char out[33]);
/* Whether a cookie-authenticated write carries the right CSRF token (form field or header). */
bool auth_csrf_ok(const struct app *app, const struct request *req, const char *field);
void auth_set_cookie(const struct app *app, struct MHD_Response *r, const char *token);
void auth_clear_cookie(const struct app *app, struct MHD_Response *r);
/*
 * Whether the request may take an admin action: anyone while no account is
 * the admin (as the ECE1779 app has no accounts), only the admin after. False
 * with the reason (403, or 503 when the database does not answer) in p.
 */
bool auth_admin_ok(struct app *app, const struct request *req, struct problem *p);
/*
 * The client's address as text, for login throttling: the peer's, or the one a
 * proxy of GALLERY_TRUSTED_PROXIES forwarded (X-Forwarded-For), as the logs say.
 */
void auth_address(const struct app *app, struct MHD_Connection *conn,
		  char out[AUTH_ADDRESS_MAX]);

#endif
