/*
 * job_mail: the mail job: one message (text and HTML alternatives) through SMTP
 * with libcurl, or, with no GALLERY_SMTP_URL, an .eml file under DATA_DIR/mail/.
 * The payload: {"to":"a@b","subject":"..","text":"..","html":".."}, and an
 * optional "link" that the log shows when the mail is written to a file, so
 * that a gallery run without a mail server can still be signed up to.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "worker/kinds.h"

enum {
	CONNECT_TIMEOUT_S = 10,
	SEND_TIMEOUT_S = 60,
	B64_LINE = 76,
	ID_BYTES = 16,
	PATH_SIZE = 4096,
};

struct message {
	const char *to, *subject, *text, *html;
};

static bool one_line(const char *s)
{
	return !strpbrk(s, "\r\n");
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Base64 in lines of 76, each ending CRLF, as MIME wants. */
static bool b64_lines(struct buf *out, const char *data, size_t len, bool wrap)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)data;
	size_t col = 0;
	bool ok = true;
	for (size_t i = 0; ok && i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		char q[4] = {abc[v >> 18 & 63], abc[v >> 12 & 63],
			     i + 1 < len ? abc[v >> 6 & 63] : '=', i + 2 < len ? abc[v & 63] : '='};
		ok = buf_append(out, q, 4);
		col += 4;
		if (wrap && col >= B64_LINE) {
			ok = ok && buf_puts(out, "\r\n");
			col = 0;
		}
	}
	return ok && (!wrap || col == 0 || buf_puts(out, "\r\n"));
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[ID_BYTES];
	if (bytes > sizeof(r) || getrandom(r, bytes, 0) != (ssize_t)bytes)
		memset(r, 0, sizeof(r));
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static bool compose(const struct message *m, const char *from, struct buf *out, char *msg_id,
		    size_t msg_id_size)
{
	char date[64], id[2 * ID_BYTES + 1], boundary[2 * ID_BYTES + 1];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	random_hex(id, ID_BYTES);
	random_hex(boundary, ID_BYTES);
	const char *at = strrchr(from, '@');
	snprintf(msg_id, msg_id_size, "<%s@%s>", id, at && at[1] ? at + 1 : "localhost");
	bool ok = buf_printf(out, "From: %s\r\nTo: %s\r\nSubject: ", from, m->to);
	if (ascii(m->subject)) {
		ok = ok && buf_puts(out, m->subject);
	} else { /* RFC 2047: an encoded word for UTF-8 */
		ok = ok && buf_puts(out, "=?UTF-8?B?") &&
		     b64_lines(out, m->subject, strlen(m->subject), false) && buf_puts(out, "?=");
	}
	ok = ok && buf_printf(out,
			      "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
			      "Content-Type: multipart/alternative; boundary=\"=_%s\"\r\n\r\n",
			      date, msg_id, boundary);
	const char *types[] = {"text/plain", "text/html"};
	const char *bodies[] = {m->text, m->html};
	for (int i = 0; ok && i < 2; i++)
		ok = buf_printf(out,
				"--=_%s\r\nContent-Type: %s; charset=utf-8\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n",
				boundary, types[i]) &&
		     b64_lines(out, bodies[i], strlen(bodies[i]), true);
	return ok && buf_printf(out, "--=_%s--\r\n", boundary);
}

struct upload {
	const struct buf *msg;
	size_t sent;
};

static size_t read_message(char *dest, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t left = u->msg->len - u->sent, take = size * n < left ? size * n : left;
	memcpy(dest, u->msg->data + u->sent, take);
	u->sent += take;
	return take;
}

static enum job_run send_smtp(const struct config *cfg, const struct message *m,
			      const struct buf *msg, char *err, size_t errlen)
{
	CURL *curl = curl_easy_init();
	if (!curl) {
		snprintf(err, errlen, "out of memory");
		return JOB_RUN_RETRY;
	}
	char from[512], to[512];
	snprintf(from, sizeof(from), "<%s>", cfg->smtp_from);
	snprintf(to, sizeof(to), "<%s>", m->to);
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	struct upload u = {msg, 0};
	curl_easy_setopt(curl, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)SEND_TIMEOUT_S);
	if (*cfg->smtp_user) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg->smtp_password);
	}
	CURLcode rc = curl_easy_perform(curl);
	long code = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	if (rc == CURLE_OK)
		return JOB_RUN_DONE;
	snprintf(err, errlen, "cannot send mail to %s through %s: %s (SMTP %ld)", m->to,
		 cfg->smtp_url, curl_easy_strerror(rc), code);
	/* A refusal (5xx) or a setting that is wrong will not pass by itself; the rest may. */
	bool permanent = (code >= 500 && code < 600) || rc == CURLE_LOGIN_DENIED ||
			 rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL;
	return permanent ? JOB_RUN_FAILED : JOB_RUN_RETRY;
}

/* DATA_DIR/mail/<time>-<job>.eml, written to a temporary name and renamed. */
static enum job_run write_eml(const struct job_ctx *ctx, const struct buf *msg, char *path,
			      size_t path_size, char *err, size_t errlen)
{
	char dir[PATH_SIZE], tmp[PATH_SIZE + 32];
	snprintf(dir, sizeof(dir), "%s/mail", ctx->cfg->data_dir);
	if (mkdir(ctx->cfg->data_dir, 0755) != 0 && errno != EEXIST)
		goto fail;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		goto fail;
	snprintf(path, path_size, "%s/%lld-job%lld.eml", dir, (long long)clock_unix_ms(),
		 ctx->job->id);
	snprintf(tmp, sizeof(tmp), "%s/.new-job%lld.XXXXXX", dir, ctx->job->id);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	bool ok = write(fd, msg->data, msg->len) == (ssize_t)msg->len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return JOB_RUN_DONE;
	unlink(tmp);
fail:
	snprintf(err, errlen, "cannot write the mail under %s: %s", dir, strerror(errno));
	return JOB_RUN_RETRY;
}

static const char *field(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(item) ? item->valuestring : NULL;
}

enum job_run job_mail_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen)
{
	cJSON *payload = cJSON_Parse(ctx->job->payload);
	struct message m = {field(payload, "to"), field(payload, "subject"), field(payload, "text"),
			    field(payload, "html")};
	enum job_run run = JOB_RUN_FAILED;
	struct buf msg = BUF_INIT;
	if (!m.to || !m.subject || !m.text || !m.html || !one_line(m.to) ||
	    !one_line(m.subject) || !strchr(m.to, '@') || strpbrk(m.to, "<> ,;")) {
		snprintf(err, errlen, "the mail job's payload needs to (one address), subject (one "
				      "line), text and html");
		goto out;
	}
	char msg_id[128], path[PATH_SIZE + 64] = "";
	if (!compose(&m, ctx->cfg->smtp_from, &msg, msg_id, sizeof(msg_id))) {
		snprintf(err, errlen, "out of memory");
		run = JOB_RUN_RETRY;
		goto out;
	}
	run = *ctx->cfg->smtp_url ? send_smtp(ctx->cfg, &m, &msg, err, errlen)
				  : write_eml(ctx, &msg, path, sizeof(path), err, errlen);
	if (run != JOB_RUN_DONE)
		goto out;
	if (*path)
		log_info("job %lld: mail to %s written to %s (no GALLERY_SMTP_URL)%s%s", ctx->job->id,
			 m.to, path, field(payload, "link") ? "; its link: " : "",
			 field(payload, "link") ? field(payload, "link") : "");
	cJSON *res = cJSON_CreateObject();
	char *text = NULL;
	if (res && cJSON_AddStringToObject(res, "to", m.to) &&
	    cJSON_AddStringToObject(res, "message_id", msg_id) &&
	    (*path ? cJSON_AddStringToObject(res, "eml", path) != NULL
		   : cJSON_AddNullToObject(res, "eml") != NULL))
		text = cJSON_PrintUnformatted(res);
	if (!text || !buf_puts(result, text)) {
		snprintf(err, errlen, "out of memory");
		run = JOB_RUN_RETRY;
	}
	free(text);
	cJSON_Delete(res);
out:
	buf_free(&msg);
	cJSON_Delete(payload);
	return run;
}
