/* http: answering over libmicrohttpd, and the one JSON error shape of both daemons. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

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
	if (!length || !*length)
		return false;
	char *end;
	*n = strtoull(length, &end, 10);
	return *end == '\0';
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
