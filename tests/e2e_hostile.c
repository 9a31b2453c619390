/* e2e_hostile: hundreds of malformed and hostile requests to both daemons, and what each must answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/harness.h"

enum {
	CASES_MAX = 1024,
	NAME_MAX_BYTES = 72,
	KB = 1024,
	MB = 1024 * 1024,
	/* The daemons under test take small bodies, so the oversized cases stay quick. */
	MAX_UPLOAD_MB = 1,
	MEMCACHE_MAX_BODY_MB = 1,
	/* Idle connections are closed after this long; the stalled clients wait for it. */
	CONNECTION_TIMEOUT_S = 3,
	/* The longest a case may take to be answered before it counts as a hang. */
	ANSWER_WAIT_S = 20,
	/*
	 * Slow clients send a byte this often: a request then takes several times
	 * the connection timeout in all, yet each pause is far below it.
	 */
	SLOW_BYTE_MS = 250,
	/* Runs of a slow client whose pauses a stalled machine stretched past the timeout. */
	SLOW_CLIENT_TRIES = 3,
	SLOW_CLIENTS_MAX = 16,
	DIR_PATH_MAX = 1024,
	HEADER_VALUE_MAX = 1024,
};

/* What the front end's CSRF check wants: the same 32 hex digits in the cookie and the form. */
#define CSRF_VALUE "0123456789abcdef0123456789abcdef"
static const char CSRF_COOKIE[] = "Cookie: gallery_csrf=" CSRF_VALUE "\r\n";
static const char HTML_ACCEPT_LINE[] = "Accept: " HTML_ACCEPT "\r\n";

/* Markup that must never reach a page unescaped. */
static const char *const FORBIDDEN_IN_PAGES[] = {
	"<script>alert", "<img src=x", "<svg onload", "<XSS>", "href=\"javascript:",
};

enum target { FRONTEND, MEMCACHE };

enum shape {
	SHAPE_JSON, /* our JSON error, code == status */
	SHAPE_HTML, /* a page, with the security headers */
	SHAPE_ANY,  /* refused by libmicrohttpd before any route saw it: the status alone */
};

/* The expected status of a request the server must close without an answer. */
enum { CLOSED = 0, HUNG = -1 };

struct hostile {
	char name[NAME_MAX_BYTES];
	enum target target;
	struct buf request;
	long status;
	enum shape shape;
	bool half_close; /* the client stops sending and says so: a truncated request */
	bool closes;     /* the answer must say "Connection: close": what follows cannot be trusted */
};

static struct hostile cases[CASES_MAX];
static size_t ncases;

static struct gallery g;
/* The slow clients' heads take longer than the default head deadline: they test the silence timeout. */
static const setting mc_extra[] = {
	"GALLERY_MEMCACHE_MAX_BODY_MB=1",
	"GALLERY_CONNECTION_TIMEOUT_S=3",
	"GALLERY_HEADER_TIMEOUT_S=60",
	NULL,
};
/* Many raw cases name the host "x"; the Host cases add names the front end must refuse. */
static const setting fe_extra[] = {"GALLERY_MAX_UPLOAD_MB=1", "GALLERY_CONNECTION_TIMEOUT_S=3",
				   "GALLERY_HEADER_TIMEOUT_S=60", "GALLERY_ALLOWED_HOSTS=x, Gallery.Example",
				   NULL};

/* ---- building the cases ---- */

static void describe(struct hostile *h)
{
	const char *who = h->target == FRONTEND ? "frontend" : "memcache";
	int n = snprintf(h->name, sizeof(h->name), "#%zu %s: ", ncases, who);
	for (size_t i = 0; i < h->request.len && (size_t)n + 5 < sizeof(h->name); i++) {
		unsigned char c = (unsigned char)h->request.data[i];
		if (c == '\r' && i + 1 < h->request.len && h->request.data[i + 1] == '\n')
			break;
		n += snprintf(h->name + n, sizeof(h->name) - (size_t)n, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x",
			      c);
	}
}

static struct hostile *add_raw(enum target target, long status, enum shape shape, const void *bytes,
			       size_t len)
{
	assert_true(ncases < CASES_MAX);
	struct hostile *h = &cases[ncases++];
	*h = (struct hostile){.target = target, .status = status, .shape = shape};
	assert_true(buf_append(&h->request, bytes, len));
	describe(h);
	return h;
}

/* The shape of an error from a route: JSON on the API and memcache, and unless a page is asked for. */
static enum shape route_shape(enum target target, const char *path, const char *headers)
{
	if (target == MEMCACHE || strncmp(path, "/api/", 5) == 0)
		return SHAPE_JSON;
	return strstr(headers, "Accept: text/html") ? SHAPE_HTML : SHAPE_JSON;
}

/*
 * A well-formed HTTP/1.1 request: headers are whole "Name: value\r\n" lines;
 * a non-NULL body gets a Content-Length.
 */
static struct hostile *add_request(enum target target, long status, const char *method,
				   const char *path, const char *headers, const void *body,
				   size_t len)
{
	struct buf r = BUF_INIT;
	assert_true(buf_printf(&r, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
			       method, path, headers));
	if (body)
		assert_true(buf_printf(&r, "Content-Length: %zu\r\n", len));
	assert_true(buf_puts(&r, "\r\n") && (!body || buf_append(&r, body, len)));
	struct hostile *h = add_raw(target, status, route_shape(target, path, headers), r.data, r.len);
	buf_free(&r);
	return h;
}

static void add_get(enum target target, long status, const char *path, const char *headers)
{
	add_request(target, status, "GET", path, headers, NULL, 0);
}

static void add_json(long status, const char *path, const char *json)
{
	add_request(MEMCACHE, status, "POST", path, "Content-Type: application/json\r\n", json,
		    strlen(json));
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A multipart body: parts are "name", "value" pairs; a name "file" becomes a file part. */
static void multipart(struct buf *body, const char *boundary, const char *const *parts, size_t nparts,
		      bool closed)
{
	for (size_t i = 0; i + 1 < nparts; i += 2) {
		assert_true(buf_printf(body, "--%s\r\nContent-Disposition: form-data; name=\"%s\"",
				       boundary, parts[i]));
		if (strcmp(parts[i], "file") == 0)
			assert_true(buf_puts(body, "; filename=\"photo.png\"\r\nContent-Type: image/png"));
		assert_true(buf_printf(body, "\r\n\r\n%s\r\n", parts[i + 1]));
	}
	if (closed)
		assert_true(buf_printf(body, "--%s--\r\n", boundary));
}

static void add_upload(long status, const char *path, const char *extra_headers,
		       const char *const *parts, size_t nparts)
{
	struct buf body = BUF_INIT, headers = BUF_INIT;
	multipart(&body, "HostileBoundary", parts, nparts, true);
	assert_true(buf_printf(&headers, "Content-Type: multipart/form-data; boundary=HostileBoundary\r\n%s",
			       extra_headers));
	add_request(FRONTEND, status, "POST", path, headers.data, body.data, body.len);
	buf_free(&body);
	buf_free(&headers);
}

/* ---- the corpus ---- */

static const char *const TRAVERSALS[] = {
	"../README.md", "..%2fREADME.md", "%2e%2e/%2e%2e/etc/passwd", "..%2f..%2f..%2fetc%2fpasswd",
	"....//....//etc/passwd", ".%2e/Makefile", "%2e%2e%5c%2e%2e%5cetc%5cpasswd",
	"style.css%00.txt", "style.css%00", "/etc/passwd", "%2fetc%2fpasswd", ".hidden.css",
	"sub/../../../etc/passwd.css", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
	"%252e%252e/%252e%252e/etc/passwd", "style.css/", "", "style.CSS", "style.css.bak",
	"../templates/header.html", "..;/README.md", "~root/.bashrc", ".git/config",
	"style.css%0d%0aSet-Cookie:%20x=1", "style.css?../../etc/passwd.css",
};

static void add_static_traversals(void)
{
	char path[256];
	for (size_t i = 0; i < sizeof(TRAVERSALS) / sizeof(TRAVERSALS[0]); i++) {
		snprintf(path, sizeof(path), "/static/%s", TRAVERSALS[i]);
		/* "?" starts the query: the file asked for is style.css, and it is there. */
		long status = strchr(TRAVERSALS[i], '?') ? 200 : 404;
		add_get(FRONTEND, status, path, i % 2 ? HTML_ACCEPT_LINE : "");
	}
	char *long_name = repeat('a', 2000);
	snprintf(path, sizeof(path), "/static/%.200s.css", long_name);
	add_get(FRONTEND, 404, path, "");
	free(long_name);
}

/* Keys that look like paths: valid keys, so "not found", and never a file. */
static const char *const PATH_KEYS[] = {
	"../../etc/passwd", "..", ".", "/etc/passwd", "..\\..\\windows\\win.ini",
	"images/../../db/password", "%2e%2e%2f", "a/../b", "tmp/upload", "../var/db/db.env",
};

/* Keys the rules refuse: 400 wherever a key is read. */
static const struct {
	const char *bytes;
	size_t len;
} BAD_KEYS[] = {
	{"\xff", 1}, {"\xc0\xaf", 2}, {"\xed\xa0\x80", 3}, {"\0", 1}, {"a\0b", 3}, {"\n", 1},
	{"\x1b[31mred", 8}, {"\x7f", 1}, {"a\xe2\x82", 3}, {"\xf8\x88\x80\x80\x80", 5},
};

static void add_key_cases(const char *image_location)
{
	char path[4096], enc[2048];
	for (size_t i = 0; i < sizeof(PATH_KEYS) / sizeof(PATH_KEYS[0]); i++) {
		url_encode(PATH_KEYS[i], strlen(PATH_KEYS[i]), enc, sizeof(enc));
		snprintf(path, sizeof(path), "/api/key/%s", enc);
		add_get(FRONTEND, 404, path, "");
		snprintf(path, sizeof(path), "/raw/%s", enc);
		add_get(FRONTEND, 404, path, i % 2 ? HTML_ACCEPT_LINE : "");
	}
	/* The stored image's own location is not a key. */
	url_encode(image_location, strlen(image_location), enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/key/%s", enc);
	add_get(FRONTEND, 404, path, "");
	snprintf(path, sizeof(path), "/raw/%s", enc);
	add_get(FRONTEND, 404, path, "");
	for (size_t i = 0; i < sizeof(BAD_KEYS) / sizeof(BAD_KEYS[0]); i++) {
		url_encode(BAD_KEYS[i].bytes, BAD_KEYS[i].len, enc, sizeof(enc));
		snprintf(path, sizeof(path), "/api/key/%s", enc);
		add_request(FRONTEND, 400, i % 2 ? "POST" : "GET", path, "", NULL, 0);
		snprintf(path, sizeof(path), "/raw/%s", enc);
		add_get(FRONTEND, 400, path, i % 2 ? HTML_ACCEPT_LINE : "");
		snprintf(path, sizeof(path), "/image?key=%s", enc);
		add_get(FRONTEND, 400, path, HTML_ACCEPT_LINE);
	}
	add_get(FRONTEND, 400, "/api/key/", "");
	char *long_key = repeat('k', 256);
	snprintf(path, sizeof(path), "/api/key/%s", long_key);
	add_get(FRONTEND, 400, path, "");
	snprintf(path, sizeof(path), "/raw/%s", long_key);
	add_get(FRONTEND, 400, path, "");
	free(long_key);
}

static const char *const SQL_KEYS[] = {
	"' OR '1'='1", "' OR 1=1 -- ", "'; DROP TABLE images; --", "\" OR \"\"=\"",
	"1' UNION SELECT location FROM images -- ", "%' OR '%'='", "\\' OR 1=1 #",
	"'||(SELECT SLEEP(3))||'", "admin'/*", "';SHUTDOWN;--",
};

static void add_sql_cases(void)
{
	char path[4096], enc[2048], json[4096];
	for (size_t i = 0; i < sizeof(SQL_KEYS) / sizeof(SQL_KEYS[0]); i++) {
		url_encode(SQL_KEYS[i], strlen(SQL_KEYS[i]), enc, sizeof(enc));
		snprintf(path, sizeof(path), "/api/key/%s", enc);
		add_get(FRONTEND, 404, path, "");
		snprintf(path, sizeof(path), "/raw/%s", enc);
		add_get(FRONTEND, 404, path, "");
		snprintf(path, sizeof(path), "/image?key=%s", enc);
		add_get(FRONTEND, 404, path, HTML_ACCEPT_LINE);
		snprintf(path, sizeof(path), "/keys_list?q=%s", enc);
		add_get(FRONTEND, 200, path, HTML_ACCEPT_LINE);
		cJSON *body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "key", SQL_KEYS[i]);
		assert_true(cJSON_PrintPreallocated(body, json, sizeof(json), false));
		cJSON_Delete(body);
		add_json(404, "/get_from_memcache", json);
	}
}

static const char *const SCRIPTS[] = {
	"<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
	"'';!--\"<XSS>=&{()}", "\" href=\"javascript:alert(1)",
};

static void add_script_cases(void)
{
	char path[4096], enc[2048], json[4096];
	for (size_t i = 0; i < sizeof(SCRIPTS) / sizeof(SCRIPTS[0]); i++) {
		const char *s = SCRIPTS[i];
		url_encode(s, strlen(s), enc, sizeof(enc));
		snprintf(path, sizeof(path), "/image?key=%s", enc);
		add_get(FRONTEND, 404, path, HTML_ACCEPT_LINE);
		snprintf(path, sizeof(path), "/keys_list?q=%s", enc);
		add_get(FRONTEND, 200, path, HTML_ACCEPT_LINE);
		snprintf(path, sizeof(path), "/api/key/%s", enc);
		add_get(FRONTEND, 404, path, HTML_ACCEPT_LINE);
		snprintf(path, sizeof(path), "/raw/%s", enc);
		add_get(FRONTEND, 404, path, HTML_ACCEPT_LINE);
		snprintf(path, sizeof(path), "/%s", enc);
		add_get(FRONTEND, 404, path, HTML_ACCEPT_LINE);
		snprintf(path, sizeof(path), "/api/stats?minutes=%s", enc);
		add_get(FRONTEND, 400, path, "");
		snprintf(path, sizeof(path), "/keys_list?page=%s", enc);
		add_get(FRONTEND, 400, path, HTML_ACCEPT_LINE);
		const char *api_parts[] = {"key", s, "file", "<html>not an image</html>"};
		add_upload(415, "/api/upload", "", api_parts, 4);
		cJSON *body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "key", s);
		assert_true(cJSON_PrintPreallocated(body, json, sizeof(json), false));
		cJSON_Delete(body);
		add_json(404, "/get_from_memcache", json);
		snprintf(path, sizeof(path), "/%s", enc);
		add_json(404, path, json);
	}
}

static void add_number_cases(void)
{
	static const char *const numbers[] = {
		"-1", "0", "-99999999999999999999", "99999999999999999999", "1441", "1e3", "0x10",
		"%205", "5%20", "NaN", "", "1.5", "%2B5", "%EF%BC%95", "9223372036854775808",
	};
	char path[256];
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		snprintf(path, sizeof(path), "/api/stats?minutes=%s", numbers[i]);
		add_get(FRONTEND, 400, path, "");
		/* Page 1441 is past the last page, which is no error; the rest are not page numbers. */
		snprintf(path, sizeof(path), "/keys_list?page=%s", numbers[i]);
		add_get(FRONTEND, strcmp(numbers[i], "1441") == 0 ? 200 : 400, path, HTML_ACCEPT_LINE);
	}
}

static void add_multipart_cases(void)
{
	static const char valid_body[] =
		"--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--bnd--\r\n";
	static const char *const bad_types[] = {
		"multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
		"application/json", "text/plain", "application/xml", "image/png", "multipart/mixed; boundary=b",
		"MULTIPART/FORM-DATA; boundary=nomatch", "text/html; boundary=b",
	};
	char headers[HEADER_VALUE_MAX];
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		snprintf(headers, sizeof(headers), "Content-Type: %s\r\n", bad_types[i]);
		add_request(FRONTEND, 400, "POST", "/api/upload", headers, valid_body,
			    sizeof(valid_body) - 1);
	}
	add_request(FRONTEND, 400, "POST", "/api/upload", "", valid_body, sizeof(valid_body) - 1);
	add_request(FRONTEND, 400, "POST", "/api/upload",
		    "Content-Type: application/json\r\n", "{\"key\":\"k\",\"file\":\"iVBORw0KGgo=\"}", 33);
	const char *mp = "Content-Type: multipart/form-data; boundary=bnd\r\n";
	static const char *const bodies[] = {
		/* no closing boundary */
		"--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n",
		/* no Content-Disposition */
		"--bnd\r\n\r\nk\r\n--bnd--\r\n",
		/* no name */
		"--bnd\r\nContent-Disposition: form-data\r\n\r\nk\r\n--bnd--\r\n",
		/* just the end */
		"--bnd--\r\n",
		/* another boundary than announced */
		"--cnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--cnd--\r\n",
		/* garbage */
		"\x00\x01\x02\x03 not multipart at all",
		/* a JSON body under a multipart type */
		"{\"key\":\"k\"}",
		/* a file with no key */
		"--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n\x1a\n\r\n--bnd--\r\n",
		/* a key with no file */
		"--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--bnd--\r\n",
		/* header lines that never end */
		"--bnd\r\nContent-Disposition: form-data; name=\"key\"",
		/* an empty file */
		"--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\r\n--bnd--\r\n",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t len = strlen(bodies[i]);
		if (i == 5)
			len = 26;
		add_request(FRONTEND, 400, "POST", "/api/upload", mp, bodies[i], len);
	}
	/* Boundaries past the 70 bytes RFC 2046 allows. */
	for (size_t n = 200; n <= 5000; n += 4800) {
		char *boundary = repeat('x', n);
		struct buf h = BUF_INIT, body = BUF_INIT;
		const char *parts[] = {"key", "k"};
		multipart(&body, boundary, parts, 2, true);
		assert_true(buf_printf(&h, "Content-Type: multipart/form-data; boundary=%s\r\n", boundary));
		add_request(FRONTEND, 400, "POST", "/api/upload", h.data, body.data, body.len);
		buf_free(&h);
		buf_free(&body);
		free(boundary);
	}
	/* Fields the form refuses: too many, a name too long, a value too long. */
	struct buf body = BUF_INIT;
	for (int i = 0; i < 20; i++)
		assert_true(buf_printf(&body, "--bnd\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n", i));
	assert_true(buf_puts(&body, "--bnd--\r\n"));
	add_request(FRONTEND, 400, "POST", "/api/upload", mp, body.data, body.len);
	buf_free(&body);
	char *long_name = repeat('n', 100), *long_value = repeat('v', 5000);
	const char *name_parts[] = {long_name, "v"};
	add_upload(400, "/api/upload", "", name_parts, 2);
	const char *value_parts[] = {"key", long_value};
	add_upload(400, "/api/upload", "", value_parts, 2);
	free(long_name);
	free(long_value);
	/* Bad keys inside an otherwise good form, and files that are not images. */
	const char *nul_key_parts[] = {"key", "a\x01z", "file", "\x89PNG\r\n\x1a\n0000"};
	add_upload(400, "/api/upload", "", nul_key_parts, 4);
	const char *utf8_key_parts[] = {"key", "\xff\xfe", "file", "\x89PNG\r\n\x1a\n0000"};
	add_upload(400, "/api/upload", "", utf8_key_parts, 4);
	const char *text_parts[] = {"key", "k", "file", "just some text"};
	add_upload(415, "/api/upload", "", text_parts, 4);
	const char *exe_parts[] = {"key", "k", "file", "MZ\x90\x00 this program cannot be run"};
	add_upload(415, "/api/upload", "", exe_parts, 4);
	const char *svg_parts[] = {"key", "k", "file", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"};
	add_upload(415, "/api/upload", "", svg_parts, 4);
	add_request(FRONTEND, 415, "POST", "/api/upload",
		    "Content-Type: application/x-www-form-urlencoded\r\n", "key=k&file=hello", 16);
	add_request(FRONTEND, 400, "POST", "/api/upload",
		    "Content-Type: application/x-www-form-urlencoded\r\n", "key=%FF&file=hello", 18);
	add_request(FRONTEND, 400, "POST", "/api/upload",
		    "Content-Type: application/x-www-form-urlencoded\r\n", "&&&===&&&", 9);
}

static void add_oversized_cases(void)
{
	char headers[HEADER_VALUE_MAX];
	/* Announced sizes over the limit are refused before the body: only the headers go. */
	snprintf(headers, sizeof(headers),
		 "POST /api/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Type: multipart/form-data; boundary=bnd\r\nContent-Length: %d\r\n\r\n",
		 2 * MB);
	add_raw(FRONTEND, 413, SHAPE_JSON, headers, strlen(headers));
	snprintf(headers, sizeof(headers),
		 "POST /api/list_keys HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: %d\r\n\r\n", MB);
	add_raw(FRONTEND, 413, SHAPE_JSON, headers, strlen(headers));
	snprintf(headers, sizeof(headers),
		 "POST /put_into_memcache HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", 40 * MB);
	add_raw(MEMCACHE, 413, SHAPE_JSON, headers, strlen(headers));
	/* A file over the limit with no length announced, streamed in chunks. */
	struct buf r = BUF_INIT;
	assert_true(buf_puts(&r, "POST /api/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				 "Content-Type: multipart/form-data; boundary=bnd\r\n"
				 "Transfer-Encoding: chunked\r\n\r\n"));
	struct buf body = BUF_INIT;
	assert_true(buf_puts(&body, "--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nbig\r\n"
				    "--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
				    "Content-Type: image/png\r\n\r\n"));
	/* A PNG saying 16 x 16, so that only its size is wrong. */
	static const char png_head[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10"
				       "\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91\x68\x36";
	assert_true(buf_append(&body, png_head, sizeof(png_head) - 1));
	size_t file_bytes = MAX_UPLOAD_MB * MB + 16 * KB;
	char *filler = repeat('P', file_bytes);
	assert_true(buf_append(&body, filler, file_bytes) && buf_puts(&body, "\r\n--bnd--\r\n"));
	assert_true(buf_printf(&r, "%zx\r\n", body.len) && buf_append(&r, body.data, body.len) &&
		    buf_puts(&r, "\r\n0\r\n\r\n"));
	add_raw(FRONTEND, 413, SHAPE_JSON, r.data, r.len);
	buf_free(&r);
	/* The same to memcache: a JSON body over its limit in chunks. */
	assert_true(buf_puts(&r, "POST /put_into_memcache HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
	buf_reset(&body);
	assert_true(buf_puts(&body, "{\"key\":\"big\",\"value\":\"") &&
		    buf_append(&body, filler, file_bytes) && buf_puts(&body, "\"}"));
	assert_true(buf_printf(&r, "%zx\r\n", body.len) && buf_append(&r, body.data, body.len) &&
		    buf_puts(&r, "\r\n0\r\n\r\n"));
	add_raw(MEMCACHE, 413, SHAPE_JSON, r.data, r.len);
	buf_free(&r);
	buf_free(&body);
	free(filler);
}

/* Requests cut short: the client sends part and says it is done. */
static void add_truncated_cases(void)
{
	static const struct {
		enum target target;
		const char *text;
	} cut[] = {
		{FRONTEND, "POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
			   "boundary=bnd\r\nContent-Length: 500\r\n\r\n--bnd\r\nContent-Disposition: form-data; "
			   "name=\"key\"\r\n\r\ncut\r\n--bnd\r\nContent-Disposition: form-data; name=\"file\"; "
			   "filename=\"a.png\"\r\n\r\n\x89PNG\r\n\x1a\n"},
		{FRONTEND, "POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
			   "boundary=bnd\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n--bnd\r\n"},
		{FRONTEND, "GET /api/list_keys HTTP/1.1\r\nHost: x\r\n"},
		{FRONTEND, "GET /api/key/abc HTT"},
		{FRONTEND, "POST /image HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
			   "x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nkey=a"},
		{MEMCACHE, "POST /put_into_memcache HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			   "Content-Length: 100\r\n\r\n{\"key\":\"cut\",\"value\":\"AAAA"},
		{MEMCACHE, "POST /get_from_memcache HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"key"},
		{MEMCACHE, "GET /stats HTTP/1.1\r\nHo"},
		{MEMCACHE, "POST /clear_cache HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"},
	};
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		add_raw(cut[i].target, CLOSED, SHAPE_ANY, cut[i].text, strlen(cut[i].text))->half_close =
			true;
}

static void add_json_cases(void)
{
	static const struct {
		long status;
		const char *path, *json;
	} bodies[] = {
		{400, "/get_from_memcache", "["},
		{400, "/get_from_memcache", "[1,2]"},
		{400, "/get_from_memcache", "null"},
		{400, "/get_from_memcache", "\"key\""},
		{400, "/get_from_memcache", "123"},
		{400, "/get_from_memcache", "{"},
		{400, "/get_from_memcache", "{\"key\":}"},
		{400, "/get_from_memcache", "{\"key\":1}"},
		{400, "/get_from_memcache", "{\"key\":null}"},
		{400, "/get_from_memcache", "{\"key\":true}"},
		{400, "/get_from_memcache", "{\"key\":\"\"}"},
		{400, "/get_from_memcache", "{\"key\":[\"a\"]}"},
		{400, "/get_from_memcache", "{\"key\":{\"key\":\"a\"}}"},
		{400, "/get_from_memcache", "{\"Key\":\"a\"}"},
		{400, "/get_from_memcache", "{'key':'a'}"},
		{400, "/get_from_memcache", "{\"key\":\"a\",}"},
		{400, "/get_from_memcache", "{\"key\":\"a\"} trailing"},
		{404, "/get_from_memcache", "{\"key\":\"\xff\xfe\"}"},
		{404, "/get_from_memcache", "{\"key\":\"a\",\"key\":\"b\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":123}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"not base64!\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"abc\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"====\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"A===\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"<script>alert(1)</script>\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"AAAA\",\"version\":-1}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"AAAA\",\"version\":1e300}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"AAAA\",\"version\":1e20}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"AAAA\",\"version\":1.5}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"AAAA\",\"version\":\"1\"}"},
		{400, "/put_into_memcache", "{\"key\":\"a\",\"value\":\"AAAA\",\"version\":[1]}"},
		{400, "/put_into_memcache", "{\"value\":\"AAAA\"}"},
		{400, "/invalidate_specific_key", "{}"},
		{400, "/invalidate_specific_key", "{\"key\":\"a\",\"version\":-5}"},
		{400, "/clear_cache", "{\"all\":true}"},
		{400, "/refresh_configuration", "DROP TABLE cache_properties"},
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		add_json(bodies[i].status, bodies[i].path, bodies[i].json);
	char *long_key = repeat('k', 256);
	char json[512];
	snprintf(json, sizeof(json), "{\"key\":\"%s\"}", long_key);
	add_json(400, "/get_from_memcache", json);
	free(long_key);
	/* NUL bytes inside the JSON text. */
	add_request(MEMCACHE, 400, "POST", "/get_from_memcache", "Content-Type: application/json\r\n",
		    "{\"key\":\"a\0b\"}", 13);
	add_request(MEMCACHE, 400, "POST", "/put_into_memcache", "Content-Type: application/json\r\n",
		    "{\"key\":\"a\",\"value\":\"AA\0A\"}", 26);
	add_request(MEMCACHE, 400, "POST", "/get_from_memcache", "Content-Type: application/json\r\n",
		    "", 0);
	/* Nesting far past what a parser should follow. */
	static const size_t depths[] = {1000, 100000};
	for (size_t d = 0; d < 2; d++) {
		struct buf deep = BUF_INIT;
		assert_true(buf_puts(&deep, "{\"key\":"));
		for (size_t i = 0; i < depths[d]; i++)
			assert_true(buf_puts(&deep, "["));
		for (size_t i = 0; i < depths[d]; i++)
			assert_true(buf_puts(&deep, "]"));
		assert_true(buf_puts(&deep, "}"));
		add_json(400, d ? "/put_into_memcache" : "/get_from_memcache", deep.data);
		buf_reset(&deep);
		for (size_t i = 0; i < depths[d]; i++)
			assert_true(buf_puts(&deep, "{\"a\":"));
		add_json(400, "/invalidate_specific_key", deep.data);
		buf_free(&deep);
	}
	/* Bodies that are not labelled JSON. */
	static const char *const types[] = {
		"", "Content-Type: text/plain\r\n", "Content-Type: application/x-www-form-urlencoded\r\n",
		"Content-Type: application/jsonx\r\n", "Content-Type: multipart/form-data; boundary=bnd\r\n",
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		add_request(MEMCACHE, 415, "POST", i % 2 ? "/put_into_memcache" : "/get_from_memcache",
			    types[i], "{\"key\":\"a\",\"value\":\"AAAA\"}", 26);
}

static void add_method_and_route_cases(void)
{
	static const char *const fe_paths[] = {"/", "/keys_list", "/cache_stats", "/raw/k", "/static/style.css",
					       "/healthz", "/api/upload", "/api/list_keys", "/api/key/k",
					       "/api/stats"};
	static const char *const methods[] = {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get"};
	for (size_t i = 0; i < sizeof(fe_paths) / sizeof(fe_paths[0]); i++)
		add_request(FRONTEND, 405, methods[i % 6], fe_paths[i], i % 2 ? HTML_ACCEPT_LINE : "", NULL, 0);
	static const char *const mc_paths[] = {"/put_into_memcache", "/get_from_memcache",
					       "/invalidate_specific_key", "/clear_cache",
					       "/refresh_configuration", "/stats", "/healthz"};
	for (size_t i = 0; i < sizeof(mc_paths) / sizeof(mc_paths[0]); i++) {
		bool takes_get = strcmp(mc_paths[i], "/stats") == 0 || strcmp(mc_paths[i], "/healthz") == 0;
		add_request(MEMCACHE, 405, takes_get ? "POST" : "GET", mc_paths[i], "", NULL, 0);
		add_request(MEMCACHE, 405, methods[i % 6], mc_paths[i], "", NULL, 0);
	}
	static const char *const mc_unknown[] = {"/../etc/passwd", "/PUT_INTO_MEMCACHE", "/put_into_memcache/",
						 "/%00", "/stats/..", "/api/upload", "//stats"};
	for (size_t i = 0; i < sizeof(mc_unknown) / sizeof(mc_unknown[0]); i++)
		add_get(MEMCACHE, 404, mc_unknown[i], "");
	static const char *const fe_unknown[] = {"/../../etc/passwd", "/admin", "/api", "/api/",
						 "/api/key", "/api/upload/x", "/UPLOAD_IMAGE", "//"};
	for (size_t i = 0; i < sizeof(fe_unknown) / sizeof(fe_unknown[0]); i++)
		add_get(FRONTEND, 404, fe_unknown[i], i % 2 ? HTML_ACCEPT_LINE : "");
}

/* Requests libmicrohttpd refuses before any route sees them. */
static void add_protocol_cases(void)
{
	static const struct {
		long status;
		const char *text;
		size_t len; /* 0: strlen */
	} raw[] = {
		{CLOSED, "GARBAGE\r\n\r\n", 0},
		{CLOSED, "GET\r\n\r\n", 0},
		{505, "GET / HTTP/9.9\r\nHost: x\r\n\r\n", 0},
		{400, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 0},
		{400, "GET / FOO/1.1\r\nHost: x\r\n\r\n", 0},
		{CLOSED, "GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", 27},
		{400, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 0},
		{CLOSED, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 36},
		{400, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 0},
		{400, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 0},
		{413, "POST /%s HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0},
		{400, "POST /%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 0},
		{413, "POST /%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nx\r\n", 0},
		{CLOSED, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 a TLS hello\r\n\r\n", 0},
		{505, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0},
		{CLOSED, "GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n", 0},
	};
	/* "%s" stands for a route that takes a POST. */
	for (int t = FRONTEND; t <= MEMCACHE; t++) {
		for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
			struct buf text = BUF_INIT;
			if (strstr(raw[i].text, "%s"))
				assert_true(buf_printf(&text, raw[i].text,
						       t == FRONTEND ? "api/list_keys" : "clear_cache"));
			else
				assert_true(buf_append(&text, raw[i].text,
						       raw[i].len ? raw[i].len : strlen(raw[i].text)));
			add_raw((enum target)t, raw[i].status, SHAPE_ANY, text.data, text.len);
			buf_free(&text);
		}
	}
	/* A URL, a header and a header count far over what a request needs. */
	char *big = repeat('u', 100 * KB);
	struct buf r = BUF_INIT;
	assert_true(buf_printf(&r, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", big));
	add_raw(FRONTEND, 414, SHAPE_ANY, r.data, r.len);
	add_raw(MEMCACHE, 414, SHAPE_ANY, r.data, r.len);
	buf_reset(&r);
	assert_true(buf_printf(&r, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big));
	add_raw(FRONTEND, 431, SHAPE_ANY, r.data, r.len);
	add_raw(MEMCACHE, 431, SHAPE_ANY, r.data, r.len);
	buf_reset(&r);
	assert_true(buf_puts(&r, "GET /healthz HTTP/1.1\r\nHost: x\r\n"));
	for (int i = 0; i < 5000; i++)
		assert_true(buf_printf(&r, "X-H%d: v\r\n", i));
	assert_true(buf_puts(&r, "\r\n"));
	add_raw(FRONTEND, 431, SHAPE_ANY, r.data, r.len);
	add_raw(MEMCACHE, 431, SHAPE_ANY, r.data, r.len);
	buf_free(&r);
	free(big);
}

/*
 * Request framing (RFC 9112 section 6): a head whose body could be framed two
 * ways is refused and the connection closed, so that the bytes after it never
 * run as a second request. Each carries a smuggled GET /healthz after the body.
 */
static void add_framing_cases(void)
{
	static const struct {
		long status;
		const char *head; /* the lines after Host, each ending in CRLF */
		const char *body;
	} framing[] = {
		{400, "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"},
		{400, "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n", "0\r\n\r\n"},
		{400, "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", "0\r\n\r\n"},
		{400, "Content-Length: 2\r\nContent-Length: 40\r\n", "{}"},
		{400, "Content-Length: 40\r\nContent-Length: 2\r\n", "{}"},
		{400, "Transfer-Encoding : chunked\r\n", "0\r\n\r\n"},
		{400, "Transfer-Encoding\t: chunked\r\n", "0\r\n\r\n"},
		{400, "Content-Length : 2\r\n", "{}"},
		{400, "X-Padding : 1\r\nContent-Length: 2\r\n", "{}"},
		{400, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"},
		{501, "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"},
		{501, "Transfer-Encoding: gzip\r\n", "0\r\n\r\n"},
		{501, "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"},
		{501, "Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"},
		{501, "Transfer-Encoding: identity\r\n", "0\r\n\r\n"},
		/* libmicrohttpd keeps trailing whitespace in a value, and then does not decode it */
		{501, "Transfer-Encoding: chunked \r\n", "0\r\n\r\n"},
	};
	for (int t = FRONTEND; t <= MEMCACHE; t++) {
		for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
			struct buf r = BUF_INIT;
			assert_true(buf_printf(&r, "POST /%s HTTP/1.1\r\nHost: x\r\n"
						   "Content-Type: application/json\r\n%s\r\n%s"
						   "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
					       t == FRONTEND ? "api/list_keys" : "get_from_memcache",
					       framing[i].head, framing[i].body));
			add_raw((enum target)t, framing[i].status, SHAPE_JSON, r.data, r.len)->closes =
				true;
			buf_free(&r);
		}
	}
	/* What the rules allow is still served: codings are case-insensitive, OWS may be a tab. */
	static const char *const fine[] = {
		"Transfer-Encoding: CHUNKED\r\n", "Transfer-Encoding:\tchunked\r\n",
	};
	static const char chunked_body[] = "e\r\n{\"key\":\"none\"}\r\n0\r\n\r\n";
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		struct buf r = BUF_INIT;
		assert_true(buf_printf(&r, "POST /get_from_memcache HTTP/1.1\r\nHost: x\r\n"
					   "Connection: close\r\nContent-Type: application/json\r\n%s\r\n%s",
				       fine[i], chunked_body));
		add_raw(MEMCACHE, 404, SHAPE_JSON, r.data, r.len);
		buf_free(&r);
	}
	static const char same_lengths[] =
		"POST /get_from_memcache HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		"Content-Type: application/json\r\nContent-Length: 14\r\nContent-Length: 14\r\n\r\n"
		"{\"key\":\"none\"}";
	add_raw(MEMCACHE, 404, SHAPE_JSON, same_lengths, sizeof(same_lengths) - 1);
}

/* Page forms whose CSRF token is missing or does not match the cookie: 403, and nothing done. */
static void add_csrf_cases(void)
{
	static const struct {
		const char *cookie, *field;
	} tokens[] = {
		{NULL, NULL},
		{CSRF_VALUE, NULL},
		{NULL, CSRF_VALUE},
		{CSRF_VALUE, "fedcba9876543210fedcba9876543210"},
		{"0123456789ABCDEF0123456789ABCDEF", "0123456789ABCDEF0123456789ABCDEF"},
		{"0123", "0123"},
		{"<script>alert(1)</script>", "<script>alert(1)</script>"},
	};
	static const char *const forms[][2] = {
		{"/cache_properties", "capacity=5&policy=LRU"},
		{"/cache_properties", "action=clear"},
		{"/image", "key=kept"},
	};
	char headers[512], body[512], enc[256];
	for (size_t t = 0; t < sizeof(tokens) / sizeof(tokens[0]); t++) {
		snprintf(headers, sizeof(headers), "%sContent-Type: application/x-www-form-urlencoded\r\n",
			 HTML_ACCEPT_LINE);
		if (tokens[t].cookie)
			snprintf(headers + strlen(headers), sizeof(headers) - strlen(headers),
				 "Cookie: gallery_csrf=%s\r\n", tokens[t].cookie);
		size_t f = t % 3;
		snprintf(body, sizeof(body), "%s", forms[f][1]);
		if (tokens[t].field)
			snprintf(body + strlen(body), sizeof(body) - strlen(body), "&csrf_token=%s",
				 url_encode(tokens[t].field, strlen(tokens[t].field), enc, sizeof(enc)));
		add_request(FRONTEND, 403, "POST", forms[f][0], headers, body, strlen(body));
	}
	const char *upload_parts[] = {"key", "csrf upload", "file", "\x89PNG\r\n\x1a\n0000"};
	add_upload(403, "/upload_image", HTML_ACCEPT_LINE, upload_parts, 4);
	const char *mismatched[] = {"csrf_token", "ffffffffffffffffffffffffffffffff", "key", "csrf upload",
				    "file", "\x89PNG\r\n\x1a\n0000"};
	snprintf(headers, sizeof(headers), "%s%s", HTML_ACCEPT_LINE, CSRF_COOKIE);
	add_upload(403, "/upload_image", headers, mismatched, 6);
}

/* Page forms, with the CSRF cookie and field, so that each reaches the check it is about. */
static void add_page_form_cases(void)
{
	static const char *const capacities[] = {
		"-1", "-99999999999999999999", "99999999999999999999", "4097", "1e3", "0x10", "%205",
		"5%20", "NaN", "", "1.5", "%2B5", "%3Cscript%3Ealert(1)%3C/script%3E", "5%00",
	};
	char body[512], headers[512];
	snprintf(headers, sizeof(headers), "%s%sContent-Type: application/x-www-form-urlencoded\r\n",
		 HTML_ACCEPT_LINE, CSRF_COOKIE);
	for (size_t i = 0; i < sizeof(capacities) / sizeof(capacities[0]); i++) {
		snprintf(body, sizeof(body), "csrf_token=%s&capacity=%s&policy=LRU", CSRF_VALUE,
			 capacities[i]);
		add_request(FRONTEND, 400, "POST", "/cache_properties", headers, body, strlen(body));
	}
	static const char *const policies[] = {"lru", "LRU%20", "%3Cscript%3E", "RR%00", "",
					       "%27%3B%20DROP%20TABLE%20cache_properties%3B--"};
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		snprintf(body, sizeof(body), "csrf_token=%s&capacity=5&policy=%s", CSRF_VALUE, policies[i]);
		add_request(FRONTEND, 400, "POST", "/cache_properties", headers, body, strlen(body));
	}
	static const char *const image_keys[] = {"%FF", "", "a%00b", "%0A", "%ED%A0%80"};
	for (size_t i = 0; i < sizeof(image_keys) / sizeof(image_keys[0]); i++) {
		snprintf(body, sizeof(body), "csrf_token=%s&key=%s", CSRF_VALUE, image_keys[i]);
		add_request(FRONTEND, 400, "POST", "/image", headers, body, strlen(body));
	}
	snprintf(headers, sizeof(headers), "%s%s", HTML_ACCEPT_LINE, CSRF_COOKIE);
	for (size_t i = 0; i < sizeof(SCRIPTS) / sizeof(SCRIPTS[0]); i++) {
		const char *parts[] = {"csrf_token", CSRF_VALUE, "key", SCRIPTS[i], "file", "plain text"};
		add_upload(415, "/upload_image", headers, parts, 6);
	}
	const char *no_file[] = {"csrf_token", CSRF_VALUE, "key", "k"};
	add_upload(400, "/upload_image", headers, no_file, 4);
	add_csrf_cases();
}

/* A multipart upload of binary file bytes (a real image, which would be stored if let through). */
static void add_file_upload(long status, const char *path, const char *extra_headers, const char *key,
			    const void *file, size_t file_len)
{
	struct buf body = BUF_INIT, headers = BUF_INIT;
	assert_true(buf_printf(&body, "--HostileBoundary\r\nContent-Disposition: form-data; name=\"key\""
				      "\r\n\r\n%s\r\n--HostileBoundary\r\nContent-Disposition: form-data; "
				      "name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n",
			       key));
	assert_true(buf_append(&body, file, file_len) && buf_puts(&body, "\r\n--HostileBoundary--\r\n"));
	assert_true(buf_printf(&headers, "Content-Type: multipart/form-data; boundary=HostileBoundary\r\n%s",
			       extra_headers));
	add_request(FRONTEND, status, "POST", path, headers.data, body.data, body.len);
	buf_free(&body);
	buf_free(&headers);
}

static const char CROSS_PNG[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x08\x00\x00\x00\x08"
				"\x08\x02\x00\x00\x00\x4b\x6d\x29\xde cross-site bytes";

/*
 * Writes from another site: an Origin not ours, or Sec-Fetch-Site: cross-site,
 * is 403 before the body is read, on the API as on pages; the same writes from
 * our own origin, or from programs that send neither header, reach the handler.
 */
static void add_cross_site_cases(void)
{
	static const char *const foreign[] = {
		"Origin: http://evil.example\r\n",
		"Origin: null\r\n",
		"Origin: https://127.0.0.1\r\n",
		"Origin: http://127.0.0.1:8080\r\n",
		"Origin: http://127.0.0.1.evil.example\r\n",
		"Origin: http://localhost:5001\r\n",
		"Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
		"Sec-Fetch-Site: cross-site\r\n",
		"Origin: http://127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n",
		"Origin: \r\n",
		"Origin: http://x@127.0.0.1\r\n",
	};
	char headers[1024], key[64];
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		/* Images that would be stored (and so counted) if the guard let them through. */
		snprintf(key, sizeof(key), "cross site %zu", i);
		add_file_upload(403, "/api/upload", foreign[i], key, CROSS_PNG, sizeof(CROSS_PNG) - 1);
		add_file_upload(403, "/api/upload", foreign[i], "kept", CROSS_PNG, sizeof(CROSS_PNG) - 1);
		snprintf(headers, sizeof(headers), "%s%s%s", HTML_ACCEPT_LINE, CSRF_COOKIE, foreign[i]);
		const char *parts[] = {"csrf_token", CSRF_VALUE, "key", key, "file", "plain text"};
		add_upload(403, "/upload_image", headers, parts, 6);
		snprintf(headers, sizeof(headers),
			 "%s%s%sContent-Type: application/x-www-form-urlencoded\r\n", HTML_ACCEPT_LINE,
			 CSRF_COOKIE, foreign[i]);
		static const char form[] = "csrf_token=" CSRF_VALUE "&capacity=7&policy=RR";
		add_request(FRONTEND, 403, "POST", "/cache_properties", headers, form, sizeof(form) - 1);
		snprintf(headers, sizeof(headers), "%sContent-Type: application/x-www-form-urlencoded\r\n",
			 foreign[i]);
		add_request(FRONTEND, 403, "POST", "/api/upload", headers, "key=k&file=hello", 16);
		add_request(FRONTEND, 403, i % 2 ? "PUT" : "DELETE", "/api/key/kept", foreign[i], NULL, 0);
		add_request(FRONTEND, 403, "POST", "/api/list_keys", foreign[i], "", 0);
	}
	/* Reads from anywhere are reads. */
	add_get(FRONTEND, 200, "/api/list_keys", "Origin: http://evil.example\r\n");
	add_get(FRONTEND, 200, "/keys_list", "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n");
	/* Our own origin, a same-site or user-typed fetch, or no header: the handler judges (415). */
	static const char *const ours[] = {
		"",
		"Origin: http://127.0.0.1\r\n",
		"Origin: HTTP://127.0.0.1:80\r\n",
		"Origin: http://localhost:5000\r\n",
		"Sec-Fetch-Site: same-origin\r\n",
		"Sec-Fetch-Site: same-site\r\n",
		"Sec-Fetch-Site: none\r\n",
		"Origin: http://127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n",
	};
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		const char *parts[] = {"key", "k", "file", "plain text"};
		add_upload(415, "/api/upload", ours[i], parts, 4);
	}
	/* A page form from our own origin still needs its token. */
	const char *no_token[] = {"key", "k", "file", "plain text"};
	snprintf(headers, sizeof(headers), "%sOrigin: http://127.0.0.1\r\n", HTML_ACCEPT_LINE);
	add_upload(403, "/upload_image", headers, no_token, 4);
}

/* A raw request to the front end with the given Host line (NULL: none). */
static void add_host_request(long status, const char *method, const char *path, const char *host,
			     const char *headers)
{
	struct buf r = BUF_INIT;
	assert_true(buf_printf(&r, "%s %s HTTP/1.1\r\n", method, path));
	if (host)
		assert_true(buf_printf(&r, "Host: %s\r\n", host));
	assert_true(buf_printf(&r, "Connection: close\r\n%sContent-Length: 0\r\n\r\n", headers));
	add_raw(FRONTEND, status, route_shape(FRONTEND, path, headers), r.data, r.len);
	buf_free(&r);
}

/* Host names the front end does not answer for get 421, whatever the path (DNS rebinding). */
static void add_host_cases(void)
{
	static const char *const refused[] = {
		"evil.example", "evil.example:5000", "127.0.0.1.nip.io", "localhost.evil.example",
		"127.0.0.2", "[::2]", "0.0.0.0", "localhost:abc", "localhost:99999", "local host",
		"127.0.0.1:80:80", "[::1", "", "xx", "gallery.example.evil", ":80", "127.0.0.1/x",
		"user@localhost",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *accept = i % 2 ? HTML_ACCEPT_LINE : "";
		add_host_request(421, "GET", "/", refused[i], accept);
		add_host_request(421, "GET", "/api/list_keys", refused[i], "");
		add_host_request(421, "POST", "/api/upload", refused[i], "");
		add_host_request(421, "GET", "/raw/kept", refused[i], accept);
		add_host_request(421, "GET", "/healthz", refused[i], "");
	}
	/* Ours with any port and in any case; the ones GALLERY_ALLOWED_HOSTS adds. */
	static const char *const allowed[] = {
		"127.0.0.1", "127.0.0.1:1", "localhost", "LOCALHOST:65535", "[::1]", "[::1]:5000",
		"x", "x:8080", "gallery.example", "GALLERY.EXAMPLE:443", "localhost:",
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		add_host_request(200, "GET", "/healthz", allowed[i], "");
		add_host_request(200, "GET", "/api/list_keys", allowed[i], "");
	}
	/* HTTP/1.0 may leave Host out: there is then no name to rebind. */
	add_raw(FRONTEND, 200, SHAPE_ANY, "GET /healthz HTTP/1.0\r\n\r\n", 25);
}

/* A form POST to the front end; page paths get the CSRF cookie and field and ask for HTML. */
static void add_form(long status, const char *path, const char *body, const char *extra)
{
	char headers[1024], full[2048];
	bool page = strncmp(path, "/api/", 5) != 0;
	snprintf(headers, sizeof(headers), "%s%sContent-Type: application/x-www-form-urlencoded\r\n%s",
		 page ? HTML_ACCEPT_LINE : "", page ? CSRF_COOKIE : "", extra ? extra : "");
	snprintf(full, sizeof(full), "%s%s%s", body, page ? "&csrf_token=" : "", page ? CSRF_VALUE : "");
	add_request(FRONTEND, status, "POST", path, headers, full, strlen(full));
}

/* Sign-up, login, mailed tokens, sessions and profiles: each a clear 4xx, and no account made. */
static void add_account_cases(void)
{
	static const char *const usernames[] = {
		"ab", "a", "", "abcdefghijklmnopqrstuvwxyz0123456", "has%20space", "%3Cscript%3E",
		"abc%E2%80%AEdef", "abc%00def", "ab-cd", "ab%2Fcd", "%C3%A9lodie", "ab%40cd",
		"..%2F..", "%27%3B--", "a%0Ab%0Ac",
	};
	char body[1024];
	for (size_t i = 0; i < sizeof(usernames) / sizeof(usernames[0]); i++) {
		snprintf(body, sizeof(body),
			 "username=%s&email=u%zu@example.org&password=correct+horse+battery+staple",
			 usernames[i], i);
		add_form(400, "/api/signup", body, NULL);
		if (i % 3 == 0)
			add_form(400, "/signup", body, NULL);
	}
	static const char *const emails[] = {
		"not-an-email", "a%40b%40example.org", "%40example.org", "user%40", "user%40example",
		"x%0D%0ABcc%3Aevil%40example.org", "%3Cx%3E%40example.org", "a%20b%40example.org",
		"a%40example.org.", "a%00b%40example.org", "%22q%22%40example.org", "",
	};
	for (size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
		snprintf(body, sizeof(body),
			 "username=emailcase%zu&email=%s&password=correct+horse+battery+staple", i,
			 emails[i]);
		add_form(400, "/api/signup", body, NULL);
		snprintf(body, sizeof(body), "email=%s", emails[i]);
		add_form(400, "/api/forgot_password", body, NULL);
		if (i % 2 == 0)
			add_form(400, "/api/resend_verification", body, NULL);
	}
	char *long_local = repeat('a', 290);
	snprintf(body, sizeof(body), "username=longmail&email=%s%%40example.org&password=x", long_local);
	add_form(400, "/api/signup", body, NULL);
	free(long_local);
	static const char *const passwords[] = {
		/* The third is the username and the last the email of its case. */
		"Xq7%21zPw", "password123", "passcase2", "12345678", "qwertyuiop", "aaaaaaaaaaaa",
		"%FF%FE%FDcorrect+horse", "correct%00horse+battery", "", "passcase9%40example.org",
	};
	for (size_t i = 0; i < sizeof(passwords) / sizeof(passwords[0]); i++) {
		snprintf(body, sizeof(body), "username=passcase%zu&email=passcase%zu%%40example.org&password=%s",
			 i, i, passwords[i]);
		add_form(400, "/api/signup", body, NULL);
	}
	char *long_pw = repeat('Q', 129);
	snprintf(body, sizeof(body), "username=longpw&email=longpw%%40example.org&password=%s", long_pw);
	add_form(400, "/api/signup", body, NULL);
	free(long_pw);
	/* Logins that never reach a password check (and so count no failure). */
	add_form(400, "/api/login", "username=&password=x", NULL);
	add_form(400, "/api/login", "username=someone", NULL);
	add_form(400, "/api/login", "password=correct+horse", NULL);
	add_form(400, "/login", "username=&password=", NULL);
	char *huge_pw = repeat('z', 600);
	snprintf(body, sizeof(body), "username=someone&password=%s", huge_pw);
	add_form(400, "/api/login", body, NULL);
	free(huge_pw);
	static const char *const tokens[] = {
		"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%00", "%FF%FE", "%3Cscript%3E",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%2B", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	char path[256];
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		snprintf(body, sizeof(body), "token=%s", tokens[i]);
		add_form(400, "/api/verify", body, NULL);
		add_form(400, "/verify", body, NULL);
		snprintf(body, sizeof(body), "token=%s&password=a+long+enough+new+phrase", tokens[i]);
		add_form(400, "/api/reset_password", body, NULL);
		snprintf(path, sizeof(path), "/reset_password?token=%s", tokens[i]);
		add_get(FRONTEND, 400, path, HTML_ACCEPT_LINE);
		if (i % 2 == 0) {
			snprintf(path, sizeof(path), "/verify?token=%s", tokens[i]);
			add_get(FRONTEND, 400, path, HTML_ACCEPT_LINE);
		}
	}
	static const char *const auth_headers[] = {
		"Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Authorization: Bearer gt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Authorization: Bearer xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Authorization: Basic YWRhOnBhc3M=\r\n",
		"Authorization: Bearer gt_\r\n",
		"Authorization: Bearer\r\n",
		"Authorization: Bearer gt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Authorization: Bearer gt_%3Cscript%3E\r\n",
		"Authorization: gt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Authorization: Bearer gt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xff\r\n",
	};
	for (size_t i = 0; i < sizeof(auth_headers) / sizeof(auth_headers[0]); i++) {
		add_get(FRONTEND, 401, "/api/me", auth_headers[i]);
		add_request(FRONTEND, 401, "POST", "/api/logout", auth_headers[i], "", 0);
		if (i % 2 == 0) {
			char h[512];
			snprintf(h, sizeof(h), "%s%s", HTML_ACCEPT_LINE, auth_headers[i]);
			add_get(FRONTEND, 401, "/account", h);
		}
	}
	static const char *const cookies[] = {
		"Cookie: gallery_session=short\r\n",
		"Cookie: gallery_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Cookie: gallery_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"Cookie: gallery_session=\xff\xfe\xfd\r\n",
		"Cookie: gallery_session=a; gallery_session=b\r\n",
		"Cookie: gallery_session\r\n",
		"Cookie: =AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
	};
	for (size_t i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++)
		add_get(FRONTEND, 401, "/api/me", cookies[i]);
	static const char *const profiles[] = {
		"/u/nobody.here", "/u/ADA", "/u/", "/u/a%20b", "/u/%3Cscript%3E", "/u/..%2F..%2Fetc",
		"/u/ab", "/u/%00", "/api/users/nobody.here", "/api/users/", "/api/users/%FF",
	};
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		add_get(FRONTEND, 404, profiles[i], strncmp(profiles[i], "/u/", 3) == 0 ? HTML_ACCEPT_LINE : "");
	/* Page forms of accounts without the CSRF pair. */
	add_get(FRONTEND, 400, "/api/users/nobody?page=0", "");
	char page_form[256];
	snprintf(page_form, sizeof(page_form), "%sContent-Type: application/x-www-form-urlencoded\r\n",
		 HTML_ACCEPT_LINE);
	add_request(FRONTEND, 403, "POST", "/logout", page_form, "x=1", 3);
	add_request(FRONTEND, 403, "POST", "/signup", page_form,
		    "username=csrfless&email=c%40example.org&password=correct+horse+battery", 68);
	add_request(FRONTEND, 403, "POST", "/login", page_form,
		    "username=someone&password=correct+horse", 39);
	add_request(FRONTEND, 405, "GET", "/api/login", "", NULL, 0);
	add_request(FRONTEND, 405, "DELETE", "/api/signup", "", NULL, 0);
	add_request(FRONTEND, 405, "PUT", "/account", "", "x", 1);
	add_request(FRONTEND, 405, "GET", "/logout", "", NULL, 0);
	add_request(FRONTEND, 405, "POST", "/api/me", "", "", 0);
}

/* ---- sending, and reading the answer ---- */

struct answer {
	long status; /* CLOSED when the server hung up without answering, HUNG when it never did */
	struct buf raw;
	const char *body;
	size_t body_len;
};

static int connect_to(int port)
{
	int fd = tcp_connect(port, NULL, ANSWER_WAIT_S);
	assert_true(fd >= 0);
	return fd;
}

/* Sends what the server takes; a server that hangs up early ends the sending, not the test. */
static void send_some(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* Reads until the server closes; parses the status line and finds the body. */
static void read_answer(int fd, struct answer *a)
{
	char chunk[16 * KB];
	bool timed_out = false;
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n > 0) {
			assert_true(buf_append(&a->raw, chunk, (size_t)n));
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
		break;
	}
	a->status = timed_out ? HUNG : CLOSED;
	int code;
	if (a->raw.data && sscanf(a->raw.data, "HTTP/1.%*d %d", &code) == 1)
		a->status = code;
	const char *end = a->raw.data ? strstr(a->raw.data, "\r\n\r\n") : NULL;
	a->body = end ? end + 4 : "";
	a->body_len = end ? a->raw.len - (size_t)(a->body - a->raw.data) : 0;
}

static int port_of(enum target target)
{
	return target == FRONTEND ? g.fe.port : g.mc.port;
}

static void exchange(const struct hostile *h, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	int fd = connect_to(port_of(h->target));
	send_some(fd, h->request.data, h->request.len);
	if (h->half_close)
		shutdown(fd, SHUT_WR);
	read_answer(fd, a);
	close(fd);
}

/* The value of a header in the answer's head, or NULL. */
static const char *answer_header(const struct answer *a, const char *name, char *value, size_t size)
{
	size_t name_len = strlen(name);
	const char *line = a->raw.data ? strstr(a->raw.data, "\r\n") : NULL;
	while (line && line + 2 < a->body) {
		line += 2;
		if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
			const char *v = line + name_len + 1;
			while (*v == ' ')
				v++;
			const char *end = strstr(v, "\r\n");
			snprintf(value, size, "%.*s", (int)(end ? end - v : 0), v);
			return value;
		}
		line = strstr(line, "\r\n");
	}
	return NULL;
}

/* Why the answer is wrong, or NULL when it is right. */
static const char *json_shape_problem(const struct answer *a, long status)
{
	char type[HEADER_VALUE_MAX];
	if (!answer_header(a, "Content-Type", type, sizeof(type)) ||
	    strncmp(type, "application/json", 16) != 0)
		return "not application/json";
	cJSON *root = cJSON_ParseWithLength(a->body, a->body_len);
	const cJSON *success = cJSON_GetObjectItemCaseSensitive(root, "success");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
	const char *problem = NULL;
	if (!cJSON_IsObject(root) || cJSON_GetArraySize(root) != 2 || !cJSON_IsString(success) ||
	    strcmp(success->valuestring, "false") != 0 || !cJSON_IsObject(error) ||
	    cJSON_GetArraySize(error) != 2)
		problem = "not {\"success\":\"false\",\"error\":{...}}";
	else if (!cJSON_IsNumber(code) || code->valuedouble != (double)status)
		problem = "error.code is not the status";
	else if (!cJSON_IsString(message) || !*message->valuestring)
		problem = "error.message is missing";
	cJSON_Delete(root);
	return problem;
}

static const char *html_problem(const struct answer *a)
{
	char value[HEADER_VALUE_MAX];
	if (!answer_header(a, "Content-Type", value, sizeof(value)) || !strstr(value, "text/html"))
		return "not text/html";
	if (!answer_header(a, "Content-Security-Policy", value, sizeof(value)) ||
	    strstr(value, "unsafe-inline") || !strstr(value, "default-src 'self'"))
		return "no Content-Security-Policy that forbids inline script";
	if (!answer_header(a, "X-Content-Type-Options", value, sizeof(value)) ||
	    strcmp(value, "nosniff") != 0)
		return "no X-Content-Type-Options: nosniff";
	if (!answer_header(a, "Referrer-Policy", value, sizeof(value)))
		return "no Referrer-Policy";
	for (size_t i = 0; i < sizeof(FORBIDDEN_IN_PAGES) / sizeof(FORBIDDEN_IN_PAGES[0]); i++)
		if (memmem(a->body, a->body_len, FORBIDDEN_IN_PAGES[i], strlen(FORBIDDEN_IN_PAGES[i])))
			return "the page holds unescaped markup from the request";
	return NULL;
}

static const char *answer_problem(const struct hostile *h, const struct answer *a)
{
	if (a->status == HUNG)
		return "no answer and no close within the wait";
	if (a->status != h->status)
		return "wrong status";
	/*
	 * A second status line means bytes after the request ran as another request.
	 * Only where our own code answers: libmicrohttpd 0.9.75 writes the head of its
	 * own error answers twice.
	 */
	if (h->closes && a->raw.data && memmem(a->raw.data, a->raw.len, "\r\nHTTP/1.", 9))
		return "more than one answer: the rest of the request ran as another";
	char connection[HEADER_VALUE_MAX];
	if (h->closes && (!answer_header(a, "Connection", connection, sizeof(connection)) ||
			  strcasecmp(connection, "close") != 0))
		return "no Connection: close";
	if (h->status == CLOSED)
		return NULL;
	if (h->shape == SHAPE_JSON && h->status >= 400)
		return json_shape_problem(a, h->status);
	if (h->shape == SHAPE_HTML)
		return html_problem(a);
	return NULL;
}

/* Runs every case; prints each wrong answer and returns how many there were. */
static int run_cases(struct hostile *list, size_t n, size_t *tried)
{
	int wrong = 0;
	for (size_t i = 0; i < n; i++) {
		struct answer a;
		exchange(&list[i], &a);
		(*tried)++;
		const char *problem = answer_problem(&list[i], &a);
		if (problem) {
			wrong++;
			print_message("WRONG %s: expected %ld, got %ld: %s; body: %.200s\n",
				      list[i].name, list[i].status, a.status, problem, a.body);
		}
		buf_free(&a.raw);
		if (!daemon_alive(&g.fe) || !daemon_alive(&g.mc)) {
			print_message("DEAD after %s\n", list[i].name);
			fail();
		}
	}
	return wrong;
}

/* No two cases send the same bytes to the same daemon. */
static size_t distinct_cases(void)
{
	size_t distinct = 0;
	for (size_t i = 0; i < ncases; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = cases[j].target == cases[i].target &&
			       cases[j].request.len == cases[i].request.len &&
			       memcmp(cases[j].request.data, cases[i].request.data, cases[i].request.len) == 0;
		if (seen)
			print_message("DUPLICATE %s\n", cases[i].name);
		distinct += !seen;
	}
	return distinct;
}

static void free_cases(void)
{
	for (size_t i = 0; i < ncases; i++)
		buf_free(&cases[i].request);
	ncases = 0;
}

/* ---- slow clients, running while the corpus is sent ---- */

struct slow_client {
	pthread_t thread;
	enum target target;
	const char *request;
	size_t slow_bytes; /* sent a byte at a time; the rest never comes */
	long expected;
	struct answer answer;
	int fd;
	long longest_pause_ms; /* between two bytes, as the client saw it */
};

static long ms_since(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void *run_slow_client(void *arg)
{
	struct slow_client *c = arg;
	size_t len = strlen(c->request);
	c->longest_pause_ms = 0;
	for (size_t i = 0; i < c->slow_bytes && i < len; i++) {
		struct timespec sent;
		clock_gettime(CLOCK_MONOTONIC, &sent);
		if (send(c->fd, c->request + i, 1, MSG_NOSIGNAL) != 1)
			break;
		sleep_ms(SLOW_BYTE_MS);
		long pause = ms_since(&sent);
		if (pause > c->longest_pause_ms)
			c->longest_pause_ms = pause;
	}
	read_answer(c->fd, &c->answer);
	return NULL;
}

static struct slow_client slow_clients[] = {
	{.target = FRONTEND, .request = "GET /%FF HTTP/1.0\r\n\r\n", .expected = 404},
	{.target = FRONTEND, .request = "GET /api/key/%FF HTTP/1.0\r\n\r\n", .expected = 400},
	{.target = MEMCACHE, .request = "GET /nope HTTP/1.0\r\n\r\n", .expected = 404},
	{.target = MEMCACHE, .request = "POST /stats HTTP/1.0\r\n\r\n", .expected = 405},
	/* These stop half-way: the connection timeout must close them. */
	{.target = FRONTEND, .request = "POST /api/upload HTTP/1.1\r\nHost: x\r\n", .slow_bytes = 8,
	 .expected = CLOSED},
	{.target = MEMCACHE, .request = "POST /get_from_memcache HTTP/1.1\r\n", .slow_bytes = 8,
	 .expected = CLOSED},
};

enum { SLOW_CLIENTS = sizeof(slow_clients) / sizeof(slow_clients[0]) };

static void start_slow_clients(void)
{
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		struct slow_client *c = &slow_clients[i];
		if (!c->slow_bytes)
			c->slow_bytes = strlen(c->request);
		memset(&c->answer, 0, sizeof(c->answer));
		c->fd = connect_to(port_of(c->target));
		assert_int_equal(pthread_create(&c->thread, NULL, run_slow_client, c), 0);
	}
}

static int finish_slow_clients(size_t *tried)
{
	int wrong = 0;
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		struct slow_client *c = &slow_clients[i];
		pthread_join(c->thread, NULL);
		close(c->fd);
		(*tried)++;
		/*
		 * A client that sends its whole request must be served, if it kept
		 * its pauses below the timeout: a machine that held it up longer
		 * made it a client that went silent, so it runs again. The server
		 * measures the silence from when its thread read the last byte, which
		 * a busy thread does late (a ThreadSanitizer build closed one whose
		 * client saw 2.8 s of the 3), so a pause of half the timeout, six
		 * times the one it means to make, counts as held up too.
		 */
		for (int run = 1; run < SLOW_CLIENT_TRIES && c->expected != CLOSED &&
				  c->answer.status == CLOSED &&
				  c->longest_pause_ms >= CONNECTION_TIMEOUT_S * 1000 / 2;
		     run++) {
			print_message("slow client %s: held up %ld ms between bytes; again\n",
				      c->request, c->longest_pause_ms);
			buf_free(&c->answer.raw);
			memset(&c->answer, 0, sizeof(c->answer));
			c->fd = connect_to(port_of(c->target));
			run_slow_client(c);
			close(c->fd);
		}
		bool ok = c->answer.status == c->expected &&
			  (c->expected == CLOSED || !json_shape_problem(&c->answer, c->expected));
		if (!ok) {
			wrong++;
			print_message("WRONG slow client %s: expected %ld, got %ld (longest pause "
				      "%ld ms)\n",
				      c->request, c->expected, c->answer.status,
				      c->longest_pause_ms);
		}
		buf_free(&c->answer.raw);
	}
	return wrong;
}

/* ---- deletion ---- */

/*
 * POST /api/delete/<key>, DELETE /api/key/<key> and the /delete page: keys that
 * name no image or break the key rules, wrong methods, a forged token, requests
 * from another site, page forms without their token. The kept image (ownerless,
 * no admin: anyone's to delete) must survive every one of them.
 */
static void add_delete_cases(void)
{
	static const char *const missing[] = {
		"kept%20", "KEPT", "kep_", "kep%25", "%27%20OR%20%271%27%3D%271", "kept%27--",
		"..%2Fkept", "kept%2F..", "%2Fkept", "kept%3B%20DROP%20TABLE%20images", "k%C3%A9pt",
		"kept/extra", "%2A",
	};
	char path[512];
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		snprintf(path, sizeof(path), "/api/delete/%s", missing[i]);
		add_request(FRONTEND, 404, "POST", path, "", NULL, 0);
		if (i % 2 == 0) {
			snprintf(path, sizeof(path), "/api/key/%s", missing[i]);
			add_request(FRONTEND, 404, "DELETE", path, "", NULL, 0);
		}
	}
	char *long_key = repeat('k', 256);
	const char *malformed[] = {"", "%00", "kept%00", "%01kept", "%FF", "%C3%28", "ke%0Apt", long_key};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		snprintf(path, sizeof(path), "/api/delete/%s", malformed[i]);
		add_request(FRONTEND, 400, "POST", path, "", NULL, 0);
		snprintf(path, sizeof(path), "/api/key/%s", malformed[i]);
		add_request(FRONTEND, 400, "DELETE", path, "", NULL, 0);
	}
	free(long_key);
	add_request(FRONTEND, 405, "GET", "/api/delete/kept", "", NULL, 0);
	add_request(FRONTEND, 405, "PUT", "/api/delete/kept", "", NULL, 0);
	add_request(FRONTEND, 405, "DELETE", "/api/delete/kept", "", NULL, 0);
	add_request(FRONTEND, 405, "PATCH", "/api/key/kept", "", NULL, 0);
	add_request(FRONTEND, 405, "PUT", "/delete", HTML_ACCEPT_LINE, NULL, 0);
	add_request(FRONTEND, 405, "DELETE", "/delete?key=kept", HTML_ACCEPT_LINE, NULL, 0);
	/* Rights: a token nobody was given; another site's page. */
	add_request(FRONTEND, 401, "POST", "/api/delete/kept", "Authorization: Bearer forged\r\n",
		    NULL, 0);
	add_request(FRONTEND, 401, "DELETE", "/api/key/kept",
		    "Authorization: Bearer gallery_0000000000000000000000000000000000000000000\r\n",
		    NULL, 0);
	add_request(FRONTEND, 403, "POST", "/api/delete/kept", "Origin: http://evil.example\r\n",
		    NULL, 0);
	add_request(FRONTEND, 403, "DELETE", "/api/key/kept", "Sec-Fetch-Site: cross-site\r\n", NULL,
		    0);
	/* The confirm page's form: no token, a token of another cookie, no key, a bad key. */
	static const char form_type[] = "Content-Type: application/x-www-form-urlencoded\r\n";
	char headers[512];
	snprintf(headers, sizeof(headers), "%s%s", HTML_ACCEPT_LINE, form_type);
	add_request(FRONTEND, 403, "POST", "/delete", headers, "key=kept", 8);
	snprintf(headers, sizeof(headers), "%s%s%s", HTML_ACCEPT_LINE, form_type, CSRF_COOKIE);
	static const char other_token[] = "key=kept&csrf_token=ffffffffffffffffffffffffffffffff";
	add_request(FRONTEND, 403, "POST", "/delete", headers, other_token, strlen(other_token));
	add_form(400, "/delete", "nokey=kept", NULL);
	add_form(400, "/delete", "key=%FF", NULL);
	add_form(404, "/delete", "key=kept%20", NULL);
	add_get(FRONTEND, 400, "/delete", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 400, "/delete?key=ke%0Apt", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 404, "/delete?key=%3Cscript%3Ealert(1)%3C%2Fscript%3E", HTML_ACCEPT_LINE);
}

/* ---- what is stored ---- */

/*
 * Captions, hashtags, /api/image and the feed: each a clear 4xx, no caption or
 * tag stored (the kept image has none before and after), nothing uploaded.
 */
/* An urlencoded POST to an API path, of any length (add_form keeps 2 KB). */
static void add_api_form(long status, const char *path, const char *body)
{
	add_request(FRONTEND, status, "POST", path,
		    "Content-Type: application/x-www-form-urlencoded\r\n", body, strlen(body));
}

static void add_caption_cases(void)
{
	char body[40 * 1024];
	char *too_long = repeat('a', 2201);
	snprintf(body, sizeof(body), "caption=%s", too_long);
	add_api_form(400, "/api/caption/kept", body);
	add_form(400, "/caption", "key=kept&caption=a%00b", NULL);
	static const char *const bad[] = {
		"a%00b", "%FF", "ab%C3", "%ED%A0%80", "%1B%5B31m", "%C0%AE", "%F4%90%80%80", "a%7Fb",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "caption=%s", bad[i]);
		add_form(400, "/api/caption/kept", body, NULL);
	}
	static const char *const json[] = {
		"{\"caption\":\"a\\u0000b\"}", "{\"caption\":5}", "[\"caption\"]", "{\"caption\":",
		"{\"caption\":\"\\ud800\"}", "{}", "{\"caption\":[\"#x\"]}", "\"#x\"",
	};
	for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
		add_request(FRONTEND, 400, "POST", "/api/caption/kept",
			    "Content-Type: application/json\r\n", json[i], strlen(json[i]));
	add_form(400, "/api/caption/kept", "note=%23x", NULL);
	add_form(400, "/api/caption/", "caption=x", NULL);
	add_form(400, "/api/caption/%FF", "caption=x", NULL);
	char *long_key = repeat('k', 256);
	char path[512];
	snprintf(path, sizeof(path), "/api/caption/%s", long_key);
	add_form(400, path, "caption=x", NULL);
	snprintf(path, sizeof(path), "/api/image/%s", long_key);
	add_get(FRONTEND, 400, path, "");
	free(long_key);
	add_form(404, "/api/caption/no-such-key", "caption=%23x", NULL);
	add_form(404, "/caption", "key=no-such-key&caption=%23x", NULL);
	add_form(400, "/caption", "caption=%23x", NULL);
	add_get(FRONTEND, 405, "/api/caption/kept", "");
	add_request(FRONTEND, 405, "POST", "/api/image/kept", "", NULL, 0);
	add_get(FRONTEND, 400, "/api/image/", "");
	add_get(FRONTEND, 400, "/api/image/%FF%FE", "");
	add_get(FRONTEND, 404, "/api/image/no-such-key", "");
	add_get(FRONTEND, 400, "/api/image/kept%00tail", "");
	/* Cross-site: refused before anything is read. */
	add_form(403, "/api/caption/kept", "caption=%23forged", "Origin: https://evil.example\r\n");
	add_form(403, "/caption", "key=kept&caption=%23forged", "Sec-Fetch-Site: cross-site\r\n");
	/* Tag pages of things that are no tag, or no tag anyone uses, and damaged cursors. */
	static const char *const tags[] = {
		"", "%FF", "a%E2%80%AEb", "a%E2%80%8Db", "two%20words", "%23", "%23%23", "a%00b",
		"..%2F..%2Fetc", "%3Cscript%3E", "nobody_uses_this",
	};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		snprintf(path, sizeof(path), "/tags/%s", tags[i]);
		add_get(FRONTEND, 404, path, i % 2 ? HTML_ACCEPT_LINE : "");
	}
	char *run = repeat('t', 65);
	snprintf(path, sizeof(path), "/tags/%s", run);
	add_get(FRONTEND, 404, path, HTML_ACCEPT_LINE);
	free(run);
	add_get(FRONTEND, 400, "/tags/x?before=abc", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 400, "/?before=-1", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 400, "/?before=99999999999999999999999", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 400, "/?before=1%27%20OR%201=1", HTML_ACCEPT_LINE);
	/* Uploads with a bad caption store nothing. */
	snprintf(body, sizeof(body), "%s", too_long);
	const char *long_parts[] = {"key", "caption-long", "caption", body, "file", "\x89PNG"};
	add_upload(400, "/api/upload", "", long_parts, 6);
	const char *bad_parts[] = {"key", "caption-bad", "caption", "bad \xC3\x28", "file", "\x89PNG"};
	add_upload(400, "/api/upload", "", bad_parts, 6);
	free(too_long);
	/* A caption field past 32 KB is refused as too long, not read whole. */
	char *huge = repeat('h', 33 * 1024);
	snprintf(body, sizeof(body), "caption=%s", huge);
	add_api_form(400, "/api/caption/kept", body);
	free(huge);
}

struct stored {
	long long rows, properties;
	long files;
	long cache_items;
};

static long memcache_items(void)
{
	struct reply r;
	assert_true(http_get(g.mc.url, "/stats", &r));
	assert_int_equal(r.status, 200);
	cJSON *stats = cJSON_Parse(r.body.data);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(stats, "items");
	assert_true(cJSON_IsNumber(items));
	long n = (long)items->valuedouble;
	cJSON_Delete(stats);
	reply_free(&r);
	return n;
}

static struct stored stored_now(void)
{
	char dir[DIR_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/images", g.data_dir);
	struct stored s = {sql_scalar("SELECT COUNT(*) FROM images"),
			   sql_scalar("SELECT COUNT(*) FROM cache_properties"), count_files(dir),
			   memcache_items()};
	assert_true(s.rows >= 0 && s.properties >= 0 && s.files >= 0);
	return s;
}

static long tmp_files(void)
{
	char dir[DIR_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/tmp", g.data_dir);
	return count_files(dir);
}

static bool tmp_empty(void *ctx)
{
	(void)ctx;
	return tmp_files() == 0;
}

/* Nothing was stored; a refused upload's temporary file goes once the request is completed. */
static void expect_nothing_stored(const struct stored *before)
{
	struct stored now = stored_now();
	assert_int_equal(now.rows, before->rows);
	assert_int_equal(now.properties, before->properties);
	assert_int_equal(now.files, before->files);
	assert_int_equal(now.cache_items, before->cache_items);
	assert_true(wait_until(tmp_empty, NULL, HARNESS_STATE_WAIT_MS));
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key <> 'kept'"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM users"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM sessions"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM email_tokens"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'mail'"), 0);
}

static void expect_healthy(void)
{
	struct reply r;
	assert_true(http_get(g.mc.url, "/healthz", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_true(http_get(g.fe.url, "/healthz", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"database\":\"up\""));
	assert_non_null(strstr(r.body.data, "\"cache\":\"up\""));
	reply_free(&r);
}

/* ---- setup ---- */

static const char KEPT_PNG[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10"
			       "\x08\x02\x00\x00\x00\x90\x91\x68\x36 kept image bytes";

static int start_daemons(void **state)
{
	(void)state;
	return sql_empty_gallery() && gallery_start(&g, "hostile", mc_extra, fe_extra) ? 0 : -1;
}

static int stop_daemons(void **state)
{
	(void)state;
	bool stopped = gallery_stop(&g);
	sql_empty_gallery();
	return stopped ? 0 : -1;
}

/* One image is stored, so that a hostile key that reached it would show. */
static void store_kept_image(char *location, size_t size)
{
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", "kept", KEPT_PNG, sizeof(KEPT_PNG) - 1,
				"kept.png", NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* Where DESIGN.md says the file goes: "ab/<sha256>.png" under DATA_DIR/images. */
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(KEPT_PNG) - 1, (const uint8_t *)KEPT_PNG);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	snprintf(location, size, "%.2s/%s.png", hex, hex);
	char path[DIR_PATH_MAX + 512];
	snprintf(path, sizeof(path), "%s/images/%s", g.data_dir, location);
	assert_int_equal(access(path, R_OK), 0);
}

/* ---- the tests ---- */

/*
 * Search: queries too long, with too many terms, not UTF-8 or full of SQL and
 * LIKE metacharacters, and cursors that are no cursor. Refused with 400 or
 * answered with a bounded (here empty) page; never a 5xx, never a scan.
 */
static void add_search_cases(void)
{
	static const char *const harmless[] = {
		"%25", "_", "%5C", "%27", "%22", "%25%25%25%25", "a%25b_c%5C",
		"%27%20OR%20%271%27%3D%271", "x%27%3B%20DROP%20TABLE%20images%3B%20--",
		"%5C%25%5C_", "%23", "%40", "%23%23", "%40%27%3B%20DROP", "a%00b",
		"%22unclosed%20phrase", "%E2%80%AE%23tag%E2%80%8D", "%F0%9F%98%80",
	};
	char path[12 * KB];
	for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++) {
		snprintf(path, sizeof(path), "/api/search?q=%s", harmless[i]);
		add_get(FRONTEND, 200, path, "");
	}
	static const char *const refused[] = {
		"/api/search", "/api/search?q=", "/api/search?q=%FF", "/api/search?q=a%C0%AF",
		"/api/search?q=%ED%A0%80", "/api/search?q=a&cursor=abc", "/api/search?q=a&cursor=-1",
		"/api/search?q=a&cursor=0", "/api/search?q=a&cursor=99999999999999999999999",
		"/api/search?q=a&page=0", "/api/search?q=a&page=100000",
		"/api/search?q=a%20b%20c%20d%20e%20f%20g%20h%20i",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		add_get(FRONTEND, 400, refused[i], "");
	/* A tag of 65 letters is no tag: it matches nothing. */
	char *letters = repeat('t', 65);
	snprintf(path, sizeof(path), "/api/search?q=%%23%s", letters);
	free(letters);
	add_get(FRONTEND, 200, path, "");
	/* Thousands of terms in 8 KB, and 1,025 bytes of one word. */
	struct buf q = BUF_INIT;
	for (int i = 0; q.len < 8 * KB; i++)
		assert_true(buf_printf(&q, "w%d%%20", i));
	snprintf(path, sizeof(path), "/api/search?q=%s", q.data);
	add_get(FRONTEND, 400, path, "");
	snprintf(path, sizeof(path), "/search?q=%s", q.data);
	add_get(FRONTEND, 400, path, HTML_ACCEPT_LINE);
	buf_free(&q);
	char *word = repeat('a', 1025);
	snprintf(path, sizeof(path), "/api/search?q=%s", word);
	add_get(FRONTEND, 400, path, "");
	free(word);
	/* The page: markup in the query is shown escaped; bad input answers in the page. */
	add_get(FRONTEND, 200, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 200, "/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 400, "/search?q=%FF%FE", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 400, "/search?q=a&cursor=x", HTML_ACCEPT_LINE);
	add_get(FRONTEND, 200, "/search", HTML_ACCEPT_LINE);
	add_request(FRONTEND, 405, "POST", "/api/search?q=a", "", "", 0);
	add_request(FRONTEND, 405, "DELETE", "/search?q=a", HTML_ACCEPT_LINE, NULL, 0);
}

static void test_hostile_corpus(void **state)
{
	(void)state;
	char location[256];
	store_kept_image(location, sizeof(location));
	struct reply r;
	assert_true(http_post_json(g.mc.url, "/clear_cache", NULL, &r));
	reply_free(&r);
	struct stored before = stored_now();

	add_static_traversals();
	add_key_cases(location);
	add_sql_cases();
	add_script_cases();
	add_number_cases();
	add_multipart_cases();
	add_oversized_cases();
	add_truncated_cases();
	add_json_cases();
	add_method_and_route_cases();
	add_protocol_cases();
	add_framing_cases();
	add_page_form_cases();
	add_cross_site_cases();
	add_host_cases();
	add_account_cases();
	add_delete_cases();
	add_caption_cases();
	add_search_cases();
	size_t distinct = distinct_cases();

	size_t tried = 0;
	start_slow_clients();
	int wrong = run_cases(cases, ncases, &tried);
	wrong += finish_slow_clients(&tried);
	print_message("hostile: %zu requests tried (%zu distinct in the table, %d slow clients), "
		      "%d wrong answers\n",
		      tried, distinct, SLOW_CLIENTS, wrong);
	free_cases();
	expect_nothing_stored(&before);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE caption IS NOT NULL"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_tags"), 0);
	expect_healthy();
	assert_int_equal(distinct + SLOW_CLIENTS, tried);
	assert_true(tried >= 200);
	assert_int_equal(wrong, 0);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest corpus[] = {
		cmocka_unit_test(test_hostile_corpus),
	};
	int failed = cmocka_run_group_tests_name("hostile corpus", corpus, start_daemons, stop_daemons);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
