/* api: the cache daemon's HTTP/JSON routes over the cache core. */
#include "api.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http.h"
#include "common/log.h"
#include "memcache/cache.h"
#include "memcache/cache_sql.h"

enum {
	KEY_MAX_BYTES = 255,
	/* JSON numbers are doubles: larger whole numbers lose precision. */
	VERSION_MAX = (1LL << 53),
};

/*
 * A stored value is the whole answer to a hit, so that a hit is sent straight
 * from the cache without copying or encoding anything.
 */
static const char HIT_HEAD[] = HTTP_CONTENT_HEAD;
static const char HIT_TAIL[] = HTTP_CONTENT_TAIL;

typedef enum MHD_Result (*route_fn)(struct api *api, struct MHD_Connection *conn,
				    const cJSON *body);

struct route {
	const char *path;
	const char *method;
	bool json_body; /* the route reads a JSON object */
	route_fn fn;
};

struct request {
	const struct route *route;
	struct http_body body;
};

static enum MHD_Result send_object(struct MHD_Connection *conn, cJSON *root)
{
	enum MHD_Result ret = root ? http_send_json(conn, MHD_HTTP_OK, root)
				   : http_queue(conn, MHD_HTTP_OK, NULL);
	cJSON_Delete(root);
	return ret;
}

/* The key of a request body, or NULL after answering 400. */
static const char *body_key(struct MHD_Connection *conn, const cJSON *body, size_t *len,
			    enum MHD_Result *ret)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key");
	const char *problem = NULL;
	if (!key)
		problem = "the body has no \"key\"";
	else if (!cJSON_IsString(key))
		problem = "\"key\" must be a string";
	else if (key->valuestring[0] == '\0')
		problem = "\"key\" is empty; give 1 to 255 bytes";
	else if (strlen(key->valuestring) > KEY_MAX_BYTES)
		problem = "\"key\" is longer than 255 bytes";
	if (problem) {
		*ret = http_send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", problem);
		return NULL;
	}
	*len = strlen(key->valuestring);
	return key->valuestring;
}

/* The optional "version": a whole number from 0 to 2^53; false after answering 400. */
static bool body_version(struct MHD_Connection *conn, const cJSON *body, uint64_t *version,
			 enum MHD_Result *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "version");
	*version = CACHE_UNVERSIONED;
	if (!v || cJSON_IsNull(v))
		return true;
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (d < 0 || d > (double)VERSION_MAX || d != (double)(uint64_t)d) {
		*ret = http_send_error(conn, MHD_HTTP_BAD_REQUEST,
				       "\"version\" must be a whole number from 0 to 2^53");
		return false;
	}
	*version = (uint64_t)d;
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
	if (len == 0 || len % 4 != 0)
		return false;
	size_t padding = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
	unsigned all = 1;
	for (size_t i = 0; i < len - padding; i++)
		all &= is_base64_char((unsigned char)s[i]);
	return all;
}

static enum MHD_Result route_put(struct api *api, struct MHD_Connection *conn, const cJSON *body)
{
	enum MHD_Result ret = MHD_NO;
	size_t keylen;
	const char *key = body_key(conn, body, &keylen, &ret);
	uint64_t version;
	if (!key || !body_version(conn, body, &version, &ret))
		return ret;
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "value");
	if (!cJSON_IsString(value))
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
				       value ? "\"value\" must be a string" : "the body has no \"value\"");
	size_t len = strlen(value->valuestring);
	if (!is_base64(value->valuestring, len))
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
				       "\"value\" must be non-empty base64 (A-Z a-z 0-9 + / and = "
				       "padding, a multiple of 4 characters)");
	struct cache_value *v = cache_value_new(sizeof(HIT_HEAD) - 1 + len + sizeof(HIT_TAIL) - 1, len);
	if (!v)
		return http_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	memcpy(v->data, HIT_HEAD, sizeof(HIT_HEAD) - 1);
	memcpy(v->data + sizeof(HIT_HEAD) - 1, value->valuestring, len);
	memcpy(v->data + sizeof(HIT_HEAD) - 1 + len, HIT_TAIL, sizeof(HIT_TAIL) - 1);
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

static enum MHD_Result route_get(struct api *api, struct MHD_Connection *conn, const cJSON *body)
{
	enum MHD_Result ret = MHD_NO;
	size_t keylen;
	const char *key = body_key(conn, body, &keylen, &ret);
	if (!key)
		return ret;
	struct cache_value *v = cache_get(api->cache, key, keylen);
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
					const cJSON *body)
{
	enum MHD_Result ret = MHD_NO;
	size_t keylen;
	const char *key = body_key(conn, body, &keylen, &ret);
	uint64_t version;
	if (!key || !body_version(conn, body, &version, &ret))
		return ret;
	cache_invalidate(api->cache, key, keylen, version);
	return send_object(conn, http_success_object());
}

static enum MHD_Result route_clear(struct api *api, struct MHD_Connection *conn, const cJSON *body)
{
	(void)body;
	size_t dropped = cache_clear(api->cache);
	cJSON *answer = http_success_object();
	cJSON_AddNumberToObject(answer, "dropped", (double)dropped);
	return send_object(conn, answer);
}

static enum MHD_Result route_refresh(struct api *api, struct MHD_Connection *conn,
				     const cJSON *body)
{
	(void)body;
	size_t capacity;
	enum cache_policy policy;
	if (cache_sql_load_properties(api->sql, &capacity, &policy) != DB_OK) {
		log_warn("refresh_configuration: %s", cache_sql_error(api->sql));
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

static enum MHD_Result route_stats(struct api *api, struct MHD_Connection *conn, const cJSON *body)
{
	(void)body;
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
	CACHE_COUNTERS(STATS_COUNTER_JSON)
	enum MHD_Result ret = http_send_json(conn, MHD_HTTP_OK, root);
	cJSON_Delete(root);
	return ret;
}

static enum MHD_Result route_healthz(struct api *api, struct MHD_Connection *conn,
				     const cJSON *body)
{
	(void)api, (void)body;
	return send_object(conn, http_success_object());
}

static const struct route routes[] = {
	{"/put_into_memcache", "POST", true, route_put},
	{"/get_from_memcache", "POST", true, route_get},
	{"/invalidate_specific_key", "POST", true, route_invalidate},
	{"/clear_cache", "POST", false, route_clear},
	{"/refresh_configuration", "POST", false, route_refresh},
	{"/stats", "GET", false, route_stats},
	{"/healthz", "GET", false, route_healthz},
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

/* Takes as long for every wrong token as for the right one, so timing does not reveal it. */
static bool token_matches(const char *given, const char *token)
{
	size_t len = strlen(token), given_len = strlen(given);
	unsigned diff = len != given_len;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
	return diff == 0;
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

static enum MHD_Result start_request(struct api *api, struct MHD_Connection *conn,
				     const char *url, const char *method, const char *version,
				     void **req_cls)
{
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
	if (route->json_body && !is_json_type(conn))
		return http_send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				       "send the body as Content-Type: application/json");
	struct request *req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	req->route = route;
	http_body_begin(&req->body, conn, api->max_body_bytes);
	*req_cls = req;
	return MHD_YES;
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

static enum MHD_Result finish_request(struct api *api, struct MHD_Connection *conn,
				      struct request *req)
{
	if (req->body.too_large)
		return http_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				       "the body is larger than the limit of %zu bytes",
				       api->max_body_bytes);
	const char *data = req->body.buf.data;
	size_t len = req->body.buf.len;
	if (!req->route->json_body)
		return len ? http_send_error(conn, MHD_HTTP_BAD_REQUEST, "this route takes no body")
			   : req->route->fn(api, conn, NULL);
	if (len == 0)
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
				       "the body is empty; send a JSON object");
	/* cJSON ends strings at a NUL, so a key holding one would stand for a shorter key. */
	if (memchr(data, '\0', len) || has_nul_escape(data, len))
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
				       "the body holds a NUL character; keys and values may not");
	const char *end = NULL;
	cJSON *body = cJSON_ParseWithLengthOpts(data, len, &end, false);
	while (body && end < data + len && strchr(" \t\r\n", *end))
		end++;
	enum MHD_Result ret;
	if (!body || end != data + len)
		ret = http_send_error(conn, MHD_HTTP_BAD_REQUEST, "the body is not valid JSON");
	else if (!cJSON_IsObject(body))
		ret = http_send_error(conn, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
	else
		ret = req->route->fn(api, conn, body);
	cJSON_Delete(body);
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
		http_body_feed(&req->body, upload_data, upload_data_size);
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
	free(req);
	*req_cls = NULL;
}
