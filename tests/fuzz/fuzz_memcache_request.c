/* fuzz_memcache_request: a memcache request body, read the way each route reads it. */
#include <string.h>

#include "memcache/request.h"
#include "tests/fuzz/fuzz.h"

enum { ERR_LEN = 256, KEY_MAX_BYTES = 255, BASE64_QUANTUM = 4 };

static const double VERSION_MAX = 9007199254740992.0; /* 2^53 */

/* What get, invalidate and put read. */
static const unsigned ROUTE_FIELDS[] = {
	REQUEST_KEY,
	REQUEST_KEY | REQUEST_VERSION,
	REQUEST_KEY | REQUEST_VERSION | REQUEST_VALUE,
};

static bool is_base64_text(const char *s, size_t len)
{
	static const char ALPHABET[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t body = len;
	while (body > 0 && len - body < 2 && s[body - 1] == '=')
		body--;
	size_t n = 0;
	while (n < len && memchr(ALPHABET, s[n], sizeof(ALPHABET) - 1))
		n++;
	return len > 0 && len % BASE64_QUANTUM == 0 && n == body;
}

/* A value found in place ends at its closing quote, with room after it for the answer's tail. */
static bool value_fits_in_place(const char *text, size_t len, const struct request_body *body)
{
	uintptr_t at = (uintptr_t)body->value, from = (uintptr_t)text;
	if (at < from || at >= from + len)
		return true; /* in root */
	size_t end = (size_t)(at - from) + body->value_len;
	return end + 2 <= len && text[end] == '"';
}

static void check_body(const char *text, size_t len, unsigned fields)
{
	struct request_body body;
	char err[ERR_LEN] = "";
	if (!request_body_parse(&body, text, len, fields, err, sizeof(err))) {
		/* Every refusal tells the client what is wrong. */
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(body.root == NULL);
		return;
	}
	FUZZ_CHECK(cJSON_IsObject(body.root));
	FUZZ_CHECK(body.key != NULL && body.key_len >= 1 && body.key_len <= KEY_MAX_BYTES);
	FUZZ_CHECK(strlen(body.key) == body.key_len);
	FUZZ_CHECK((double)body.version <= VERSION_MAX);
	if (!(fields & REQUEST_VERSION))
		FUZZ_CHECK(body.version == 0);
	if (fields & REQUEST_VALUE) {
		FUZZ_CHECK(body.value != NULL && body.value_len > 0);
		FUZZ_CHECK(memchr(body.value, '\0', body.value_len) == NULL);
		FUZZ_CHECK(is_base64_text(body.value, body.value_len));
		FUZZ_CHECK(value_fits_in_place(text, len, &body));
	} else {
		FUZZ_CHECK(body.value == NULL);
	}
	request_body_free(&body);
	FUZZ_CHECK(body.root == NULL);
}

int fuzz_memcache_request_one(const uint8_t *data, size_t size)
{
	/* An exact-size copy with no terminator: the parser must stop at len. */
	char *text = malloc(size ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size)
		memcpy(text, data, size);
	for (size_t i = 0; i < sizeof(ROUTE_FIELDS) / sizeof(ROUTE_FIELDS[0]); i++)
		check_body(text, size, ROUTE_FIELDS[i]);
	free(text);
	return 0;
}
