/* request: the JSON body of a memcache request, parsed and checked; no HTTP. */
#include "request.h"

#include <stdio.h>
#include <string.h>

#include "memcache/cache.h"

enum {
	KEY_MAX_BYTES = 255,
	BASE64_QUANTUM = 4, /* base64 comes in groups of 4 characters */
};

/* JSON numbers are doubles: larger whole numbers lose precision. */
static const double VERSION_MAX = (double)(1LL << 53);

/* Always false, so that a check can return it. */
static bool fail(char *err, size_t errlen, const char *message)
{
	snprintf(err, errlen, "%s", message);
	return false;
}

static bool read_key(struct request_body *body, char *err, size_t errlen)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(body->root, "key");
	if (!key)
		return fail(err, errlen, "the body has no \"key\"");
	if (!cJSON_IsString(key))
		return fail(err, errlen, "\"key\" must be a string");
	if (key->valuestring[0] == '\0')
		return fail(err, errlen, "\"key\" is empty; give 1 to 255 bytes");
	size_t len = strlen(key->valuestring);
	if (len > KEY_MAX_BYTES)
		return fail(err, errlen, "\"key\" is longer than 255 bytes");
	body->key = key->valuestring;
	body->key_len = len;
	return true;
}

static bool read_version(struct request_body *body, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body->root, "version");
	body->version = CACHE_UNVERSIONED;
	if (!v || cJSON_IsNull(v))
		return true;
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	/* The range check comes first: converting an out-of-range double is undefined. */
	if (!(d >= 0 && d <= VERSION_MAX) || d != (double)(uint64_t)d)
		return fail(err, errlen, "\"version\" must be a whole number from 0 to 2^53");
	body->version = (uint64_t)d;
	return true;
}

/* Branch-free, so the check runs at memory speed over random image data. */
static unsigned is_base64_char(unsigned char c)
{
	return ((unsigned)(c - 'A') < 26) | ((unsigned)(c - 'a') < 26) |
	       ((unsigned)(c - '0') < 10) | (c == '+') | (c == '/');
}

static bool is_base64(const char *s, size_t len)
{
	if (len == 0 || len % BASE64_QUANTUM != 0)
		return false;
	size_t padding = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
	unsigned all = 1;
	for (size_t i = 0; i < len - padding; i++)
		all &= is_base64_char((unsigned char)s[i]);
	return all;
}

static bool read_value(struct request_body *body, char *err, size_t errlen)
{
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(body->root, "value");
	if (!cJSON_IsString(value))
		return fail(err, errlen,
			    value ? "\"value\" must be a string" : "the body has no \"value\"");
	size_t len = strlen(value->valuestring);
	if (!is_base64(value->valuestring, len))
		return fail(err, errlen,
			    "\"value\" must be non-empty base64 (A-Z a-z 0-9 + / and = "
			    "padding, a multiple of 4 characters)");
	body->value = value->valuestring;
	body->value_len = len;
	return true;
}

static bool read_fields(struct request_body *body, unsigned fields, char *err, size_t errlen)
{
	return (!(fields & REQUEST_KEY) || read_key(body, err, errlen)) &&
	       (!(fields & REQUEST_VERSION) || read_version(body, err, errlen)) &&
	       (!(fields & REQUEST_VALUE) || read_value(body, err, errlen));
}

/* Whether a JSON text holds the escape \u0000 (a backslash that is itself escaped does not count). */
static bool has_nul_escape(const char *s, size_t len)
{
	static const char NUL_ESCAPE[] = "u0000";
	size_t n = sizeof(NUL_ESCAPE) - 1;
	const char *end = s + len;
	/* memchr jumps over the long runs of base64 that hold no backslash. */
	for (const char *at = s; (at = memchr(at, '\\', (size_t)(end - at))); at += 2) {
		if ((size_t)(end - at - 1) >= n && memcmp(at + 1, NUL_ESCAPE, n) == 0)
			return true;
		if (end - at < 2)
			break;
	}
	return false;
}

bool request_body_parse(struct request_body *body, const char *text, size_t len, unsigned fields,
			char *err, size_t errlen)
{
	*body = (struct request_body){.version = CACHE_UNVERSIONED};
	if (len == 0)
		return fail(err, errlen, "the body is empty; send a JSON object");
	/* cJSON ends strings at a NUL, so a key holding one would stand for a shorter key. */
	if (memchr(text, '\0', len) || has_nul_escape(text, len))
		return fail(err, errlen, "the body holds a NUL character; keys and values may not");
	const char *end = NULL;
	body->root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	while (body->root && end < text + len && strchr(" \t\r\n", *end))
		end++;
	if (!body->root || end != text + len) {
		fail(err, errlen, "the body is not valid JSON");
		goto out_free;
	}
	if (!cJSON_IsObject(body->root)) {
		fail(err, errlen, "the body must be a JSON object");
		goto out_free;
	}
	if (!read_fields(body, fields, err, errlen))
		goto out_free;
	return true;
out_free:
	request_body_free(body);
	return false;
}

void request_body_free(struct request_body *body)
{
	cJSON_Delete(body->root);
	*body = (struct request_body){.version = CACHE_UNVERSIONED};
}
