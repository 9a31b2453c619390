/* e2e_frontend: the real front end, memcache and MariaDB, as people and API clients see them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/b64.h"
#include "tests/harness.h"

#define MAX_UPLOAD_MB_TEXT "2"

enum {
	KB = 1024,
	MB = 1 << 20,
	MAX_UPLOAD_MB = 2,
	/* Test images: a real header, then this many random bytes and up to as many again. */
	IMAGE_MIN_BYTES = 50 * KB,
	IMAGE_SPREAD_BYTES = 50 * KB,
	/* More keys than the front end keeps missed invalidations of (256); small images. */
	OVERFLOW_KEYS = 300,
	OVERFLOW_IMAGE_BYTES = 2 * KB,
	COHERENCE_ROUNDS = 50,
	COHERENCE_IMAGE_BYTES = 8 * KB,
	/* Where a coherence round's number goes: past the PNG header, which must say the size. */
	ROUND_OFFSET = 40,
	READERS = 8,
	/* Enough reads overlapping the uploads for the test to mean something. */
	MIN_READS_DURING_UPLOADS = 4 * COHERENCE_ROUNDS,
	/* The crash test announces this much, then sends the headers and this much of the file. */
	CRASH_ANNOUNCED_BYTES = 1500 * 1000,
	CRASH_SENT_BYTES = 200 * KB,
	/* Tries of a coherence round that MariaDB answers 503 (too slow) before the test fails. */
	ROUND_TRIES = 5,
	URL_MAX = 4096,
	DIR_PATH_MAX = 1024,
	SHA_HEX = 65,
	HEADER_MAX = 512,
	/* Far above the front end's limits (MariaDB's 10 s read timeout): no answer is a hang. */
	READER_TIMEOUT_S = 30,
};

static const char *const HTML_HEADERS[] = {"Accept: text/html,application/xhtml+xml;q=0.9", NULL};
static const char FORM_TYPE[] = "application/x-www-form-urlencoded";
static const char SCRIPT_KEY[] = "<script>alert(1)</script>";
static const char SCRIPT_ESCAPED[] = "&lt;script&gt;alert(1)&lt;/script&gt;";
static const char NOT_AN_IMAGE[] = "not a JPEG, PNG, GIF or WebP image";

static struct gallery g;
static const setting fe_extra[] = {"GALLERY_MAX_UPLOAD_MB=" MAX_UPLOAD_MB_TEXT, NULL};

/* ---- test images ---- */

enum image_kind { JPEG, PNG, GIF, WEBP, KINDS };

struct image {
	unsigned char *bytes;
	size_t len;
	const char *mime, *filename;
};

/* Each kind's first bytes; each says 640 x 480. */
static const char JPEG_HEAD[] = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
				"\xFF\xC0\x00\x11\x08\x01\xE0\x02\x80\x03"; /* APP0, then SOF0 */
static const char PNG_HEAD[] =
    "\x89PNG\r\n\x1A\n"			    /* signature */
    "\x00\x00\x00\x0DIHDR"		    /* IHDR chunk */
    "\x00\x00\x02\x80\x00\x00\x01\xE0"	    /* 640 x 480 */
    "\x08\x02\x00\x00\x00\x00\x00\x00\x00"; /* depth, colour, methods; CRC */
static const char GIF_HEAD[] = "GIF89a\x80\x02\xE0\x01\x00\x00\x00";
/* RIFF and chunk sizes (bytes 4 and 16) are filled in by make_image. */
static const char WEBP_HEAD[] = "RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00"
				"\x10\x02\x00\x9D\x01\x2A\x80\x02\xE0\x01";

#define HEAD(bytes) (const unsigned char *)(bytes), sizeof(bytes) - 1

static const struct {
	const unsigned char *head;
	size_t head_len;
	const char *mime, *filename;
} kinds[KINDS] = {
    [JPEG] = {HEAD(JPEG_HEAD), "image/jpeg", "photo.jpg"},
    [PNG] = {HEAD(PNG_HEAD), "image/png", "photo.png"},
    [GIF] = {HEAD(GIF_HEAD), "image/gif", "photo.gif"},
    [WEBP] = {HEAD(WEBP_HEAD), "image/webp", "photo.webp"},
};

/* xorshift64: every image differs from every other unless a test reuses one. */
static uint64_t random_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 7;
	random_state ^= random_state << 17;
	return random_state;
}

static void put_le32(unsigned char *at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		at[i] = (unsigned char)(v >> (8 * i));
}

/* A file of the kind: its header, then random_len random bytes. */
static struct image make_image_of(enum image_kind kind, size_t random_len)
{
	struct image im = {NULL, kinds[kind].head_len + random_len, kinds[kind].mime,
			   kinds[kind].filename};
	im.bytes = malloc(im.len);
	assert_non_null(im.bytes);
	memcpy(im.bytes, kinds[kind].head, kinds[kind].head_len);
	for (size_t i = kinds[kind].head_len; i < im.len; i++)
		im.bytes[i] = (unsigned char)next_random();
	if (kind == WEBP) {
		put_le32(im.bytes + 4, (uint32_t)(im.len - 8));
		put_le32(im.bytes + 16, (uint32_t)(im.len - 20));
	}
	return im;
}

/* A file of the kind of 50 to 100 KB. */
static struct image make_image(enum image_kind kind)
{
	return make_image_of(kind, IMAGE_MIN_BYTES + next_random() % IMAGE_SPREAD_BYTES);
}

static void image_free(struct image *im)
{
	free(im->bytes);
	im->bytes = NULL;
}

static void sha256_hex(const void *data, size_t len, char out[SHA_HEX])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* Where the front end keeps the image, relative to DATA_DIR/images: "ab/<sha256>.<ext>". */
static void location_of(const struct image *im, char *out, size_t size)
{
	char sha[SHA_HEX];
	sha256_hex(im->bytes, im->len, sha);
	snprintf(out, size, "%.2s/%s.%s", sha, sha, strrchr(im->filename, '.') + 1);
}

/* ---- HTTP ---- */

/* prefix followed by the URL-encoded key, e.g. "/api/key/a%2Fb". */
static const char *key_path(const char *prefix, const char *key, char *out, size_t size)
{
	char encoded[URL_MAX];
	snprintf(out, size, "%s%s", prefix, url_encode(key, strlen(key), encoded, sizeof(encoded)));
	return out;
}

static void fe_request(const char *method, const char *path, const char *const *headers,
		       struct reply *r)
{
	char url[2 * URL_MAX];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	assert_true(http_request(method, url, headers, NULL, 0, r));
}

/* A GET as a browser sends it. */
static void get_page(const char *path, struct reply *r)
{
	fe_request("GET", path, HTML_HEADERS, r);
}

/* A POST of an urlencoded form, as a browser sends it from our page (with its form token). */
static void post_form(const char *path, const char *body, struct reply *r)
{
	char url[2 * URL_MAX], type[128], form[4096];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	snprintf(type, sizeof(type), "Content-Type: %s", FORM_TYPE);
	snprintf(form, sizeof(form), "%s&csrf_token=" HARNESS_CSRF_TOKEN, body);
	const char *headers[] = {type, HTML_HEADERS[0], HARNESS_CSRF_COOKIE, NULL};
	assert_true(http_request("POST", url, headers, form, strlen(form), r));
}

static void upload_ok(const char *key, const struct image *im)
{
	struct reply r;
	assert_true(
	    http_upload(g.fe.url, "/api/upload", key, im->bytes, im->len, im->filename, NULL, &r));
	if (r.status != 200 || strcmp(r.body.data, UPLOAD_OK) != 0)
		fail_msg("upload of '%s' answered %ld %.300s", key, r.status, r.body.data);
	reply_free(&r);
}

static const char *header_of(struct reply *r, const char *name, char *value, size_t size)
{
	const char *v = reply_header(r, name, value, size);
	if (!v)
		fail_msg("the answer has no %s header; headers: %s", name, r->headers.data);
	return v;
}

static void expect_header_starts(struct reply *r, const char *name, const char *start)
{
	char value[HEADER_MAX];
	header_of(r, name, value, sizeof(value));
	if (strncmp(value, start, strlen(start)) != 0)
		fail_msg("%s is '%s', not '%s...'", name, value, start);
}

/* The bytes a /api/key answer carries; fails unless it has exactly the success shape. */
static void decode_content(const struct reply *r, struct buf *bytes)
{
	size_t head = strlen(CONTENT_HEAD), tail = strlen(CONTENT_TAIL), len = r->body.len;
	if (r->status != 200 || len < head + tail ||
	    memcmp(r->body.data, CONTENT_HEAD, head) != 0 ||
	    memcmp(r->body.data + len - tail, CONTENT_TAIL, tail) != 0)
		fail_msg("not a content answer: %ld %.300s", r->status, r->body.data);
	assert_true(b64_decode(r->body.data + head, len - head - tail, bytes));
}

/* GET and POST /api/key/<key> both answer the image's exact bytes. */
static void expect_content(const char *key, const struct image *im)
{
	const char *methods[] = {"GET", "POST"};
	char path[URL_MAX];
	key_path("/api/key/", key, path, sizeof(path));
	for (size_t i = 0; i < 2; i++) {
		struct reply r;
		fe_request(methods[i], path, NULL, &r);
		struct buf bytes = BUF_INIT;
		decode_content(&r, &bytes);
		if (bytes.len != im->len || memcmp(bytes.data, im->bytes, im->len) != 0)
			fail_msg("%s %s gave %zu bytes, not the %zu uploaded", methods[i], path,
				 bytes.len, im->len);
		buf_free(&bytes);
		reply_free(&r);
	}
}

/* GET /raw/<key> answers the exact bytes with their type; etag (may be NULL) gets the ETag. */
static void expect_raw(const char *key, const struct image *im, char *etag, size_t size)
{
	char path[URL_MAX], value[HEADER_MAX];
	struct reply r;
	fe_request("GET", key_path("/raw/", key, path, sizeof(path)), NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, im->len);
	assert_memory_equal(r.body.data, im->bytes, im->len);
	assert_string_equal(header_of(&r, "Content-Type", value, sizeof(value)), im->mime);
	/* Opened on its own, an image runs nothing: no script, no form, no plugin. */
	assert_string_equal(header_of(&r, "Content-Security-Policy", value, sizeof(value)),
			    "default-src 'none'; sandbox");
	assert_string_equal(header_of(&r, "X-Content-Type-Options", value, sizeof(value)), "nosniff");
	header_of(&r, "ETag", value, sizeof(value));
	if (etag)
		snprintf(etag, size, "%s", value);
	reply_free(&r);
}

static void expect_error(const struct reply *r, long code, const char *words)
{
	if (!reply_is_error(r, code))
		fail_msg("expected the JSON error %ld, got %ld: %.300s", code, r->status,
			 r->body.data);
	if (!strstr(r->body.data, words))
		fail_msg("the error %.300s does not say '%s'", r->body.data, words);
}

static void expect_body_has(const struct reply *r, const char *text)
{
	if (!strstr(r->body.data, text))
		fail_msg("the answer (%ld) does not contain '%s'", r->status, text);
}

static void expect_body_lacks(const struct reply *r, const char *text)
{
	if (strstr(r->body.data, text))
		fail_msg("the answer (%ld) contains '%s'", r->status, text);
}

/* A page as a browser must get it: the status, HTML, and the protective headers. */
static void expect_page(struct reply *r, long status)
{
	if (r->status != status)
		fail_msg("expected a %ld page, got %ld: %.3000s", status, r->status, r->body.data);
	expect_header_starts(r, "Content-Type", "text/html");
	expect_header_starts(r, "Content-Security-Policy", "default-src 'self'");
	expect_header_starts(r, "X-Content-Type-Options", "nosniff");
	expect_body_has(r, "<!doctype html>");
}

static bool list_has(const cJSON *list, const char *key)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		if (cJSON_IsString(item) && strcmp(item->valuestring, key) == 0)
			return true;
	}
	return false;
}

/* /api/list_keys (by method) answers exactly these keys, in any order. */
static void expect_keys(const char *method, const char *const *keys, size_t n)
{
	struct reply r;
	fe_request(method, "/api/list_keys", NULL, &r);
	assert_int_equal(r.status, 200);
	cJSON *root = cJSON_Parse(r.body.data);
	cJSON *success = cJSON_GetObjectItemCaseSensitive(root, "success");
	cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "keys");
	if (!cJSON_IsString(success) || strcmp(success->valuestring, "true") != 0 ||
	    !cJSON_IsArray(list) || (size_t)cJSON_GetArraySize(list) != n)
		fail_msg("%s /api/list_keys: %.500s, expected %zu keys", method, r.body.data, n);
	for (size_t i = 0; i < n; i++) {
		if (!list_has(list, keys[i]))
			fail_msg("%s /api/list_keys lacks '%s': %.500s", method, keys[i],
				 r.body.data);
	}
	cJSON_Delete(root);
	reply_free(&r);
}

/* ---- memcache ---- */

static void memcache_stats(struct reply *r)
{
	assert_true(http_get(g.mc.url, "/stats", r));
	assert_int_equal(r->status, 200);
}

/* A number field of memcache's GET /stats. */
static long long stat_of(const char *field)
{
	struct reply r;
	memcache_stats(&r);
	long long v = 0;
	if (!reply_number(&r, field, &v))
		fail_msg("memcache /stats has no %s: %s", field, r.body.data);
	reply_free(&r);
	return v;
}

/* Reads the key through the front end and checks what memcache counted: a hit or a miss. */
static void read_expecting(const char *key, const struct image *im, bool hit)
{
	long long hits = stat_of("hits"), misses = stat_of("misses");
	char path[URL_MAX];
	struct reply r;
	fe_request("GET", key_path("/api/key/", key, path, sizeof(path)), NULL, &r);
	struct buf bytes = BUF_INIT;
	decode_content(&r, &bytes);
	assert_int_equal(bytes.len, im->len);
	assert_memory_equal(bytes.data, im->bytes, im->len);
	buf_free(&bytes);
	reply_free(&r);
	assert_int_equal(stat_of("hits"), hits + (hit ? 1 : 0));
	assert_int_equal(stat_of("misses"), misses + (hit ? 0 : 1));
}

/* Kills memcache at once, as a crash would. */
static void kill_memcache(void)
{
	daemon_stop(&g.mc, SIGKILL);
	assert_false(daemon_alive(&g.mc));
}

/*
 * Whether the front end asks memcache again: its /healthz asks memcache for its
 * stats through the circuit breaker, which closes on the first answer.
 */
static bool frontend_uses_memcache(void *ctx)
{
	(void)ctx;
	struct reply r;
	bool up = http_get(g.fe.url, "/healthz", &r) && r.status == 200 &&
		  strstr(r.body.data, "\"cache\":\"up\"") != NULL;
	reply_free(&r);
	return up;
}

/*
 * Waits until the front end's circuit breaker has closed again: it stays open
 * 500 ms after a failure by the front end's clock, which a test on a loaded
 * machine cannot time from outside.
 */
static void expect_memcache_used_again(void)
{
	assert_true(wait_until(frontend_uses_memcache, NULL, HARNESS_STATE_WAIT_MS));
}

/* Starts memcache again on its port and waits until the front end uses it again. */
static void revive_memcache(void)
{
	assert_true(daemon_restart(&g.mc, g.mc_settings));
	expect_memcache_used_again();
}

/* ---- what is stored ---- */

static long image_files(void)
{
	char dir[DIR_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/images", g.data_dir);
	return count_files(dir);
}

static long tmp_files(void)
{
	char dir[DIR_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/tmp", g.data_dir);
	return count_files(dir);
}

static long long image_rows(void)
{
	return sql_scalar("SELECT COUNT(*) FROM images");
}

static bool image_file_exists(const struct image *im)
{
	char location[128], path[DIR_PATH_MAX + 160];
	location_of(im, location, sizeof(location));
	snprintf(path, sizeof(path), "%s/images/%s", g.data_dir, location);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == im->len;
}

struct stored {
	long long rows;
	long files;
};

static struct stored stored_now(void)
{
	struct stored s = {image_rows(), image_files()};
	assert_true(s.rows >= 0 && s.files >= 0);
	return s;
}

static bool tmp_empty(void *ctx)
{
	(void)ctx;
	return tmp_files() == 0;
}

static bool tmp_holds_a_file(void *ctx)
{
	(void)ctx;
	return tmp_files() >= 1;
}

/*
 * No row and no image file was added, and no temporary file stays behind: a
 * refused upload's temporary file goes once the request is completed, which
 * may be just after the answer.
 */
static void expect_nothing_stored(const struct stored *before)
{
	assert_int_equal(image_rows(), before->rows);
	assert_int_equal(image_files(), before->files);
	assert_true(wait_until(tmp_empty, NULL, HARNESS_STATE_WAIT_MS));
}

/* ---- groups: each starts its own memcache and front end on a fresh DATA_DIR ---- */

static int start_daemons(void **state)
{
	(void)state;
	return sql_empty_gallery() && gallery_start(&g, "frontend", NULL, fe_extra) ? 0 : -1;
}

static int stop_daemons(void **state)
{
	(void)state;
	bool stopped = gallery_stop(&g);
	sql_empty_gallery();
	return stopped ? 0 : -1;
}

/* For tests that kill a daemon: a test that failed half-way must not take the next one down. */
static int ensure_daemons_running(void **state)
{
	(void)state;
	/* A test that failed while memcache was paused left it stopped. */
	kill(g.mc.pid, SIGCONT);
	if (!daemon_alive(&g.mc) && !daemon_restart(&g.mc, g.mc_settings))
		return -1;
	if (!daemon_alive(&g.fe) && !daemon_restart(&g.fe, g.fe_settings))
		return -1;
	return 0;
}

/* ---- 1-4, 9: the JSON API ---- */

static void test_round_trip_of_every_image_type(void **state)
{
	(void)state;
	const char *keys[KINDS] = {"round trip jpeg", "round trip png", "round trip gif",
				   "round trip webp"};
	for (int kind = 0; kind < KINDS; kind++) {
		struct image im = make_image(kind);
		upload_ok(keys[kind], &im);
		expect_content(keys[kind], &im);
		char etag[HEADER_MAX], if_none_match[HEADER_MAX + 32], path[URL_MAX];
		expect_raw(keys[kind], &im, etag, sizeof(etag));
		snprintf(if_none_match, sizeof(if_none_match), "If-None-Match: %s", etag);
		const char *headers[] = {if_none_match, NULL};
		struct reply r;
		fe_request("GET", key_path("/raw/", keys[kind], path, sizeof(path)), headers, &r);
		assert_int_equal(r.status, 304);
		assert_int_equal(r.body.len, 0);
		reply_free(&r);
		image_free(&im);
	}
}

static void test_overwrite_serves_the_new_image(void **state)
{
	(void)state;
	struct image a = make_image(PNG), b = make_image(JPEG);
	upload_ok("replaced", &a);
	expect_content("replaced", &a); /* now memcache holds A */
	expect_raw("replaced", &a, NULL, 0);
	upload_ok("replaced", &b);
	expect_content("replaced", &b);
	expect_raw("replaced", &b, NULL, 0);
	image_free(&a);
	image_free(&b);
}

static void test_same_bytes_share_one_file(void **state)
{
	(void)state;
	struct image im = make_image(GIF);
	long files = image_files();
	upload_ok("twin one", &im);
	upload_ok("twin two", &im);
	assert_int_equal(image_files(), files + 1);
	assert_true(image_file_exists(&im));
	assert_int_equal(sql_scalar("SELECT COUNT(DISTINCT location) FROM images "
				    "WHERE image_key IN ('twin one', 'twin two')"),
			 1);
	expect_content("twin two", &im);
	image_free(&im);
}

static void test_unreferenced_file_is_removed(void **state)
{
	(void)state;
	struct image shared = make_image(PNG), y = make_image(PNG), z = make_image(WEBP);
	long files = image_files();
	upload_ok("left", &shared);
	upload_ok("right", &shared);
	upload_ok("left", &y);
	assert_true(image_file_exists(&shared)); /* "right" still shows it */
	upload_ok("right", &z);
	assert_false(image_file_exists(&shared));
	assert_true(image_file_exists(&y));
	assert_true(image_file_exists(&z));
	assert_int_equal(image_files(), files + 2);
	image_free(&shared);
	image_free(&y);
	image_free(&z);
}

static void test_list_keys_has_exactly_the_uploaded_keys(void **state)
{
	(void)state;
	assert_true(sql_exec("DELETE FROM images"));
	expect_keys("GET", NULL, 0);
	const char *keys[] = {"alpha", "beta/gamma", "delta epsilon"};
	for (size_t i = 0; i < 3; i++) {
		struct image im = make_image(JPEG);
		upload_ok(keys[i], &im);
		image_free(&im);
	}
	struct image again = make_image(PNG);
	upload_ok("alpha", &again); /* replacing a key does not list it twice */
	image_free(&again);
	expect_keys("GET", keys, 3);
	expect_keys("POST", keys, 3);
}

static void test_second_read_is_a_cache_hit(void **state)
{
	(void)state;
	struct image im = make_image(WEBP);
	upload_ok("cached once", &im);
	read_expecting("cached once", &im, false);
	read_expecting("cached once", &im, true);
	image_free(&im);
}

/* ---- 5: bad input ---- */

static void expect_upload_refused(const char *key, const void *data, size_t len,
				  const char *filename, long code, const char *words)
{
	struct stored before = stored_now();
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", key, data, len, filename, NULL, &r));
	expect_error(&r, code, words);
	reply_free(&r);
	expect_nothing_stored(&before);
}

static void expect_image_refused_for_key(const char *key, const char *words)
{
	struct image im = make_image(PNG);
	expect_upload_refused(key, im.bytes, im.len, im.filename, 400, words);
	image_free(&im);
}

static void test_upload_without_key_is_400(void **state)
{
	(void)state;
	expect_image_refused_for_key(NULL, "no 'key' field");
}

static void test_upload_with_empty_key_is_400(void **state)
{
	(void)state;
	expect_image_refused_for_key("", "key is empty");
}

static void test_upload_with_256_byte_key_is_400(void **state)
{
	(void)state;
	char key[257];
	memset(key, 'k', 256);
	key[256] = '\0';
	expect_image_refused_for_key(key, "the limit is 255");
}

static void test_upload_with_255_byte_key_works(void **state)
{
	(void)state;
	char key[256];
	memset(key, 'k', 255);
	key[255] = '\0';
	struct image im = make_image(GIF);
	upload_ok(key, &im);
	expect_content(key, &im);
	image_free(&im);
}

static void test_upload_with_invalid_utf8_key_is_400(void **state)
{
	(void)state;
	expect_image_refused_for_key("caf\xc3 \xff", "not valid UTF-8");
}

static void test_upload_with_control_character_in_key_is_400(void **state)
{
	(void)state;
	expect_image_refused_for_key("bell\x07key", "control character");
}

static void test_upload_without_file_is_400(void **state)
{
	(void)state;
	expect_upload_refused("no file", NULL, 0, NULL, 400, "no 'file' field");
}

static void test_upload_of_empty_file_is_400(void **state)
{
	(void)state;
	expect_upload_refused("empty file", "", 0, "empty.png", 400, "empty");
}

static void test_upload_over_limit_is_refused_before_the_body(void **state)
{
	(void)state;
	struct image im = make_image_of(PNG, (MAX_UPLOAD_MB + 1) * (size_t)MB);
	struct stored before = stored_now();
	struct reply r;
	assert_true(
	    http_upload(g.fe.url, "/api/upload", "too big", im.bytes, im.len, im.filename, NULL, &r));
	expect_error(&r, 413, "limit of " MAX_UPLOAD_MB_TEXT " MB");
	assert_int_equal(r.sent, 0);
	reply_free(&r);
	expect_nothing_stored(&before);
	image_free(&im);
}

static void test_upload_just_over_limit_is_413(void **state)
{
	(void)state;
	/* Within what multipart framing may add, so the body is read and the file counted. */
	struct image im = make_image_of(PNG, (size_t)MAX_UPLOAD_MB * MB + 1);
	expect_upload_refused("a bit too big", im.bytes, im.len, im.filename, 413,
			      "limit of " MAX_UPLOAD_MB_TEXT " MB");
	image_free(&im);
}

static void test_text_named_jpg_is_415(void **state)
{
	(void)state;
	const char text[] = "These are the holiday notes, not a picture of the holiday.\n";
	expect_upload_refused("notes", text, strlen(text), "x.jpg", 415, NOT_AN_IMAGE);
}

/* A JPEG whose frame header (saying width x height) follows app_bytes of APP1 segments. */
static struct image make_jpeg_late_sof(size_t app_bytes, unsigned width, unsigned height)
{
	enum { SEGMENT_MAX = 65533, SOF_AND_TAIL = 64 };
	struct image im = {NULL, 0, "image/jpeg", "late.jpg"};
	size_t segments = (app_bytes + SEGMENT_MAX - 1) / SEGMENT_MAX;
	im.bytes = malloc(2 + app_bytes + 4 * segments + SOF_AND_TAIL);
	assert_non_null(im.bytes);
	unsigned char *p = im.bytes;
	*p++ = 0xFF, *p++ = 0xD8;
	for (size_t left = app_bytes; left;) {
		size_t n = left < SEGMENT_MAX ? left : SEGMENT_MAX;
		*p++ = 0xFF, *p++ = 0xE1, *p++ = (unsigned char)((n + 2) >> 8), *p++ = (unsigned char)(n + 2);
		for (size_t i = 0; i < n; i++)
			*p++ = (unsigned char)next_random();
		left -= n;
	}
	const unsigned char sof[] = {0xFF, 0xC0, 0x00, 0x11, 0x08, (unsigned char)(height >> 8),
				     (unsigned char)height, (unsigned char)(width >> 8),
				     (unsigned char)width, 0x03};
	memcpy(p, sof, sizeof(sof));
	p += sizeof(sof);
	while ((size_t)(p - im.bytes) < 2 + app_bytes + 4 * segments + SOF_AND_TAIL)
		*p++ = (unsigned char)next_random();
	im.len = (size_t)(p - im.bytes);
	return im;
}

/* A PNG header saying width x height, then random bytes: the shape of a decompression bomb. */
static struct image make_png_of_size(uint32_t width, uint32_t height, size_t random_len)
{
	struct image im = make_image_of(PNG, random_len);
	for (int i = 0; i < 4; i++) {
		im.bytes[16 + i] = (unsigned char)(width >> (24 - 8 * i));
		im.bytes[20 + i] = (unsigned char)(height >> (24 - 8 * i));
	}
	return im;
}

/*
 * Files that declare more pixels than GALLERY_MAX_PIXELS (100 million) are
 * refused from their header, however small they are; files whose header gives
 * no size are not images we can measure.
 */
static void test_decompression_bombs_are_refused(void **state)
{
	(void)state;
	struct image png = make_png_of_size(30000, 30000, 109 * KB);
	expect_upload_refused("bomb png", png.bytes, png.len, "bomb.png", 413, "30000 x 30000");
	image_free(&png);
	static const char gif[] = "GIF89a\xFF\xFF\xFF\xFF\x80\x00\x00\x00\x00\x00\xFF\xFF\xFF"
				  ",\x00\x00\x00\x00\xFF\xFF\xFF\xFF\x00\x02\x00;";
	expect_upload_refused("bomb gif", gif, sizeof(gif) - 1, "bomb.gif", 413, "65535 x 65535");
	/* Past the first 64 KB of a JPEG, where its frame header may lie behind metadata. */
	struct image jpeg = make_jpeg_late_sof(300 * KB, 20000, 20000);
	expect_upload_refused("bomb jpeg", jpeg.bytes, jpeg.len, "bomb.jpg", 413, "pixels");
	image_free(&jpeg);
	expect_upload_refused("six bytes", "GIF89a", 6, "tiny.gif", 415, "width and height");
	struct image zero = make_png_of_size(0, 480, 4 * KB);
	expect_upload_refused("zero wide", zero.bytes, zero.len, "zero.png", 415, "width and height");
	image_free(&zero);
	/* The header bytes alone: a JPEG that ends before its frame header. */
	struct image cut = make_jpeg_late_sof(70 * KB, 640, 480);
	expect_upload_refused("cut jpeg", cut.bytes, 2 + 70 * KB, "cut.jpg", 415, "width and height");
	image_free(&cut);
}

/* At the limit, and a JPEG whose size lies far behind its metadata, are stored with their size. */
static void test_images_within_the_pixel_limit_are_stored_with_their_size(void **state)
{
	(void)state;
	struct image png = make_png_of_size(10000, 10000, 4 * KB);
	upload_ok("at the limit", &png);
	expect_content("at the limit", &png);
	image_free(&png);
	struct image jpeg = make_jpeg_late_sof(200 * KB, 640, 480);
	upload_ok("late frame header", &jpeg);
	expect_content("late frame header", &jpeg);
	image_free(&jpeg);
	assert_int_equal(sql_scalar("SELECT width * 100000 + height FROM images "
				    "WHERE image_key = 'late frame header'"),
			 640LL * 100000 + 480);
	assert_int_equal(sql_scalar("SELECT width FROM images WHERE image_key = 'at the limit'"), 10000);
}

static void test_unclosed_multipart_is_400(void **state)
{
	(void)state;
	struct image im = make_image_of(PNG, 4 * KB);
	struct buf body = BUF_INIT;
	buf_puts(&body, "--XyZzy\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nbroken\r\n"
			"--XyZzy\r\nContent-Disposition: form-data; name=\"file\"; "
			"filename=\"b.png\"\r\nContent-Type: image/png\r\n\r\n");
	buf_append(&body, im.bytes, im.len); /* and no closing boundary */
	char url[2 * URL_MAX];
	snprintf(url, sizeof(url), "%s/api/upload", g.fe.url);
	struct stored before = stored_now();
	struct reply r;
	assert_true(
	    http_call("POST", url, "multipart/form-data; boundary=XyZzy", body.data, body.len, &r));
	expect_error(&r, 400, "malformed");
	reply_free(&r);
	expect_nothing_stored(&before);
	buf_free(&body);
	image_free(&im);
}

static void test_json_body_is_400(void **state)
{
	(void)state;
	const char json[] = "{\"key\":\"k\",\"file\":\"iVBORw0KGgo=\"}";
	char url[2 * URL_MAX];
	snprintf(url, sizeof(url), "%s/api/upload", g.fe.url);
	struct stored before = stored_now();
	struct reply r;
	assert_true(http_call("POST", url, "application/json", json, strlen(json), &r));
	expect_error(&r, 400, "multipart/form-data");
	reply_free(&r);
	expect_nothing_stored(&before);
}

static void test_unknown_key_is_404(void **state)
{
	(void)state;
	const char *methods[] = {"GET", "POST"};
	struct reply r;
	for (size_t i = 0; i < 2; i++) {
		fe_request(methods[i], "/api/key/no%20such%20key", NULL, &r);
		expect_error(&r, 404, "no image with key 'no such key'");
		reply_free(&r);
	}
	fe_request("GET", "/raw/no%20such%20key", NULL, &r);
	expect_error(&r, 404, "no image with key");
	reply_free(&r);
}

static void test_unknown_route_is_404(void **state)
{
	(void)state;
	struct reply r;
	fe_request("GET", "/api/nothing/here", NULL, &r);
	expect_error(&r, 404, "no page");
	reply_free(&r);
}

static void test_get_on_upload_is_405_with_allow(void **state)
{
	(void)state;
	struct reply r;
	fe_request("GET", "/api/upload", NULL, &r);
	expect_error(&r, 405, "POST");
	char allow[HEADER_MAX];
	assert_string_equal(header_of(&r, "Allow", allow, sizeof(allow)), "POST");
	reply_free(&r);
}

/* ---- 6, 7: keys that look like paths or markup, and the pages ---- */

static const char *const ODD_KEYS[] = {
    "holiday photos/beach day 1",
    "../../../etc/passwd",
    "/absolute/path",
    "..",
    "it's \"quoted\"",
    SCRIPT_KEY,
    "日本/写真 1.png",
};
enum { ODD_KEY_COUNT = sizeof(ODD_KEYS) / sizeof(ODD_KEYS[0]) };

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Files in DATA_DIR/images/<dir> named "<sha256 starting with dir>.<ext>"; -1 on any other. */
static long content_named_files(const char *dir_path, const char *dir)
{
	DIR *d = opendir(dir_path);
	assert_non_null(d);
	long count = 0;
	struct dirent *e;
	while (count >= 0 && (e = readdir(d))) {
		const char *n = e->d_name, *dot = strchr(n, '.');
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		bool named = dot && dot - n == SHA_HEX - 1 && is_lower_hex(n, SHA_HEX - 1) &&
			     strncmp(n, dir, 2) == 0 &&
			     (!strcmp(dot, ".png") || !strcmp(dot, ".jpg") ||
			      !strcmp(dot, ".gif") || !strcmp(dot, ".webp"));
		count = named ? count + 1 : -1;
		if (!named)
			print_error("unexpected file %s/%s\n", dir_path, n);
	}
	closedir(d);
	return count;
}

/* Every file under DATA_DIR/images is named by its content: nothing a key chose. */
static long only_content_named_files(void)
{
	char images[DIR_PATH_MAX + 16], sub[DIR_PATH_MAX + 16 + NAME_MAX + 2];
	snprintf(images, sizeof(images), "%s/images", g.data_dir);
	DIR *d = opendir(images);
	assert_non_null(d);
	long total = 0;
	struct dirent *e;
	while (total >= 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strlen(e->d_name) != 2 || !is_lower_hex(e->d_name, 2)) {
			print_error("unexpected entry images/%s\n", e->d_name);
			total = -1;
			break;
		}
		snprintf(sub, sizeof(sub), "%s/%s", images, e->d_name);
		long n = content_named_files(sub, e->d_name);
		total = n < 0 ? -1 : total + n;
	}
	closedir(d);
	return total;
}

/* DATA_DIR holds images/ and tmp/ and nothing else. */
static void expect_data_dir_has_only_images_and_tmp(void)
{
	DIR *d = opendir(g.data_dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "images") && strcmp(e->d_name, "tmp") &&
		    strcmp(e->d_name, "csrf.key"))
			fail_msg("DATA_DIR holds %s", e->d_name);
	closedir(d);
}

static void expect_row_location(const struct image *im)
{
	char location[128], sha[SHA_HEX], q[512];
	location_of(im, location, sizeof(location));
	sha256_hex(im->bytes, im->len, sha);
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM images WHERE location = '%s' AND sha256 = '%s'", location,
		 sha);
	assert_int_equal(sql_scalar(q), 1);
}

static void test_odd_keys_work_and_never_reach_a_path(void **state)
{
	(void)state;
	assert_true(sql_exec("DELETE FROM images"));
	long files = image_files();
	struct image ims[ODD_KEY_COUNT];
	for (size_t i = 0; i < ODD_KEY_COUNT; i++) {
		ims[i] = make_image(i % 2 ? PNG : JPEG);
		upload_ok(ODD_KEYS[i], &ims[i]);
	}
	for (size_t i = 0; i < ODD_KEY_COUNT; i++) {
		expect_content(ODD_KEYS[i], &ims[i]);
		expect_raw(ODD_KEYS[i], &ims[i], NULL, 0);
		expect_row_location(&ims[i]);
		assert_true(image_file_exists(&ims[i]));
	}
	expect_keys("GET", ODD_KEYS, ODD_KEY_COUNT);
	assert_int_equal(image_files(), files + ODD_KEY_COUNT);
	assert_int_equal(only_content_named_files(), files + ODD_KEY_COUNT);
	expect_data_dir_has_only_images_and_tmp();
	for (size_t i = 0; i < ODD_KEY_COUNT; i++)
		image_free(&ims[i]);
}

/* The script key holds a PNG, so that pages have something to show. */
static void upload_script_key(void)
{
	struct image im = make_image(PNG);
	upload_ok(SCRIPT_KEY, &im);
	image_free(&im);
}

static void test_every_page_answers_200(void **state)
{
	(void)state;
	upload_script_key();
	char image_path[URL_MAX];
	key_path("/image?key=", SCRIPT_KEY, image_path, sizeof(image_path));
	const char *paths[] = {"/",
			       "/upload_image",
			       "/image",
			       image_path,
			       "/keys_list",
			       "/keys_list?q=script",
			       "/cache_properties",
			       "/cache_stats"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct reply r;
		get_page(paths[i], &r);
		expect_page(&r, 200);
		reply_free(&r);
	}
}

static void test_pages_escape_the_script_key(void **state)
{
	(void)state;
	upload_script_key();
	char image_path[URL_MAX];
	key_path("/image?key=", SCRIPT_KEY, image_path, sizeof(image_path));
	const char *paths[] = {image_path, "/keys_list?q=script", "/"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct reply r;
		get_page(paths[i], &r);
		expect_page(&r, 200);
		expect_body_has(&r, SCRIPT_ESCAPED);
		expect_body_lacks(&r, SCRIPT_KEY);
		reply_free(&r);
	}
}

static void test_image_page_shows_the_image(void **state)
{
	(void)state;
	struct image im = make_image(PNG);
	upload_ok("shown/by key", &im);
	struct reply r;
	get_page("/image?key=shown%2Fby%20key", &r);
	expect_page(&r, 200);
	expect_body_has(&r, "href=\"/raw/shown%2Fby%20key\"><img src=\"/thumb/");
	expect_body_has(&r, "640 × 480");
	reply_free(&r);
	image_free(&im);
}

static void test_unknown_page_is_html_or_json_by_accept(void **state)
{
	(void)state;
	struct reply r;
	get_page("/no/such/page", &r);
	expect_page(&r, 404);
	expect_body_has(&r, "there is no page here");
	reply_free(&r);
	fe_request("GET", "/no/such/page", NULL, &r);
	expect_error(&r, 404, "there is no page here");
	expect_header_starts(&r, "Content-Type", "application/json");
	reply_free(&r);
}

/* ---- 8: the form pages ---- */

static void test_upload_page_stores_the_image(void **state)
{
	(void)state;
	struct image im = make_image(JPEG);
	struct reply r;
	assert_true(http_upload(g.fe.url, "/upload_image", "from the page", im.bytes, im.len,
				im.filename, HTML_ACCEPT, &r));
	expect_page(&r, 200);
	expect_body_has(&r, "Uploaded");
	reply_free(&r);
	expect_content("from the page", &im);
	image_free(&im);
}

static void test_upload_page_refuses_text_and_keeps_the_key(void **state)
{
	(void)state;
	const char text[] = "Dear diary, today I uploaded a text file.\n";
	struct stored before = stored_now();
	struct reply r;
	assert_true(http_upload(g.fe.url, "/upload_image", "my \"typed\" key", text, strlen(text),
				"x.jpg", HTML_ACCEPT, &r));
	expect_page(&r, 415);
	expect_body_has(&r, NOT_AN_IMAGE);
	expect_body_has(&r, "value=\"my &quot;typed&quot; key\"");
	reply_free(&r);
	expect_nothing_stored(&before);
}

static void test_image_page_says_no_image_for_unknown_key(void **state)
{
	(void)state;
	struct reply r;
	post_form("/image", "key=no-such-key", &r);
	expect_page(&r, 404);
	expect_body_has(&r, "no image with key &#39;no-such-key&#39;");
	expect_body_has(&r, "value=\"no-such-key\"");
	reply_free(&r);
}

static long long properties_rows(void)
{
	return sql_scalar("SELECT COUNT(*) FROM cache_properties");
}

static void test_cache_properties_refuses_bad_capacity(void **state)
{
	(void)state;
	long long rows = properties_rows(), capacity = stat_of("capacity_bytes");
	struct reply r;
	post_form("/cache_properties", "capacity=abc&policy=LRU&action=save", &r);
	expect_page(&r, 400);
	expect_body_has(&r, "Capacity must be a whole number");
	expect_body_has(&r, "value=\"abc\"");
	reply_free(&r);
	assert_int_equal(properties_rows(), rows);
	assert_int_equal(stat_of("capacity_bytes"), capacity);
}

static void test_cache_properties_saves_and_applies(void **state)
{
	(void)state;
	long long rows = properties_rows();
	struct reply r;
	post_form("/cache_properties", "capacity=5&policy=RR&action=save", &r);
	expect_page(&r, 200);
	expect_body_has(&r, "Saved; the cache uses it now.");
	reply_free(&r);
	assert_int_equal(properties_rows(), rows + 1);
	assert_int_equal(stat_of("capacity_bytes"), 5 * MB);
	memcache_stats(&r);
	expect_body_has(&r, "\"policy\":\"RR\"");
	reply_free(&r);
}

static void test_cache_properties_clear_says_how_many(void **state)
{
	(void)state;
	assert_true(gallery_clear_cache(&g));
	struct image a = make_image(PNG), b = make_image(GIF);
	upload_ok("to clear a", &a);
	upload_ok("to clear b", &b);
	read_expecting("to clear a", &a, false);
	read_expecting("to clear b", &b, false);
	assert_int_equal(stat_of("items"), 2);
	struct reply r;
	post_form("/cache_properties", "action=clear", &r);
	expect_page(&r, 200);
	expect_body_has(&r, "Cleared the cache: 2 items dropped.");
	reply_free(&r);
	assert_int_equal(stat_of("items"), 0);
	image_free(&a);
	image_free(&b);
}

static void test_form_pages_set_the_token_they_embed(void **state)
{
	(void)state;
	struct reply r;
	get_page("/upload_image", &r);
	expect_page(&r, 200);
	char cookie[256], field[128];
	assert_non_null(reply_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
	assert_int_equal(strncmp(cookie, "gallery_csrf=", 13), 0);
	assert_non_null(strstr(cookie, "SameSite=Strict"));
	assert_non_null(strstr(cookie, "HttpOnly"));
	snprintf(field, sizeof(field), "name=\"csrf_token\" value=\"%.32s\"", cookie + 13);
	expect_body_has(&r, field);
	reply_free(&r);
	/* A browser that already holds a token keeps it. */
	fe_request("GET", "/cache_properties", (const char *const[]){HARNESS_CSRF_COOKIE, NULL}, &r);
	assert_null(reply_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
	expect_body_has(&r, "value=\"" HARNESS_CSRF_TOKEN "\"");
	reply_free(&r);
}

/* A form posted from another site carries no token, or not the one in our cookie. */
static void test_form_posts_without_the_token_are_refused(void **state)
{
	(void)state;
	long long rows = properties_rows();
	char url[2 * URL_MAX], type[128];
	snprintf(url, sizeof(url), "%s/cache_properties", g.fe.url);
	snprintf(type, sizeof(type), "Content-Type: %s", FORM_TYPE);
	const char *no_cookie[] = {type, HTML_HEADERS[0], NULL};
	const char *cookie[] = {type, HTML_HEADERS[0], HARNESS_CSRF_COOKIE, NULL};
	const char *bodies[] = {
	    "capacity=7&policy=LRU&action=save",
	    "capacity=7&policy=LRU&action=save&csrf_token=ffffffffffffffffffffffffffffffff",
	};
	for (int with_cookie = 0; with_cookie < 2; with_cookie++) {
		for (size_t i = 0; i < 2; i++) {
			struct reply r;
			assert_true(http_request("POST", url, with_cookie ? cookie : no_cookie,
						 bodies[i], strlen(bodies[i]), &r));
			expect_page(&r, 403);
			expect_body_has(&r, "came from another site");
			reply_free(&r);
		}
	}
	assert_int_equal(properties_rows(), rows);

	/* A whole, valid image upload posted to the page without a token stores nothing. */
	struct image im = make_image(PNG);
	struct stored before = stored_now();
	struct buf body = BUF_INIT;
	const char head[] = "--xyzzy\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
			    "forged\r\n--xyzzy\r\nContent-Disposition: form-data; name=\"file\"; "
			    "filename=\"f.png\"\r\nContent-Type: image/png\r\n\r\n";
	assert_true(buf_append(&body, head, strlen(head)) && buf_append(&body, im.bytes, im.len) &&
		    buf_append(&body, "\r\n--xyzzy--\r\n", 13));
	const char *multipart[] = {"Content-Type: multipart/form-data; boundary=xyzzy",
				   HTML_HEADERS[0], NULL};
	snprintf(url, sizeof(url), "%s/upload_image", g.fe.url);
	struct reply r;
	assert_true(http_request("POST", url, multipart, body.data, body.len, &r));
	expect_page(&r, 403);
	reply_free(&r);
	buf_free(&body);
	expect_nothing_stored(&before);
	image_free(&im);
}

/* ---- 10, 12, 13: failures ---- */

static void expect_healthz(const char *cache)
{
	struct reply r;
	fe_request("GET", "/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	char expected[64];
	snprintf(expected, sizeof(expected), "\"cache\":\"%s\"", cache);
	expect_body_has(&r, "\"database\":\"up\"");
	expect_body_has(&r, expected);
	reply_free(&r);
}

static void test_healthz_says_whether_the_cache_answers(void **state)
{
	(void)state;
	expect_healthz("up");
	kill_memcache();
	expect_healthz("down");
	revive_memcache();
	expect_healthz("up");
}

static void test_reads_and_uploads_survive_a_memcache_crash(void **state)
{
	(void)state;
	struct image before = make_image(JPEG), during = make_image(PNG);
	upload_ok("before the crash", &before);
	expect_content("before the crash", &before);
	kill_memcache();
	expect_content("before the crash", &before);
	expect_raw("before the crash", &before, NULL, 0);
	upload_ok("during the outage", &during);
	expect_content("during the outage", &during);
	expect_raw("during the outage", &during, NULL, 0);
	revive_memcache();
	read_expecting("before the crash", &before, false);
	read_expecting("before the crash", &before, true);
	image_free(&before);
	image_free(&during);
}

/*
 * A stalled memcache (SIGSTOP) makes a read time out, which opens the front
 * end's circuit breaker; an upload while it is stalled cannot tell memcache to
 * forget the old image (the breaker answers for it, or the call times out).
 * When memcache answers again the old image must not be served.
 */
static void test_missed_invalidation_never_serves_the_old_image(void **state)
{
	(void)state;
	struct image old = make_image(GIF), new = make_image(PNG);
	upload_ok("stalled", &old);
	read_expecting("stalled", &old, false);
	read_expecting("stalled", &old, true);
	assert_true(daemon_pause(&g.mc));
	expect_content("stalled", &old);
	upload_ok("stalled", &new);
	kill(g.mc.pid, SIGCONT);
	expect_memcache_used_again();
	read_expecting("stalled", &new, false);
	read_expecting("stalled", &new, true);
	expect_raw("stalled", &new, NULL, 0);
	image_free(&old);
	image_free(&new);
}

/*
 * More invalidations missed than the front end keeps a list of: past the list
 * it owes memcache a clear, and until the clear goes through no key is read
 * from memcache. So every key, listed or not, reads its new image afterwards.
 */
static void test_missed_invalidations_past_the_list_never_serve_old_images(void **state)
{
	(void)state;
	struct image old[OVERFLOW_KEYS], new[OVERFLOW_KEYS];
	char keys[OVERFLOW_KEYS][32];
	for (int i = 0; i < OVERFLOW_KEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "overflow %d", i);
		old[i] = make_image_of(GIF, OVERFLOW_IMAGE_BYTES);
		new[i] = make_image_of(PNG, OVERFLOW_IMAGE_BYTES);
		upload_ok(keys[i], &old[i]);
		read_expecting(keys[i], &old[i], false);
		read_expecting(keys[i], &old[i], true);
	}
	/* Stopped, not killed: memcache keeps every old image and answers again later. */
	assert_true(daemon_pause(&g.mc));
	for (int i = 0; i < OVERFLOW_KEYS; i++)
		upload_ok(keys[i], &new[i]);
	kill(g.mc.pid, SIGCONT);
	expect_memcache_used_again();
	for (int i = 0; i < OVERFLOW_KEYS; i++)
		read_expecting(keys[i], &new[i], false);
	for (int i = 0; i < OVERFLOW_KEYS; i++) {
		read_expecting(keys[i], &new[i], true);
		image_free(&old[i]);
		image_free(&new[i]);
	}
}

static int connect_to_frontend(void)
{
	int fd = tcp_connect(g.fe.port, NULL, READER_TIMEOUT_S);
	assert_true(fd >= 0);
	return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Sends an upload's headers and the start of its file, announcing far more. */
static int start_unfinished_upload(const char *key)
{
	struct image im = make_image_of(PNG, CRASH_SENT_BYTES);
	struct buf head = BUF_INIT;
	buf_printf(&head,
		   "POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		   "Content-Type: multipart/form-data; boundary=CrashBoundary\r\n"
		   "Content-Length: %d\r\n\r\n"
		   "--CrashBoundary\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n%s\r\n"
		   "--CrashBoundary\r\nContent-Disposition: form-data; name=\"file\"; "
		   "filename=\"crash.png\"\r\nContent-Type: image/png\r\n\r\n",
		   CRASH_ANNOUNCED_BYTES, key);
	int fd = connect_to_frontend();
	send_all(fd, head.data, head.len);
	send_all(fd, im.bytes, im.len);
	buf_free(&head);
	image_free(&im);
	return fd;
}

static void test_upload_killed_midway_leaves_nothing(void **state)
{
	(void)state;
	struct stored before = stored_now();
	int fd = start_unfinished_upload("crash key");
	/* The upload is under way once its bytes are in tmp/. */
	assert_true(wait_until(tmp_holds_a_file, NULL, HARNESS_STATE_WAIT_MS));
	daemon_stop(&g.fe, SIGKILL);
	close(fd);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key = 'crash key'"),
			 0);
	assert_int_equal(image_rows(), before.rows);
	assert_int_equal(image_files(), before.files);
	assert_true(daemon_restart(&g.fe, g.fe_settings));
	assert_int_equal(tmp_files(), 0);
	struct image im = make_image(GIF);
	upload_ok("crash key", &im);
	expect_content("crash key", &im);
	image_free(&im);
}

/*
 * An upload the database refuses leaves its file while nobody can say whether
 * another row uses it; once the database answers, the next upload that
 * commits removes it (not only the sweep at the next start).
 */
static void test_file_of_upload_refused_in_db_outage_goes_after_it(void **state)
{
	(void)state;
	struct image lost = make_image(PNG), kept = make_image(GIF);
	struct stored before = stored_now();
	assert_true(db_server_stop());
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", "in the db outage", lost.bytes, lost.len,
				lost.filename, NULL, &r));
	expect_error(&r, 503, "database");
	reply_free(&r);
	assert_true(db_server_start());
	upload_ok("after the db outage", &kept);
	assert_false(image_file_exists(&lost));
	assert_true(image_file_exists(&kept));
	assert_int_equal(image_rows(), before.rows + 1);
	assert_int_equal(image_files(), before.files + 1);
	expect_content("after the db outage", &kept);
	image_free(&lost);
	image_free(&kept);
}

/* A test that stopped MariaDB and failed half-way must not leave it down. */
static int ensure_database_running(void **state)
{
	(void)state;
	return db_server_start() ? 0 : -1;
}

/* ---- 11: coherence under concurrent reads and writes ---- */

static atomic_int published_round;
static atomic_bool readers_stop;

struct reader {
	pthread_t thread;
	const char *url;
	/*
	 * unavailable: 503 answers, which show no image, so no older one; a
	 * loaded machine may make MariaDB too slow for the front end's timeout.
	 */
	long reads, reads_during_uploads, violations, unavailable, errors;
};

static size_t collect(char *data, size_t size, size_t n, void *sink)
{
	return buf_append(sink, data, size * n) ? size * n : 0;
}

/* The round number a coherence image carries after its PNG signature; -1 if none. */
static long round_in(const struct buf *body)
{
	size_t head = strlen(CONTENT_HEAD), tail = strlen(CONTENT_TAIL);
	if (body->len < head + tail || memcmp(body->data, CONTENT_HEAD, head) != 0)
		return -1;
	struct buf bytes = BUF_INIT;
	long round = -1;
	if (b64_decode(body->data + head, body->len - head - tail, &bytes) && bytes.len >= ROUND_OFFSET + 4) {
		const unsigned char *b = (const unsigned char *)bytes.data + ROUND_OFFSET;
		round = (long)b[0] << 24 | (long)b[1] << 16 | (long)b[2] << 8 | (long)b[3];
	}
	buf_free(&bytes);
	return round;
}

/* Whether body is our JSON error with this code, as reply_is_error says of a reply. */
static bool body_is_error(const struct buf *body, long code)
{
	struct reply r = {.status = code, .body = *body};
	return reply_is_error(&r, code);
}

/* One read of the key: a violation when it shows a round older than the last one published. */
static void read_once(CURL *curl, struct buf *body, struct reader *rd)
{
	int floor = atomic_load(&published_round);
	buf_reset(body);
	long status = 0;
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	long round = status == 200 ? round_in(body) : -1;
	rd->reads++;
	if (status == 503 && body_is_error(body, 503))
		rd->unavailable++;
	else if (round < 0)
		rd->errors++;
	else if (round < floor)
		rd->violations++;
	/* Reads that showed an image while uploads went on: what the test is about. */
	rd->reads_during_uploads += round >= 0 && floor < COHERENCE_ROUNDS;
}

/* No cmocka asserts here: they are not for threads. The main thread checks the counts. */
static void *read_until_stopped(void *arg)
{
	struct reader *rd = arg;
	CURL *curl = curl_easy_init();
	if (!curl) {
		rd->errors++;
		return NULL;
	}
	struct buf body = BUF_INIT;
	curl_easy_setopt(curl, CURLOPT_URL, rd->url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)READER_TIMEOUT_S);
	while (!atomic_load(&readers_stop))
		read_once(curl, &body, rd);
	buf_free(&body);
	curl_easy_cleanup(curl);
	return NULL;
}

static void start_readers(struct reader *readers, const char *url)
{
	atomic_store(&readers_stop, false);
	for (int i = 0; i < READERS; i++) {
		readers[i] = (struct reader){.url = url};
		assert_int_equal(
		    pthread_create(&readers[i].thread, NULL, read_until_stopped, &readers[i]), 0);
	}
}

/* Stops the readers and sums their counts into total. */
static void stop_readers(struct reader *readers, struct reader *total)
{
	atomic_store(&readers_stop, true);
	*total = (struct reader){.reads = 0};
	for (int i = 0; i < READERS; i++) {
		pthread_join(readers[i].thread, NULL);
		total->reads += readers[i].reads;
		total->reads_during_uploads += readers[i].reads_during_uploads;
		total->violations += readers[i].violations;
		total->unavailable += readers[i].unavailable;
		total->errors += readers[i].errors;
	}
}

/* A PNG signature, the round as 4 big-endian bytes, then random bytes. */
static struct image round_image(uint32_t round)
{
	struct image im = make_image_of(PNG, COHERENCE_IMAGE_BYTES);
	unsigned char be[4] = {round >> 24, round >> 16, round >> 8, round};
	memcpy(im.bytes + ROUND_OFFSET, be, sizeof(be));
	return im;
}

/*
 * Uploads a round until it answers success, at most ROUND_TRIES times; true
 * when it did. Only a 503 (the database did not answer in time: a loaded
 * machine) is tried again; *unavailable counts them. The caller publishes the
 * round only after the success, so a reader is held to a round only once its
 * upload returned, never after a 503 that may or may not have stored it.
 */
static bool upload_round(const char *key, uint32_t round, int *unavailable)
{
	struct image im = round_image(round);
	bool ok = false;
	for (int try = 0; !ok && try < ROUND_TRIES; try++) {
		struct reply r;
		bool answered = http_upload(g.fe.url, "/api/upload", key, im.bytes, im.len,
					    im.filename, NULL, &r);
		ok = answered && r.status == 200 && strcmp(r.body.data, UPLOAD_OK) == 0;
		bool busy = answered && reply_is_error(&r, 503);
		if (!ok)
			print_message("coherence: upload of round %u answered %ld %.200s\n", round,
				      answered ? r.status : 0L,
				      answered ? r.body.data : r.error);
		reply_free(&r);
		if (!ok && !busy)
			break;
		*unavailable += busy;
	}
	image_free(&im);
	return ok;
}

static void test_readers_never_see_an_older_image_after_upload(void **state)
{
	(void)state;
	const char *key = "coherent key";
	char url[2 * URL_MAX], path[URL_MAX];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, key_path("/api/key/", key, path, sizeof(path)));
	int busy_uploads = 0;
	assert_true(upload_round(key, 0, &busy_uploads));
	atomic_store(&published_round, 0);
	struct reader readers[READERS], total;
	start_readers(readers, url);
	int failed_uploads = 0;
	for (int round = 1; round <= COHERENCE_ROUNDS; round++) {
		bool stored = upload_round(key, (uint32_t)round, &busy_uploads);
		failed_uploads += !stored;
		if (stored)
			atomic_store(&published_round, round);
	}
	stop_readers(readers, &total);
	print_message("coherence: %ld reads, %ld of them showed an image during the %d uploads, "
		      "%ld answered 503; %d uploads answered 503 and were sent again\n",
		      total.reads, total.reads_during_uploads, COHERENCE_ROUNDS, total.unavailable,
		      busy_uploads);
	assert_int_equal(failed_uploads, 0);
	assert_int_equal(total.violations, 0);
	assert_int_equal(total.errors, 0);
	assert_true(total.reads_during_uploads >= MIN_READS_DURING_UPLOADS);
}

/* ---- templates in strict mode (GALLERY_TEMPLATE_STRICT, which run.sh turns on) ---- */

/* GET / from a front end on its own templates folder, strict or not, and what it answered and logged. */
static void home_page_with_templates(const char *dir, bool strict, long status, const char *body,
				     const char *log_text)
{
	char dir_setting[GALLERY_PATH_MAX + 32];
	snprintf(dir_setting, sizeof(dir_setting), "GALLERY_TEMPLATE_DIR=%s", dir);
	setting extra[] = {dir_setting,
			   strict ? "GALLERY_TEMPLATE_STRICT=1" : "GALLERY_TEMPLATE_STRICT=0", NULL};
	struct gallery s;
	assert_true(gallery_start(&s, strict ? "strict-templates" : "lenient-templates", NULL, extra));
	char url[GALLERY_PATH_MAX];
	snprintf(url, sizeof(url), "%s/", s.fe.url);
	struct reply r;
	bool answered = http_request("GET", url, HTML_HEADERS, NULL, 0, &r);
	bool logged = !log_text || daemon_log_contains(&s.fe, log_text);
	/* The render failure here is the point: run.sh counts any other one in a log as a failure. */
	bool cleared = truncate(s.fe.log_path, 0) == 0;
	assert_true(gallery_stop(&s));
	assert_true(cleared);
	assert_true(answered);
	if (r.status != status || !strstr(r.body.data ? r.body.data : "", body))
		fail_msg("expected %ld with \"%s\", got %ld: %.2000s", status, body, r.status,
			 r.body.data);
	reply_free(&r);
	if (!logged)
		fail_msg("the front end's log does not say \"%s\"", log_text);
}

static void test_a_page_naming_a_missing_value_is_500_in_strict_mode_only(void **state)
{
	(void)state;
	char dir[GALLERY_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/templates-missing-value", harness_env("GALLERY_TEST_TMP"));
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "rm -rf '%1$s' && cp -a '%2$s/templates' '%1$s' && "
		   "printf '<p>{{no_such_value}}</p>\\n' >>'%1$s/home.html'",
		   dir, harness_env("GALLERY_TEST_ROOT"));
	int status = system(cmd.data);
	buf_free(&cmd);
	assert_int_equal(status, 0);
	/* The line it was added on, for the message that must name it. */
	char path[GALLERY_PATH_MAX + 16], log_text[GALLERY_PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/home.html", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int lines = 0, c;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	snprintf(log_text, sizeof(log_text),
		 "%s:%d: {{no_such_value}} names no value in the page's data", path, lines);

	home_page_with_templates(dir, true, 500, "the page could not be rendered", log_text);
	/* In production the value is left out, as it always was. */
	home_page_with_templates(dir, false, 200, "<p></p>", NULL);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest api[] = {
	    cmocka_unit_test(test_round_trip_of_every_image_type),
	    cmocka_unit_test(test_overwrite_serves_the_new_image),
	    cmocka_unit_test(test_same_bytes_share_one_file),
	    cmocka_unit_test(test_unreferenced_file_is_removed),
	    cmocka_unit_test(test_list_keys_has_exactly_the_uploaded_keys),
	    cmocka_unit_test(test_second_read_is_a_cache_hit),
	};
	const struct CMUnitTest bad_input[] = {
	    cmocka_unit_test(test_upload_without_key_is_400),
	    cmocka_unit_test(test_upload_with_empty_key_is_400),
	    cmocka_unit_test(test_upload_with_256_byte_key_is_400),
	    cmocka_unit_test(test_upload_with_255_byte_key_works),
	    cmocka_unit_test(test_upload_with_invalid_utf8_key_is_400),
	    cmocka_unit_test(test_upload_with_control_character_in_key_is_400),
	    cmocka_unit_test(test_upload_without_file_is_400),
	    cmocka_unit_test(test_upload_of_empty_file_is_400),
	    cmocka_unit_test(test_upload_over_limit_is_refused_before_the_body),
	    cmocka_unit_test(test_upload_just_over_limit_is_413),
	    cmocka_unit_test(test_text_named_jpg_is_415),
	    cmocka_unit_test(test_decompression_bombs_are_refused),
	    cmocka_unit_test(test_images_within_the_pixel_limit_are_stored_with_their_size),
	    cmocka_unit_test(test_unclosed_multipart_is_400),
	    cmocka_unit_test(test_json_body_is_400),
	    cmocka_unit_test(test_unknown_key_is_404),
	    cmocka_unit_test(test_unknown_route_is_404),
	    cmocka_unit_test(test_get_on_upload_is_405_with_allow),
	};
	const struct CMUnitTest keys_and_pages[] = {
	    cmocka_unit_test(test_odd_keys_work_and_never_reach_a_path),
	    cmocka_unit_test(test_every_page_answers_200),
	    cmocka_unit_test(test_pages_escape_the_script_key),
	    cmocka_unit_test(test_image_page_shows_the_image),
	    cmocka_unit_test(test_unknown_page_is_html_or_json_by_accept),
	};
	const struct CMUnitTest forms[] = {
	    cmocka_unit_test(test_upload_page_stores_the_image),
	    cmocka_unit_test(test_upload_page_refuses_text_and_keeps_the_key),
	    cmocka_unit_test(test_image_page_says_no_image_for_unknown_key),
	    cmocka_unit_test(test_cache_properties_refuses_bad_capacity),
	    cmocka_unit_test(test_cache_properties_saves_and_applies),
	    cmocka_unit_test(test_cache_properties_clear_says_how_many),
	    cmocka_unit_test(test_form_pages_set_the_token_they_embed),
	    cmocka_unit_test(test_form_posts_without_the_token_are_refused),
	};
	const struct CMUnitTest failures[] = {
	    cmocka_unit_test_setup(test_healthz_says_whether_the_cache_answers,
				   ensure_daemons_running),
	    cmocka_unit_test_setup(test_reads_and_uploads_survive_a_memcache_crash,
				   ensure_daemons_running),
	    cmocka_unit_test_setup(test_missed_invalidation_never_serves_the_old_image,
				   ensure_daemons_running),
	    cmocka_unit_test_setup(test_missed_invalidations_past_the_list_never_serve_old_images,
				   ensure_daemons_running),
	    cmocka_unit_test_setup(test_upload_killed_midway_leaves_nothing,
				   ensure_daemons_running),
	    cmocka_unit_test_setup(test_readers_never_see_an_older_image_after_upload,
				   ensure_daemons_running),
	    cmocka_unit_test_setup_teardown(test_file_of_upload_refused_in_db_outage_goes_after_it,
					    ensure_daemons_running, ensure_database_running),
	};
	int failed = cmocka_run_group_tests_name("api", api, start_daemons, stop_daemons);
	failed += cmocka_run_group_tests_name("bad input", bad_input, start_daemons, stop_daemons);
	failed += cmocka_run_group_tests_name("keys and pages", keys_and_pages, start_daemons,
					      stop_daemons);
	failed += cmocka_run_group_tests_name("forms", forms, start_daemons, stop_daemons);
	failed += cmocka_run_group_tests_name("failures", failures, start_daemons, stop_daemons);
	const struct CMUnitTest strict[] = {
	    cmocka_unit_test(test_a_page_naming_a_missing_value_is_500_in_strict_mode_only),
	};
	failed += cmocka_run_group_tests_name("strict templates", strict, NULL, NULL);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
