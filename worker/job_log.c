/* job_log: keeps a job's log text where GET /api/jobs/<id>/log will find it, by its SHA-256. */
#include "job_log.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PATH_SIZE = 4096 };

static bool make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return true;
	snprintf(err, errlen, "cannot make %s: %s", path, strerror(errno));
	return false;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t k = write(fd, data, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		data += k;
		len -= (size_t)k;
	}
	return true;
}

static bool sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

bool job_store_log(const char *data_dir, const void *data, size_t len,
		   char sha256_hex[JOB_LOG_SHA256_HEX], char *err, size_t errlen)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(sha256_hex + 2 * i, 3, "%02x", digest[i]);

	char dir[PATH_SIZE], path[PATH_SIZE + 80], tmp[PATH_SIZE + 80];
	if (strlen(data_dir) + 16 > sizeof(dir)) {
		snprintf(err, errlen, "GALLERY_DATA_DIR is too long");
		return false;
	}
	snprintf(dir, sizeof(dir), "%s/logs", data_dir);
	if (!make_dir(data_dir, err, errlen) || !make_dir(dir, err, errlen))
		return false;
	snprintf(dir, sizeof(dir), "%s/logs/%.2s", data_dir, sha256_hex);
	if (!make_dir(dir, err, errlen))
		return false;
	snprintf(path, sizeof(path), "%s/%s.txt", dir, sha256_hex);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, sha256_hex);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
		return false;
	}
	/* mkostemp makes it 0600; the front end serves it. */
	bool ok = fchmod(fd, 0644) == 0 && write_all(fd, data, len) && fsync(fd) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0 || !sync_dir(dir)) {
		snprintf(err, errlen, "cannot store the log %s: %s", path, strerror(ok ? errno : saved));
		unlink(tmp);
		return false;
	}
	return true;
}
