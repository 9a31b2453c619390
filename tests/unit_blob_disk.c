/* unit_blob_disk: cmocka tests of the blob store on disk (core/blob, core/blob_disk) in a fresh temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blob.h"
#include "core/blob_disk.h"

enum {
	ERR_LEN = 256,
	ROOT_MAX = 64, /* fits the mkdtemp template, so paths below it fit PATH_MAX */
	NFTW_FDS = 16,
	MAX_LISTED = 16,
	AN_HOUR_S = 3600,
	THREADS = 8,
	UPLOADS_PER_THREAD = 25,
	DISTINCT_BODIES = 4,
	BIG_BODY = 200000, /* larger than one buffer growth step, to exercise the read loop */
};

/* sha256("abc") and sha256(""), from FIPS 180-2. */
static const char ABC_SHA256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char EMPTY_SHA256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char ABC_LOCATION[] =
    "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png";

struct fixture {
	char root[ROOT_MAX]; /* the mkdtemp folder, removed afterwards */
	char data[PATH_MAX]; /* DATA_DIR, two levels below root so that open must mkdir -p */
	struct blob_store *s;
};

/*
 * The cases below speak of locations (the images.location column) and errno;
 * these adapters put them to the blob store, an errno for each status.
 */
static int errno_of(enum blob_status st)
{
	switch (st) {
	case BLOB_OK: return 0;
	case BLOB_NOT_FOUND: return ENOENT;
	case BLOB_BAD_NAME: return EINVAL;
	case BLOB_DISK_FULL: return ENOSPC;
	case BLOB_NO_MEMORY: return ENOMEM;
	case BLOB_ERROR: break;
	}
	return EIO;
}

static bool ok_or_errno(enum blob_status st)
{
	errno = errno_of(st);
	return st == BLOB_OK;
}

static struct blob_store *disk_open(const char *data_dir, char *err, size_t errlen)
{
	return blob_disk_open(data_dir, err, errlen);
}

static void disk_close(struct blob_store *s)
{
	blob_close(s);
}

static struct blob_put *disk_upload_begin(struct blob_store *s, char *err, size_t errlen)
{
	struct blob_put *p = NULL;
	return ok_or_errno(blob_put_begin(s, &p, err, errlen)) ? p : NULL;
}

static bool disk_upload_write(struct blob_put *u, const void *data, size_t len)
{
	return ok_or_errno(blob_put_write(u, data, len, NULL, 0));
}

static uint64_t disk_upload_size(const struct blob_put *u)
{
	return blob_put_size(u);
}

static bool disk_upload_finish(struct blob_put *u, char sha256_hex[BLOB_SHA256_HEX], char *err,
			       size_t errlen)
{
	return ok_or_errno(blob_put_finish(u, sha256_hex, err, errlen));
}

static bool disk_upload_commit(struct blob_put *u, const char *ext, char location[BLOB_NAME_MAX],
			       bool *created, char *err, size_t errlen)
{
	struct blob_ref ref;
	if (!ok_or_errno(blob_put_commit(u, BLOB_IMAGE, ext, &ref, created, err, errlen)))
		return false;
	assert_true(blob_ref_name(&ref, location));
	return true;
}

static void disk_upload_abort(struct blob_put *u)
{
	blob_put_abort(u);
}

/* A location no ref makes is EINVAL, before the store is asked. */
static bool parse_location(const char *location, struct blob_ref *ref)
{
	if (blob_ref_parse(BLOB_IMAGE, location, ref))
		return true;
	errno = EINVAL;
	return false;
}

static bool disk_read(struct blob_store *s, const char *location, struct buf *out)
{
	struct blob_ref ref;
	return parse_location(location, &ref) && ok_or_errno(blob_get(s, &ref, out, NULL, 0));
}

static int disk_open_file(struct blob_store *s, const char *location, uint64_t *size)
{
	struct blob_ref ref;
	int fd = -1;
	if (!parse_location(location, &ref) ||
	    !ok_or_errno(blob_open_fd(s, &ref, &fd, size, NULL, 0)))
		return -1;
	return fd;
}

static bool disk_remove(struct blob_store *s, const char *location)
{
	struct blob_ref ref;
	return parse_location(location, &ref) && ok_or_errno(blob_delete(s, &ref, NULL, 0));
}

struct each_location {
	void (*fn)(void *ctx, const char *location);
	void *ctx;
};

static void on_ref(void *ctx, const struct blob_ref *ref)
{
	struct each_location *each = ctx;
	char location[BLOB_NAME_MAX];
	assert_true(blob_ref_name(ref, location));
	each->fn(each->ctx, location);
}

static void disk_each_file(struct blob_store *s, unsigned min_age_s,
			   void (*fn)(void *ctx, const char *location), void *ctx)
{
	struct each_location each = {fn, ctx};
	assert_int_equal(blob_list(s, BLOB_IMAGE, min_age_s, on_ref, &each), BLOB_OK);
}

/* ---- helpers ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void path_in(const struct fixture *f, const char *rel, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", f->data, rel);
	assert_true(n > 0 && n < PATH_MAX);
}

static struct blob_store *open_or_fail(const char *data_dir)
{
	char err[ERR_LEN] = "";
	struct blob_store *s = disk_open(data_dir, err, sizeof(err));
	if (!s)
		fail_msg("disk_open(%s): %s", data_dir, err);
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "%s", "/tmp/unit_blob_disk.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->data, sizeof(f->data), "%s/a/data", f->root);
	f->s = open_or_fail(f->data);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	disk_close(f->s);
	int rc = nftw(f->root, remove_entry, NFTW_FDS, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

/* Entries in DATA_DIR/rel other than "." and "..". */
static int count_entries(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];
	path_in(f, rel, path);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Uploads len bytes of data in chunks of chunk bytes; returns the location. */
static void upload(struct blob_store *s, const void *data, size_t len, size_t chunk, const char *ext,
		   char location[BLOB_NAME_MAX], char sha256_hex[BLOB_SHA256_HEX])
{
	char err[ERR_LEN] = "";
	struct blob_put *u = disk_upload_begin(s, err, sizeof(err));
	if (!u)
		fail_msg("begin: %s", err);
	const char *p = data;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		assert_true(disk_upload_write(u, p + off, n));
	}
	assert_int_equal(disk_upload_size(u), len);
	if (!disk_upload_finish(u, sha256_hex, err, sizeof(err)))
		fail_msg("finish: %s", err);
	if (!disk_upload_commit(u, ext, location, NULL, err, sizeof(err)))
		fail_msg("commit: %s", err);
}

static void upload_str(struct blob_store *s, const char *text, char location[BLOB_NAME_MAX])
{
	char hex[BLOB_SHA256_HEX];
	upload(s, text, strlen(text), 1, "png", location, hex);
}

/* Creates DATA_DIR/rel holding text. */
static void put_file(const struct fixture *f, const char *rel, const char *text)
{
	char path[PATH_MAX];
	path_in(f, rel, path);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

struct listing {
	int n;
	char locations[MAX_LISTED][BLOB_NAME_MAX];
};

static void collect(void *ctx, const char *location)
{
	struct listing *l = ctx;
	assert_true(l->n < MAX_LISTED);
	assert_true(strlen(location) < BLOB_NAME_MAX);
	strcpy(l->locations[l->n++], location);
}

static bool listed(const struct listing *l, const char *location)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->locations[i], location) == 0)
			return true;
	return false;
}

/* ---- uploads ---- */

static void chunks_are_named_by_sha256(void **state)
{
	struct fixture *f = *state;
	char loc[BLOB_NAME_MAX], hex[BLOB_SHA256_HEX];
	upload(f->s, "abc", 3, 1, "png", loc, hex);
	assert_string_equal(hex, ABC_SHA256);
	assert_string_equal(loc, ABC_LOCATION);
	assert_int_equal(count_entries(f, "tmp"), 0);

	/* Appends to what the buffer holds. */
	struct buf b = BUF_INIT;
	assert_true(buf_puts(&b, ">"));
	assert_true(disk_read(f->s, loc, &b));
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, ">abc");
	buf_free(&b);

	char path[PATH_MAX];
	path_in(f, "images/", path);
	strcat(path, loc);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	mode_t mask = umask(0);
	umask(mask);
	assert_int_equal(st.st_mode & 0777, 0644 & ~mask);
}

static void empty_upload_is_a_file(void **state)
{
	struct fixture *f = *state;
	char loc[BLOB_NAME_MAX], hex[BLOB_SHA256_HEX];
	upload(f->s, "", 0, 1, "gif", loc, hex);
	assert_string_equal(hex, EMPTY_SHA256);
	struct buf b = BUF_INIT;
	assert_true(disk_read(f->s, loc, &b));
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void big_upload_reads_back(void **state)
{
	struct fixture *f = *state;
	char *body = malloc(BIG_BODY);
	assert_non_null(body);
	for (size_t i = 0; i < BIG_BODY; i++)
		body[i] = (char)(i * 7 + i / 251);
	char loc[BLOB_NAME_MAX], hex[BLOB_SHA256_HEX];
	upload(f->s, body, BIG_BODY, 4093, "webp", loc, hex);

	struct buf b = BUF_INIT;
	assert_true(disk_read(f->s, loc, &b));
	assert_int_equal(b.len, BIG_BODY);
	assert_memory_equal(b.data, body, BIG_BODY);
	buf_free(&b);

	uint64_t size = 0;
	int fd = disk_open_file(f->s, loc, &size);
	assert_true(fd >= 0);
	assert_int_equal(size, BIG_BODY);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd);
	free(body);
}

static void equal_bytes_share_one_file(void **state)
{
	struct fixture *f = *state;
	char first[BLOB_NAME_MAX], second[BLOB_NAME_MAX];
	upload_str(f->s, "abc", first);
	upload_str(f->s, "abc", second);
	assert_string_equal(first, second);
	assert_int_equal(count_entries(f, "images/ba"), 1);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void other_extension_is_another_file(void **state)
{
	struct fixture *f = *state;
	char png[BLOB_NAME_MAX], jpg[BLOB_NAME_MAX], hex[BLOB_SHA256_HEX];
	upload(f->s, "abc", 3, 3, "png", png, hex);
	upload(f->s, "abc", 3, 3, "jpg", jpg, hex);
	assert_string_not_equal(png, jpg);
	assert_int_equal(count_entries(f, "images/ba"), 2);
}

static void abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char err[ERR_LEN], hex[BLOB_SHA256_HEX];

	struct blob_put *u = disk_upload_begin(f->s, err, sizeof(err));
	assert_non_null(u);
	assert_true(disk_upload_write(u, "abc", 3));
	assert_int_equal(count_entries(f, "tmp"), 1);
	disk_upload_abort(u);

	/* After finish too: the bytes are synced but not yet in place. */
	u = disk_upload_begin(f->s, err, sizeof(err));
	assert_non_null(u);
	assert_true(disk_upload_write(u, "abc", 3));
	assert_true(disk_upload_finish(u, hex, err, sizeof(err)));
	disk_upload_abort(u);

	disk_upload_abort(NULL);
	assert_int_equal(count_entries(f, "tmp"), 0);
	assert_int_equal(count_entries(f, "images/ba"), 0);
}

static void bad_extension_fails_and_cleans_up(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {"",	  "p/g", "..",
					  "png1", "a.b", "abcdefghijklmnopqrstuvwxyzabc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[ERR_LEN] = "", hex[BLOB_SHA256_HEX];
		char loc[BLOB_NAME_MAX] = "untouched";
		struct blob_put *u = disk_upload_begin(f->s, err, sizeof(err));
		assert_non_null(u);
		assert_true(disk_upload_write(u, "abc", 3));
		assert_true(disk_upload_finish(u, hex, err, sizeof(err)));
		assert_false(disk_upload_commit(u, bad[i], loc, NULL, err, sizeof(err)));
		assert_string_not_equal(err, "");
		assert_string_equal(loc, "untouched");
	}
	assert_int_equal(count_entries(f, "tmp"), 0);
	assert_int_equal(count_entries(f, "images/ba"), 0);
}

static void commit_before_finish_fails(void **state)
{
	struct fixture *f = *state;
	char err[ERR_LEN] = "", loc[BLOB_NAME_MAX];
	struct blob_put *u = disk_upload_begin(f->s, err, sizeof(err));
	assert_non_null(u);
	assert_true(disk_upload_write(u, "abc", 3));
	assert_false(disk_upload_commit(u, "png", loc, NULL, err, sizeof(err)));
	assert_int_equal(count_entries(f, "tmp"), 0);
}

/* ---- open ---- */

static void open_removes_tmp_leftovers(void **state)
{
	struct fixture *f = *state;
	/* What a crash leaves: uploads that were never committed. */
	put_file(f, "tmp/up-0123456789abcdef", "half an image");
	put_file(f, "tmp/other", "x");
	assert_int_equal(count_entries(f, "tmp"), 2);

	disk_close(f->s);
	f->s = open_or_fail(f->data);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void open_keeps_committed_files(void **state)
{
	struct fixture *f = *state;
	char loc[BLOB_NAME_MAX];
	upload_str(f->s, "abc", loc);
	disk_close(f->s);
	f->s = open_or_fail(f->data);
	struct buf b = BUF_INIT;
	assert_true(disk_read(f->s, loc, &b));
	assert_string_equal(b.data, "abc");
	buf_free(&b);
}

static void open_accepts_relative_data_dir(void **state)
{
	struct fixture *f = *state;
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(cwd >= 0);
	assert_int_equal(chdir(f->root), 0);
	struct blob_store *s = open_or_fail("rel/x//data/");
	char loc[BLOB_NAME_MAX];
	upload_str(s, "abc", loc);
	disk_close(s);
	struct stat st;
	assert_int_equal(stat("rel/x/data/images/ba", &st), 0);
	assert_int_equal(stat("rel/x/data/tmp", &st), 0);
	assert_int_equal(fchdir(cwd), 0);
	close(cwd);
}

static void open_fails_on_a_file(void **state)
{
	struct fixture *f = *state;
	put_file(f, "plain", "x");
	char path[PATH_MAX], err[ERR_LEN] = "";
	path_in(f, "plain", path);
	assert_null(disk_open(path, err, sizeof(err)));
	assert_string_not_equal(err, "");
	strcat(path, "/below");
	assert_null(disk_open(path, err, sizeof(err)));
	assert_null(disk_open("", err, sizeof(err)));
}

/* ---- reading and removing ---- */

static void read_missing_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct buf b = BUF_INIT;
	errno = 0;
	assert_false(disk_read(f->s, ABC_LOCATION, &b));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(b.len, 0);
	uint64_t size;
	errno = 0;
	assert_int_equal(disk_open_file(f->s, ABC_LOCATION, &size), -1);
	assert_int_equal(errno, ENOENT);
	buf_free(&b);
}

static void foreign_locations_are_einval(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
	    "../x",
	    "",
	    "ba/../../../../etc/passwd",
	    "/etc/passwd",
	    "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.",
	    "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png/",
	    "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.p.g",
	    "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a.png",
	    "BA/BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD.png",
	    "ab/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png",
	    "ba\\ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT;
		uint64_t size;
		errno = 0;
		assert_false(disk_read(f->s, bad[i], &b));
		assert_int_equal(errno, EINVAL);
		errno = 0;
		assert_int_equal(disk_open_file(f->s, bad[i], &size), -1);
		assert_int_equal(errno, EINVAL);
		errno = 0;
		assert_false(disk_remove(f->s, bad[i]));
		assert_int_equal(errno, EINVAL);
		buf_free(&b);
	}
}

static void remove_missing_succeeds(void **state)
{
	struct fixture *f = *state;
	assert_true(disk_remove(f->s, ABC_LOCATION));
}

static void remove_deletes_the_file(void **state)
{
	struct fixture *f = *state;
	char loc[BLOB_NAME_MAX];
	upload_str(f->s, "abc", loc);
	assert_true(disk_remove(f->s, loc));
	struct buf b = BUF_INIT;
	errno = 0;
	assert_false(disk_read(f->s, loc, &b));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_entries(f, "images/ba"), 0);
	buf_free(&b);
}

/* ---- orphan sweeps ---- */

static void each_file_lists_what_was_committed(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[] = {"abc", "def", "ghi"};
	char locs[3][BLOB_NAME_MAX];
	for (size_t i = 0; i < 3; i++)
		upload_str(f->s, bodies[i], locs[i]);
	/* Not names this module makes: never offered for removal. */
	put_file(f, "images/ba/notes.txt", "x");
	put_file(f, "images/stray", "x");

	struct listing all = {0};
	disk_each_file(f->s, 0, collect, &all);
	assert_int_equal(all.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(listed(&all, locs[i]));

	struct listing young = {0};
	disk_each_file(f->s, AN_HOUR_S, collect, &young);
	assert_int_equal(young.n, 0);
}

static void each_file_honours_age(void **state)
{
	struct fixture *f = *state;
	char old[BLOB_NAME_MAX], fresh[BLOB_NAME_MAX];
	upload_str(f->s, "old", old);
	upload_str(f->s, "fresh", fresh);
	char path[PATH_MAX];
	path_in(f, "images/", path);
	strcat(path, old);
	struct timespec two_hours_ago[2] = {{time(NULL) - 2 * AN_HOUR_S, 0},
					    {time(NULL) - 2 * AN_HOUR_S, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, two_hours_ago, 0), 0);

	struct listing l = {0};
	disk_each_file(f->s, AN_HOUR_S, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.locations[0], old);

	/* Uploading the same bytes again makes the file young: a sweep must spare it. */
	char again[BLOB_NAME_MAX];
	upload_str(f->s, "old", again);
	assert_string_equal(again, old);
	struct listing after = {0};
	disk_each_file(f->s, AN_HOUR_S, collect, &after);
	assert_int_equal(after.n, 0);
}

/* ---- derived kinds ---- */

static void derived_kinds_have_their_own_folders(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(count_entries(f, "."), 2); /* images/ and tmp/ until first written */
	char err[ERR_LEN] = "";
	struct blob_ref thumb, log, image;
	assert_int_equal(blob_put_bytes(f->s, BLOB_THUMB_S, NULL, "abc", 3, &thumb, NULL, err,
					sizeof(err)),
			 BLOB_OK);
	assert_int_equal(blob_put_bytes(f->s, BLOB_LOG, NULL, "abc", 3, &log, NULL, err,
					sizeof(err)),
			 BLOB_OK);
	assert_string_equal(thumb.sha256, ABC_SHA256);
	assert_string_equal(thumb.ext, "webp");
	char path[PATH_MAX];
	struct stat st;
	path_in(f, "thumbs/ba/", path);
	strcat(path, ABC_SHA256);
	strcat(path, "-s.webp");
	assert_int_equal(stat(path, &st), 0);
	path_in(f, "logs/ba/", path);
	strcat(path, ABC_SHA256);
	strcat(path, ".txt");
	assert_int_equal(stat(path, &st), 0);

	/* Same hash, other kind: another file; the image of those bytes does not exist. */
	image = thumb;
	image.kind = BLOB_IMAGE;
	snprintf(image.ext, sizeof(image.ext), "png");
	struct buf b = BUF_INIT;
	assert_int_equal(blob_get(f->s, &image, &b, NULL, 0), BLOB_NOT_FOUND);
	assert_int_equal(blob_get(f->s, &log, &b, NULL, 0), BLOB_OK);
	assert_string_equal(b.data, "abc");
	buf_free(&b);

	/* A thumbnail's name carries its size; a fixed kind takes no other extension. */
	struct blob_ref parsed;
	char name[BLOB_NAME_MAX];
	assert_true(blob_ref_name(&thumb, name));
	assert_true(blob_ref_parse(BLOB_THUMB_S, name, &parsed));
	assert_false(blob_ref_parse(BLOB_THUMB_M, name, &parsed));
	assert_false(blob_ref_parse(BLOB_IMAGE, name, &parsed));
	snprintf(thumb.ext, sizeof(thumb.ext), "png");
	assert_int_equal(blob_delete(f->s, &thumb, NULL, 0), BLOB_BAD_NAME);

	struct listing l = {0};
	struct each_location each = {collect, &l};
	assert_int_equal(blob_list(f->s, BLOB_THUMB_S, 0, on_ref, &each), BLOB_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(blob_list(f->s, BLOB_THUMB_M, 0, on_ref, &each), BLOB_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(blob_delete(f->s, &log, NULL, 0), BLOB_OK);
	assert_int_equal(count_entries(f, "logs/ba"), 0);
}

/* ---- threads ---- */

struct worker {
	struct blob_store *s;
	int id;
	int failures;
	char locs[DISTINCT_BODIES][BLOB_NAME_MAX];
};

static const char *const BODIES[DISTINCT_BODIES] = {"one", "two", "three", "four"};

/* No cmocka asserts here: they longjmp, which is only safe on the test's own thread. */
static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < UPLOADS_PER_THREAD; i++) {
		int k = (w->id + i) % DISTINCT_BODIES;
		char err[ERR_LEN], hex[BLOB_SHA256_HEX];
		struct blob_put *u = disk_upload_begin(w->s, err, sizeof(err));
		if (!u) {
			w->failures++;
			continue;
		}
		if (!disk_upload_write(u, BODIES[k], strlen(BODIES[k])) ||
		    !disk_upload_finish(u, hex, err, sizeof(err))) {
			disk_upload_abort(u);
			w->failures++;
			continue;
		}
		if (!disk_upload_commit(u, "png", w->locs[k], NULL, err, sizeof(err)))
			w->failures++;
	}
	return NULL;
}

static void threads_share_one_storage(void **state)
{
	struct fixture *f = *state;
	pthread_t threads[THREADS];
	struct worker workers[THREADS];
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (struct worker){.s = f->s, .id = t};
		assert_int_equal(pthread_create(&threads[t], NULL, work, &workers[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(threads[t], NULL), 0);
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(workers[t].failures, 0);
		for (int k = 0; k < DISTINCT_BODIES; k++)
			assert_string_equal(workers[t].locs[k], workers[0].locs[k]);
	}
	struct listing l = {0};
	disk_each_file(f->s, 0, collect, &l);
	assert_int_equal(l.n, DISTINCT_BODIES);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(chunks_are_named_by_sha256, setup, teardown),
	    cmocka_unit_test_setup_teardown(derived_kinds_have_their_own_folders, setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_upload_is_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(big_upload_reads_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(equal_bytes_share_one_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(other_extension_is_another_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(abort_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_extension_fails_and_cleans_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(commit_before_finish_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_removes_tmp_leftovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_keeps_committed_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_accepts_relative_data_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(open_fails_on_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(read_missing_is_enoent, setup, teardown),
	    cmocka_unit_test_setup_teardown(foreign_locations_are_einval, setup, teardown),
	    cmocka_unit_test_setup_teardown(remove_missing_succeeds, setup, teardown),
	    cmocka_unit_test_setup_teardown(remove_deletes_the_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(each_file_lists_what_was_committed, setup, teardown),
	    cmocka_unit_test_setup_teardown(each_file_honours_age, setup, teardown),
	    cmocka_unit_test_setup_teardown(threads_share_one_storage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
