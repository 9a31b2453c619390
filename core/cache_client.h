/* cache_client: calls to one memcache daemon over HTTP/JSON, with its own circuit breaker. */
#ifndef GALLERY_CACHE_CLIENT_H
#define GALLERY_CACHE_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct cache_client;

enum cache_answer {
	CACHE_ANSWER_OK,   /* done; for a get, a hit */
	CACHE_ANSWER_MISS, /* a get found nothing */
	CACHE_ANSWER_DOWN, /* no answer within the timeout, or an error answer */
};

/*
 * A client of the memcache at url (http:// or https://), sending token as a
 * bearer token when not empty, each call bounded by timeout_ms. NULL (logged)
 * on a bad URL or no memory. Threads share it; each uses a handle of its own.
 */
struct cache_client *cache_client_open(const char *url, const char *token, long timeout_ms);
/* After every other thread that used it is done. */
void cache_client_close(struct cache_client *cc);

/*
 * On a hit, appends memcache's whole answer, {"success":"true","content":"<b64>"},
 * to out (the JSON API sends it on as it is); cache_client_content() finds the base64.
 */
enum cache_answer cache_client_get(struct cache_client *cc, const char *key, size_t keylen,
				   struct buf *out);
/*
 * A get that asks even while the breaker is open: for when memcache is the only
 * place left to look (the database does not answer), at the cost of a timeout.
 */
enum cache_answer cache_client_get_past_breaker(struct cache_client *cc, const char *key,
						size_t keylen, struct buf *out);
/* The base64 inside a get answer, or NULL when the answer is not of that shape. */
const char *cache_client_content(const struct buf *answer, size_t *len);
enum cache_answer cache_client_put(struct cache_client *cc, const char *key, size_t keylen,
				   const char *b64, size_t len, uint64_t version);
/*
 * Puts the base64 that answer holds, in the shape of a get answer, without
 * copying it: the put's body is framed around the value in answer's own
 * buffer, and answer is as it was when this returns. Reserving
 * cache_client_put_room(keylen) more bytes in answer beforehand spares a copy
 * of the whole answer to make room for the frame.
 */
enum cache_answer cache_client_put_answer(struct cache_client *cc, const char *key, size_t keylen,
					  struct buf *answer, uint64_t version);
size_t cache_client_put_room(size_t keylen);
enum cache_answer cache_client_invalidate(struct cache_client *cc, const char *key, size_t keylen,
					  uint64_t version);
enum cache_answer cache_client_clear(struct cache_client *cc, long long *dropped);
enum cache_answer cache_client_refresh(struct cache_client *cc);
/* GET /stats, parsed; the caller deletes it. */
enum cache_answer cache_client_stats(struct cache_client *cc, cJSON **out);

#endif
