/* api_images: the JSON API of images: upload, list_keys, key (as ECE1779 clients speak them), image, caption. */
#include "api_images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/log.h"
#include "common/num.h"
#include "core/catalog.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"
#include "frontend/caption_edit.h"
#include "frontend/form.h"
#include "frontend/heavy.h"
#include "frontend/page_delete.h"
#include "frontend/image_json.h"
#include "frontend/reply.h"
#include "frontend/request.h"
#include "frontend/upload.h"

enum MHD_Result api_upload(struct app *app, struct request *req)
{
	struct image_row row;
	struct problem p;
	enum upload_result r = upload_from_form(app, req, false, &row, &p);
	if (r == UPLOAD_WAITING)
		return MHD_YES;
	if (r == UPLOAD_REFUSED)
		return reply_problem(app, req, &p);
	return reply_json(req, MHD_HTTP_OK, http_success_object());
}

enum {
	STREAM_BLOCK = 32 * 1024,
	/* One key escaped at worst (\u00XX for each byte), with its comma and quotes. */
	PIECE_MAX = 6 * KEY_MAX_BYTES + 64,
	LIST_LIMIT_MAX = 1000000,
};

static const char LIST_HEAD[] = "{\"success\":\"true\",\"keys\":[";

/*
 * A list_keys answer written as MHD asks for it, one key at a time from the
 * database: memory stays that of one key whatever the number of keys.
 */
struct key_stream {
	struct app *app;
	struct catalog_keys *keys;
	bool paged;     /* limit or after given: keys in byte order, and "next" when more */
	uint64_t limit; /* paged: keys to send; 0 for all */
	uint64_t sent;
	bool more, done, failed;
	char last[KEY_MAX_BYTES + 1];
	size_t lastlen;
	char piece[PIECE_MAX]; /* text made but not yet handed to MHD */
	size_t piece_len, piece_off;
};

/* The escapes cJSON prints, so that the answer is byte for byte what it always was. */
static size_t json_string(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	out[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: break;
		}
		if (esc) {
			out[n++] = esc[0];
			out[n++] = esc[1];
		} else if (c < 0x20) {
			memcpy(out + n, "\\u00", 4);
			out[n + 4] = hex[c >> 4];
			out[n + 5] = hex[c & 0xF];
			n += 6;
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '"';
	return n;
}

/* Makes the next piece of the answer; false when the database failed midway. */
static bool next_piece(struct key_stream *st)
{
	st->piece_len = st->piece_off = 0;
	const char *key;
	size_t keylen;
	if (catalog_keys_next(st->keys, &key, &keylen) != DB_OK)
		return false;
	/* A paged stream reads one key past its limit to learn whether there are more. */
	if (key && st->paged && st->limit && st->sent == st->limit) {
		st->more = true;
		key = NULL;
	}
	if (key) {
		if (st->sent)
			st->piece[st->piece_len++] = ',';
		st->piece_len += json_string(st->piece + st->piece_len, key, keylen);
		st->sent++;
		if (st->paged) {
			memcpy(st->last, key, keylen);
			st->lastlen = keylen;
		}
		return true;
	}
	st->piece[st->piece_len++] = ']';
	if (st->more) {
		static const char next[] = ",\"next\":";
		memcpy(st->piece + st->piece_len, next, sizeof(next) - 1);
		st->piece_len += sizeof(next) - 1;
		st->piece_len += json_string(st->piece + st->piece_len, st->last, st->lastlen);
	}
	st->piece[st->piece_len++] = '}';
	st->done = true;
	return true;
}

static ssize_t read_keys(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct key_stream *st = cls;
	size_t n = 0;
	for (;;) {
		size_t left = st->piece_len - st->piece_off;
		size_t take = left < max - n ? left : max - n;
		memcpy(out + n, st->piece + st->piece_off, take);
		st->piece_off += take;
		n += take;
		if (st->piece_off < st->piece_len || n == max)
			return (ssize_t)n;
		if (st->failed || st->done)
			break;
		if (!next_piece(st)) {
			/* No closing "]}": the client must see an unfinished answer, not a shorter list. */
			log_warn("list_keys: the database failed after %llu keys: %s",
				 (unsigned long long)st->sent, catalog_keys_error(st->keys));
			st->failed = true;
			break;
		}
	}
	if (n)
		return (ssize_t)n;
	return st->failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
}

static void free_key_stream(void *cls)
{
	struct key_stream *st = cls;
	catalog_keys_close(st->keys);
	heavy_leave(st->app->heavy);
	free(st);
}

/* limit and after, when given; false with a message when either is malformed. */
static bool list_params(struct request *req, struct key_stream *st, const char **after,
			char *err, size_t errlen)
{
	const char *limit = request_arg(req, "limit");
	*after = request_arg(req, "after");
	st->paged = limit || *after;
	if (limit) {
		long n;
		if (!num_parse_whole(limit, strlen(limit), 1, LIST_LIMIT_MAX, &n)) {
			snprintf(err, errlen, "limit must be a whole number from 1 to %d",
				 LIST_LIMIT_MAX);
			return false;
		}
		st->limit = (uint64_t)n;
	}
	if (*after && strlen(*after) > KEY_MAX_BYTES) {
		snprintf(err, errlen, "after is longer than a key can be (%d bytes)", KEY_MAX_BYTES);
		return false;
	}
	return true;
}

enum MHD_Result api_list_keys(struct app *app, struct request *req)
{
	struct key_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return reply_error(app, req, 500, "out of memory");
	st->app = app;
	const char *after;
	char err[PROBLEM_MESSAGE_MAX];
	if (!list_params(req, st, &after, err, sizeof(err))) {
		free(st);
		return reply_error(app, req, 400, err);
	}
	switch (heavy_enter(app->heavy, req->conn, &req->heavy)) {
	case HEAVY_GO:
		break;
	case HEAVY_WAIT:
		free(st);
		/* libmicrohttpd calls the handler again when its turn comes or its wait is over. */
		req->answered = false;
		return MHD_YES;
	case HEAVY_BUSY:
		free(st);
		return reply_error(app, req, 503, "too many lists are being read; try again in a moment");
	}
	/* A paged stream asks for one key more than its limit, to learn whether there are more. */
	enum db_status status = catalog_keys_open(app->catalog, after, after ? strlen(after) : 0,
						  st->paged ? (st->limit ? st->limit + 1 : 0) : 0,
						  &st->keys);
	if (status != DB_OK) {
		heavy_leave(app->heavy);
		free(st);
		return reply_error(app, req, 503, "the database does not answer; try again in a moment");
	}
	memcpy(st->piece, LIST_HEAD, sizeof(LIST_HEAD) - 1);
	st->piece_len = sizeof(LIST_HEAD) - 1;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
								   read_keys, st, free_key_stream);
	if (!r) {
		free_key_stream(st);
		return http_queue(req->conn, MHD_HTTP_OK, NULL);
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return http_queue(req->conn, MHD_HTTP_OK, r);
}

enum MHD_Result api_key(struct app *app, struct request *req)
{
	if (strcmp(req->method, MHD_HTTP_METHOD_DELETE) == 0)
		return api_delete(app, req);
	const char *key = req->path_arg;
	size_t keylen = strlen(key);
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err)))
		return reply_error(app, req, 400, err);
	struct buf answer = BUF_INIT;
	struct outcome o;
	if (!images_read_json(app->images, key, keylen, &answer, &o)) {
		buf_free(&answer);
		return reply_outcome(app, req, &o);
	}
	struct MHD_Response *r = http_response_buf(&answer, "application/json");
	buf_free(&answer);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return http_queue(req->conn, MHD_HTTP_OK, r);
}

/* The image's object in the API's success shape. */
static enum MHD_Result reply_image(struct app *app, struct request *req, const struct image_row *row,
				   const char *caption, size_t caption_len)
{
	cJSON *img = image_json_object(app, row, caption, caption_len);
	cJSON *ok = http_success_object();
	if (!img || !ok || !cJSON_AddItemToObject(ok, "image", img)) {
		cJSON_Delete(img);
		cJSON_Delete(ok);
		return reply_error(app, req, 500, "out of memory");
	}
	/* A caption edit must show at once: no client or proxy keeps an old copy. */
	req->no_store = true;
	return reply_json_with(app, req, MHD_HTTP_OK, ok);
}

enum MHD_Result api_image(struct app *app, struct request *req)
{
	const char *key = req->path_arg;
	size_t keylen = strlen(key);
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err)))
		return reply_error(app, req, 400, err);
	struct image_row row;
	struct buf caption = BUF_INIT;
	bool found = false;
	if (catalog_find_captioned(app->catalog, key, keylen, &row, &caption, &found) != DB_OK) {
		buf_free(&caption);
		return reply_error(app, req, 503, "the database does not answer; try again in a moment");
	}
	if (!found) {
		buf_free(&caption);
		snprintf(err, sizeof(err), "no image with key '%s'", key);
		return reply_error(app, req, 404, err);
	}
	enum MHD_Result r = reply_image(app, req, &row, caption.data, caption.len);
	buf_free(&caption);
	return r;
}

/* The caption of a JSON body {"caption": "..."} (null: none); false with p filled. */
static bool json_caption(const struct request *req, cJSON **body, const char **caption,
			 size_t *len, struct problem *p)
{
	*body = cJSON_ParseWithLength(req->json.buf.data, req->json.buf.len);
	cJSON *c = cJSON_GetObjectItemCaseSensitive(*body, "caption");
	if (!cJSON_IsObject(*body) || !c || !(cJSON_IsString(c) || cJSON_IsNull(c)))
		return problem_set(p, 400,
				   "send a JSON object {\"caption\": \"...\"} or a form with a "
				   "'caption' field");
	/* cJSON ends a string at an escaped NUL; the caption must not lose its tail unseen. */
	if (caption_edit_json_has_nul(req->json.buf.data, req->json.buf.len))
		return problem_set(p, 400, "the caption contains a NUL character");
	*caption = cJSON_IsString(c) ? c->valuestring : "";
	*len = strlen(*caption);
	return true;
}

enum MHD_Result api_caption(struct app *app, struct request *req)
{
	const char *key = req->path_arg;
	size_t keylen = strlen(key);
	struct problem p = {0};
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(key, keylen, err, sizeof(err)))
		return reply_error(app, req, 400, err);
	cJSON *body = NULL;
	const char *caption = NULL;
	size_t len = 0;
	if (req->has_json) {
		if (!json_caption(req, &body, &caption, &len, &p)) {
			cJSON_Delete(body);
			return reply_problem(app, req, &p);
		}
	} else if (req->form) {
		caption = form_field(req->form, "caption", &len);
	}
	if (!caption) {
		cJSON_Delete(body);
		return reply_error(app, req, 400,
				   "the request has no 'caption' field (send \"\" to remove the caption)");
	}
	struct image_row row;
	bool ok = caption_edit(app, req, key, keylen, caption, len, &row, &p);
	enum MHD_Result r = ok ? reply_image(app, req, &row, caption, len) : reply_problem(app, req, &p);
	cJSON_Delete(body);
	return r;
}
