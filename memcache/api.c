/* api: the cache daemon's HTTP/JSON routes over the cache core. */
#include "api.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hit_json.h"
#include "common/http.h"
#include "common/log.h"
#include "memcache/cache.h"
#include "memcache/cache_sql.h"
#include "memcache/request.h"

enum {
	REQUEST_ERROR_MAX = 256,
	/*
	 * A put whose body is longer than the capacity by more than this cannot
	 * fit (the envelope around key and value is a few dozen bytes): it is
	 * refused before it is read.
	 */
	PUT_ENVELOPE_MAX = 4096,
	/*
	 * A connection's buffers are large enough that a put's body arrives in one
	 * or two reads (main.c), and so large that libmicrohttpd would take a head
	 * of 100 KB; this daemon's requests need a few hundred bytes of URL and
	 * headers, so heads past these limits are refused as libmicrohttpd
	 * refuses those that overflow its buffers.
	 */
	URL_MAX_BYTES = 8 * 1024,
	HEADERS_MAX_BYTES = 16 * 1024,
	HEADERS_MAX_COUNT = 100,
};

/*
 * A stored value is the whole answer to a hit, so that a hit is sent straight
 * from the cache without copying or encoding anything.
 */
static const char HIT_HEAD[] = HIT_JSON_HEAD;
static const char HIT_TAIL[] = HIT_JSON_TAIL;
#define HIT_HEAD_LEN (sizeof(HIT_HEAD) - 1)
#define HIT_TAIL_LEN (sizeof(HIT_TAIL) - 1)

struct request;

typedef enum MHD_Result (*route_fn)(struct api *api, struct MHD_Connection *conn,
				    struct request *req);

struct route {
	const char *path;
	const char *method;
	unsigned fields; /* enum request_field: what the route reads from a JSON body; 0 for none */
	route_fn fn;
};

/*
 * A put announcing its length is received straight into a chunk of the
 * cache, after room for the answer's head: the value stays where it lands,
 * and the head and tail of the hit answer are written around it.
 */
struct request {
	const struct route *route;
	struct http_body body; /* the body, when there is no chunk */
	struct cache_value *chunk;
	size_t received, expected;
	struct request_body parsed;
};

static enum MHD_Result send_object(struct MHD_Connection *conn, cJSON *root)
{
	enum MHD_Result ret = root ? http_send_json(conn, MHD_HTTP_OK, root)
				   : http_queue(conn, MHD_HTTP_OK, NULL);
	cJSON_Delete(root);
	return ret;
}

/*
 * The value where the body was received: in place when the parser found it
 * there (the envelope before it makes room for the head, its closing quote
 * and the byte after for the tail), otherwise copied from cJSON's unescaped
 * string to the start of the room, which is no longer needed.
 */
static struct cache_value *value_in_chunk(struct request *req)
{
	struct cache_value *v = req->chunk;
	const struct request_body *body = &req->parsed;
	req->chunk = NULL;
	char *text = v->room + HIT_HEAD_LEN;
	uintptr_t at = (uintptr_t)body->value, from = (uintptr_t)text;
	char *value = text;
	if (at >= from && at < from + req->received)
		value = text + (at - from);
	else
		memcpy(value, body->value, body->value_len);
	memcpy(value - HIT_HEAD_LEN, HIT_HEAD, HIT_HEAD_LEN);
	memcpy(value + body->value_len, HIT_TAIL, HIT_TAIL_LEN);
	v->data = value - HIT_HEAD_LEN;
	v->len = HIT_HEAD_LEN + body->value_len + HIT_TAIL_LEN;
	v->charge = body->value_len;
	return v;
}

static struct cache_value *value_copied(const struct request_body *body)
{
	size_t len = body->value_len;
	struct cache_value *v = cache_value_new(HIT_HEAD_LEN + len + HIT_TAIL_LEN, len);
	if (!v)
		return NULL;
	memcpy(v->data, HIT_HEAD, HIT_HEAD_LEN);
	memcpy(v->data + HIT_HEAD_LEN, body->value, len);
	memcpy(v->data + HIT_HEAD_LEN + len, HIT_TAIL, HIT_TAIL_LEN);
	return v;
}

static enum MHD_Result route_put(struct api *api, struct MHD_Connection *conn,
				 struct request *req)
{
	const struct request_body *body = &req->parsed;
	const char *key = body->key;
	size_t keylen = body->key_len;
	uint64_t version = body->version;
	size_t len = body->value_len;
	/* A put without a chunk may find caching off: then the value is not copied only to be dropped. */
	if (!req->chunk && cache_put_disabled(api->cache))
		return send_object(conn, http_success_object());
	struct cache_value *v = req->chunk ? value_in_chunk(req) : value_copied(body);
	if (!v)
		return http_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	switch (cache_put(api->cache, key, keylen, v, version)) {
	case CACHE_PUT_STORED:
	case CACHE_PUT_DISABLED:
		return send_object(conn, http_success_object());
	case CACHE_PUT_TOO_LARGE:
		return http_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				       "key and value take %zu bytes, more than the whole capacity",
				       keylen + len);
	case CACHE_PUT_STALE:
		return http_send_error(conn, MHD_HTTP_CONFLICT,
				       "version %llu is older than the cache's version of this key",
				       (unsigned long long)version);
	case CACHE_PUT_NO_MEMORY:
		break;
	}
	return http_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
}

static void release_value(void *cls)
{
	cache_value_release(cls);
}

static enum MHD_Result route_get(struct api *api, struct MHD_Connection *conn,
				 struct request *req)
{
	const struct request_body *body = &req->parsed;
	struct cache_value *v = cache_get(api->cache, body->key, body->key_len);
	if (!v)
		return http_send_error(conn, MHD_HTTP_NOT_FOUND, "key not in cache");
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
		v->len, v->data, release_value, v);
	if (!r)
		cache_value_release(v);
	else
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return http_queue(conn, MHD_HTTP_OK, r);
}

static enum MHD_Result route_invalidate(struct api *api, struct MHD_Connection *conn,
					struct request *req)
{
	cache_invalidate(api->cache, req->parsed.key, req->parsed.key_len, req->parsed.version);
	return send_object(conn, http_success_object());
}

static enum MHD_Result route_clear(struct api *api, struct MHD_Connection *conn,
				   struct request *req)
{
	(void)req;
	size_t dropped = cache_clear(api->cache);
	cJSON *answer = http_success_object();
	cJSON_AddNumberToObject(answer, "dropped", (double)dropped);
	return send_object(conn, answer);
}

static enum MHD_Result route_refresh(struct api *api, struct MHD_Connection *conn,
				     struct request *req)
{
	(void)req;
	size_t capacity;
	enum cache_policy policy;
	char err[CACHE_SQL_ERR_LEN];
	if (cache_sql_load_properties(api->sql, &capacity, &policy, err, sizeof(err)) != DB_OK) {
		log_warn("refresh_configuration: %s", err);
		return http_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "the database does not answer; the configuration is unchanged");
	}
	cache_configure(api->cache, capacity, policy);
	log_info("configuration: capacity %zu bytes, policy %s", capacity, cache_policy_name(policy));
	cJSON *answer = http_success_object();
	cJSON_AddNumberToObject(answer, "capacity_bytes", (double)capacity);
	cJSON_AddStringToObject(answer, "policy", cache_policy_name(policy));
	return send_object(conn, answer);
}

#define STATS_COUNTER_JSON(name) cJSON_AddNumberToObject(root, #name, (double)s.name);

static enum MHD_Result route_stats(struct api *api, struct MHD_Connection *conn,
				   struct request *req)
{
	(void)req;
	struct cache_stats s;
	cache_get_stats(api->cache, &s);
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return http_queue(conn, MHD_HTTP_OK, NULL);
	cJSON_AddNumberToObject(root, "items", (double)s.items);
	cJSON_AddNumberToObject(root, "bytes", (double)s.bytes);
	cJSON_AddNumberToObject(root, "capacity_bytes", (double)s.capacity);
	cJSON_AddStringToObject(root, "policy", cache_policy_name(s.policy));
	cJSON_AddNumberToObject(root, "tombstones", (double)s.tombstones);
	cJSON_AddNumberToObject(root, "memory_bytes", (double)s.memory_bytes);
	cJSON_AddNumberToObject(root, "memory_limit", (double)s.memory_limit);
	CACHE_COUNTERS(STATS_COUNTER_JSON)
	enum MHD_Result ret = http_send_json(conn, MHD_HTTP_OK, root);
	cJSON_Delete(root);
	return ret;
}

static enum MHD_Result route_healthz(struct api *api, struct MHD_Connection *conn,
				     struct request *req)
{
	(void)api, (void)req;
	return send_object(conn, http_success_object());
}

static const struct route routes[] = {
	{"/put_into_memcache", "POST", REQUEST_KEY | REQUEST_VERSION | REQUEST_VALUE, route_put},
	{"/get_from_memcache", "POST", REQUEST_KEY, route_get},
	{"/invalidate_specific_key", "POST", REQUEST_KEY | REQUEST_VERSION, route_invalidate},
	{"/clear_cache", "POST", 0, route_clear},
	{"/refresh_configuration", "POST", 0, route_refresh},
	{"/stats", "GET", 0, route_stats},
	{"/healthz", "GET", 0, route_healthz},
};

static const struct route *find_route(const char *url)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, url) == 0)
			return &routes[i];
	return NULL;
}

static bool method_is(const char *method, const char *wanted)
{
	/* HEAD is GET without the body; libmicrohttpd leaves the body out. */
	return strcmp(method, wanted) == 0 ||
	       (strcmp(wanted, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/*
 * Takes as long for every wrong token as for the right one, so timing does not
 * reveal it: both are hashed to one length, then compared in constant time.
 */
static bool token_matches(const char *given, const char *token)
{
	unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
	crypto_generichash(a, sizeof(a), (const unsigned char *)given, strlen(given), NULL, 0);
	crypto_generichash(b, sizeof(b), (const unsigned char *)token, strlen(token), NULL, 0);
	return sodium_memcmp(a, b, sizeof(a)) == 0;
}

static const char BEARER[] = "Bearer ";

static bool authorized(const struct api *api, struct MHD_Connection *conn)
{
	if (!api->token || !*api->token)
		return true;
	const char *auth =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	return auth && strncasecmp(auth, BEARER, sizeof(BEARER) - 1) == 0 &&
	       token_matches(auth + sizeof(BEARER) - 1, api->token);
}

static enum MHD_Result send_unauthorized(struct MHD_Connection *conn)
{
	struct buf body = BUF_INIT;
	struct MHD_Response *r = NULL;
	if (http_error_json(&body, MHD_HTTP_UNAUTHORIZED,
			    "this cache wants its token: send Authorization: Bearer "
			    "<GALLERY_MEMCACHE_TOKEN>"))
		r = http_response_buf(&body, "application/json");
	buf_free(&body);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	return http_queue(conn, MHD_HTTP_UNAUTHORIZED, r);
}

/* application/json, with or without parameters such as charset. */
static bool is_json_type(struct MHD_Connection *conn)
{
	static const char JSON_TYPE[] = "application/json";
	const char *type =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = sizeof(JSON_TYPE) - 1;
	return type && strncasecmp(type, JSON_TYPE, n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/*
 * Sizes a put's chunk once from Content-Length. False, with the answer in
 * *refused, when the body cannot fit in the capacity. Without a length, or
 * without a chunk to be had, the body is received into a buffer instead.
 */
static bool reserve_chunk(struct api *api, struct MHD_Connection *conn, struct request *req,
			  enum MHD_Result *refused)
{
	unsigned long long n;
	if (!http_content_length(conn, &n) || n == 0)
		return true;
	struct cache_stats s;
	cache_get_stats(api->cache, &s);
	if (s.capacity && n > s.capacity + PUT_ENVELOPE_MAX) {
		*refused = http_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
					   "the body takes %llu bytes, more than the whole capacity",
					   n);
		return false;
	}
	req->chunk = cache_value_reserve(api->cache, HIT_HEAD_LEN + (size_t)n);
	req->expected = (size_t)n;
	return true;
}

static void receive(struct request *req, const char *data, size_t *size)
{
	if (!req->chunk) {
		http_body_feed(&req->body, data, size);
		return;
	}
	/* libmicrohttpd never passes more than Content-Length; this only guards the chunk. */
	if (*size > req->expected - req->received) {
		req->body.too_large = true;
		cache_value_release(req->chunk);
		req->chunk = NULL;
	} else {
		memcpy(req->chunk->room + HIT_HEAD_LEN + req->received, data, *size);
		req->received += *size;
	}
	*size = 0;
}

struct head_size {
	size_t bytes, count;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *name,
				    const char *value)
{
	(void)kind;
	struct head_size *size = cls;
	/* Name, ": ", value and CRLF, as they came. */
	size->bytes += strlen(name) + (value ? strlen(value) : 0) + 4;
	size->count++;
	return size->bytes <= HEADERS_MAX_BYTES && size->count <= HEADERS_MAX_COUNT ? MHD_YES
										      : MHD_NO;
}

/*
 * True, with the answer in *refused, when the head is larger than any request
 * of this daemon needs: the URL (its path and its query) or the headers.
 */
static bool head_too_large(struct MHD_Connection *conn, const char *url, enum MHD_Result *refused)
{
	struct head_size query = {0, 0};
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, count_header, &query);
	if (strlen(url) + query.bytes > URL_MAX_BYTES || query.count > HEADERS_MAX_COUNT) {
		*refused = http_send_error_close(conn, MHD_HTTP_URI_TOO_LONG,
						 "the URL is longer than any route of this cache");
		return true;
	}
	struct head_size size = {0, 0};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &size);
	if (size.bytes <= HEADERS_MAX_BYTES && size.count <= HEADERS_MAX_COUNT)
		return false;
	*refused = http_send_error_close(conn, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
					 "the headers are larger than any request of this cache needs");
	return true;
}

static enum MHD_Result start_request(struct api *api, struct MHD_Connection *conn,
				     const char *url, const char *method, const char *version,
				     void **req_cls)
{
	enum MHD_Result refused;
	if (head_too_large(conn, url, &refused))
		return refused;
	if (http_lacks_host(conn, version))
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
				       "an HTTP/1.1 request needs a Host header");
	const struct route *route = find_route(url);
	/* /healthz stays open, for start scripts and load balancers that hold no token. */
	if ((!route || route->fn != route_healthz) && !authorized(api, conn))
		return send_unauthorized(conn);
	if (!route)
		return http_send_error(conn, MHD_HTTP_NOT_FOUND, "no route %s", url);
	if (!method_is(method, route->method))
		return http_send_not_allowed(conn, strcmp(route->method, "GET") == 0 ? "GET, HEAD"
										   : route->method);
	if (http_announces_too_large(conn, api->max_body_bytes))
		return http_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				       "the body is larger than the limit of %zu bytes",
				       api->max_body_bytes);
	if (route->fields && !is_json_type(conn))
		return http_send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				       "send the body as Content-Type: application/json");
	struct request *req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	req->route = route;
	if (route->fn == route_put) {
		if (!reserve_chunk(api, conn, req, &refused)) {
			free(req);
			return refused;
		}
	}
	if (!req->chunk)
		http_body_begin(&req->body, conn, api->max_body_bytes);
	*req_cls = req;
	return MHD_YES;
}

static enum MHD_Result finish_request(struct api *api, struct MHD_Connection *conn,
				      struct request *req)
{
	if (req->body.too_large)
		return http_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				       "the body is larger than the limit of %zu bytes",
				       api->max_body_bytes);
	const char *data = req->chunk ? req->chunk->room + HIT_HEAD_LEN : req->body.buf.data;
	size_t len = req->chunk ? req->received : req->body.buf.len;
	if (!req->route->fields)
		return len ? http_send_error(conn, MHD_HTTP_BAD_REQUEST, "this route takes no body")
			   : req->route->fn(api, conn, req);
	char err[REQUEST_ERROR_MAX];
	if (!request_body_parse(&req->parsed, data, len, req->route->fields, err, sizeof(err)))
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", err);
	enum MHD_Result ret = req->route->fn(api, conn, req);
	request_body_free(&req->parsed);
	return ret;
}

enum MHD_Result api_handle(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version, const char *upload_data,
			   size_t *upload_data_size, void **req_cls)
{
	struct api *api = cls;
	struct request *req = *req_cls;
	if (!req)
		return start_request(api, conn, url, method, version, req_cls);
	if (*upload_data_size) {
		receive(req, upload_data, upload_data_size);
		return MHD_YES;
	}
	return finish_request(api, conn, req);
}

void api_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		   enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)conn, (void)toe;
	struct request *req = *req_cls;
	if (!req)
		return;
	buf_free(&req->body.buf);
	cache_value_release(req->chunk);
	request_body_free(&req->parsed);
	free(req);
	*req_cls = NULL;
}
