/* storage: the only code that touches image files, named by their content. */
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	DIR_MODE = 0755,
	FILE_MODE = 0644,
	SUBDIR_LEN = 2,	    /* "ab": the first two hex chars of the hash name the folder */
	SUBDIR_COUNT = 256, /* every two-hex-char folder, created at open */
	HASH_HEX_LEN = STORAGE_SHA256_HEX - 1,
	/* "ab" "/" <64 hex> "." before the extension */
	LOCATION_FIXED_LEN = SUBDIR_LEN + 1 + HASH_HEX_LEN + 1,
	EXT_MAX = STORAGE_LOCATION_MAX - LOCATION_FIXED_LEN - 1,
	TMP_RANDOM_BYTES = 8,
	TMP_NAME_MAX = 64,
	TMP_NAME_TRIES = 16, /* a clash of 64 random bits means something else is wrong */
	ERRNO_TEXT_MAX = 128,
};

static const char IMAGES_DIR[] = "images";
static const char TMP_DIR[] = "tmp";
static const char TMP_PREFIX[] = "up-";
static const char HEX_DIGITS[] = "0123456789abcdef";

/* Set once by storage_open and only read afterwards, so threads may share it. */
struct storage {
	char *data_dir; /* for error messages */
	int images_fd;
	int tmp_fd;
};

struct storage_upload {
	struct storage *s;
	int fd; /* -1 once finished */
	char tmp_name[TMP_NAME_MAX];
	struct sha256_ctx sha;
	uint64_t size;
	int write_errno; /* the first write or fsync error; 0 while all is well */
	bool finished;
	char sha256_hex[STORAGE_SHA256_HEX];
};

/* ---- errors ---- */

/* Writes "<message>: <strerror(errnum)>" to the caller's buffer, which may be NULL. */
__attribute__((format(printf, 4, 5))) static void set_err(char *err, size_t errlen, int errnum,
							  const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (errnum == 0 || n < 0 || (size_t)n >= errlen)
		return;
	/* strerror() may share a buffer between threads; the GNU strerror_r does not. */
	char text[ERRNO_TEXT_MAX];
	snprintf(err + n, errlen - (size_t)n, ": %s", strerror_r(errnum, text, sizeof(text)));
}

/* ---- names ---- */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

/* 1 to EXT_MAX ASCII letters: nothing that could be a path or need quoting. */
static bool ext_is_valid(const char *ext)
{
	size_t len = strnlen(ext, EXT_MAX + 1);
	if (len == 0 || len > EXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_letter(ext[i]))
			return false;
	return true;
}

/*
 * Only names this module makes are accepted, so a location read from the
 * database can never reach outside the images folder.
 */
static bool location_is_valid(const char *loc)
{
	if (strnlen(loc, LOCATION_FIXED_LEN) < LOCATION_FIXED_LEN)
		return false;
	const char *hash = loc + SUBDIR_LEN + 1;
	return all_hex(loc, SUBDIR_LEN) && loc[SUBDIR_LEN] == '/' && all_hex(hash, HASH_HEX_LEN) &&
	       memcmp(loc, hash, SUBDIR_LEN) == 0 && hash[HASH_HEX_LEN] == '.' &&
	       ext_is_valid(hash + HASH_HEX_LEN + 1);
}

static void hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = HEX_DIGITS[bytes[i] >> 4];
		out[2 * i + 1] = HEX_DIGITS[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* ---- folders ---- */

static int open_dir_at(int dirfd, const char *path)
{
	return openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A rename or mkdir is durable only once the folder holding the new name is synced. */
static bool fsync_dir_at(int dirfd, const char *path)
{
	int fd = open_dir_at(dirfd, path);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	int saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

/* Syncs the folder holding path, which must be writable; path has no trailing '/'. */
static bool fsync_parent(char *path)
{
	char *slash = strrchr(path, '/');
	if (!slash)
		return fsync_dir_at(AT_FDCWD, ".");
	if (slash == path)
		return fsync_dir_at(AT_FDCWD, "/");
	*slash = '\0';
	bool ok = fsync_dir_at(AT_FDCWD, path);
	*slash = '/';
	return ok;
}

/* mkdir -p; a folder it creates is made durable in its parent. */
static bool mkdir_p(const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);
	if (len == 0) {
		set_err(err, errlen, EINVAL, "DATA_DIR is empty");
		return false;
	}
	char *p = strdup(path);
	if (!p) {
		set_err(err, errlen, ENOMEM, "%s", path);
		return false;
	}
	bool ok = false;
	/* i starts at 1 so that the '/' of an absolute path ends no component. */
	for (size_t i = 1; i <= len; i++) {
		if ((i < len && p[i] != '/') || p[i - 1] == '/')
			continue; /* inside a component, or an empty one ("a//b", "a/") */
		char saved = p[i];
		p[i] = '\0';
		if (mkdir(p, DIR_MODE) == 0) {
			if (!fsync_parent(p)) {
				set_err(err, errlen, errno, "cannot sync the folder holding %s", p);
				goto out_free;
			}
		} else if (errno != EEXIST) {
			set_err(err, errlen, errno, "cannot create folder %s", p);
			goto out_free;
		}
		p[i] = saved;
	}
	ok = true;
out_free:
	free(p);
	return ok;
}

/* Creates and opens dirfd/name; *created tells whether the folder is new. */
static int make_dir_at(int dirfd, const char *name, bool *created)
{
	if (mkdirat(dirfd, name, DIR_MODE) == 0)
		*created = true;
	else if (errno != EEXIST)
		return -1;
	return open_dir_at(dirfd, name);
}

/*
 * All 256 folders exist from the start, so an upload never has to create one
 * and make that creation durable while other uploads race to do the same.
 */
static bool make_subdirs(struct storage *s, char *err, size_t errlen)
{
	bool created = false;
	for (unsigned i = 0; i < SUBDIR_COUNT; i++) {
		char name[SUBDIR_LEN + 1] = {HEX_DIGITS[i >> 4], HEX_DIGITS[i & 0xf], '\0'};
		if (mkdirat(s->images_fd, name, DIR_MODE) == 0) {
			created = true;
		} else if (errno != EEXIST) {
			set_err(err, errlen, errno, "cannot create folder %s/%s/%s", s->data_dir,
				IMAGES_DIR, name);
			return false;
		}
	}
	if (created && fsync(s->images_fd) != 0) {
		set_err(err, errlen, errno, "cannot sync folder %s/%s", s->data_dir, IMAGES_DIR);
		return false;
	}
	return true;
}

/* Opens dirfd/name as a directory stream, owning its own descriptor. */
static DIR *open_stream_at(int dirfd, const char *name)
{
	int fd = open_dir_at(dirfd, name);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

/* Uploads a crash interrupted: nothing refers to them, and their bytes may be partial. */
static bool clean_tmp(struct storage *s, char *err, size_t errlen)
{
	DIR *d = open_stream_at(s->tmp_fd, ".");
	if (!d) {
		set_err(err, errlen, errno, "cannot read folder %s/%s", s->data_dir, TMP_DIR);
		return false;
	}
	bool ok = false;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* A folder there is not ours to remove; Linux says EISDIR for it. */
		if (unlinkat(s->tmp_fd, e->d_name, 0) != 0 && errno != ENOENT && errno != EISDIR) {
			set_err(err, errlen, errno, "cannot remove %s/%s/%s", s->data_dir, TMP_DIR,
				e->d_name);
			goto out_close;
		}
		errno = 0;
	}
	if (errno) {
		set_err(err, errlen, errno, "cannot read folder %s/%s", s->data_dir, TMP_DIR);
		goto out_close;
	}
	ok = true;
out_close:
	closedir(d);
	return ok;
}

/* ---- open and close ---- */

struct storage *storage_open(const char *data_dir, char *err, size_t errlen)
{
	struct storage *s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, ENOMEM, "storage");
		return NULL;
	}
	s->images_fd = s->tmp_fd = -1;
	int data_fd = -1;
	s->data_dir = strdup(data_dir);
	if (!s->data_dir) {
		set_err(err, errlen, ENOMEM, "storage");
		goto out_close;
	}
	if (!mkdir_p(data_dir, err, errlen))
		goto out_close;
	data_fd = open_dir_at(AT_FDCWD, data_dir);
	if (data_fd < 0) {
		set_err(err, errlen, errno, "cannot open folder %s", data_dir);
		goto out_close;
	}
	bool created = false;
	s->images_fd = make_dir_at(data_fd, IMAGES_DIR, &created);
	if (s->images_fd < 0) {
		set_err(err, errlen, errno, "cannot create folder %s/%s", data_dir, IMAGES_DIR);
		goto out_close;
	}
	s->tmp_fd = make_dir_at(data_fd, TMP_DIR, &created);
	if (s->tmp_fd < 0) {
		set_err(err, errlen, errno, "cannot create folder %s/%s", data_dir, TMP_DIR);
		goto out_close;
	}
	if (created && fsync(data_fd) != 0) {
		set_err(err, errlen, errno, "cannot sync folder %s", data_dir);
		goto out_close;
	}
	if (!make_subdirs(s, err, errlen) || !clean_tmp(s, err, errlen))
		goto out_close;
	close(data_fd);
	return s;

out_close:
	if (data_fd >= 0)
		close(data_fd);
	storage_close(s);
	return NULL;
}

void storage_close(struct storage *s)
{
	if (!s)
		return;
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	if (s->images_fd >= 0)
		close(s->images_fd);
	free(s->data_dir);
	free(s);
}

/* ---- uploads ---- */

/* A fresh name in tmp/, created O_EXCL, so two uploads can never share a file. */
static int create_tmp_file(struct storage *s, char name[TMP_NAME_MAX])
{
	for (int i = 0; i < TMP_NAME_TRIES; i++) {
		uint8_t rnd[TMP_RANDOM_BYTES];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		char hex[2 * TMP_RANDOM_BYTES + 1];
		hex_encode(rnd, sizeof(rnd), hex);
		snprintf(name, TMP_NAME_MAX, "%s%s", TMP_PREFIX, hex);
		int fd =
		    openat(s->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

struct storage_upload *storage_upload_begin(struct storage *s, char *err, size_t errlen)
{
	struct storage_upload *u = calloc(1, sizeof(*u));
	if (!u) {
		set_err(err, errlen, ENOMEM, "upload");
		errno = ENOMEM;
		return NULL;
	}
	u->s = s;
	u->fd = create_tmp_file(s, u->tmp_name);
	if (u->fd < 0) {
		int saved = errno;
		set_err(err, errlen, saved, "cannot create a file in %s/%s", s->data_dir, TMP_DIR);
		free(u);
		errno = saved;
		return NULL;
	}
	sha256_init(&u->sha);
	return u;
}

/*
 * Removes the temporary file of an upload that cannot succeed any more, at
 * once: on a full disk its partial bytes would otherwise hold space (and
 * refuse other uploads) while the rest of the request body is read and dropped.
 */
static void discard_tmp(struct storage_upload *u)
{
	int saved = errno;
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (u->tmp_name[0])
		unlinkat(u->s->tmp_fd, u->tmp_name, 0);
	u->tmp_name[0] = '\0';
	errno = saved;
}

bool storage_upload_write(struct storage_upload *u, const void *data, size_t len)
{
	if (u->write_errno) {
		errno = u->write_errno;
		return false;
	}
	if (u->finished) {
		errno = EINVAL;
		return false;
	}
	const uint8_t *p = data;
	while (len > 0) {
		size_t chunk = len > SSIZE_MAX ? SSIZE_MAX : len;
		ssize_t n = write(u->fd, p, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A regular file never takes 0 bytes unless something is badly wrong. */
			u->write_errno = n < 0 ? errno : EIO;
			discard_tmp(u);
			errno = u->write_errno;
			return false;
		}
		sha256_update(&u->sha, (size_t)n, p);
		u->size += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool storage_disk_full(int errnum)
{
	return errnum == ENOSPC || errnum == EDQUOT;
}

bool storage_upload_disk_full(const struct storage_upload *u)
{
	return storage_disk_full(u->write_errno);
}

uint64_t storage_upload_size(const struct storage_upload *u)
{
	return u->size;
}

bool storage_upload_finish(struct storage_upload *u, char sha256_hex[STORAGE_SHA256_HEX], char *err,
			   size_t errlen)
{
	if (u->finished) {
		memcpy(sha256_hex, u->sha256_hex, STORAGE_SHA256_HEX);
		return true;
	}
	if (u->write_errno) {
		set_err(err, errlen, u->write_errno, "cannot write the upload");
		return false;
	}
	/*
	 * Delayed allocation and network file systems report a full disk only
	 * here or at close, so those errors count as write errors too.
	 */
	if (fsync(u->fd) != 0) {
		u->write_errno = errno;
		discard_tmp(u);
		set_err(err, errlen, u->write_errno, "cannot sync the upload");
		errno = u->write_errno;
		return false;
	}
	int fd = u->fd;
	u->fd = -1;
	if (close(fd) != 0) {
		u->write_errno = errno;
		discard_tmp(u);
		set_err(err, errlen, u->write_errno, "cannot close the upload");
		errno = u->write_errno;
		return false;
	}
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_digest(&u->sha, sizeof(digest), digest);
	hex_encode(digest, sizeof(digest), u->sha256_hex);
	memcpy(sha256_hex, u->sha256_hex, STORAGE_SHA256_HEX);
	u->finished = true;
	return true;
}

/*
 * Claims an existing copy of the same bytes. Touching its mtime keeps an
 * orphan sweep (which skips young files) from removing it before our row is
 * committed. false with errno ENOENT when there is no such file.
 */
static bool claim_existing(struct storage *s, const char *location)
{
	return utimensat(s->images_fd, location, NULL, 0) == 0;
}

bool storage_upload_commit(struct storage_upload *u, const char *ext,
			   char location[STORAGE_LOCATION_MAX], bool *created, char *err,
			   size_t errlen)
{
	struct storage *s = u->s;
	bool ok = false, renamed = false;
	if (!u->finished) {
		set_err(err, errlen, 0, "upload committed before it was finished");
		goto out_abort;
	}
	if (!ext_is_valid(ext)) {
		set_err(err, errlen, 0, "bad file extension (1 to %d letters)", EXT_MAX);
		goto out_abort;
	}
	char subdir[SUBDIR_LEN + 1];
	memcpy(subdir, u->sha256_hex, SUBDIR_LEN);
	subdir[SUBDIR_LEN] = '\0';
	char loc[STORAGE_LOCATION_MAX];
	snprintf(loc, sizeof(loc), "%s/%s.%s", subdir, u->sha256_hex, ext);

	/* Created at open; this only repairs a folder someone removed since. */
	if (mkdirat(s->images_fd, subdir, DIR_MODE) == 0) {
		if (fsync(s->images_fd) != 0) {
			set_err(err, errlen, errno, "cannot sync folder %s/%s", s->data_dir,
				IMAGES_DIR);
			goto out_abort;
		}
	} else if (errno != EEXIST) {
		set_err(err, errlen, errno, "cannot create folder %s/%s/%s", s->data_dir,
			IMAGES_DIR, subdir);
		goto out_abort;
	}

	if (claim_existing(s, loc)) {
		/* Our temporary copy is not needed; out_abort removes it. */
	} else if (errno != ENOENT) {
		set_err(err, errlen, errno, "cannot update %s/%s/%s", s->data_dir, IMAGES_DIR, loc);
		goto out_abort;
	} else if (renameat(s->tmp_fd, u->tmp_name, s->images_fd, loc) != 0) {
		set_err(err, errlen, errno, "cannot move the upload to %s/%s/%s", s->data_dir,
			IMAGES_DIR, loc);
		goto out_abort;
	} else {
		u->tmp_name[0] = '\0'; /* gone from tmp/: nothing left to remove */
		renamed = true;
	}
	/*
	 * Synced in both cases: an existing file may be one another thread has
	 * just renamed into place and not yet synced.
	 */
	if (!fsync_dir_at(s->images_fd, subdir)) {
		set_err(err, errlen, errno, "cannot sync folder %s/%s/%s", s->data_dir, IMAGES_DIR,
			subdir);
		goto out_abort;
	}
	memcpy(location, loc, sizeof(loc));
	if (created)
		*created = renamed;
	ok = true;
out_abort:;
	int saved = errno; /* for the caller, which tells a full disk from other failures */
	storage_upload_abort(u);
	errno = saved;
	return ok;
}

void storage_upload_abort(struct storage_upload *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	/* A failed unlink leaves a file storage_open removes at the next start. */
	if (u->tmp_name[0])
		unlinkat(u->s->tmp_fd, u->tmp_name, 0);
	free(u);
}

/* ---- reading and removing ---- */

int storage_open_file(struct storage *s, const char *location, uint64_t *size)
{
	if (!location_is_valid(location)) {
		errno = EINVAL;
		return -1;
	}
	int fd = openat(s->images_fd, location, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0)
		goto out_close;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out_close;
	}
	*size = (uint64_t)st.st_size;
	return fd;

out_close:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

bool storage_read(struct storage *s, const char *location, struct buf *out)
{
	uint64_t size;
	int fd = storage_open_file(s, location, &size);
	if (fd < 0)
		return false;
	size_t start = out->len;
	bool ok = false;
	/* One byte to spare, so that the read which finds the end needs no more room. */
	if (size >= SIZE_MAX || !buf_reserve(out, (size_t)size + 1)) {
		errno = ENOMEM;
		goto out_close;
	}
	/* Read to the end rather than trusting size: it only sizes the buffer. */
	for (;;) {
		if (out->cap - out->len - 1 == 0 && !buf_reserve(out, BUFSIZ)) {
			errno = ENOMEM;
			goto out_close;
		}
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_close;
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	ok = true;
out_close:;
	int saved = errno;
	close(fd);
	if (!ok)
		out->len = start; /* nothing half-read is left behind */
	if (out->data)
		out->data[out->len] = '\0';
	errno = saved;
	return ok;
}

bool storage_remove(struct storage *s, const char *location)
{
	if (!location_is_valid(location)) {
		errno = EINVAL;
		return false;
	}
	return unlinkat(s->images_fd, location, 0) == 0 || errno == ENOENT;
}

/* ---- orphan sweeps ---- */

/* Whether a file changed at mtime is at least min_age_s old at now. */
static bool old_enough(const struct timespec *mtime, const struct timespec *now, unsigned min_age_s)
{
	if (min_age_s == 0)
		return true; /* even a file whose clock runs ahead of ours */
	time_t limit = now->tv_sec - (time_t)min_age_s;
	return mtime->tv_sec < limit || (mtime->tv_sec == limit && mtime->tv_nsec <= now->tv_nsec);
}

static void each_file_in(struct storage *s, const char *subdir, const struct timespec *now,
			 unsigned min_age_s, void (*fn)(void *ctx, const char *location), void *ctx)
{
	int dir_fd = open_dir_at(s->images_fd, subdir);
	if (dir_fd < 0)
		return;
	DIR *d = fdopendir(dir_fd);
	if (!d) {
		close(dir_fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		char loc[STORAGE_LOCATION_MAX];
		int n = snprintf(loc, sizeof(loc), "%s/%s", subdir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(loc) || !location_is_valid(loc))
			continue; /* not a file this module made */
		struct stat st;
		if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || !old_enough(&st.st_mtim, now, min_age_s))
			continue;
		fn(ctx, loc);
	}
	closedir(d);
}

void storage_each_file(struct storage *s, unsigned min_age_s,
		       void (*fn)(void *ctx, const char *location), void *ctx)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	DIR *d = open_stream_at(s->images_fd, ".");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strlen(e->d_name) == SUBDIR_LEN && all_hex(e->d_name, SUBDIR_LEN))
			each_file_in(s, e->d_name, &now, min_age_s, fn, ctx);
	}
	closedir(d);
}
