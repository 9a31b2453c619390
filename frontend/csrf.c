/* csrf: the token that page forms carry, so another site cannot post them. */
#include "csrf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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
	/* 16 bytes come whole from getrandom; only a signal can cut the call short. */
	while (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		if (errno != EINTR)
			abort();
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(token + 2 * i, 3, "%02x", bytes[i]);
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
	unsigned char diff = 0;
	for (size_t i = 0; i < CSRF_TOKEN_LEN; i++)
		diff |= (unsigned char)(cookie[i] ^ field[i]);
	return diff == 0;
}
