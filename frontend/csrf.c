/* csrf: the token that page forms carry, so another site cannot post them. */
#include "csrf.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static bool token_well_formed(const char *s)
{
	if (!s || strlen(s) != CSRF_TOKEN_LEN)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

static const char *cookie_token(struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, CSRF_COOKIE);
	return token_well_formed(v) ? v : NULL;
}

void csrf_token(struct MHD_Connection *conn, char token[CSRF_TOKEN_LEN + 1], bool *fresh)
{
	const char *have = cookie_token(conn);
	*fresh = !have;
	if (have) {
		memcpy(token, have, CSRF_TOKEN_LEN + 1);
		return;
	}
	unsigned char bytes[CSRF_TOKEN_LEN / 2];
	randombytes_buf(bytes, sizeof(bytes));
	sodium_bin2hex(token, CSRF_TOKEN_LEN + 1, bytes, sizeof(bytes));
}

void csrf_set_cookie(struct MHD_Response *r, const char *token)
{
	char cookie[CSRF_TOKEN_LEN + 96];
	/* SameSite=Strict already keeps other sites' posts from carrying it. */
	snprintf(cookie, sizeof(cookie), CSRF_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
		 token);
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

bool csrf_form_ok(struct MHD_Connection *conn, const char *field)
{
	const char *cookie = cookie_token(conn);
	if (!cookie || !token_well_formed(field))
		return false;
	return sodium_memcmp(cookie, field, CSRF_TOKEN_LEN) == 0;
}
