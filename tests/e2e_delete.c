/* e2e_delete: deleting images through the API and the confirm page: rights, files, thumbnails, cache coherence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/b64.h"
#include "tests/harness.h"

enum {
	IMAGE_BYTES = 4096,
	SHA_HEX = 65,
	URL_MAX = 2048,
	TOKEN_MAX = 128,
	WAIT_MS = 60000,
	/* Where a race image carries its round: past the PNG header, which must say the size. */
	ROUND_OFFSET = 40,
	RACE_ROUNDS = 25,
	READERS = 4,
	/* Tries of an upload or delete that MariaDB answers 503 (a loaded machine). */
	TRIES = 5,
	READER_TIMEOUT_S = 30,
};

#define PASSWORD "correct horse battery staple"
#define FORM "Content-Type: application/x-www-form-urlencoded"
#define CSRF_PAIR "csrf_token=" HARNESS_CSRF_TOKEN
/* A real photograph from lomiri-wallpapers (scripts/test-deps.sh), so that a worker can thumbnail it. */
#define PHOTO "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg"

static struct gallery g;
static struct daemon worker;
static char tmp_dir[GALLERY_PATH_MAX];

/* An 8 x 8 PNG header; the bytes after it tell images apart. */
static const unsigned char PNG_HEAD[] = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"
					"\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00"
					"\x00\x00\x00\x00";

static uint64_t random_state = 0x2545F4914F6CDD1Dull;

struct image {
	unsigned char bytes[IMAGE_BYTES];
	size_t len;
};

static struct image make_image(uint32_t round)
{
	struct image im = {.len = IMAGE_BYTES};
	memcpy(im.bytes, PNG_HEAD, sizeof(PNG_HEAD) - 1);
	for (size_t i = sizeof(PNG_HEAD) - 1; i < im.len; i++) {
		random_state ^= random_state << 13;
		random_state ^= random_state >> 7;
		random_state ^= random_state << 17;
		im.bytes[i] = (unsigned char)random_state;
	}
	unsigned char be[4] = {round >> 24, round >> 16, round >> 8, round};
	memcpy(im.bytes + ROUND_OFFSET, be, sizeof(be));
	return im;
}

static void sha256_hex(const void *data, size_t len, char hex[SHA_HEX])
{
	struct sha256_ctx ctx;
	unsigned char digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void image_path(const char *sha, const char *ext, char *out, size_t size)
{
	snprintf(out, size, "%s/images/%.2s/%s.%s", g.data_dir, sha, sha, ext);
}

static void thumb_path(const char *sha, const char *size, char *out, size_t outsize)
{
	snprintf(out, outsize, "%s/thumbs/%.2s/%s-%s.webp", g.data_dir, sha, sha, size);
}

/* ---- requests ---- */

static const char *key_path(const char *prefix, const char *key, char *out, size_t size)
{
	char enc[3 * 256 + 1];
	snprintf(out, size, "%s%s", prefix, url_encode(key, strlen(key), enc, sizeof(enc)));
	return out;
}

/* A request with an optional bearer token; the reply's status. */
static long call(const char *method, const char *path, const char *token, const char *const *extra,
		 struct reply *r)
{
	char url[URL_MAX], auth[TOKEN_MAX + 32];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	const char *headers[8] = {NULL};
	size_t n = 0;
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers[n++] = auth;
	}
	for (; extra && *extra && n < 7; extra++)
		headers[n++] = *extra;
	assert_true(http_request(method, url, headers, NULL, 0, r));
	return r->status;
}

static long status_of(const char *method, const char *path, const char *token)
{
	struct reply r;
	long status = call(method, path, token, NULL, &r);
	reply_free(&r);
	return status;
}

static void upload_as(const char *key, const struct image *im, const char *token)
{
	char url[URL_MAX], auth[TOKEN_MAX + 32];
	snprintf(url, sizeof(url), "%s/api/upload", g.fe.url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	/* http_upload sends no token: an owned upload is built by hand as multipart. */
	if (!token) {
		struct reply r;
		assert_true(http_upload(g.fe.url, "/api/upload", key, im->bytes, im->len, "a.png",
					NULL, &r));
		assert_int_equal(r.status, 200);
		reply_free(&r);
		return;
	}
	struct buf body = BUF_INIT;
	const char *b = "----deletetestboundary";
	buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n%s\r\n", b,
		   key);
	buf_printf(&body,
		   "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
		   "Content-Type: image/png\r\n\r\n",
		   b);
	buf_append(&body, im->bytes, im->len);
	buf_printf(&body, "\r\n--%s--\r\n", b);
	char type[128];
	snprintf(type, sizeof(type), "Content-Type: multipart/form-data; boundary=%s", b);
	const char *headers[] = {auth, type, NULL};
	struct reply r;
	assert_true(http_request("POST", url, headers, body.data, body.len, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	buf_free(&body);
}

/* Signs up name, marks it verified (and admin or not) in the database, logs in: its API token. */
static void make_user(const char *name, bool admin, char token[TOKEN_MAX])
{
	char url[URL_MAX], body[512], q[256];
	snprintf(url, sizeof(url), "%s/api/signup", g.fe.url);
	snprintf(body, sizeof(body), "username=%s&email=%s%%40example.org&password=%s", name, name,
		 "correct+horse+battery+staple");
	const char *form[] = {FORM, NULL};
	struct reply r;
	assert_true(http_request("POST", url, form, body, strlen(body), &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	snprintf(q, sizeof(q), "UPDATE users SET verified_at = NOW(3), is_admin = %d WHERE username = '%s'",
		 admin, name);
	assert_true(sql_exec(q));
	snprintf(url, sizeof(url), "%s/api/login", g.fe.url);
	snprintf(body, sizeof(body), "username=%s&password=correct+horse+battery+staple", name);
	assert_true(http_request("POST", url, form, body, strlen(body), &r));
	assert_int_equal(r.status, 200);
	const char *at = strstr(r.body.data, "\"token\":\"");
	assert_non_null(at);
	at += strlen("\"token\":\"");
	size_t len = strcspn(at, "\"");
	assert_true(len > 0 && len < TOKEN_MAX);
	memcpy(token, at, len);
	token[len] = '\0';
	reply_free(&r);
}

static long long count_key(const char *key)
{
	char q[512];
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM images WHERE image_key = '%s'", key);
	return sql_scalar(q);
}

static long api_delete(const char *key, const char *token)
{
	char path[URL_MAX];
	return status_of("POST", key_path("/api/delete/", key, path, sizeof(path)), token);
}

static long api_read(const char *key)
{
	char path[URL_MAX];
	return status_of("GET", key_path("/api/key/", key, path, sizeof(path)), NULL);
}

static bool list_has(const char *key)
{
	struct reply r;
	assert_int_equal(call("POST", "/api/list_keys", NULL, NULL, &r), 200);
	char quoted[300];
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	bool has = strstr(r.body.data, quoted) != NULL;
	reply_free(&r);
	return has;
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", harness_env("GALLERY_TEST_TMP"));
	if (!sql_exec("DELETE FROM users") || !sql_exec("DELETE FROM jobs") ||
	    !sql_exec("DELETE FROM image_variants") || !sql_empty_gallery())
		return -1;
	return gallery_start(&g, "delete", NULL, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (daemon_alive(&worker))
		daemon_stop(&worker, SIGTERM);
	/* The programs after this one expect a gallery with no admin. */
	bool clean = sql_exec("DELETE FROM users") && sql_exec("DELETE FROM login_failures") &&
		     sql_exec("DELETE FROM jobs") && sql_exec("DELETE FROM image_variants") &&
		     sql_empty_gallery();
	return gallery_stop(&g) && clean ? 0 : -1;
}

static int fresh(void **state)
{
	(void)state;
	return sql_exec("DELETE FROM users") && sql_exec("DELETE FROM jobs") &&
			       sql_empty_gallery() &&
			       gallery_clear_cache(&g)
		       ? 0
		       : -1;
}

/* ---- tests ---- */

static void unknown_keys_and_wrong_methods(void **state)
{
	(void)state;
	struct reply r;
	assert_int_equal(call("POST", "/api/delete/no%20such%20key", NULL, NULL, &r), 404);
	assert_true(reply_is_error(&r, 404));
	assert_non_null(strstr(r.body.data, "no image with key 'no such key'"));
	reply_free(&r);
	assert_int_equal(status_of("DELETE", "/api/key/no%20such%20key", NULL), 404);
	char allow[128];
	assert_int_equal(call("GET", "/api/delete/k", NULL, NULL, &r), 405);
	assert_non_null(reply_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "POST");
	reply_free(&r);
	assert_int_equal(call("PUT", "/api/key/k", NULL, NULL, &r), 405);
	assert_non_null(reply_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD, POST, DELETE");
	reply_free(&r);
	assert_int_equal(status_of("DELETE", "/api/delete/k", NULL), 405);
	assert_int_equal(status_of("PUT", "/delete", NULL), 405);
	/* A key that breaks the key rules is a 400, as on every route. */
	assert_int_equal(status_of("POST", "/api/delete/", NULL), 400);
	assert_int_equal(status_of("POST", "/api/delete/%01", NULL), 400);
}

static void an_ownerless_image_goes_everywhere_at_once(void **state)
{
	(void)state;
	struct image a = make_image(1), b = make_image(2);
	upload_as("gone soon", &a, NULL);
	upload_as("stays", &b, NULL);
	long long before = sql_scalar("SELECT SUM(image_count) FROM image_totals");
	/* Its tags (as a caption would give it) go with its row. */
	assert_true(sql_exec("INSERT INTO image_tags (tag, image_id) SELECT 'harbour', id FROM images "
			     "WHERE image_key IN ('gone soon', 'stays')"));
	/* A read puts it into memcache; the delete must take it out. */
	assert_int_equal(api_read("gone soon"), 200);
	assert_int_equal(api_read("gone soon"), 200);
	struct reply r;
	assert_int_equal(call("POST", "/api/delete/gone%20soon", NULL, NULL, &r), 200);
	assert_string_equal(r.body.data, "{\"success\":\"true\"}");
	reply_free(&r);
	assert_int_equal(count_key("gone soon"), 0);
	assert_int_equal(api_read("gone soon"), 404);
	assert_int_equal(api_read("stays"), 200);
	assert_false(list_has("gone soon"));
	assert_true(list_has("stays"));
	assert_int_equal(sql_scalar("SELECT SUM(image_count) FROM image_totals"), before - 1);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_tags"), 1);
	/* The pages say so too. */
	const char *html[] = {"Accept: " HTML_ACCEPT, NULL};
	assert_int_equal(call("GET", "/keys_list", NULL, html, &r), 200);
	assert_null(strstr(r.body.data, "gone soon"));
	assert_non_null(strstr(r.body.data, "stays"));
	reply_free(&r);
	assert_int_equal(call("GET", "/raw/gone%20soon", NULL, html, &r), 404);
	reply_free(&r);
	/* The second delete finds nothing; DELETE /api/key/ is the same deletion. */
	assert_int_equal(api_delete("gone soon", NULL), 404);
	assert_int_equal(status_of("DELETE", "/api/key/stays", NULL), 200);
	assert_int_equal(api_read("stays"), 404);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_tags"), 0);
}

static void the_file_goes_only_with_its_last_key(void **state)
{
	(void)state;
	struct image shared = make_image(3);
	char sha[SHA_HEX], path[GALLERY_PATH_MAX + 200];
	sha256_hex(shared.bytes, shared.len, sha);
	image_path(sha, "png", path, sizeof(path));
	upload_as("twin one", &shared, NULL);
	upload_as("twin two", &shared, NULL);
	assert_true(file_exists(path));
	assert_int_equal(api_delete("twin one", NULL), 200);
	assert_true(file_exists(path));
	struct reply r;
	assert_int_equal(call("GET", "/api/key/twin%20two", NULL, NULL, &r), 200);
	struct buf want = BUF_INIT;
	buf_puts(&want, CONTENT_HEAD);
	assert_true(b64_encode((const char *)shared.bytes, shared.len, &want));
	buf_puts(&want, CONTENT_TAIL);
	assert_int_equal(r.body.len, want.len);
	assert_memory_equal(r.body.data, want.data, want.len);
	buf_free(&want);
	reply_free(&r);
	assert_int_equal(status_of("DELETE", "/api/key/twin%20two", NULL), 200);
	assert_false(file_exists(path));
}

/* The thumbnails a real worker makes go with the last image of their content. */
static void thumbnails_go_with_the_content(void **state)
{
	(void)state;
	char photo[GALLERY_PATH_MAX + 64], cmd[2 * GALLERY_PATH_MAX + 256];
	snprintf(photo, sizeof(photo), "%s/delete-photo.jpg", tmp_dir);
	snprintf(cmd, sizeof(cmd), "vips thumbnail '%s' '%s[Q=80,strip]' 900", PHOTO, photo);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(photo, "rb");
	assert_non_null(f);
	struct buf jpeg = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&jpeg, chunk, n);
	fclose(f);
	setting w[] = {g.data_dir_setting, g.memcache_url_setting, "GALLERY_WORKER_THREADS=1", NULL};
	assert_true(worker_start(&worker, w));
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", "photo a", jpeg.data, jpeg.len, "a.jpg",
				NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_true(http_upload(g.fe.url, "/api/upload", "photo b", jpeg.data, jpeg.len, "b.jpg",
				NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	char sha[SHA_HEX], q[256], s[GALLERY_PATH_MAX + 200], m[GALLERY_PATH_MAX + 200],
	    original[GALLERY_PATH_MAX + 200], path[128];
	sha256_hex(jpeg.data, jpeg.len, sha);
	buf_free(&jpeg);
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'", sha);
	assert_true(sql_wait_scalar(q, 2, WAIT_MS));
	thumb_path(sha, "s", s, sizeof(s));
	thumb_path(sha, "m", m, sizeof(m));
	image_path(sha, "jpg", original, sizeof(original));
	assert_true(file_exists(s) && file_exists(m) && file_exists(original));
	daemon_stop(&worker, SIGTERM);
	/* One key of two goes: the content and its thumbnails stay for the other. */
	assert_int_equal(api_delete("photo a", NULL), 200);
	assert_int_equal(sql_scalar(q), 2);
	assert_true(file_exists(s) && file_exists(m) && file_exists(original));
	snprintf(path, sizeof(path), "/thumb/%s/s", sha);
	assert_int_equal(status_of("GET", path, NULL), 200);
	/* The last one: rows, then files. */
	assert_int_equal(api_delete("photo b", NULL), 200);
	assert_int_equal(sql_scalar(q), 0);
	assert_false(file_exists(s));
	assert_false(file_exists(m));
	assert_false(file_exists(original));
	assert_int_equal(status_of("GET", path, NULL), 404);
}

/* A JPEG of the photograph, longest side px, read into out. */
static void photo_jpeg(unsigned px, struct buf *out)
{
	char photo[GALLERY_PATH_MAX + 64], cmd[2 * GALLERY_PATH_MAX + 256];
	snprintf(photo, sizeof(photo), "%s/delete-photo-%u.jpg", tmp_dir, px);
	snprintf(cmd, sizeof(cmd), "vips thumbnail '%s' '%s[Q=80,strip]' %u", PHOTO, photo, px);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(photo, "rb");
	assert_non_null(f);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
}

/*
 * The same picture with other bytes: a JPEG comment segment carrying round
 * goes right after the start-of-image marker, so each round is its own content.
 */
static void jpeg_of_round(const struct buf *jpeg, unsigned round, struct buf *out)
{
	char comment[16];
	int len = snprintf(comment, sizeof(comment), "round %u", round);
	unsigned char head[4] = {0xFF, 0xFE, 0, (unsigned char)(len + 2)};
	out->len = 0;
	buf_append(out, jpeg->data, 2);
	buf_append(out, head, sizeof(head));
	buf_append(out, comment, (size_t)len);
	buf_append(out, jpeg->data + 2, jpeg->len - 2);
}

static void upload_bytes(const char *key, const struct buf *b)
{
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", key, b->data, b->len, "a.jpg", NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* Whether sha has any thumbnail: a file on disk or a row. */
static bool has_thumbnails(const char *sha)
{
	char s[GALLERY_PATH_MAX + 200], m[GALLERY_PATH_MAX + 200], q[256];
	thumb_path(sha, "s", s, sizeof(s));
	thumb_path(sha, "m", m, sizeof(m));
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'", sha);
	return file_exists(s) || file_exists(m) || sql_scalar(q) != 0;
}

static bool jobs_finished(void)
{
	return sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')", 0,
			       WAIT_MS);
}

/*
 * A delete that lands while a worker is between its two thumbnail files (the
 * test hook holds it there): once the job is done, neither file nor row of
 * the deleted content is left, and the job is done, not failed.
 */
static void a_delete_during_a_thumbnail_leaves_none_of_it(void **state)
{
	(void)state;
	struct buf jpeg = BUF_INIT;
	photo_jpeg(700, &jpeg);
	char sha[SHA_HEX], s[GALLERY_PATH_MAX + 200];
	sha256_hex(jpeg.data, jpeg.len, sha);
	thumb_path(sha, "s", s, sizeof(s));
	setting w[] = {g.data_dir_setting, g.memcache_url_setting, "GALLERY_WORKER_THREADS=1",
		       "GALLERY_TEST_JOB_DELAY_MS=1500", NULL};
	assert_true(worker_start(&worker, w));
	upload_bytes("midway", &jpeg);
	for (long waited = 0; !file_exists(s) && waited < WAIT_MS * harness_slowdown(); waited += 20)
		sleep_ms(20);
	assert_true(file_exists(s));
	assert_int_equal(api_delete("midway", NULL), 200);
	assert_true(jobs_finished());
	daemon_stop(&worker, SIGTERM);
	assert_false(has_thumbnails(sha));
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), 1);
	buf_free(&jpeg);
}

/* Waits until a worker has claimed the thumbnail job of the content sha. */
static void wait_for_claim(const char *sha)
{
	char q[256];
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '%.64s' AND state <> 'queued'", sha);
	assert_true(sql_wait_scalar(q, 1, WAIT_MS));
}

/*
 * Deletes racing thumbnail jobs at whatever point each job has reached: once
 * the jobs are done, no thumbnail of any deleted content is left, and none of
 * the jobs failed.
 */
static void deletes_racing_thumbnails_leave_none(void **state)
{
	(void)state;
	enum { ROUNDS = 24 };
	struct buf jpeg = BUF_INIT, one = BUF_INIT;
	photo_jpeg(600, &jpeg);
	setting w[] = {g.data_dir_setting, g.memcache_url_setting, "GALLERY_WORKER_THREADS=2", NULL};
	assert_true(worker_start(&worker, w));
	char shas[ROUNDS][SHA_HEX];
	for (unsigned i = 0; i < ROUNDS; i++) {
		char key[32];
		snprintf(key, sizeof(key), "racing %u", i);
		jpeg_of_round(&jpeg, i, &one);
		sha256_hex(one.data, one.len, shas[i]);
		upload_bytes(key, &one);
		/*
		 * The delete lands at once for a quarter of the rounds; for the
		 * rest, once a worker has claimed the job, somewhere in its run.
		 */
		if (i % 4)
			wait_for_claim(shas[i]);
		assert_int_equal(api_delete(key, NULL), 200);
	}
	assert_true(jobs_finished());
	print_message("%ld of %d jobs found their image deleted\n",
		      daemon_log_count(&worker, "nothing to do: no image has this content"), ROUNDS);
	daemon_stop(&worker, SIGTERM);
	unsigned left = 0;
	for (unsigned i = 0; i < ROUNDS; i++)
		if (has_thumbnails(shas[i])) {
			print_message("round %u: thumbnails of %s are left\n", i, shas[i]);
			left++;
		}
	print_message("%lld of %d jobs done, %lld dead\n",
		      sql_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), ROUNDS,
		      sql_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead'"));
	assert_int_equal(left, 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), ROUNDS);
	buf_free(&one);
	buf_free(&jpeg);
}

/*
 * A delete, then at once an upload of the same bytes under another key, while
 * the content's thumbnail job runs: whether the job finds the content gone or
 * back, the new image ends with both thumbnails, files and rows.
 */
static void the_same_bytes_uploaded_again_keep_their_thumbnails(void **state)
{
	(void)state;
	enum { ROUNDS = 16 };
	struct buf jpeg = BUF_INIT, one = BUF_INIT;
	photo_jpeg(640, &jpeg);
	setting w[] = {g.data_dir_setting, g.memcache_url_setting, "GALLERY_WORKER_THREADS=2", NULL};
	assert_true(worker_start(&worker, w));
	char shas[ROUNDS][SHA_HEX];
	for (unsigned i = 0; i < ROUNDS; i++) {
		char first[32], again[32];
		snprintf(first, sizeof(first), "first %u", i);
		snprintf(again, sizeof(again), "again %u", i);
		jpeg_of_round(&jpeg, 1000 + i, &one);
		sha256_hex(one.data, one.len, shas[i]);
		upload_bytes(first, &one);
		if (i % 2)
			wait_for_claim(shas[i]);
		assert_int_equal(api_delete(first, NULL), 200);
		upload_bytes(again, &one);
	}
	assert_true(jobs_finished());
	daemon_stop(&worker, SIGTERM);
	unsigned missing = 0;
	for (unsigned i = 0; i < ROUNDS; i++) {
		char s[GALLERY_PATH_MAX + 200], m[GALLERY_PATH_MAX + 200], q[256];
		thumb_path(shas[i], "s", s, sizeof(s));
		thumb_path(shas[i], "m", m, sizeof(m));
		snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'",
			 shas[i]);
		if (!file_exists(s) || !file_exists(m) || sql_scalar(q) != 2) {
			print_message("round %u: the thumbnails of %s are missing\n", i, shas[i]);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead'"), 0);
	assert_true(sql_exec("DELETE FROM image_variants"));
	buf_free(&one);
	buf_free(&jpeg);
}

static void who_may_delete(void **state)
{
	(void)state;
	char ada[TOKEN_MAX], bob[TOKEN_MAX], cy[TOKEN_MAX];
	make_user("ada", true, ada);
	make_user("bob", false, bob);
	make_user("cyd", false, cy);
	struct image a = make_image(10), b = make_image(11), c = make_image(12), d = make_image(13);
	upload_as("ada-img", &a, ada);
	upload_as("bob-img", &b, bob);
	upload_as("bob-img2", &c, bob);
	upload_as("anon-img", &d, NULL);
	/* Someone else's image: 403 and nothing changes, by either route. */
	struct reply r;
	assert_int_equal(call("POST", "/api/delete/bob-img", cy, NULL, &r), 403);
	assert_true(reply_is_error(&r, 403));
	reply_free(&r);
	assert_int_equal(status_of("DELETE", "/api/key/bob-img", cy), 403);
	assert_int_equal(api_delete("bob-img", NULL), 403);
	assert_int_equal(api_delete("ada-img", bob), 403);
	/* With an admin, an ownerless image is the admin's to delete. */
	assert_int_equal(api_delete("anon-img", NULL), 403);
	assert_int_equal(api_delete("anon-img", cy), 403);
	assert_int_equal(count_key("bob-img") + count_key("ada-img") + count_key("anon-img"), 3);
	assert_int_equal(api_read("bob-img"), 200);
	/* The owner may; the admin may delete anyone's. */
	assert_int_equal(api_delete("bob-img", bob), 200);
	assert_int_equal(api_delete("bob-img2", ada), 200);
	assert_int_equal(api_delete("anon-img", ada), 200);
	assert_int_equal(status_of("DELETE", "/api/key/ada-img", ada), 200);
	assert_int_equal(count_key("bob-img") + count_key("bob-img2") + count_key("ada-img") +
				 count_key("anon-img"),
			 0);
	/* Unknown keys are 404 for anyone. */
	assert_int_equal(api_delete("bob-img", cy), 404);
}

/* A browser's session cookie: a DELETE it authenticates needs the CSRF header too. */
static void a_delete_by_session_cookie_needs_its_csrf_token(void **state)
{
	(void)state;
	char bob[TOKEN_MAX];
	make_user("bob", false, bob);
	struct image a = make_image(50);
	upload_as("bob-cookie", &a, bob);
	char url[URL_MAX], value[512], session[TOKEN_MAX + 64], cookie_line[TOKEN_MAX + 96];
	snprintf(url, sizeof(url), "%s/login", g.fe.url);
	static const char body[] = "username=bob&password=correct+horse+battery+staple&" CSRF_PAIR;
	const char *login[] = {FORM, HARNESS_CSRF_COOKIE, NULL};
	struct reply r;
	assert_true(http_request("POST", url, login, body, strlen(body), &r));
	assert_int_equal(r.status, 303);
	const char *set = reply_header(&r, "Set-Cookie", value, sizeof(value));
	assert_non_null(set);
	assert_true(strncmp(set, "gallery_session=", 16) == 0);
	snprintf(session, sizeof(session), "%.*s", (int)strcspn(set, ";"), set);
	reply_free(&r);
	snprintf(cookie_line, sizeof(cookie_line), "Cookie: %s", session);
	/* Without the header: 403, and the image stays. */
	const char *bare[] = {cookie_line, NULL};
	assert_int_equal(call("DELETE", "/api/key/bob-cookie", NULL, bare, &r), 403);
	assert_non_null(strstr(r.body.data, "X-CSRF-Token"));
	reply_free(&r);
	assert_int_equal(call("POST", "/api/delete/bob-cookie", NULL, bare, &r), 403);
	reply_free(&r);
	assert_int_equal(count_key("bob-cookie"), 1);
	/* The token a page of the session carries. */
	const char *html[] = {cookie_line, "Accept: " HTML_ACCEPT, NULL};
	assert_int_equal(call("GET", "/image?key=bob-cookie", NULL, html, &r), 200);
	assert_non_null(strstr(r.body.data, "id=\"delete-link\""));
	const char *at = strstr(r.body.data, "name=\"csrf_token\" value=\"");
	assert_non_null(at);
	at += strlen("name=\"csrf_token\" value=\"");
	char header[128];
	snprintf(header, sizeof(header), "X-CSRF-Token: %.*s", (int)strcspn(at, "\""), at);
	reply_free(&r);
	const char *wrong[] = {cookie_line, "X-CSRF-Token: 00000000000000000000000000000000", NULL};
	assert_int_equal(call("DELETE", "/api/key/bob-cookie", NULL, wrong, &r), 403);
	reply_free(&r);
	const char *right[] = {cookie_line, header, NULL};
	assert_int_equal(call("DELETE", "/api/key/bob-cookie", NULL, right, &r), 200);
	reply_free(&r);
	assert_int_equal(count_key("bob-cookie"), 0);
}

static void only_the_admin_retries_dead_jobs(void **state)
{
	(void)state;
	char ada[TOKEN_MAX], bob[TOKEN_MAX];
	/* Before there is an admin, anyone may (the ECE1779 app has no accounts). */
	assert_true(sql_exec("INSERT INTO jobs (kind, state, attempts, max_attempts, payload, error) "
			     "VALUES ('calc', 'dead', 5, 5, '{\"numbers\":[1]}', 'test')"));
	long long id = sql_scalar("SELECT MAX(id) FROM jobs");
	assert_true(id > 0);
	char path[64], page[64];
	snprintf(path, sizeof(path), "/api/jobs/%lld/retry", id);
	snprintf(page, sizeof(page), "/jobs/%lld/retry", id);
	assert_int_equal(status_of("POST", path, NULL), 200);
	char q[128];
	snprintf(q, sizeof(q), "UPDATE jobs SET state = 'dead' WHERE id = %lld", id);
	assert_true(sql_exec(q));
	make_user("ada", true, ada);
	make_user("bob", false, bob);
	struct reply r;
	assert_int_equal(call("POST", path, NULL, NULL, &r), 403);
	assert_true(reply_is_error(&r, 403));
	reply_free(&r);
	assert_int_equal(status_of("POST", path, bob), 403);
	/* The page's retry button too, with a valid form token. */
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, page);
	const char *headers[] = {FORM, HARNESS_CSRF_COOKIE, "Accept: " HTML_ACCEPT, NULL};
	assert_true(http_request("POST", url, headers, CSRF_PAIR, strlen(CSRF_PAIR), &r));
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "admin"));
	reply_free(&r);
	snprintf(q, sizeof(q), "SELECT state = 'dead' FROM jobs WHERE id = %lld", id);
	assert_int_equal(sql_scalar(q), 1);
	assert_int_equal(status_of("POST", path, ada), 200);
	snprintf(q, sizeof(q), "SELECT state = 'queued' FROM jobs WHERE id = %lld", id);
	assert_int_equal(sql_scalar(q), 1);
}

static long long memcache_hits(void)
{
	struct reply r;
	assert_true(http_get(g.mc.url, "/stats", &r));
	long long hits = -1;
	assert_true(reply_number(&r, "hits", &hits));
	reply_free(&r);
	return hits;
}

/* A key deleted and uploaded again goes on from its old version, so memcache takes it again. */
static void a_key_uploaded_again_is_cached_again(void **state)
{
	(void)state;
	struct image a = make_image(40), b = make_image(41);
	upload_as("again", &a, NULL);
	upload_as("again", &a, NULL);
	assert_int_equal(sql_scalar("SELECT version FROM images WHERE image_key = 'again'"), 2);
	assert_int_equal(api_read("again"), 200);
	assert_int_equal(api_delete("again", NULL), 200);
	upload_as("again", &b, NULL);
	assert_int_equal(sql_scalar("SELECT version FROM images WHERE image_key = 'again'"), 3);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_deleted_versions"), 0);
	struct reply r;
	assert_int_equal(call("GET", "/api/key/again", NULL, NULL, &r), 200);
	reply_free(&r);
	long long hits = memcache_hits();
	assert_int_equal(call("GET", "/api/key/again", NULL, NULL, &r), 200);
	struct buf want = BUF_INIT;
	buf_puts(&want, CONTENT_HEAD);
	assert_true(b64_encode((const char *)b.bytes, b.len, &want));
	buf_puts(&want, CONTENT_TAIL);
	assert_int_equal(r.body.len, want.len);
	assert_memory_equal(r.body.data, want.data, want.len);
	buf_free(&want);
	reply_free(&r);
	assert_int_equal(memcache_hits(), hits + 1);
}

/* Writes a file of a few bytes at path, its folders too, dated age_s seconds back. */
static void plant_old(const char *path, long age_s)
{
	char cmd[3 * (GALLERY_PATH_MAX + 200) + 200];
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && printf 'RIFF0000WEBP' > '%s' && "
		 "touch -d '-%ld seconds' '%s'", path, path, age_s, path);
	assert_int_equal(system(cmd), 0);
}

/*
 * A crash between a deletion's commit and the removal of its files leaves
 * thumbnails no image has (and a worker may finish one for an image being
 * deleted): the next start's sweep removes them and their rows, and keeps
 * those of contents that images still have.
 */
static void the_start_sweeps_thumbnails_no_image_has(void **state)
{
	(void)state;
	struct image kept = make_image(60);
	upload_as("kept", &kept, NULL);
	char kept_sha[SHA_HEX], q[512];
	sha256_hex(kept.bytes, kept.len, kept_sha);
	const char *orphan_sha = "0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de";
	char orphan_s[GALLERY_PATH_MAX + 200], orphan_m[GALLERY_PATH_MAX + 200],
	    kept_s[GALLERY_PATH_MAX + 200];
	thumb_path(orphan_sha, "s", orphan_s, sizeof(orphan_s));
	thumb_path(orphan_sha, "m", orphan_m, sizeof(orphan_m));
	thumb_path(kept_sha, "s", kept_s, sizeof(kept_s));
	plant_old(orphan_s, 600);
	plant_old(orphan_m, 600);
	plant_old(kept_s, 600);
	snprintf(q, sizeof(q),
		 "INSERT INTO image_variants (sha256, size, location, width, height, bytes) VALUES "
		 "('%s', 's', '%.2s/%s-s.webp', 8, 8, 12), ('%s', 's', '%.2s/%s-s.webp', 8, 8, 12)",
		 orphan_sha, orphan_sha, orphan_sha, kept_sha, kept_sha, kept_sha);
	assert_true(sql_exec(q));
	assert_int_equal(daemon_stop(&g.fe, SIGTERM), 0);
	assert_true(daemon_restart(&g.fe, g.fe_settings));
	assert_false(file_exists(orphan_s));
	assert_false(file_exists(orphan_m));
	assert_true(file_exists(kept_s));
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'", orphan_sha);
	assert_int_equal(sql_scalar(q), 0);
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'", kept_sha);
	assert_int_equal(sql_scalar(q), 1);
	assert_int_equal(api_read("kept"), 200);
	assert_true(sql_exec("DELETE FROM image_variants"));
}

/* ---- the confirm page ---- */

static void the_confirm_page_deletes_without_javascript(void **state)
{
	(void)state;
	struct image a = make_image(20);
	upload_as("page <b>key</b> & more", &a, NULL);
	struct reply r;
	const char *html[] = {"Accept: " HTML_ACCEPT, NULL};
	char path[URL_MAX];
	/* The image page offers it (no admin yet: anyone may delete an ownerless image). */
	key_path("/image?key=", "page <b>key</b> & more", path, sizeof(path));
	assert_int_equal(call("GET", path, NULL, html, &r), 200);
	assert_non_null(strstr(r.body.data, "id=\"delete-link\""));
	assert_non_null(strstr(r.body.data, "href=\"/delete?key=page%20%3Cb%3Ekey%3C%2Fb%3E%20%26%20more\""));
	reply_free(&r);
	key_path("/delete?key=", "page <b>key</b> & more", path, sizeof(path));
	assert_int_equal(call("GET", path, NULL, html, &r), 200);
	assert_non_null(strstr(r.body.data, "id=\"delete-form\""));
	assert_non_null(strstr(r.body.data, "page &lt;b&gt;key&lt;/b&gt; &amp; more"));
	assert_null(strstr(r.body.data, "<b>key</b>"));
	reply_free(&r);
	/* A GET changes nothing. */
	assert_int_equal(api_read("page <b>key</b> & more"), 200);
	char url[URL_MAX], body[2 * URL_MAX];
	snprintf(url, sizeof(url), "%s/delete", g.fe.url);
	char enc[URL_MAX];
	const char *key = "page <b>key</b> & more";
	snprintf(body, sizeof(body), "key=%s", url_encode(key, strlen(key), enc, sizeof(enc)));
	/* Without the form token: 403, and the image stays. */
	const char *no_token[] = {FORM, "Accept: " HTML_ACCEPT, NULL};
	assert_true(http_request("POST", url, no_token, body, strlen(body), &r));
	assert_int_equal(r.status, 403);
	reply_free(&r);
	assert_int_equal(api_read(key), 200);
	snprintf(body, sizeof(body), "key=%s&" CSRF_PAIR, enc);
	const char *with_token[] = {FORM, HARNESS_CSRF_COOKIE, "Accept: " HTML_ACCEPT, NULL};
	assert_true(http_request("POST", url, with_token, body, strlen(body), &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "Deleted."));
	reply_free(&r);
	assert_int_equal(api_read(key), 404);
	/* Once more: the page says there is no such image. */
	assert_true(http_request("POST", url, with_token, body, strlen(body), &r));
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body.data, "no image with key"));
	reply_free(&r);
	assert_int_equal(call("GET", path, NULL, html, &r), 404);
	reply_free(&r);
}

static void the_page_offers_delete_only_to_those_who_may(void **state)
{
	(void)state;
	char ada[TOKEN_MAX], bob[TOKEN_MAX];
	make_user("ada", true, ada);
	make_user("bob", false, bob);
	struct image a = make_image(30), b = make_image(31);
	upload_as("bob page", &a, bob);
	upload_as("anon page", &b, NULL);
	const char *html[] = {"Accept: " HTML_ACCEPT, NULL};
	struct reply r;
	struct {
		const char *path, *token;
		bool offered;
	} cases[] = {
		{"/image?key=bob%20page", bob, true},   {"/image?key=bob%20page", ada, true},
		{"/image?key=bob%20page", NULL, false}, {"/image?key=anon%20page", bob, false},
		{"/image?key=anon%20page", ada, true},  {"/image?key=anon%20page", NULL, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(call("GET", cases[i].path, cases[i].token, html, &r), 200);
		if ((strstr(r.body.data, "id=\"delete-link\"") != NULL) != cases[i].offered)
			fail_msg("%s as %s: the Delete link is %s", cases[i].path,
				 cases[i].token == bob ? "bob" : cases[i].token ? "ada" : "nobody",
				 cases[i].offered ? "missing" : "shown");
		reply_free(&r);
	}
	/* The confirm page refuses those who may not. */
	assert_int_equal(call("GET", "/delete?key=bob%20page", NULL, html, &r), 403);
	assert_null(strstr(r.body.data, "id=\"delete-form\""));
	reply_free(&r);
	assert_int_equal(call("GET", "/delete?key=bob%20page", bob, html, &r), 200);
	assert_non_null(strstr(r.body.data, "id=\"delete-form\""));
	reply_free(&r);
}

/* ---- reads racing a delete and an upload ---- */

/*
 * The race's state: 2r once the upload of round r returned, 2r + 1 once its
 * delete returned. deleting: the last round whose delete has begun.
 */
static atomic_int race_state, deleting;
static atomic_long images_seen;
static atomic_bool readers_stop;

struct reader {
	pthread_t thread;
	const char *url;
	long reads, images, missing, violations, unavailable, errors;
	char first_violation[160];
};

static size_t collect(char *data, size_t size, size_t n, void *sink)
{
	return buf_append(sink, data, size * n) ? size * n : 0;
}

static long round_in(const struct buf *body)
{
	size_t head = strlen(CONTENT_HEAD), tail = strlen(CONTENT_TAIL);
	if (body->len < head + tail || memcmp(body->data, CONTENT_HEAD, head) != 0)
		return -1;
	struct buf bytes = BUF_INIT;
	long round = -1;
	if (b64_decode(body->data + head, body->len - head - tail, &bytes) &&
	    bytes.len >= ROUND_OFFSET + 4) {
		const unsigned char *b = (const unsigned char *)bytes.data + ROUND_OFFSET;
		round = (long)b[0] << 24 | (long)b[1] << 16 | (long)b[2] << 8 | (long)b[3];
	}
	buf_free(&bytes);
	return round;
}

static void violation(struct reader *rd, const char *fmt, long a, long b)
{
	if (!rd->violations++)
		snprintf(rd->first_violation, sizeof(rd->first_violation), fmt, a, b);
}

/*
 * One read, judged against what had returned before it began: an image whose
 * delete had returned is a violation, and so is a 404 once an upload had
 * returned and no delete of it had begun by the time the answer came.
 */
static void read_once(CURL *curl, struct buf *body, struct reader *rd)
{
	int before = atomic_load(&race_state);
	buf_reset(body);
	long status = 0;
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	int deleting_after = atomic_load(&deleting);
	rd->reads++;
	if (status == 503) {
		rd->unavailable++;
	} else if (status == 200) {
		long round = round_in(body);
		rd->images++;
		atomic_fetch_add(&images_seen, 1);
		if (round < 0)
			rd->errors++;
		else if (2 * round + 1 <= before)
			violation(rd, "round %ld shown after its delete returned (state %ld)", round,
				  before);
	} else if (status == 404) {
		rd->missing++;
		if (before % 2 == 0 && before > 0 && deleting_after < before / 2)
			violation(rd, "404 after the upload of round %ld returned (deleting %ld)",
				  before / 2, deleting_after);
	} else {
		rd->errors++;
	}
}

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

/* Until it succeeds, tried again only after a 503 (a loaded machine), at most TRIES times. */
static bool race_upload(const char *key, uint32_t round)
{
	struct image im = make_image(round);
	for (int try = 0; try < TRIES; try++) {
		struct reply r;
		bool answered = http_upload(g.fe.url, "/api/upload", key, im.bytes, im.len, "r.png",
					    NULL, &r);
		long status = answered ? r.status : 0;
		reply_free(&r);
		if (status == 200)
			return true;
		if (status != 503)
			return false;
	}
	return false;
}

/* A delete tried again after a 503 may find the row gone already: 404 then counts as done. */
static bool race_delete(const char *key)
{
	char path[URL_MAX];
	key_path("/api/key/", key, path, sizeof(path));
	for (int try = 0; try < TRIES; try++) {
		long status = status_of("DELETE", path, NULL);
		if (status == 200 || (try > 0 && status == 404))
			return true;
		if (status != 503)
			return false;
	}
	return false;
}

static void reads_racing_deletes_and_uploads_never_go_back(void **state)
{
	(void)state;
	const char *key = "race key";
	char url[URL_MAX];
	snprintf(url, sizeof(url), "%s/api/key/race%%20key", g.fe.url);
	atomic_store(&race_state, 0);
	atomic_store(&deleting, 0);
	atomic_store(&readers_stop, false);
	atomic_store(&images_seen, 0);
	struct reader readers[READERS];
	for (int i = 0; i < READERS; i++) {
		readers[i] = (struct reader){.url = url};
		assert_int_equal(pthread_create(&readers[i].thread, NULL, read_until_stopped,
						&readers[i]),
				 0);
	}
	bool ok = true;
	for (int round = 1; ok && round <= RACE_ROUNDS; round++) {
		ok = race_upload(key, (uint32_t)round);
		if (!ok)
			break;
		atomic_store(&race_state, 2 * round);
		/* Let the readers find it (and memcache keep it) before it goes. */
		long seen = atomic_load(&images_seen);
		for (int waited = 0; atomic_load(&images_seen) < seen + READERS && waited < WAIT_MS;
		     waited += 5)
			sleep_ms(5);
		atomic_store(&deleting, round);
		ok = race_delete(key);
		atomic_store(&race_state, 2 * round + 1);
	}
	atomic_store(&readers_stop, true);
	struct reader total = {0};
	for (int i = 0; i < READERS; i++) {
		pthread_join(readers[i].thread, NULL);
		total.reads += readers[i].reads;
		total.images += readers[i].images;
		total.missing += readers[i].missing;
		total.violations += readers[i].violations;
		total.unavailable += readers[i].unavailable;
		total.errors += readers[i].errors;
		if (readers[i].violations)
			print_message("race: %s\n", readers[i].first_violation);
	}
	print_message("race: %ld reads, %ld images, %ld missing, %ld unavailable, %ld errors\n",
		      total.reads, total.images, total.missing, total.unavailable, total.errors);
	assert_true(ok);
	assert_int_equal(total.violations, 0);
	assert_int_equal(total.errors, 0);
	/* The race meant something: reads saw images and saw them gone. */
	assert_true(total.images >= RACE_ROUNDS);
	assert_true(total.missing >= 1);
	/* And the last state holds: gone, then a new upload reads back. */
	assert_int_equal(api_read(key), 404);
	assert_true(race_upload(key, 999));
	struct reply r;
	assert_int_equal(call("GET", "/api/key/race%20key", NULL, NULL, &r), 200);
	assert_int_equal(round_in(&r.body), 999);
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(unknown_keys_and_wrong_methods, fresh),
		cmocka_unit_test_setup(an_ownerless_image_goes_everywhere_at_once, fresh),
		cmocka_unit_test_setup(the_file_goes_only_with_its_last_key, fresh),
		cmocka_unit_test_setup(a_key_uploaded_again_is_cached_again, fresh),
		cmocka_unit_test_setup(the_start_sweeps_thumbnails_no_image_has, fresh),
		cmocka_unit_test_setup(thumbnails_go_with_the_content, fresh),
		cmocka_unit_test_setup(a_delete_during_a_thumbnail_leaves_none_of_it, fresh),
		cmocka_unit_test_setup(deletes_racing_thumbnails_leave_none, fresh),
		cmocka_unit_test_setup(the_same_bytes_uploaded_again_keep_their_thumbnails, fresh),
		cmocka_unit_test_setup(the_confirm_page_deletes_without_javascript, fresh),
		cmocka_unit_test_setup(who_may_delete, fresh),
		cmocka_unit_test_setup(the_page_offers_delete_only_to_those_who_may, fresh),
		cmocka_unit_test_setup(a_delete_by_session_cookie_needs_its_csrf_token, fresh),
		cmocka_unit_test_setup(only_the_admin_retries_dead_jobs, fresh),
		cmocka_unit_test_setup(reads_racing_deletes_and_uploads_never_go_back, fresh),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int failed = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return failed;
}
