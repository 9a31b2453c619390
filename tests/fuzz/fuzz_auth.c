/* fuzz_auth: the session cookie and Authorization header parsing of core/token over any bytes. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/token.h"
#include "tests/fuzz/fuzz.h"

static bool b64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[i]) ||
		    !s[i])
			return false;
	return true;
}

/* What any token handed out must be: 43 characters of base64url, NUL-terminated, also in the input. */
static void check_token(const char *header, const char *out, const char *before)
{
	FUZZ_CHECK(strlen(out) == TOKEN_CHARS);
	FUZZ_CHECK(b64url(out, TOKEN_CHARS));
	FUZZ_CHECK(token_well_formed(out, TOKEN_CHARS));
	char want[TOKEN_CHARS + 32];
	snprintf(want, sizeof(want), "%s%s", before, out);
	FUZZ_CHECK(strstr(header, want) != NULL);
}

int fuzz_auth_one(const uint8_t *data, size_t size)
{
	/* Header values reach the parsers as C strings, cut at a NUL as libmicrohttpd does. */
	size_t len = strnlen((const char *)data, size);
	char *header = malloc(len + 1);
	FUZZ_CHECK(header != NULL);
	memcpy(header, data, len);
	header[len] = '\0';
	char out[TOKEN_CHARS + 1];
	bool present = false;
	memset(out, 'x', sizeof(out));
	if (token_from_cookie(header, "gallery_session", out, &present)) {
		FUZZ_CHECK(present);
		check_token(header, out, "gallery_session=");
	}
	memset(out, 'x', sizeof(out));
	if (token_from_bearer(header, out, &present)) {
		FUZZ_CHECK(present);
		FUZZ_CHECK(strncasecmp(header, "Bearer ", 7) == 0);
		check_token(header, out, TOKEN_BEARER_PREFIX);
	}
	FUZZ_CHECK(!token_from_bearer(NULL, out, &present) && !present);
	FUZZ_CHECK(!token_from_cookie(NULL, "gallery_session", out, &present) && !present);
	/* Well-formedness over the raw bytes, any length. */
	if (token_well_formed((const char *)data, size))
		FUZZ_CHECK(size == TOKEN_CHARS && b64url((const char *)data, size));
	free(header);
	return 0;
}
