/* blob_disk: the blob store on local disk, files named by their content under DATA_DIR. */
#ifndef GALLERY_BLOB_DISK_H
#define GALLERY_BLOB_DISK_H

#include <stddef.h>

#include "core/blob.h"

/*
 * Opens a store in data_dir: each kind in its own folder (see enum blob_kind),
 * puts in progress in DATA_DIR/tmp (same file system, so rename is atomic).
 * Creates data_dir, images/ with its 256 "ab" folders, and tmp/, and removes
 * temporary files a crash left behind; the other kinds' folders appear when
 * first written. Durable: every file is fsync'ed before it is renamed into
 * place, and every folder that gains a name is fsync'ed after.
 */
struct blob_store *blob_disk_open(const char *data_dir, char *err, size_t errlen);

#endif
