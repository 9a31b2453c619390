/* e2e_thumbs: uploads make thumbnails through a real worker; /thumb serves them; enhance writes a new image; crashes and hostile files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness.h"

enum { WAIT_MS = 60000, SHA_HEX = 65 };

/* A real photograph from lomiri-wallpapers-16.04 (scripts/test-deps.sh), 3840 x 2160 or so. */
#define PHOTO "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg"
#define PHOTO2 "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg"

static struct gallery g;
static struct daemon workers[4];
static size_t nworkers;
static char tmp_dir[GALLERY_PATH_MAX];

struct bytes {
	char *data;
	size_t len;
};

static void bytes_free(struct bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

static bool read_file(const char *path, struct bytes *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	out->data = b.data ? b.data : calloc(1, 1);
	out->len = b.len;
	return true;
}

static bool write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	bool ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* A JPEG of the photo whose longest side is px, without metadata, made by Debian's vips tool. */
static struct bytes photo_jpeg(const char *photo, unsigned px)
{
	char path[GALLERY_PATH_MAX + 64], cmd[2 * GALLERY_PATH_MAX + 256];
	snprintf(path, sizeof(path), "%s/photo-%u-%d.jpg", tmp_dir, px, (int)strlen(photo));
	snprintf(cmd, sizeof(cmd), "vips thumbnail '%s' '%s[Q=85,strip]' %u", photo, path, px);
	struct bytes b = {0};
	assert_int_equal(system(cmd), 0);
	assert_true(read_file(path, &b));
	return b;
}

static void sha256_hex(const void *data, size_t len, char hex[SHA_HEX])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* The WebP's canvas size, from its VP8, VP8L or VP8X chunk; false when it is no WebP. */
static bool webp_size(const struct buf *b, unsigned *w, unsigned *h)
{
	const unsigned char *p = (const unsigned char *)b->data;
	if (b->len < 30 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
		return false;
	if (memcmp(p + 12, "VP8 ", 4) == 0) {
		*w = (p[26] | p[27] << 8) & 0x3fff;
		*h = (p[28] | p[29] << 8) & 0x3fff;
	} else if (memcmp(p + 12, "VP8L", 4) == 0) {
		uint32_t bits = p[21] | p[22] << 8 | p[23] << 16 | (uint32_t)p[24] << 24;
		*w = (bits & 0x3fff) + 1;
		*h = ((bits >> 14) & 0x3fff) + 1;
	} else if (memcmp(p + 12, "VP8X", 4) == 0) {
		*w = (p[24] | p[25] << 8 | p[26] << 16) + 1;
		*h = (p[27] | p[28] << 8 | p[29] << 16) + 1;
	} else {
		return false;
	}
	return true;
}

static void upload(const char *key, const struct bytes *b)
{
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", key, b->data, b->len, "photo.jpg", NULL, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* A worker with the test's settings plus extra (a "NAME=value" or NULL). */
static struct daemon *worker_with(const char *delay_ms, const char *extra)
{
	char delay[64];
	snprintf(delay, sizeof(delay), "GALLERY_TEST_JOB_DELAY_MS=%s", delay_ms ? delay_ms : "0");
	setting settings[] = {g.data_dir_setting, g.memcache_url_setting, delay,
			      "GALLERY_WORKER_THREADS=2", "GALLERY_JOB_LEASE_S=2", extra, NULL};
	assert_true(nworkers < sizeof(workers) / sizeof(workers[0]));
	struct daemon *w = &workers[nworkers++];
	assert_true(worker_start(w, settings));
	return w;
}

static struct daemon *worker(const char *delay_ms)
{
	return worker_with(delay_ms, NULL);
}

static void stop_workers(void)
{
	for (size_t i = 0; i < nworkers; i++)
		if (daemon_alive(&workers[i]))
			daemon_stop(&workers[i], SIGTERM);
	nworkers = 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", harness_env("GALLERY_TEST_TMP"));
	if (!gallery_start(&g, "thumbs", NULL, NULL))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_workers();
	return gallery_stop(&g) ? 0 : -1;
}

static int fresh(void **state)
{
	(void)state;
	stop_workers();
	return sql_exec("DELETE FROM jobs") && sql_exec("DELETE FROM image_variants") &&
			       sql_empty_gallery()
		       ? 0
		       : -1;
}

/*
 * Both thumbnails of an upload stored and their job done. The job stores its
 * rows before the worker marks it done, so a slow worker (valgrind, a loaded
 * machine) shows the rows while the job still runs: wait for both.
 */
static bool wait_thumbnails(const char *sha)
{
	char q[256];
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'", sha);
	if (!sql_wait_scalar(q, 2, WAIT_MS))
		return false;
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE kind = 'thumbnail' AND dedupe_key = '%s' AND "
		 "state = 'done'",
		 sha);
	return sql_wait_scalar(q, 1, WAIT_MS);
}

/* GET /thumb/<sha>/<size>: the WebP's size, or false when it is not a WebP thumbnail. */
static bool get_thumb(const char *sha, const char *size, unsigned *w, unsigned *h,
		      struct buf *copy)
{
	char path[128], value[256];
	snprintf(path, sizeof(path), "/thumb/%s/%s", sha, size);
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, 200);
	bool ok = reply_header(&r, "Content-Type", value, sizeof(value)) &&
		  strcmp(value, "image/webp") == 0;
	ok = ok && reply_header(&r, "Cache-Control", value, sizeof(value)) &&
	     strcmp(value, "public, max-age=31536000, immutable") == 0;
	ok = ok && reply_header(&r, "ETag", value, sizeof(value)) && strstr(value, sha);
	ok = ok && webp_size(&r.body, w, h);
	if (ok && copy)
		buf_append(copy, r.body.data, r.body.len);
	reply_free(&r);
	return ok;
}

static void expect_status(const char *path, long status)
{
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, status);
	reply_free(&r);
}

/* An upload's thumbnails: the original until the worker made them, then WebP at 512 and 1440. */
static void thumbnails_appear_and_are_served(void **state)
{
	(void)state;
	struct bytes big = photo_jpeg(PHOTO, 2400), small = photo_jpeg(PHOTO2, 300);
	char sha[SHA_HEX], small_sha[SHA_HEX], path[128], value[256];
	sha256_hex(big.data, big.len, sha);
	sha256_hex(small.data, small.len, small_sha);
	upload("bridge", &big);
	upload("small wine", &small);

	/* No worker yet: /thumb answers the original, briefly cached. */
	snprintf(path, sizeof(path), "/thumb/%s/s", sha);
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, big.len);
	assert_memory_equal(r.body.data, big.data, big.len);
	assert_non_null(reply_header(&r, "Content-Type", value, sizeof(value)));
	assert_string_equal(value, "image/jpeg");
	assert_non_null(reply_header(&r, "Cache-Control", value, sizeof(value)));
	assert_null(strstr(value, "immutable"));
	reply_free(&r);

	worker(NULL);
	assert_true(wait_thumbnails(sha));
	assert_true(wait_thumbnails(small_sha));
	unsigned w, h;
	assert_true(get_thumb(sha, "s", &w, &h, NULL));
	assert_int_equal(w > h ? w : h, 512);
	assert_true(w > h);
	assert_true(get_thumb(sha, "m", &w, &h, NULL));
	assert_int_equal(w > h ? w : h, 1440);
	/* Never enlarged. */
	assert_true(get_thumb(small_sha, "s", &w, &h, NULL));
	assert_int_equal(w > h ? w : h, 300);
	assert_true(get_thumb(small_sha, "m", &w, &h, NULL));
	assert_int_equal(w > h ? w : h, 300);
	/* The job's result says the same. */
	char q[512];
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE kind = 'thumbnail' AND state = 'done' AND "
		 "dedupe_key = '%s' AND result LIKE '{\"s\":{\"width\":%%,\"height\":%%,\"bytes\":%%},"
		 "\"m\":{%%}}'",
		 sha);
	assert_int_equal(sql_scalar(q), 1);

	/* An ETag the browser has: 304. */
	snprintf(value, sizeof(value), "If-None-Match: \"%s-s\"", sha);
	const char *headers[] = {value, NULL};
	char url[256];
	snprintf(url, sizeof(url), "%s/thumb/%s/s", g.fe.url, sha);
	assert_true(http_request("GET", url, headers, NULL, 0, &r));
	assert_int_equal(r.status, 304);
	reply_free(&r);

	/* The home page's tiles and the keys list use 's', the image page 'm' and links the original. */
	snprintf(value, sizeof(value), "src=\"/thumb/%s/s\" width=\"512\"", sha);
	assert_true(http_get(g.fe.url, "/", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, value));
	assert_null(strstr(r.body.data, "src=\"/raw/"));
	reply_free(&r);
	assert_true(http_get(g.fe.url, "/keys_list", &r));
	assert_non_null(strstr(r.body.data, value));
	reply_free(&r);
	snprintf(value, sizeof(value), "<a href=\"/raw/bridge\"><img src=\"/thumb/%s/m\" width=\"1440\"", sha);
	assert_true(http_get(g.fe.url, "/image?key=bridge", &r));
	assert_non_null(strstr(r.body.data, value));
	reply_free(&r);

	/* Malformed addresses and unknown images. */
	expect_status("/thumb/abc/s", 400);
	snprintf(path, sizeof(path), "/thumb/%s/l", sha);
	expect_status(path, 400);
	snprintf(path, sizeof(path), "/thumb/%s", sha);
	expect_status(path, 400);
	expect_status("/thumb/ABCDEF0000000000000000000000000000000000000000000000000000000000/s", 400);
	expect_status("/thumb/0000000000000000000000000000000000000000000000000000000000000000/s", 404);
	bytes_free(&big);
	bytes_free(&small);
}

/* Inserts an APP1 Exif segment with Orientation = 6 (turn 90 degrees clockwise) after SOI. */
static struct bytes with_orientation_6(const struct bytes *jpeg)
{
	static const unsigned char app1[] = {
		0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
		'I', 'I', 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, /* TIFF header, IFD at 8 */
		0x01, 0x00,				      /* one entry */
		0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, /* no next IFD */
	};
	struct bytes out = {malloc(jpeg->len + sizeof(app1)), jpeg->len + sizeof(app1)};
	memcpy(out.data, jpeg->data, 2);
	memcpy(out.data + 2, app1, sizeof(app1));
	memcpy(out.data + 2 + sizeof(app1), jpeg->data + 2, jpeg->len - 2);
	return out;
}

static void an_exif_rotated_photo_s_thumbnail_is_upright(void **state)
{
	(void)state;
	struct bytes plain = photo_jpeg(PHOTO, 1000);
	struct bytes rotated = with_orientation_6(&plain);
	char sha[SHA_HEX];
	sha256_hex(rotated.data, rotated.len, sha);
	upload("rotated", &rotated);
	worker(NULL);
	assert_true(wait_thumbnails(sha));
	unsigned w, h;
	/* The landscape photo stands upright: taller than wide. */
	assert_true(get_thumb(sha, "s", &w, &h, NULL));
	assert_int_equal(h, 512);
	assert_true(w < h);
	bytes_free(&plain);
	bytes_free(&rotated);
}

static void two_uploads_of_the_same_bytes_make_one_job(void **state)
{
	(void)state;
	struct bytes b = photo_jpeg(PHOTO2, 640);
	char sha[SHA_HEX], q[256];
	sha256_hex(b.data, b.len, sha);
	upload("first", &b);
	upload("second", &b);
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM jobs WHERE kind = 'thumbnail' AND dedupe_key = '%s'",
		 sha);
	assert_int_equal(sql_scalar(q), 1);
	worker(NULL);
	assert_true(wait_thumbnails(sha));
	/* Once the thumbnails exist, another upload of the bytes asks for none. */
	upload("third", &b);
	assert_int_equal(sql_scalar(q), 1);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs"), 1);
	bytes_free(&b);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Waits for a file to appear (a worker's output), polling. */
static bool wait_file(const char *path)
{
	for (long waited = 0; waited < WAIT_MS * harness_slowdown(); waited += 20) {
		if (file_exists(path))
			return true;
		sleep_ms(20);
	}
	return false;
}

static void thumb_paths(const char *sha, char s[GALLERY_PATH_MAX + 128],
			char m[GALLERY_PATH_MAX + 128])
{
	snprintf(s, GALLERY_PATH_MAX + 128, "%s/thumbs/%.2s/%s-s.webp", g.data_dir, sha, sha);
	snprintf(m, GALLERY_PATH_MAX + 128, "%s/thumbs/%.2s/%s-m.webp", g.data_dir, sha, sha);
}

/*
 * A worker killed between storing the 's' file and the 'm' file: after the
 * lease the job runs again (attempt 2), and its files are those of an
 * undisturbed run.
 */
static void a_thumbnail_killed_midway_runs_again_to_the_same_bytes(void **state)
{
	(void)state;
	struct bytes b = photo_jpeg(PHOTO, 1800);
	char sha[SHA_HEX], q[256], s_path[GALLERY_PATH_MAX + 128], m_path[GALLERY_PATH_MAX + 128];
	sha256_hex(b.data, b.len, sha);
	thumb_paths(sha, s_path, m_path);
	upload("killed", &b);
	struct daemon *a = worker("60000");
	assert_true(wait_file(s_path));
	assert_false(file_exists(m_path));
	daemon_stop(a, SIGKILL);
	worker(NULL);
	assert_true(wait_thumbnails(sha));
	snprintf(q, sizeof(q), "SELECT attempts FROM jobs WHERE dedupe_key = '%s' AND state = 'done'", sha);
	assert_int_equal(sql_scalar(q), 2);
	struct buf s1 = BUF_INIT, m1 = BUF_INIT, s2 = BUF_INIT, m2 = BUF_INIT;
	unsigned w, h;
	assert_true(get_thumb(sha, "s", &w, &h, &s1));
	assert_true(get_thumb(sha, "m", &w, &h, &m1));

	/* The undisturbed run: the same upload made again from nothing. */
	stop_workers();
	assert_true(sql_exec("DELETE FROM image_variants") && sql_exec("DELETE FROM jobs"));
	assert_int_equal(unlink(s_path), 0);
	assert_int_equal(unlink(m_path), 0);
	upload("killed", &b);
	worker(NULL);
	assert_true(wait_thumbnails(sha));
	assert_int_equal(sql_scalar("SELECT attempts FROM jobs"), 1);
	assert_true(get_thumb(sha, "s", &w, &h, &s2));
	assert_true(get_thumb(sha, "m", &w, &h, &m2));
	assert_int_equal(s1.len, s2.len);
	assert_memory_equal(s1.data, s2.data, s1.len);
	assert_int_equal(m1.len, m2.len);
	assert_memory_equal(m1.data, m2.data, m1.len);
	buf_free(&s1);
	buf_free(&m1);
	buf_free(&s2);
	buf_free(&m2);
	bytes_free(&b);
}

static void api_delete(const char *key)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/api/delete/%s", g.fe.url, key);
	struct reply r;
	assert_true(http_call("POST", url, NULL, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* The state, attempts and result of sha's thumbnail job, as one text. */
static void job_of(const char *sha, char *out, size_t size)
{
	char q[512];
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '%s' AND state = 'done' AND "
		 "attempts = 1 AND result LIKE '%%skipped%%'",
		 sha);
	snprintf(out, size, "%s", q);
}

/*
 * Thumbnail jobs whose content went before a worker came to them, by a delete
 * or by an upload of other bytes under the key: done at the first attempt with
 * nothing to do, a line in the worker's log saying why, and no thumbnail of
 * that content. The new bytes get theirs.
 */
static void a_thumbnail_job_of_a_deleted_image_ends_done(void **state)
{
	(void)state;
	/* With no admin, anyone may delete an ownerless image. */
	assert_true(sql_exec("DELETE FROM users"));
	struct bytes a = photo_jpeg(PHOTO, 500), b = photo_jpeg(PHOTO, 520),
		     c = photo_jpeg(PHOTO2, 500);
	char sha_a[SHA_HEX], sha_b[SHA_HEX], sha_c[SHA_HEX], q[512];
	sha256_hex(a.data, a.len, sha_a);
	sha256_hex(b.data, b.len, sha_b);
	sha256_hex(c.data, c.len, sha_c);
	upload("doomed", &a);
	api_delete("doomed");
	upload("replaced", &b);
	upload("replaced", &c);
	struct daemon *w = worker(NULL);
	assert_true(wait_thumbnails(sha_c));
	job_of(sha_a, q, sizeof(q));
	assert_true(sql_wait_scalar(q, 1, WAIT_MS));
	job_of(sha_b, q, sizeof(q));
	assert_true(sql_wait_scalar(q, 1, WAIT_MS));
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE state <> 'done'"), 0);
	assert_true(daemon_wait_log(w, "nothing to do: no image has this content any more", WAIT_MS));
	assert_int_equal(daemon_log_count(w, "nothing to do: no image has this content any more"), 2);
	const char *gone[] = {sha_a, sha_b};
	for (size_t i = 0; i < 2; i++) {
		char s_path[GALLERY_PATH_MAX + 128], m_path[GALLERY_PATH_MAX + 128];
		thumb_paths(gone[i], s_path, m_path);
		assert_false(file_exists(s_path));
		assert_false(file_exists(m_path));
		snprintf(q, sizeof(q), "SELECT COUNT(*) FROM image_variants WHERE sha256 = '%s'",
			 gone[i]);
		assert_int_equal(sql_scalar(q), 0);
	}
	bytes_free(&a);
	bytes_free(&b);
	bytes_free(&c);
}

/*
 * An original missing from the store while its image is still in the gallery
 * is the store's fault, not the user's: the job fails for now and runs again,
 * and makes the thumbnails once the file is back.
 */
static void a_missing_original_of_a_live_image_is_retried(void **state)
{
	(void)state;
	struct bytes b = photo_jpeg(PHOTO2, 560);
	char sha[SHA_HEX], q[512], path[GALLERY_PATH_MAX + 128];
	sha256_hex(b.data, b.len, sha);
	upload("mislaid", &b);
	snprintf(path, sizeof(path), "%s/images/%.2s/%s.jpg", g.data_dir, sha, sha);
	assert_int_equal(unlink(path), 0);
	worker(NULL);
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '%s' AND state = 'queued' AND "
		 "attempts >= 1 AND error LIKE '%%not in the store%%'",
		 sha);
	assert_true(sql_wait_scalar(q, 1, WAIT_MS));
	assert_true(write_file(path, b.data, b.len));
	assert_true(wait_thumbnails(sha));
	snprintf(q, sizeof(q), "SELECT attempts > 1 FROM jobs WHERE dedupe_key = '%s'", sha);
	assert_int_equal(sql_scalar(q), 1);
	bytes_free(&b);
}

/*
 * A blob planted in the store with an image row and a thumbnail job for it, as
 * if an upload had let it in (the worker skips a content no image has).
 */
static void plant(const char *name, const void *data, size_t len, char sha[SHA_HEX])
{
	char dir[GALLERY_PATH_MAX + 64], path[GALLERY_PATH_MAX + 160], q[512];
	/* Named after its label too, so that equal bytes of two cases stay two files. */
	struct buf named = BUF_INIT;
	buf_append(&named, data, len);
	buf_puts(&named, name);
	sha256_hex(named.data, named.len, sha);
	buf_free(&named);
	snprintf(dir, sizeof(dir), "%s/images/%.2s", g.data_dir, sha);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s.%s", dir, sha, "jpg");
	assert_true(write_file(path, data, len));
	snprintf(q, sizeof(q),
		 "INSERT INTO images (image_key, location, content_type, size_bytes, sha256) "
		 "VALUES ('planted %s', '%.2s/%s.jpg', 'image/jpeg', %zu, '%s')",
		 name, sha, sha, len, sha);
	assert_true(sql_exec(q));
	snprintf(q, sizeof(q),
		 "INSERT INTO jobs (kind, dedupe_key, payload, max_attempts) VALUES ('thumbnail', "
		 "'%s', '{\"sha256\":\"%s\",\"ext\":\"jpg\"}', 3)",
		 sha, sha);
	assert_true(sql_exec(q));
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Hostile files reach the worker: each job ends dead with a clear error; the worker keeps working. */
static void hostile_files_end_dead_and_the_worker_lives(void **state)
{
	(void)state;
	struct bytes photo = photo_jpeg(PHOTO, 800);
	char truncated[SHA_HEX], huge[SHA_HEX], fake_webp[SHA_HEX], empty[SHA_HEX], good[SHA_HEX];
	plant("truncated", photo.data, photo.len / 3, truncated);

	/* A valid PNG head that claims 50,000 x 50,000 pixels. */
	unsigned char png[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	unsigned char *ihdr = png + 8;
	put32(ihdr, 13);
	memcpy(ihdr + 4, "IHDR", 4);
	put32(ihdr + 8, 50000);
	put32(ihdr + 12, 50000);
	ihdr[16] = 8; /* bit depth */
	ihdr[17] = 2; /* RGB */
	put32(ihdr + 21, crc32_of(ihdr + 4, 17));
	unsigned char *iend = ihdr + 25;
	memcpy(iend + 4, "IEND", 4);
	put32(iend + 8, crc32_of(iend + 4, 4));
	plant("huge", png, sizeof(png), huge);

	unsigned char webp[4096];
	srand(12);
	for (size_t i = 0; i < sizeof(webp); i++)
		webp[i] = (unsigned char)rand();
	memcpy(webp, "RIFF", 4);
	webp[4] = (sizeof(webp) - 8) & 0xff;
	webp[5] = (sizeof(webp) - 8) >> 8;
	webp[6] = webp[7] = 0;
	memcpy(webp + 8, "WEBPVP8 ", 8);
	plant("fake webp", webp, sizeof(webp), fake_webp);
	plant("empty", "", 0, empty);

	struct daemon *w = worker(NULL);
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead'", 4, WAIT_MS));
	/* Each at once (a bad image is permanent), with a message that says what is wrong. */
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead' AND "
				    "attempts = 1 AND error IS NOT NULL AND LENGTH(error) > 10 AND "
				    "error NOT LIKE '%crashed%'"),
			 4);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_variants"), 0);
	assert_true(daemon_alive(w));
	/* The worker goes on with good work. */
	plant("good", photo.data, photo.len, good);
	assert_true(wait_thumbnails(good));
	assert_true(daemon_log_contains(w, "thumbnail attempt 1: dead"));
	bytes_free(&photo);
}

static void enqueue_enhance(const char *key, const char *target, const char *strength)
{
	char q[1024];
	snprintf(q, sizeof(q),
		 "INSERT INTO jobs (kind, payload, max_attempts) VALUES ('enhance', "
		 "'{\"key\":\"%s\",\"target\":\"%s\",\"strength\":%s,\"owner\":null}', 5)",
		 key, target, strength);
	assert_true(sql_exec(q));
}

static void get_raw(const char *key, struct buf *out)
{
	char path[512], enc[400];
	snprintf(path, sizeof(path), "/raw/%s", url_encode(key, strlen(key), enc, sizeof(enc)));
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, 200);
	buf_append(out, r.body.data, r.body.len);
	reply_free(&r);
}

static void get_key_json(const char *key, struct buf *out)
{
	char path[512], enc[400];
	snprintf(path, sizeof(path), "/api/key/%s", url_encode(key, strlen(key), enc, sizeof(enc)));
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	assert_int_equal(r.status, 200);
	buf_reset(out);
	buf_append(out, r.body.data, r.body.len);
	reply_free(&r);
}

/*
 * Enhance end to end: the target key holds an old image that memcache has; the
 * job writes the enhanced photo under it as an upload would, and the next read
 * sees the new image, not the cached old one.
 */
static void enhance_writes_a_new_image_and_the_cache_forgets_the_old(void **state)
{
	(void)state;
	struct bytes src = photo_jpeg(PHOTO, 900), old = photo_jpeg(PHOTO2, 200);
	upload("src", &src);
	upload("src (enhanced)", &old);
	struct buf before = BUF_INIT, cached = BUF_INIT, after = BUF_INIT;
	get_key_json("src (enhanced)", &before);
	get_key_json("src (enhanced)", &cached);
	assert_int_equal(before.len, cached.len);
	worker(NULL);
	enqueue_enhance("src", "src (enhanced)", "0.30");
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done'",
				    1, WAIT_MS));
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND result "
				    "LIKE '{\"target\":\"src (enhanced)\",\"before\":{\"rms_contrast\":%,"
				    "\"sharpness\":%,\"clipped\":%},\"after\":{\"rms_contrast\":%}}'"),
			 1);
	/* RMS contrast grows with strength 0.30. */
	assert_int_equal(sql_scalar("SELECT JSON_VALUE(result, '$.after.rms_contrast') > "
				    "JSON_VALUE(result, '$.before.rms_contrast') FROM jobs WHERE "
				    "kind = 'enhance'"),
			 1);
	assert_int_equal(sql_scalar("SELECT version FROM images WHERE image_key = 'src (enhanced)'"), 2);
	get_key_json("src (enhanced)", &after);
	assert_false(after.len == before.len && memcmp(after.data, before.data, after.len) == 0);
	/* /raw and the API agree on the new bytes, a JPEG, unlike the source. */
	struct buf raw = BUF_INIT, raw_src = BUF_INIT;
	get_raw("src (enhanced)", &raw);
	get_raw("src", &raw_src);
	assert_true(raw.len > 3 && (unsigned char)raw.data[0] == 0xff && (unsigned char)raw.data[1] == 0xd8);
	assert_false(raw.len == raw_src.len && memcmp(raw.data, raw_src.data, raw.len) == 0);
	/* Its own thumbnails, like any upload. */
	char sha[SHA_HEX];
	sha256_hex(raw.data, raw.len, sha);
	assert_true(wait_thumbnails(sha));
	/* A missing source is a dead job that says so. */
	enqueue_enhance("no such key", "x", "0.1");
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'dead' AND error = 'no image with key ''no such key'''",
				    1, WAIT_MS));
	buf_free(&raw);
	buf_free(&raw_src);
	buf_free(&before);
	buf_free(&cached);
	buf_free(&after);
	bytes_free(&src);
	bytes_free(&old);
}

/*
 * memcache out of the worker's reach (through a proxy that refuses every
 * connection) while an enhance stores its result over a cached target, then
 * back: the invalidation memcache missed is sent again, the job is done only
 * after that, and reads of the target give the new bytes, never the old.
 */
static void an_enhance_s_missed_invalidation_is_sent_again(void **state)
{
	(void)state;
	struct bytes src = photo_jpeg(PHOTO, 600), old = photo_jpeg(PHOTO2, 200);
	upload("inv-src", &src);
	upload("inv-target", &old);
	struct buf before = BUF_INIT, cached = BUF_INIT, after = BUF_INIT, raw = BUF_INIT;
	get_key_json("inv-target", &before);
	get_key_json("inv-target", &cached);
	assert_int_equal(before.len, cached.len);
	char control[GALLERY_PATH_MAX + 64], url[128];
	snprintf(control, sizeof(control), "%s/memcache-reach", tmp_dir);
	assert_true(write_file(control, "refuse", 6));
	struct daemon proxy;
	assert_true(faultproxy_start(&proxy, g.mc.port, control));
	snprintf(url, sizeof(url), "GALLERY_MEMCACHE_URL=http://127.0.0.1:%d", proxy.port);
	struct daemon *w = worker_with(NULL, url);
	enqueue_enhance("inv-src", "inv-target", "0.30");
	assert_true(daemon_wait_log(w, "memcache missed an invalidation", WAIT_MS));
	assert_true(sql_wait_scalar("SELECT version FROM images WHERE image_key = 'inv-target'", 2,
				    WAIT_MS));
	/* The new row is committed, memcache still holds the old value: not done yet. */
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done'"),
			 0);
	assert_true(write_file(control, "pass", 4));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done' AND attempts = 1",
				    1, WAIT_MS));
	get_key_json("inv-target", &after);
	assert_false(after.len == before.len && memcmp(after.data, before.data, after.len) == 0);
	get_raw("inv-target", &raw);
	assert_true(raw.len > 3 && (unsigned char)raw.data[0] == 0xff &&
		    (unsigned char)raw.data[1] == 0xd8);
	assert_int_not_equal(raw.len, old.len);
	assert_true(daemon_log_contains(w, "memcache took the target's invalidation"));
	daemon_stop(&proxy, SIGTERM);
	buf_free(&before);
	buf_free(&cached);
	buf_free(&after);
	buf_free(&raw);
	bytes_free(&src);
	bytes_free(&old);
}

/*
 * While memcache cannot be reached, an enhance that stored its target waits in
 * the queue, not on a thread: a worker with one thread goes on with other
 * jobs, and the enhance ends done, at its first attempt, once memcache takes
 * the invalidation.
 */
static void an_enhance_waiting_for_memcache_holds_no_thread(void **state)
{
	(void)state;
	struct bytes src = photo_jpeg(PHOTO, 600), old = photo_jpeg(PHOTO2, 200);
	upload("wait-src", &src);
	upload("wait-target", &old);
	struct buf before = BUF_INIT, after = BUF_INIT;
	get_key_json("wait-target", &before);
	char control[GALLERY_PATH_MAX + 64], url[128];
	snprintf(control, sizeof(control), "%s/memcache-reach-2", tmp_dir);
	assert_true(write_file(control, "refuse", 6));
	struct daemon proxy;
	assert_true(faultproxy_start(&proxy, g.mc.port, control));
	snprintf(url, sizeof(url), "GALLERY_MEMCACHE_URL=http://127.0.0.1:%d", proxy.port);
	setting settings[] = {g.data_dir_setting, url, "GALLERY_WORKER_THREADS=1", NULL};
	assert_true(nworkers < sizeof(workers) / sizeof(workers[0]));
	struct daemon *w = &workers[nworkers++];
	assert_true(worker_start(w, settings));
	enqueue_enhance("wait-src", "wait-target", "0.30");
	assert_true(sql_wait_scalar("SELECT version FROM images WHERE image_key = 'wait-target'", 2,
				    WAIT_MS));
	assert_true(daemon_wait_log(w, "memcache missed an invalidation", WAIT_MS));
	/* The one thread is free: a calc job runs while memcache is still away. */
	assert_true(sql_exec("INSERT INTO jobs (kind, payload, max_attempts) VALUES ('calc', "
			     "'[1,2,3]', 5)"));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'calc' AND state = 'done'",
				    1, WAIT_MS));
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done'"),
			 0);
	assert_true(write_file(control, "pass", 4));
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done' AND attempts = 1 AND result NOT LIKE "
				    "'%forgetting%' AND result LIKE '%rms_contrast%'",
				    1, WAIT_MS));
	assert_true(daemon_log_contains(w, "memcache took the target's invalidation"));
	get_key_json("wait-target", &after);
	assert_false(after.len == before.len && memcmp(after.data, before.data, after.len) == 0);
	daemon_stop(&proxy, SIGTERM);
	buf_free(&before);
	buf_free(&after);
	bytes_free(&src);
	bytes_free(&old);
}

/*
 * A worker started with a small GALLERY_MAX_PIXELS decodes nothing above it:
 * a thumbnail and an enhance of a larger image end dead at once, saying so,
 * while an image under the limit is still made.
 */
static void the_worker_refuses_images_over_its_pixel_limit(void **state)
{
	(void)state;
	/* About 800 x 450 and 200 x 112: over and under 100,000 pixels. */
	struct bytes big = photo_jpeg(PHOTO, 800), small = photo_jpeg(PHOTO, 200);
	char big_sha[SHA_HEX], small_sha[SHA_HEX];
	plant("over the limit", big.data, big.len, big_sha);
	/* The front end has the default limit: the upload passes, the worker's own limit refuses. */
	upload("px-src", &big);
	struct daemon *w = worker_with(NULL, "GALLERY_MAX_PIXELS=100000");
	assert_true(daemon_log_contains(w, "at most 100000 pixels an image"));
	char q[512];
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '%s' AND state = 'dead'", big_sha);
	assert_true(sql_wait_scalar(q, 1, WAIT_MS));
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '%s' AND attempts = 1 AND error LIKE "
		 "'too many pixels: 800x%%is over the limit of 100000'",
		 big_sha);
	assert_int_equal(sql_scalar(q), 1);
	enqueue_enhance("px-src", "px-enhanced", "0.30");
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'dead' AND attempts = 1 AND error LIKE "
				    "'too many pixels:%over the limit of 100000'",
				    1, WAIT_MS));
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key = 'px-enhanced'"), 0);
	plant("under the limit", small.data, small.len, small_sha);
	assert_true(wait_thumbnails(small_sha));
	assert_true(daemon_alive(w));
	bytes_free(&big);
	bytes_free(&small);
}

/* A worker killed in the middle of an enhance: attempt 2 writes it, once, to the same bytes. */
static void an_enhance_killed_midway_runs_again_to_the_same_bytes(void **state)
{
	(void)state;
	struct bytes src = photo_jpeg(PHOTO2, 700);
	upload("e-src", &src);
	struct daemon *a = worker("60000");
	enqueue_enhance("e-src", "e-killed", "0.30");
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'running'",
				    1, WAIT_MS));
	daemon_stop(a, SIGKILL);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key = 'e-killed'"), 0);
	worker(NULL);
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done' AND attempts = 2",
				    1, WAIT_MS));
	assert_int_equal(sql_scalar("SELECT version FROM images WHERE image_key = 'e-killed'"), 1);
	/* An undisturbed run of the same request into another key. */
	enqueue_enhance("e-src", "e-calm", "0.30");
	assert_true(sql_wait_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'enhance' AND "
				    "state = 'done'",
				    2, WAIT_MS));
	struct buf killed = BUF_INIT, calm = BUF_INIT;
	get_raw("e-killed", &killed);
	get_raw("e-calm", &calm);
	assert_int_equal(killed.len, calm.len);
	assert_memory_equal(killed.data, calm.data, killed.len);
	buf_free(&killed);
	buf_free(&calm);
	bytes_free(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(thumbnails_appear_and_are_served, fresh),
		cmocka_unit_test_setup(an_exif_rotated_photo_s_thumbnail_is_upright, fresh),
		cmocka_unit_test_setup(two_uploads_of_the_same_bytes_make_one_job, fresh),
		cmocka_unit_test_setup(a_thumbnail_killed_midway_runs_again_to_the_same_bytes, fresh),
		cmocka_unit_test_setup(hostile_files_end_dead_and_the_worker_lives, fresh),
		cmocka_unit_test_setup(enhance_writes_a_new_image_and_the_cache_forgets_the_old, fresh),
		cmocka_unit_test_setup(an_enhance_killed_midway_runs_again_to_the_same_bytes, fresh),
		cmocka_unit_test_setup(the_worker_refuses_images_over_its_pixel_limit, fresh),
		cmocka_unit_test_setup(an_enhance_s_missed_invalidation_is_sent_again, fresh),
		cmocka_unit_test_setup(a_thumbnail_job_of_a_deleted_image_ends_done, fresh),
		cmocka_unit_test_setup(a_missing_original_of_a_live_image_is_retried, fresh),
		cmocka_unit_test_setup(an_enhance_waiting_for_memcache_holds_no_thread, fresh),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
