/* storage: the only code that touches image files, named by their content. */
#ifndef GALLERY_STORAGE_H
#define GALLERY_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* "ab/<64 hex>.<ext>" plus room to spare. */
enum { STORAGE_LOCATION_MAX = 96, STORAGE_SHA256_HEX = 65 };

struct storage;
struct storage_upload;

/*
 * Opens DATA_DIR: image files live in DATA_DIR/images/ab/<sha256>.<ext>, and
 * uploads in progress in DATA_DIR/tmp (same file system, so rename is atomic).
 * Creates both folders, and removes temporary files a crash left behind.
 */
struct storage *storage_open(const char *data_dir, char *err, size_t errlen);
void storage_close(struct storage *s);

/* Starts an upload into a new temporary file; hashes what it is given. NULL with errno set. */
struct storage_upload *storage_upload_begin(struct storage *s, char *err, size_t errlen);
/*
 * false (errno set) on a write error, which also removes the temporary file at
 * once; storage_upload_disk_full() tells ENOSPC/EDQUOT apart.
 */
bool storage_upload_write(struct storage_upload *u, const void *data, size_t len);
bool storage_upload_disk_full(const struct storage_upload *u);
/* Whether an errno says the disk (or the quota) is full: ENOSPC or EDQUOT. */
bool storage_disk_full(int errnum);
uint64_t storage_upload_size(const struct storage_upload *u);
/*
 * Makes the bytes durable (fsync) and computes the sha256; call once, before
 * commit. A failure removes the temporary file, as a failed write does.
 */
bool storage_upload_finish(struct storage_upload *u, char sha256_hex[STORAGE_SHA256_HEX],
			   char *err, size_t errlen);
/*
 * Moves the finished file to its content address (or drops it when that file
 * already exists: equal bytes share one file), fsyncs the folder, writes the
 * relative location, and frees u. *created (when not NULL) says whether the
 * file at location is this upload's own, new one. On failure (errno set) the
 * temporary file is removed.
 */
bool storage_upload_commit(struct storage_upload *u, const char *ext,
			   char location[STORAGE_LOCATION_MAX], bool *created, char *err,
			   size_t errlen);
/* Removes the temporary file and frees u. */
void storage_upload_abort(struct storage_upload *u);

/* Appends the file's bytes to out; false with errno set (ENOENT when it is gone). */
bool storage_read(struct storage *s, const char *location, struct buf *out);
/* An open descriptor for sending the file, or -1 with errno set; *size gets its size. */
int storage_open_file(struct storage *s, const char *location, uint64_t *size);
/* Removes a file no row refers to any more; a missing file is fine. */
bool storage_remove(struct storage *s, const char *location);

/* Calls fn for every image file older than min_age_s, for orphan sweeps. */
void storage_each_file(struct storage *s, unsigned min_age_s,
		       void (*fn)(void *ctx, const char *location), void *ctx);

#endif
