/* cache_client: the front end's calls to the memcache daemon, over HTTP/JSON. */
#ifndef GALLERY_CACHE_CLIENT_H
#define GALLERY_CACHE_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct config;

enum cache_answer {
	CACHE_ANSWER_OK,   /* done; for a get, a hit */
	CACHE_ANSWER_MISS, /* a get found nothing */
	CACHE_ANSWER_DOWN, /* no answer within the timeout, or an error answer */
};

/* Once at start, before threads; every call after uses a handle of its own thread. */
bool cache_client_init(const struct config *cfg);
void cache_client_cleanup(void);

/*
 * On a hit, appends memcache's whole answer, {"success":"true","content":"<b64>"},
 * to out (the JSON API sends it on as it is); cache_client_content() finds the base64.
 */
enum cache_answer cache_client_get(const char *key, size_t keylen, struct buf *out);
/* The base64 inside a get answer, or NULL when the answer is not of that shape. */
const char *cache_client_content(const struct buf *answer, size_t *len);
enum cache_answer cache_client_put(const char *key, size_t keylen, const char *b64, size_t len,
				   uint64_t version);
enum cache_answer cache_client_invalidate(const char *key, size_t keylen, uint64_t version);
enum cache_answer cache_client_clear(long long *dropped);
enum cache_answer cache_client_refresh(void);
/* GET /stats, parsed; the caller deletes it. */
enum cache_answer cache_client_stats(cJSON **out);

#endif
