/* request: the JSON body of a memcache request, parsed and checked; no HTTP. */
#ifndef GALLERY_MEMCACHE_REQUEST_H
#define GALLERY_MEMCACHE_REQUEST_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which fields a route reads; they are checked in this order. */
enum request_field {
	REQUEST_KEY = 1 << 0,     /* "key": 1 to 255 bytes */
	REQUEST_VERSION = 1 << 1, /* "version": optional, a whole number from 0 to 2^53 */
	REQUEST_VALUE = 1 << 2,   /* "value": non-empty base64 */
};

/*
 * The key points into root, which the body owns. The value points into the
 * text when it lies there as it is (no escapes): then it is followed in the
 * text by its closing quote and at least one more byte. Otherwise it points
 * into root. Keep the text until done with the value.
 */
struct request_body {
	cJSON *root;
	const char *key;
	size_t key_len;
	uint64_t version; /* CACHE_UNVERSIONED when the body has none */
	const char *value;
	size_t value_len;
};

/*
 * Parses the JSON object in text[0..len) and reads the fields asked for. False,
 * with the message of a 400 answer in err and nothing left to free, when the
 * body is empty, holds a NUL (raw or escaped), is not JSON (or has more than
 * white space after it), is not an object, or a field is missing or malformed.
 * The value is checked where it lies and never copied; cJSON parses only the
 * rest of the body around it.
 */
bool request_body_parse(struct request_body *body, const char *text, size_t len, unsigned fields,
			char *err, size_t errlen);
void request_body_free(struct request_body *body);

#endif
