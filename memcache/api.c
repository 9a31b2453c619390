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

enum { REQUEST_ERROR_MAX = 256 };

/*
 * A stored value is the whole answer to a hit, so that a hit is sent straight
 * from the cache without copying or encoding anything.
 */
static const char HIT_HEAD[] = HIT_JSON_HEAD;
static const char HIT_TAIL[] = HIT_JSON_TAIL;

typedef enum MHD_Result (*route_fn)(struct api *api, struct MHD_Connection *conn,
				    const struct request_body *body);

struct route {
	const char *path;
	const char *method;
	unsigned fields; /* enum request_field: what the route reads from a JSON body; 0 for none */
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

static enum MHD_Result route_put(struct api *api, struct MHD_Connection *conn,
				 const struct request_body *body)
{
	const char *key = body->key;
	size_t keylen = body->key_len;
	uint64_t version = body->version;
	size_t len = body->value_len;
	struct cache_value *v = cache_value_new(sizeof(HIT_HEAD) - 1 + len + sizeof(HIT_TAIL) - 1, len);
	if (!v)
		return http_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	memcpy(v->data, HIT_HEAD, sizeof(HIT_HEAD) - 1);
	memcpy(v->data + sizeof(HIT_HEAD) - 1, body->value, len);
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

static enum MHD_Result route_get(struct api *api, struct MHD_Connection *conn,
				 const struct request_body *body)
{
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
					const struct request_body *body)
{
	cache_invalidate(api->cache, body->key, body->key_len, body->version);
	return send_object(conn, http_success_object());
}

static enum MHD_Result route_clear(struct api *api, struct MHD_Connection *conn,
				   const struct request_body *body)
{
	(void)body;
	size_t dropped = cache_clear(api->cache);
	cJSON *answer = http_success_object();
	cJSON_AddNumberToObject(answer, "dropped", (double)dropped);
	return send_object(conn, answer);
}

static enum MHD_Result route_refresh(struct api *api, struct MHD_Connection *conn,
				     const struct request_body *body)
{
	(void)body;
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
				   const struct request_body *body)
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
				     const struct request_body *body)
{
	(void)api, (void)body;
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
	if (route->fields && !is_json_type(conn))
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

static enum MHD_Result finish_request(struct api *api, struct MHD_Connection *conn,
				      struct request *req)
{
	if (req->body.too_large)
		return http_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				       "the body is larger than the limit of %zu bytes",
				       api->max_body_bytes);
	const char *data = req->body.buf.data;
	size_t len = req->body.buf.len;
	if (!req->route->fields)
		return len ? http_send_error(conn, MHD_HTTP_BAD_REQUEST, "this route takes no body")
			   : req->route->fn(api, conn, NULL);
	struct request_body body;
	char err[REQUEST_ERROR_MAX];
	if (!request_body_parse(&body, data, len, req->route->fields, err, sizeof(err)))
		return http_send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", err);
	enum MHD_Result ret = req->route->fn(api, conn, &body);
	request_body_free(&body);
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
