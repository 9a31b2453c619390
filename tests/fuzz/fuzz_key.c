/* fuzz_key: key_is_valid over raw keys, and over keys that url_decode_inplace made from a URL. */
#include <iconv.h>
#include <stdbool.h>
#include <string.h>

#include "common/url.h"
#include "core/key.h"
#include "tests/fuzz/fuzz.h"

enum {
	ERR_LEN = 128,
	UTF32_BYTES = 4,
	C0_CONTROL_LAST = 0x1F,
	DELETE_CHAR = 0x7F,
	C1_CONTROL_FIRST = 0x80,
	C1_CONTROL_LAST = 0x9F,
};

/*
 * The oracle: glibc's iconv decodes strict UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF), a second opinion written by others.
 */
static bool oracle_valid_key(const char *key, size_t len)
{
	if (len == 0 || len > KEY_MAX_BYTES)
		return false;
	static iconv_t cd = (iconv_t)-1;
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-32LE", "UTF-8");
	FUZZ_CHECK(cd != (iconv_t)-1);
	iconv(cd, NULL, NULL, NULL, NULL);
	uint32_t wide[KEY_MAX_BYTES];
	char *in = (char *)key, *out = (char *)wide;
	size_t inleft = len, outleft = sizeof(wide);
	if (iconv(cd, &in, &inleft, &out, &outleft) == (size_t)-1 || inleft != 0)
		return false;
	size_t n = (sizeof(wide) - outleft) / UTF32_BYTES;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = wide[i];
		if (c <= C0_CONTROL_LAST || c == DELETE_CHAR ||
		    (c >= C1_CONTROL_FIRST && c <= C1_CONTROL_LAST))
			return false;
	}
	return true;
}

/* key_is_valid on an exact-size copy; it must agree with the oracle and explain a refusal. */
static void check_key(const char *key, size_t len)
{
	char *copy = calloc(1, len ? len : 1);
	FUZZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, key, len);
	char err[ERR_LEN] = "";
	bool valid = key_is_valid(copy, len, err, sizeof(err));
	FUZZ_CHECK(valid == oracle_valid_key(copy, len));
	if (valid)
		FUZZ_CHECK(err[0] == '\0');
	else
		FUZZ_CHECK(strncmp(err, "key ", strlen("key ")) == 0);
	/* A message too short for the text is cut, never written past its end. */
	char tiny[2] = "x";
	FUZZ_CHECK(key_is_valid(copy, len, tiny, 1) == valid);
	FUZZ_CHECK(tiny[0] == (valid ? 'x' : '\0'));
	FUZZ_CHECK(key_is_valid(copy, len, NULL, 0) == valid);
	free(copy);
}

/*
 * libmicrohttpd hands the unescape callback a C string, so the URL is cut at
 * its first NUL, as it would be there.
 */
static void check_url(const char *data, size_t size)
{
	size_t len = strnlen(data, size);
	char *s = malloc(len + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	size_t decoded = url_decode_inplace(s, len);
	FUZZ_CHECK(decoded <= len);
	FUZZ_CHECK(s[decoded] == '\0');
	/* Still one C string: an escaped NUL must not cut the key short. */
	FUZZ_CHECK(strlen(s) == decoded);
	if (!memchr(data, '%', len))
		FUZZ_CHECK(decoded == len && memcmp(s, data, len) == 0);
	check_key(s, decoded);
	free(s);
}

int fuzz_key_one(const uint8_t *data, size_t size)
{
	check_key((const char *)data, size);
	check_url((const char *)data, size);
	return 0;
}
