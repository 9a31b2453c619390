/* http: answering over libmicrohttpd, and the one JSON error shape of both daemons. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "num.h"

enum { HTTP_MESSAGE_MAX = 512 };

void http_body_feed(struct http_body *body, const char *data, size_t *size)
{
	if (!body->too_large) {
		if (body->buf.len + *size > body->limit || !buf_append(&body->buf, data, *size)) {
			body->too_large = true;
			buf_free(&body->buf);
		}
	}
	*size = 0;
}

bool http_content_length(struct MHD_Connection *conn, unsigned long long *n)
{
	const char *length =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t v;
	if (!length || !num_parse_u64(length, strlen(length), UINT64_MAX, &v))
		return false;
	*n = v;
	return true;
}

bool http_announces_too_large(struct MHD_Connection *conn, size_t limit)
{
	unsigned long long n;
	return http_content_length(conn, &n) && n > limit;
}

void http_body_begin(struct http_body *body, struct MHD_Connection *conn, size_t limit)
{
	body->limit = limit;
	unsigned long long n;
	if (http_content_length(conn, &n) && n > 0 && n <= limit)
		buf_reserve(&body->buf, (size_t)n);
}

bool http_lacks_host(struct MHD_Connection *conn, const char *version)
{
	return strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
	       !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
}

bool http_error_json(struct buf *out, unsigned code, const char *message)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *error = NULL;
	bool ok = root && cJSON_AddStringToObject(root, "success", "false") &&
		  (error = cJSON_AddObjectToObject(root, "error")) &&
		  cJSON_AddNumberToObject(error, "code", code) &&
		  cJSON_AddStringToObject(error, "message", message);
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	ok = text && buf_puts(out, text);
	cJSON_free(text);
	return ok;
}

cJSON *http_success_object(void)
{
	cJSON *root = cJSON_CreateObject();
	if (root && !cJSON_AddStringToObject(root, "success", "true")) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

struct MHD_Response *http_response_buf(struct buf *body, const char *content_type)
{
	size_t len = body->len;
	char *data = buf_steal(body);
	if (!data)
		return NULL;
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return NULL;
	}
	if (content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return r;
}

enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
	if (!r) {
		log_error("http: out of memory building a response");
		static const char oom[] = "{\"success\":\"false\",\"error\":{\"code\":500,"
					  "\"message\":\"out of memory\"}}";
		r = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_send_json(struct MHD_Connection *conn, unsigned status, const cJSON *json)
{
	char *text = cJSON_PrintUnformatted(json);
	struct buf body = BUF_INIT;
	struct MHD_Response *r = NULL;
	if (text && buf_puts(&body, text))
		r = http_response_buf(&body, "application/json");
	cJSON_free(text);
	buf_free(&body);
	return http_queue(conn, status, r);
}

static struct MHD_Response *error_response(unsigned code, const char *fmt, va_list ap)
{
	char message[HTTP_MESSAGE_MAX];
	vsnprintf(message, sizeof(message), fmt, ap);
	struct buf body = BUF_INIT;
	struct MHD_Response *r = NULL;
	if (http_error_json(&body, code, message))
		r = http_response_buf(&body, "application/json");
	buf_free(&body);
	return r;
}

enum MHD_Result http_send_error(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct MHD_Response *r = error_response(code, fmt, ap);
	va_end(ap);
	return http_queue(conn, code, r);
}

static struct MHD_Response *not_allowed_response(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct MHD_Response *r = error_response(MHD_HTTP_METHOD_NOT_ALLOWED, fmt, ap);
	va_end(ap);
	return r;
}

enum MHD_Result http_send_not_allowed(struct MHD_Connection *conn, const char *allow)
{
	struct MHD_Response *r = not_allowed_response("this path takes only %s", allow);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	return http_queue(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}

/* What one walk over the request's headers found. */
struct framing_walk {
	unsigned lengths, encodings;
	const char *length, *encoding;
	bool lengths_differ, bad_name;
};

/* RFC 9110 section 5.6.2: the characters a field name may hold. */
static bool is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c > ' ' && c < 0x7f && strchr(extra, c));
		if (!ok)
			return false;
	}
	return true;
}

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *name,
				      const char *value)
{
	(void)kind;
	struct framing_walk *w = cls;
	if (!is_token(name)) {
		w->bad_name = true;
		return MHD_NO;
	}
	if (strcasecmp(name, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (w->lengths++ && strcmp(w->length, value ? value : "") != 0)
			w->lengths_differ = true;
		w->length = value ? value : "";
	} else if (strcasecmp(name, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		w->encodings++;
		w->encoding = value ? value : "";
	}
	return MHD_YES;
}

struct http_framing http_framing_check(struct MHD_Connection *conn)
{
	struct framing_walk w = {0};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &w);
	struct http_framing f = {0};
	if (w.bad_name) {
		f.status = MHD_HTTP_BAD_REQUEST;
		f.why = "a header name holds whitespace or a character a name may not hold";
	} else if (w.encodings && w.lengths) {
		f.status = MHD_HTTP_BAD_REQUEST;
		f.why = "a request may not carry both Content-Length and Transfer-Encoding";
	} else if (w.lengths_differ) {
		f.status = MHD_HTTP_BAD_REQUEST;
		f.why = "the request carries differing Content-Length values";
	} else if (w.encodings > 1) {
		f.status = MHD_HTTP_BAD_REQUEST;
		f.why = "the request carries Transfer-Encoding more than once";
	} else if (w.encodings && strcasecmp(w.encoding, "chunked") != 0) {
		/* libmicrohttpd trims the value; "chunked" alone is the one coding it decodes. */
		f.status = MHD_HTTP_NOT_IMPLEMENTED;
		f.why = "the only transfer coding taken is chunked";
	} else {
		f.body = w.encodings || (w.lengths && strcmp(w.length, "0") != 0);
	}
	return f;
}

enum MHD_Result http_send_error_close(struct MHD_Connection *conn, unsigned code, const char *why)
{
	struct buf body = BUF_INIT;
	struct MHD_Response *r = NULL;
	if (http_error_json(&body, code, why))
		r = http_response_buf(&body, "application/json");
	buf_free(&body);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	return http_queue(conn, code, r);
}
