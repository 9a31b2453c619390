/* cache_client: calls to one memcache daemon over HTTP/JSON, with its own circuit breaker. */
#include "cache_client.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/hit_json.h"
#include "common/log.h"

enum {
	/* After memcache could not be reached, calls answer DOWN at once for this long. */
	BREAKER_OPEN_MS = 500,
	/* How much of an unexpected answer a warning quotes. */
	WARN_QUOTE_MAX = 200,
	/* The longest escape of one key byte: \u00XX. */
	JSON_ESCAPE_MAX = 6,
	/* Room for the fixed parts of a put body: braces, names, quotes, a 20-digit version. */
	PUT_BODY_FIXED = 64,
	HTTP_OK = 200,
	HTTP_NOT_FOUND = 404,
	HTTP_CONFLICT = 409,
	HTTP_CONTENT_TOO_LARGE = 413,
};

static const char HIT_HEAD[] = HIT_JSON_HEAD;
static const char HIT_TAIL[] = HIT_JSON_TAIL;

enum route {
	ROUTE_GET,
	ROUTE_PUT,
	ROUTE_INVALIDATE,
	ROUTE_CLEAR,
	ROUTE_REFRESH,
	ROUTE_STATS,
	ROUTE_COUNT
};

static const char *const route_paths[ROUTE_COUNT] = {
    [ROUTE_GET] = "/get_from_memcache",
    [ROUTE_PUT] = "/put_into_memcache",
    [ROUTE_INVALIDATE] = "/invalidate_specific_key",
    [ROUTE_CLEAR] = "/clear_cache",
    [ROUTE_REFRESH] = "/refresh_configuration",
    [ROUTE_STATS] = "/stats",
};

/* One per thread, kept between calls so that its connection stays open. */
struct handle {
	CURL *curl;
	char error[CURL_ERROR_SIZE];
	struct buf *sink; /* where this call's answer goes */
	bool sink_sized;  /* room for the whole answer was asked for */
};

/* Set by cache_client_open before any thread uses it; read-only afterwards but for the breaker. */
struct cache_client {
	pthread_key_t handle_key; /* each thread's handle to this memcache */
	char *route_urls[ROUTE_COUNT];
	struct curl_slist *headers;
	long timeout_ms;
	/* Monotonic ms until which calls answer DOWN without trying; 0 when memcache answers. */
	_Atomic int64_t down_until_ms;
	/* When memcache last answered a call (clock_ms), so that one slow call among answered ones trips nothing. */
	_Atomic int64_t answered_ms;
	/* One limit for all of this client's warnings, so that a dead memcache does not flood the log. */
	struct log_limit warnings;
};

#define warn_limited(cc, ...) log_warn_limited(&(cc)->warnings, "cache_client: " __VA_ARGS__)

/*
 * The circuit breaker. While it is open, calls answer DOWN without trying. When
 * the window is over, the one caller that wins the exchange probes memcache; the
 * others keep answering DOWN until that probe reports, so that a dead memcache
 * costs one timeout per window, not one per request in flight.
 */
static bool breaker_allows(struct cache_client *cc)
{
	int64_t until = atomic_load(&cc->down_until_ms);
	if (until == 0)
		return true;
	int64_t now = clock_ms();
	if (now < until)
		return false;
	return atomic_compare_exchange_strong(&cc->down_until_ms, &until, now + BREAKER_OPEN_MS);
}

static void breaker_trip(struct cache_client *cc)
{
	atomic_store(&cc->down_until_ms, clock_ms() + BREAKER_OPEN_MS);
}

/*
 * A call that found memcache unreachable opens the breaker, unless memcache
 * answered another call since this one began: then it is there, and this call
 * was slow (a stalled thread, a busy machine), which says nothing about the
 * next. A refused connection is never slow: nobody listens.
 */
static bool breaker_failed(struct cache_client *cc, CURLcode rc, int64_t began_ms)
{
	bool refused = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
	if (!refused && atomic_load(&cc->answered_ms) >= began_ms)
		return false;
	breaker_trip(cc);
	return true;
}

static void breaker_close(struct cache_client *cc)
{
	atomic_store(&cc->answered_ms, clock_ms());
	if (atomic_load(&cc->down_until_ms) != 0 && atomic_exchange(&cc->down_until_ms, 0) != 0)
		log_info("cache_client: memcache answers again");
}

/* Failures that say memcache is not there (or not answering), as opposed to a local problem. */
static bool is_unreachable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return true;
	default:
		return false;
	}
}

/* An image answer arrives in a few large reads rather than many 16 KB ones. */
static const long RECEIVE_BUFFER_BYTES = 256 * 1024;

static void free_handle(void *value)
{
	struct handle *h = value;
	curl_easy_cleanup(h->curl);
	free(h);
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
	struct handle *h = userdata;
	if (!h->sink_sized) {
		/*
		 * An image answer is one allocation of its Content-Length rather than a
		 * chain of doublings, each a copy into fresh pages. If the room cannot be
		 * had, buf_append below grows the buffer as it goes.
		 */
		h->sink_sized = true;
		curl_off_t total = -1;
		if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total) == CURLE_OK &&
		    total > 0 && (uint64_t)total < SIZE_MAX / 2)
			buf_reserve(h->sink, (size_t)total);
	}
	/* Fewer bytes than given makes curl stop with CURLE_WRITE_ERROR. */
	return buf_append(h->sink, data, size * n) ? size * n : 0;
}

/* The options every call shares; per-call ones (URL, method, body, sink) are set by call(). */
static bool set_common_options(const struct cache_client *cc, struct handle *h)
{
	CURL *c = h->curl;
	return curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->error) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cc->timeout_ms) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cc->timeout_ms) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_PROXY, "") == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
	       /*
	        * memcache closes a connection that waits GALLERY_HEADER_TIMEOUT_S for
	        * its next request; one idle for a second is not reused, so that a call
	        * never lands on a connection being closed.
	        */
	       curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER_BYTES) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_HTTPHEADER, cc->headers) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_WRITEDATA, h) == CURLE_OK;
}

/* This thread's handle, made on its first call; NULL when out of memory. */
static struct handle *thread_handle(struct cache_client *cc)
{
	struct handle *h = pthread_getspecific(cc->handle_key);
	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->curl = curl_easy_init();
	if (!h->curl)
		goto out_free;
	if (!set_common_options(cc, h) || pthread_setspecific(cc->handle_key, h) != 0)
		goto out_cleanup;
	return h;
out_cleanup:
	curl_easy_cleanup(h->curl);
out_free:
	free(h);
	return NULL;
}

/* Method, body and answer buffer of this call; a NULL body makes a GET. */
static bool set_request(const struct cache_client *cc, struct handle *h, enum route route,
			const char *body, size_t len, struct buf *sink)
{
	CURL *c = h->curl;
	h->sink = sink;
	h->sink_sized = false;
	if (curl_easy_setopt(c, CURLOPT_URL, cc->route_urls[route]) != CURLE_OK)
		return false;
	if (!body) {
		/* Forget the last body; HTTPGET last, as setting POSTFIELDS means POST. */
		return curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL) == CURLE_OK &&
		       curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK;
	}
	return curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) == CURLE_OK;
}

/*
 * Sends one request and appends the answer's body to answer. False when no
 * HTTP answer came: the breaker is open (unless past_breaker), or the transfer
 * failed (logged).
 */
static bool call_via(struct cache_client *cc, enum route route, const char *body, size_t len,
		     struct buf *answer, long *status, bool past_breaker)
{
	if (!past_breaker && !breaker_allows(cc))
		return false;
	int64_t began_ms = clock_ms();
	struct handle *h = thread_handle(cc);
	if (!h) {
		warn_limited(cc, "cannot make a curl handle (out of memory)");
		return false;
	}
	if (!set_request(cc, h, route, body, len, answer)) {
		warn_limited(cc, "cannot set up the request to %s", route_paths[route]);
		return false;
	}
	h->error[0] = '\0';
	CURLcode rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		/* Only an unreachable memcache opens the breaker, not a local failure. */
		bool unreachable = is_unreachable(rc), tripped = false;
		if (unreachable)
			tripped = breaker_failed(cc, rc, began_ms);
		else
			breaker_close(cc);
		warn_limited(cc, "memcache %s: %s%s", route_paths[route],
			     h->error[0] ? h->error : curl_easy_strerror(rc),
			     tripped ? "; answering DOWN without asking for a while"
			     : unreachable ? "; memcache answered other calls meanwhile"
					   : "");
		return false;
	}
	breaker_close(cc);
	return curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status) == CURLE_OK;
}

static bool call(struct cache_client *cc, enum route route, const char *body, size_t len,
		 struct buf *answer, long *status)
{
	return call_via(cc, route, body, len, answer, status, false);
}

/* Logs an answer the client did not expect; the answer starts at answer->data + from. */
static enum cache_answer unexpected(struct cache_client *cc, enum route route, long status,
				    const struct buf *answer, size_t from)
{
	const char *text = answer->data && answer->len > from ? answer->data + from : "";
	warn_limited(cc, "memcache %s answered %ld: %.*s", route_paths[route], status, WARN_QUOTE_MAX,
		     text);
	return CACHE_ANSWER_DOWN;
}

/* Forgets what was appended to b after its first len bytes. */
static void buf_truncate(struct buf *b, size_t len)
{
	if (b->data) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* Appends s as the inside of a JSON string; UTF-8 passes through unchanged. */
static bool json_escape(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t plain = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char esc[JSON_ESCAPE_MAX] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
		size_t esc_len = JSON_ESCAPE_MAX;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			esc_len = 2;
		}
		if (!buf_append(out, s + plain, i - plain) || !buf_append(out, esc, esc_len))
			return false;
		plain = i + 1;
	}
	return buf_append(out, s + plain, len - plain);
}

/* Starts a body: {"key":"<key>"  (the caller adds the rest and the closing brace). */
static bool key_body(struct buf *b, const char *key, size_t keylen)
{
	return buf_puts(b, "{\"key\":\"") && json_escape(b, key, keylen) && buf_puts(b, "\"");
}

static bool build_urls(struct cache_client *cc, const char *base)
{
	size_t len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		len--;
	for (int r = 0; r < ROUTE_COUNT; r++) {
		struct buf url = BUF_INIT;
		if (!buf_append(&url, base, len) || !buf_puts(&url, route_paths[r])) {
			buf_free(&url);
			return false;
		}
		cc->route_urls[r] = buf_steal(&url);
	}
	return true;
}

static void free_urls(struct cache_client *cc)
{
	for (int r = 0; r < ROUTE_COUNT; r++) {
		free(cc->route_urls[r]);
		cc->route_urls[r] = NULL;
	}
}

/* A bad GALLERY_MEMCACHE_URL stops the start, not every request after it. */
static bool url_is_http(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

struct cache_client *cache_client_open(const char *url, const char *token, long timeout_ms)
{
	if (!url_is_http(url)) {
		log_error("cache_client: GALLERY_MEMCACHE_URL must be an http:// or https:// URL, "
			  "not '%s'",
			  url);
		return NULL;
	}
	struct cache_client *cc = calloc(1, sizeof(*cc));
	if (!cc) {
		log_error("cache_client: out of memory");
		return NULL;
	}
	cc->warnings = (struct log_limit)LOG_LIMIT_INIT;
	/* libcurl counts its initialisations, so each client may make and end its own. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cache_client: curl_global_init failed");
		goto out_free;
	}
	if (pthread_key_create(&cc->handle_key, free_handle) != 0) {
		log_error("cache_client: cannot create the thread key");
		goto out_global;
	}
	/* "Expect:" drops Expect: 100-continue, which would hold a large put back. */
	struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *more = list ? curl_slist_append(list, "Expect:") : NULL;
	if (more && token && *token) {
		struct buf auth = BUF_INIT;
		struct curl_slist *with_token = NULL;
		if (buf_printf(&auth, "Authorization: Bearer %s", token))
			with_token = curl_slist_append(more, auth.data);
		buf_free(&auth);
		if (!with_token)
			list = more, more = NULL;
	}
	if (!more || !build_urls(cc, url)) {
		log_error("cache_client: out of memory");
		curl_slist_free_all(more ? more : list);
		goto out_urls;
	}
	cc->headers = more;
	cc->timeout_ms = timeout_ms;
	atomic_store(&cc->down_until_ms, 0);
	atomic_store(&cc->answered_ms, 0);
	return cc;
out_urls:
	free_urls(cc);
	pthread_key_delete(cc->handle_key);
out_global:
	curl_global_cleanup();
out_free:
	free(cc);
	return NULL;
}

void cache_client_close(struct cache_client *cc)
{
	if (!cc)
		return;
	/* Other threads' handles went with their threads (the key's destructor). */
	struct handle *h = pthread_getspecific(cc->handle_key);
	if (h) {
		pthread_setspecific(cc->handle_key, NULL);
		free_handle(h);
	}
	pthread_key_delete(cc->handle_key);
	free_urls(cc);
	curl_slist_free_all(cc->headers);
	curl_global_cleanup();
	free(cc);
}

static enum cache_answer get_via(struct cache_client *cc, const char *key, size_t keylen,
				 struct buf *out, bool past_breaker)
{
	struct buf body = BUF_INIT;
	if (!key_body(&body, key, keylen) || !buf_puts(&body, "}")) {
		buf_free(&body);
		warn_limited(cc, "out of memory building a get");
		return CACHE_ANSWER_DOWN;
	}
	size_t start = out->len;
	long status = 0;
	bool answered = call_via(cc, ROUTE_GET, body.data, body.len, out, &status, past_breaker);
	buf_free(&body);
	if (answered && status == HTTP_OK)
		return CACHE_ANSWER_OK;
	enum cache_answer a = CACHE_ANSWER_DOWN;
	if (answered)
		a = status == HTTP_NOT_FOUND ? CACHE_ANSWER_MISS
					     : unexpected(cc, ROUTE_GET, status, out, start);
	buf_truncate(out, start);
	return a;
}

enum cache_answer cache_client_get(struct cache_client *cc, const char *key, size_t keylen,
				   struct buf *out)
{
	return get_via(cc, key, keylen, out, false);
}

enum cache_answer cache_client_get_past_breaker(struct cache_client *cc, const char *key,
						size_t keylen, struct buf *out)
{
	return get_via(cc, key, keylen, out, true);
}

const char *cache_client_content(const struct buf *answer, size_t *len)
{
	size_t head = sizeof(HIT_HEAD) - 1, tail = sizeof(HIT_TAIL) - 1;
	if (!answer->data || answer->len < head + tail ||
	    memcmp(answer->data, HIT_HEAD, head) != 0 ||
	    memcmp(answer->data + answer->len - tail, HIT_TAIL, tail) != 0)
		return NULL;
	if (len)
		*len = answer->len - head - tail;
	return answer->data + head;
}

/*
 * Sends a built body (freed here) and answers OK for a 200, and for a refusal
 * when the caller counts that as done.
 */
static enum cache_answer send_body(struct cache_client *cc, enum route route, struct buf *body,
				   bool built, bool refusal_is_done)
{
	if (!built) {
		buf_free(body);
		warn_limited(cc, "out of memory building a request to %s", route_paths[route]);
		return CACHE_ANSWER_DOWN;
	}
	struct buf answer = BUF_INIT;
	long status = 0;
	bool answered = call(cc, route, body->data, body->len, &answer, &status);
	buf_free(body);
	bool refused = status == HTTP_CONFLICT || status == HTTP_CONTENT_TOO_LARGE;
	enum cache_answer a = CACHE_ANSWER_DOWN;
	if (answered && (status == HTTP_OK || (refusal_is_done && refused)))
		a = CACHE_ANSWER_OK;
	else if (answered)
		unexpected(cc, route, status, &answer, 0);
	buf_free(&answer);
	return a;
}

enum cache_answer cache_client_put(struct cache_client *cc, const char *key, size_t keylen,
				   const char *b64, size_t len, uint64_t version)
{
	struct buf body = BUF_INIT;
	/* One allocation: the value is copied once, straight into the body. */
	bool built = keylen <= (SIZE_MAX - PUT_BODY_FIXED - len) / JSON_ESCAPE_MAX &&
		     buf_reserve(&body, keylen * JSON_ESCAPE_MAX + len + PUT_BODY_FIXED) &&
		     key_body(&body, key, keylen) &&
		     buf_printf(&body, ",\"version\":%" PRIu64 ",\"value\":\"", version) &&
		     buf_append(&body, b64, len) && buf_puts(&body, "\"}");
	/* 409: a newer version is known; 413: larger than the cache. Both rightly refused. */
	return send_body(cc, ROUTE_PUT, &body, built, true);
}

/* A put body may start with its value: memcache finds "value" wherever it stands. */
static const char PUT_VALUE_HEAD[] = "{\"value\":\"";
#define PUT_VALUE_HEAD_LEN (sizeof(PUT_VALUE_HEAD) - 1)
#define HIT_HEAD_LEN (sizeof(HIT_HEAD) - 1)
#define HIT_TAIL_LEN (sizeof(HIT_TAIL) - 1)
_Static_assert(PUT_VALUE_HEAD_LEN <= HIT_HEAD_LEN, "the put's head fits where the answer's was");

size_t cache_client_put_room(size_t keylen)
{
	return keylen <= (SIZE_MAX - PUT_BODY_FIXED) / JSON_ESCAPE_MAX
		       ? keylen * JSON_ESCAPE_MAX + PUT_BODY_FIXED
		       : SIZE_MAX;
}

enum cache_answer cache_client_put_answer(struct cache_client *cc, const char *key, size_t keylen,
					  struct buf *answer, uint64_t version)
{
	size_t len;
	if (!cache_client_content(answer, &len)) {
		warn_limited(cc, "a put from an answer that holds no content");
		return CACHE_ANSWER_DOWN;
	}
	struct buf tail = BUF_INIT;
	bool built = buf_puts(&tail, "\",\"key\":\"") && json_escape(&tail, key, keylen) &&
		     buf_printf(&tail, "\",\"version\":%" PRIu64 "}", version) &&
		     buf_reserve(answer, tail.len);
	if (!built) {
		buf_free(&tail);
		warn_limited(cc, "out of memory building a request to %s", route_paths[ROUTE_PUT]);
		return CACHE_ANSWER_DOWN;
	}
	/* The value stays where it is; only the few bytes around it change, and change back. */
	char *value = answer->data + HIT_HEAD_LEN;
	char *body = value - PUT_VALUE_HEAD_LEN;
	memcpy(body, PUT_VALUE_HEAD, PUT_VALUE_HEAD_LEN);
	memcpy(value + len, tail.data, tail.len);
	struct buf reply = BUF_INIT;
	long status = 0;
	bool answered = call(cc, ROUTE_PUT, body, PUT_VALUE_HEAD_LEN + len + tail.len, &reply, &status);
	memcpy(answer->data, HIT_HEAD, HIT_HEAD_LEN);
	memcpy(value + len, HIT_TAIL, HIT_TAIL_LEN);
	answer->data[answer->len] = '\0';
	buf_free(&tail);
	/* 409: a newer version is known; 413: larger than the cache. Both rightly refused. */
	bool refused = status == HTTP_CONFLICT || status == HTTP_CONTENT_TOO_LARGE;
	enum cache_answer a = CACHE_ANSWER_DOWN;
	if (answered && (status == HTTP_OK || refused))
		a = CACHE_ANSWER_OK;
	else if (answered)
		unexpected(cc, ROUTE_PUT, status, &reply, 0);
	buf_free(&reply);
	return a;
}

enum cache_answer cache_client_invalidate(struct cache_client *cc, const char *key, size_t keylen,
					  uint64_t version)
{
	struct buf body = BUF_INIT;
	bool built = key_body(&body, key, keylen) &&
		     buf_printf(&body, ",\"version\":%" PRIu64 "}", version);
	return send_body(cc, ROUTE_INVALIDATE, &body, built, false);
}

/* A bodiless call (GET when post is false, an empty POST otherwise) answered 200, parsed. */
static cJSON *call_for_object(struct cache_client *cc, enum route route, bool post)
{
	struct buf answer = BUF_INIT;
	long status = 0;
	cJSON *root = NULL;
	if (!call(cc, route, post ? "" : NULL, 0, &answer, &status))
		goto out;
	if (status == HTTP_OK && answer.data)
		root = cJSON_ParseWithLength(answer.data, answer.len);
	if (root && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		root = NULL;
	}
	if (!root)
		unexpected(cc, route, status, &answer, 0);
out:
	buf_free(&answer);
	return root;
}

enum cache_answer cache_client_clear(struct cache_client *cc, long long *dropped)
{
	cJSON *root = call_for_object(cc, ROUTE_CLEAR, true);
	if (!root)
		return CACHE_ANSWER_DOWN;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "dropped");
	bool ok = cJSON_IsNumber(n) && n->valuedouble >= 0;
	if (ok && dropped)
		*dropped = (long long)n->valuedouble;
	if (!ok)
		warn_limited(cc, "memcache %s answered without a \"dropped\" count",
			     route_paths[ROUTE_CLEAR]);
	cJSON_Delete(root);
	return ok ? CACHE_ANSWER_OK : CACHE_ANSWER_DOWN;
}

enum cache_answer cache_client_refresh(struct cache_client *cc)
{
	cJSON *root = call_for_object(cc, ROUTE_REFRESH, true);
	enum cache_answer a = root ? CACHE_ANSWER_OK : CACHE_ANSWER_DOWN;
	cJSON_Delete(root);
	return a;
}

enum cache_answer cache_client_stats(struct cache_client *cc, cJSON **out)
{
	*out = call_for_object(cc, ROUTE_STATS, false);
	return *out ? CACHE_ANSWER_OK : CACHE_ANSWER_DOWN;
}
