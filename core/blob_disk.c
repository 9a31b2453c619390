/* blob_disk: the blob store on local disk, files named by their content under DATA_DIR. */
#include "blob_disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/syncgroup.h"
#include "core/blob_backend.h"

enum {
	DIR_MODE = 0755,
	FILE_MODE = 0644,
	SUBDIR_LEN = 2,	    /* "ab": the first two hex chars of the hash name the folder */
	SUBDIR_COUNT = 256, /* every two-hex-char folder, created at open */
	TMP_RANDOM_BYTES = 8,
	TMP_NAME_MAX = 64,
	TMP_NAME_TRIES = 16, /* a clash of 64 random bits means something else is wrong */
	ERRNO_TEXT_MAX = 128,
};

static const char TMP_DIR[] = "tmp";
/* The folders of the kinds: images/ is made at open, the others when first written. */
static const char *const KIND_DIRS[] = {"images", "thumbs", "logs"};
enum { DIR_IMAGES, DIR_COUNT = sizeof(KIND_DIRS) / sizeof(KIND_DIRS[0]) };
static const char TMP_PREFIX[] = "up-";

/* Set by blob_disk_open; afterwards only the kind folders change, once each, under dirs_lock. */
struct disk {
	struct blob_store base;
	char *data_dir; /* for error messages */
	int data_fd;
	int tmp_fd;
	pthread_mutex_t dirs_lock;
	_Atomic int dir_fds[DIR_COUNT]; /* -1 until the folder exists */
	/* Concurrent commits into one folder share its syncs: target folder_target(). */
	struct syncgroup *folder_syncs;
};

struct disk_put {
	struct blob_put base;
	struct disk *s;
	int fd; /* -1 once finished */
	char tmp_name[TMP_NAME_MAX];
	struct sha256_ctx sha;
	uint64_t size;
	int write_errno; /* the first write or fsync error; 0 while all is well */
};

static const struct blob_ops disk_ops;

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

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

/* The status an errno stands for, for the caller that must tell a full disk from the rest. */
static enum blob_status status_of(int errnum)
{
	switch (errnum) {
	case 0: return BLOB_OK;
	case ENOENT: return BLOB_NOT_FOUND;
	case ENOSPC:
	case EDQUOT: return BLOB_DISK_FULL;
	case ENOMEM: return BLOB_NO_MEMORY;
	default: return BLOB_ERROR;
	}
}

/* Fills err like set_err and answers the status of errnum. */
__attribute__((format(printf, 4, 5))) static enum blob_status fail(char *err, size_t errlen,
								   int errnum, const char *fmt, ...)
{
	if (err && errlen) {
		char msg[BLOB_ERR_MAX];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		set_err(err, errlen, errnum, "%s", msg);
	}
	return errnum ? status_of(errnum) : BLOB_ERROR;
}


static unsigned dir_of(enum blob_kind kind)
{
	const char *name = blob_kind_dir(kind);
	for (unsigned i = 0; i < DIR_COUNT; i++)
		if (strcmp(KIND_DIRS[i], name) == 0)
			return i;
	return DIR_IMAGES;
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

/* A syncgroup target names a kind's folder and one of its "ab" folders. */
static unsigned folder_target(unsigned dir, const char subdir[SUBDIR_LEN + 1])
{
	unsigned char byte = 0;
	sodium_hex2bin(&byte, 1, subdir, SUBDIR_LEN, NULL, NULL, NULL);
	return dir * SUBDIR_COUNT + byte;
}

static int sync_folder(void *ctx, unsigned target)
{
	struct disk *s = ctx;
	unsigned dir = target / SUBDIR_COUNT;
	unsigned char byte = (unsigned char)(target % SUBDIR_COUNT);
	char subdir[SUBDIR_LEN + 1];
	sodium_bin2hex(subdir, sizeof(subdir), &byte, 1);
	return fsync_dir_at(atomic_load(&s->dir_fds[dir]), subdir) ? 0 : errno;
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
static bool make_subdirs(struct disk *s, unsigned dir, char *err, size_t errlen)
{
	bool created = false;
	int fd = atomic_load(&s->dir_fds[dir]);
	for (unsigned i = 0; i < SUBDIR_COUNT; i++) {
		unsigned char byte = (unsigned char)i;
		char name[SUBDIR_LEN + 1];
		sodium_bin2hex(name, sizeof(name), &byte, 1);
		if (mkdirat(fd, name, DIR_MODE) == 0) {
			created = true;
		} else if (errno != EEXIST) {
			set_err(err, errlen, errno, "cannot create folder %s/%s/%s", s->data_dir,
				KIND_DIRS[dir], name);
			return false;
		}
	}
	if (created && fsync(fd) != 0) {
		set_err(err, errlen, errno, "cannot sync folder %s/%s", s->data_dir, KIND_DIRS[dir]);
		return false;
	}
	return true;
}

/*
 * The folder of a kind, made (durably) on first need when create is set.
 * -1 with errno set (ENOENT when it does not exist and create is not set).
 */
static int kind_dir(struct disk *s, unsigned dir, bool create)
{
	int fd = atomic_load(&s->dir_fds[dir]);
	if (fd >= 0)
		return fd;
	pthread_mutex_lock(&s->dirs_lock);
	fd = atomic_load(&s->dir_fds[dir]);
	if (fd < 0) {
		bool created = false;
		fd = create ? make_dir_at(s->data_fd, KIND_DIRS[dir], &created)
			    : open_dir_at(s->data_fd, KIND_DIRS[dir]);
		if (fd >= 0 && created && fsync(s->data_fd) != 0) {
			int saved = errno;
			close(fd);
			fd = -1;
			errno = saved;
		}
		if (fd >= 0)
			atomic_store(&s->dir_fds[dir], fd);
	}
	int saved = errno;
	pthread_mutex_unlock(&s->dirs_lock);
	errno = saved;
	return fd;
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
static bool clean_tmp(struct disk *s, char *err, size_t errlen)
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

static void disk_close(struct blob_store *bs)
{
	struct disk *s = (struct disk *)bs;
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	for (unsigned i = 0; i < DIR_COUNT; i++)
		if (atomic_load(&s->dir_fds[i]) >= 0)
			close(atomic_load(&s->dir_fds[i]));
	if (s->data_fd >= 0)
		close(s->data_fd);
	pthread_mutex_destroy(&s->dirs_lock);
	syncgroup_destroy(s->folder_syncs);
	free(s->data_dir);
	free(s);
}

struct blob_store *blob_disk_open(const char *data_dir, char *err, size_t errlen)
{
	/* For the random names of temporary files; safe to call again. */
	if (sodium_init() < 0) {
		set_err(err, errlen, 0, "cannot initialise libsodium");
		return NULL;
	}
	struct disk *s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, ENOMEM, "storage");
		return NULL;
	}
	s->base.ops = &disk_ops;
	s->data_fd = s->tmp_fd = -1;
	for (unsigned i = 0; i < DIR_COUNT; i++)
		atomic_init(&s->dir_fds[i], -1);
	pthread_mutex_init(&s->dirs_lock, NULL);
	s->data_dir = strdup(data_dir);
	s->folder_syncs = syncgroup_create(sync_folder, s, DIR_COUNT * SUBDIR_COUNT);
	if (!s->data_dir || !s->folder_syncs) {
		set_err(err, errlen, ENOMEM, "storage");
		goto out_close;
	}
	if (!mkdir_p(data_dir, err, errlen))
		goto out_close;
	s->data_fd = open_dir_at(AT_FDCWD, data_dir);
	if (s->data_fd < 0) {
		set_err(err, errlen, errno, "cannot open folder %s", data_dir);
		goto out_close;
	}
	bool created = false;
	int images_fd = make_dir_at(s->data_fd, KIND_DIRS[DIR_IMAGES], &created);
	if (images_fd < 0) {
		set_err(err, errlen, errno, "cannot create folder %s/%s", data_dir,
			KIND_DIRS[DIR_IMAGES]);
		goto out_close;
	}
	atomic_store(&s->dir_fds[DIR_IMAGES], images_fd);
	s->tmp_fd = make_dir_at(s->data_fd, TMP_DIR, &created);
	if (s->tmp_fd < 0) {
		set_err(err, errlen, errno, "cannot create folder %s/%s", data_dir, TMP_DIR);
		goto out_close;
	}
	if (created && fsync(s->data_fd) != 0) {
		set_err(err, errlen, errno, "cannot sync folder %s", data_dir);
		goto out_close;
	}
	if (!make_subdirs(s, DIR_IMAGES, err, errlen) || !clean_tmp(s, err, errlen))
		goto out_close;
	return &s->base;

out_close:
	disk_close(&s->base);
	return NULL;
}

/* ---- puts ---- */

/* A fresh name in tmp/, created O_EXCL, so two uploads can never share a file. */
static int create_tmp_file(struct disk *s, char name[TMP_NAME_MAX])
{
	for (int i = 0; i < TMP_NAME_TRIES; i++) {
		uint8_t rnd[TMP_RANDOM_BYTES];
		randombytes_buf(rnd, sizeof(rnd));
		char hex[2 * TMP_RANDOM_BYTES + 1];
		sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
		snprintf(name, TMP_NAME_MAX, "%s%s", TMP_PREFIX, hex);
		int fd =
		    openat(s->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static enum blob_status disk_put_begin(struct blob_store *bs, struct blob_put **out, char *err,
				       size_t errlen)
{
	struct disk *s = (struct disk *)bs;
	*out = NULL;
	struct disk_put *u = calloc(1, sizeof(*u));
	if (!u)
		return fail(err, errlen, ENOMEM, "upload");
	u->base.ops = &disk_ops;
	u->s = s;
	u->fd = create_tmp_file(s, u->tmp_name);
	if (u->fd < 0) {
		int saved = errno;
		free(u);
		return fail(err, errlen, saved, "cannot create a file in %s/%s", s->data_dir,
			    TMP_DIR);
	}
	sha256_init(&u->sha);
	*out = &u->base;
	return BLOB_OK;
}

/*
 * Removes the temporary file of an upload that cannot succeed any more, at
 * once: on a full disk its partial bytes would otherwise hold space (and
 * refuse other uploads) while the rest of the request body is read and dropped.
 */
static void discard_tmp(struct disk_put *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (u->tmp_name[0])
		unlinkat(u->s->tmp_fd, u->tmp_name, 0);
	u->tmp_name[0] = '\0';
}

static enum blob_status disk_put_write(struct blob_put *p, const void *data, size_t len,
				       char *err, size_t errlen)
{
	struct disk_put *u = (struct disk_put *)p;
	if (u->write_errno)
		return fail(err, errlen, u->write_errno, "cannot write the upload");
	if (u->base.finished)
		return fail(err, errlen, EINVAL, "the upload is finished");
	const uint8_t *at = data;
	while (len > 0) {
		size_t chunk = len > SSIZE_MAX ? SSIZE_MAX : len;
		ssize_t n = write(u->fd, at, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A regular file never takes 0 bytes unless something is badly wrong. */
			u->write_errno = n < 0 ? errno : EIO;
			discard_tmp(u);
			return fail(err, errlen, u->write_errno, "cannot write the upload");
		}
		sha256_update(&u->sha, (size_t)n, at);
		u->size += (uint64_t)n;
		at += n;
		len -= (size_t)n;
	}
	return BLOB_OK;
}

static uint64_t disk_put_size(const struct blob_put *p)
{
	return ((const struct disk_put *)p)->size;
}

static enum blob_status disk_put_finish(struct blob_put *p, char *err, size_t errlen)
{
	struct disk_put *u = (struct disk_put *)p;
	if (u->write_errno)
		return fail(err, errlen, u->write_errno, "cannot write the upload");
	/*
	 * Delayed allocation and network file systems report a full disk only
	 * here or at close, so those errors count as write errors too.
	 */
	if (fsync(u->fd) != 0) {
		u->write_errno = errno;
		discard_tmp(u);
		return fail(err, errlen, u->write_errno, "cannot sync the upload");
	}
	int fd = u->fd;
	u->fd = -1;
	if (close(fd) != 0) {
		u->write_errno = errno;
		discard_tmp(u);
		return fail(err, errlen, u->write_errno, "cannot close the upload");
	}
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_digest(&u->sha, sizeof(digest), digest);
	sodium_bin2hex(u->base.sha256, sizeof(u->base.sha256), digest, sizeof(digest));
	return BLOB_OK;
}

static void disk_put_abort(struct blob_put *p)
{
	struct disk_put *u = (struct disk_put *)p;
	if (u->fd >= 0)
		close(u->fd);
	/* A failed unlink leaves a file blob_disk_open removes at the next start. */
	if (u->tmp_name[0])
		unlinkat(u->s->tmp_fd, u->tmp_name, 0);
	free(u);
}

static enum blob_status disk_put_commit(struct blob_put *p, const struct blob_ref *ref,
					bool *created, char *err, size_t errlen)
{
	struct disk_put *u = (struct disk_put *)p;
	struct disk *s = u->s;
	enum blob_status st = BLOB_ERROR;
	bool renamed = false;
	unsigned dir = dir_of(ref->kind);
	char loc[BLOB_NAME_MAX];
	blob_ref_name(ref, loc);
	char subdir[SUBDIR_LEN + 1];
	memcpy(subdir, loc, SUBDIR_LEN);
	subdir[SUBDIR_LEN] = '\0';
	int dir_fd = kind_dir(s, dir, true);
	if (dir_fd < 0) {
		st = fail(err, errlen, errno, "cannot create folder %s/%s", s->data_dir,
			  KIND_DIRS[dir]);
		goto out_abort;
	}

	/* Images' folders are made at open; this makes the others, and repairs removed ones. */
	if (mkdirat(dir_fd, subdir, DIR_MODE) == 0) {
		if (fsync(dir_fd) != 0) {
			st = fail(err, errlen, errno, "cannot sync folder %s/%s", s->data_dir,
				  KIND_DIRS[dir]);
			goto out_abort;
		}
	} else if (errno != EEXIST) {
		st = fail(err, errlen, errno, "cannot create folder %s/%s/%s", s->data_dir,
			  KIND_DIRS[dir], subdir);
		goto out_abort;
	}

	/*
	 * An existing copy of the same bytes is claimed: touching its mtime keeps
	 * an orphan sweep (which skips young files) from removing it before our
	 * row is committed.
	 */
	if (utimensat(dir_fd, loc, NULL, 0) == 0) {
		/* Our temporary copy is not needed; out_abort removes it. */
	} else if (errno != ENOENT) {
		st = fail(err, errlen, errno, "cannot update %s/%s/%s", s->data_dir, KIND_DIRS[dir],
			  loc);
		goto out_abort;
	} else if (renameat(s->tmp_fd, u->tmp_name, dir_fd, loc) != 0) {
		st = fail(err, errlen, errno, "cannot move the upload to %s/%s/%s", s->data_dir,
			  KIND_DIRS[dir], loc);
		goto out_abort;
	} else {
		u->tmp_name[0] = '\0'; /* gone from tmp/: nothing left to remove */
		renamed = true;
	}
	/*
	 * Synced in both cases: an existing file may be one another thread has
	 * just renamed into place and not yet synced. Commits into one folder at
	 * once share a sync; other folders' syncs run beside it, and the file
	 * system's journal joins those into one commit (one thread syncing every
	 * folder in turn measured slower).
	 */
	int sync_err = syncgroup_sync(s->folder_syncs, folder_target(dir, subdir));
	if (sync_err) {
		st = fail(err, errlen, sync_err, "cannot sync folder %s/%s/%s", s->data_dir,
			  KIND_DIRS[dir], subdir);
		goto out_abort;
	}
	if (created)
		*created = renamed;
	st = BLOB_OK;
out_abort:
	disk_put_abort(p);
	return st;
}

/* ---- reading and removing ---- */

/* An open descriptor for the ref's regular file, or -1 with errno set. */
static int open_ref(struct disk *s, const struct blob_ref *ref, uint64_t *size)
{
	char loc[BLOB_NAME_MAX];
	blob_ref_name(ref, loc);
	int dir_fd = kind_dir(s, dir_of(ref->kind), false);
	if (dir_fd < 0)
		return -1;
	int fd = openat(dir_fd, loc, O_RDONLY | O_CLOEXEC);
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

static enum blob_status disk_open_fd(struct blob_store *bs, const struct blob_ref *ref, int *fd,
				     uint64_t *size, char *err, size_t errlen)
{
	struct disk *s = (struct disk *)bs;
	*fd = open_ref(s, ref, size);
	if (*fd < 0)
		return fail(err, errlen, errno, "cannot open %s file %s", blob_kind_dir(ref->kind),
			    ref->sha256);
	return BLOB_OK;
}

static enum blob_status disk_get(struct blob_store *bs, const struct blob_ref *ref,
				 struct buf *out, char *err, size_t errlen)
{
	struct disk *s = (struct disk *)bs;
	uint64_t size;
	int fd = open_ref(s, ref, &size);
	if (fd < 0)
		return fail(err, errlen, errno, "cannot open %s file %s", blob_kind_dir(ref->kind),
			    ref->sha256);
	size_t start = out->len;
	int errnum = 0;
	/* One byte to spare, so that the read which finds the end needs no more room. */
	if (size >= SIZE_MAX || !buf_reserve(out, (size_t)size + 1)) {
		errnum = ENOMEM;
		goto out_close;
	}
	/* Read to the end rather than trusting size: it only sizes the buffer. */
	for (;;) {
		if (out->cap - out->len - 1 == 0 && !buf_reserve(out, BUFSIZ)) {
			errnum = ENOMEM;
			goto out_close;
		}
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errnum = errno;
			goto out_close;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
out_close:
	close(fd);
	if (errnum)
		out->len = start; /* nothing half-read is left behind */
	if (out->data)
		out->data[out->len] = '\0';
	if (errnum)
		return fail(err, errlen, errnum, "cannot read %s file %s", blob_kind_dir(ref->kind),
			    ref->sha256);
	return BLOB_OK;
}

static enum blob_status disk_remove(struct blob_store *bs, const struct blob_ref *ref, char *err,
				    size_t errlen)
{
	struct disk *s = (struct disk *)bs;
	char loc[BLOB_NAME_MAX];
	blob_ref_name(ref, loc);
	int dir_fd = kind_dir(s, dir_of(ref->kind), false);
	if (dir_fd < 0)
		return errno == ENOENT ? BLOB_OK : fail(err, errlen, errno, "cannot open folder");
	if (unlinkat(dir_fd, loc, 0) == 0 || errno == ENOENT)
		return BLOB_OK;
	return fail(err, errlen, errno, "cannot remove %s/%s/%s", s->data_dir,
		    KIND_DIRS[dir_of(ref->kind)], loc);
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

struct listing {
	enum blob_kind kind;
	struct timespec now;
	unsigned min_age_s;
	void (*fn)(void *ctx, const struct blob_ref *ref);
	void *ctx;
};

static void each_file_in(int kind_fd, const char *subdir, const struct listing *l)
{
	int dir_fd = open_dir_at(kind_fd, subdir);
	if (dir_fd < 0)
		return;
	DIR *d = fdopendir(dir_fd);
	if (!d) {
		close(dir_fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		char loc[BLOB_NAME_MAX];
		struct blob_ref ref;
		int n = snprintf(loc, sizeof(loc), "%s/%s", subdir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(loc) || !blob_ref_parse(l->kind, loc, &ref))
			continue; /* not a file of this kind */
		struct stat st;
		if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || !old_enough(&st.st_mtim, &l->now, l->min_age_s))
			continue;
		l->fn(l->ctx, &ref);
	}
	closedir(d);
}

static enum blob_status disk_list(struct blob_store *bs, enum blob_kind kind, unsigned min_age_s,
				  void (*fn)(void *ctx, const struct blob_ref *ref), void *ctx)
{
	struct disk *s = (struct disk *)bs;
	struct listing l = {kind, {0, 0}, min_age_s, fn, ctx};
	clock_gettime(CLOCK_REALTIME, &l.now);
	int kind_fd = kind_dir(s, dir_of(kind), false);
	if (kind_fd < 0)
		return errno == ENOENT ? BLOB_OK : status_of(errno);
	DIR *d = open_stream_at(kind_fd, ".");
	if (!d)
		return status_of(errno);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strlen(e->d_name) == SUBDIR_LEN && all_hex(e->d_name, SUBDIR_LEN))
			each_file_in(kind_fd, e->d_name, &l);
	}
	closedir(d);
	return BLOB_OK;
}

static const struct blob_ops disk_ops = {
	.close = disk_close,
	.put_begin = disk_put_begin,
	.put_write = disk_put_write,
	.put_size = disk_put_size,
	.put_finish = disk_put_finish,
	.put_commit = disk_put_commit,
	.put_abort = disk_put_abort,
	.get = disk_get,
	.open_fd = disk_open_fd,
	.remove = disk_remove,
	.list = disk_list,
};
