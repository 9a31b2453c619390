/* http: answering over libmicrohttpd, and the one JSON error shape of both daemons. */
#ifndef GALLERY_HTTP_H
#define GALLERY_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "buf.h"

/* A request body collected in memory, up to a limit. */
struct http_body {
	struct buf buf;
	size_t limit;
	bool too_large;
};

/* Sets the limit, and reserves the announced length so the body is never copied to grow. */
void http_body_begin(struct http_body *body, struct MHD_Connection *conn, size_t limit);
/* Takes one chunk that libmicrohttpd handed over and marks it consumed. */
void http_body_feed(struct http_body *body, const char *data, size_t *size);
/* The request's Content-Length; false when it has none that parses. */
bool http_content_length(struct MHD_Connection *conn, unsigned long long *n);
/* True when the request announces a body larger than limit. */
bool http_announces_too_large(struct MHD_Connection *conn, size_t limit);

/* True for an HTTP/1.1 request without the Host header that HTTP/1.1 requires. */
bool http_lacks_host(struct MHD_Connection *conn, const char *version);

/* How a request's body is framed, by the rules of RFC 9112 section 6. */
struct http_framing {
	unsigned status;  /* 0: well framed; else 400 or 501, to answer with the connection closed */
	const char *why;  /* the reason, when status is not 0 */
	bool body;        /* a body follows the head */
};

/*
 * Checks what libmicrohttpd 0.9.75 lets through: Content-Length together with
 * Transfer-Encoding, differing Content-Length values, header names that are not
 * tokens (whitespace before the colon), and transfer codings other than chunked.
 * One walk over the headers; no allocation.
 */
struct http_framing http_framing_check(struct MHD_Connection *conn);
/* Queues a JSON error that closes the connection after it is sent. */
enum MHD_Result http_send_error_close(struct MHD_Connection *conn, unsigned code, const char *why);

/* Builds {"success":"false","error":{"code":N,"message":"..."}}. */
bool http_error_json(struct buf *out, unsigned code, const char *message);

/* {"success":"true"}, for a route to add its fields to; NULL when out of memory. */
cJSON *http_success_object(void);

/* A response that owns the buffer's bytes; the buffer is left empty. */
struct MHD_Response *http_response_buf(struct buf *body, const char *content_type);
/* Queues and drops our reference; NULL sends a bare 500. */
enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r);

enum MHD_Result http_send_json(struct MHD_Connection *conn, unsigned status, const cJSON *json);
enum MHD_Result http_send_error(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 405 with an Allow header listing the methods the path takes. */
enum MHD_Result http_send_not_allowed(struct MHD_Connection *conn, const char *allow);

#endif
