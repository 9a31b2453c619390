/* job_log: keeps a job's log text where GET /api/jobs/<id>/log will find it, by its SHA-256. */
#ifndef GALLERY_JOB_LOG_H
#define GALLERY_JOB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum { JOB_LOG_SHA256_HEX = 65 };

/*
 * Stores len bytes durably under DATA_DIR/logs/ab/<sha256>.txt (a temporary
 * file in the same folder, fsync, rename, fsync of the folder) and gives the
 * hash in sha256_hex. Equal texts share one file. The blob store replaces this
 * file's body with one put, keeping the call.
 */
bool job_store_log(const char *data_dir, const void *data, size_t len,
		   char sha256_hex[JOB_LOG_SHA256_HEX], char *err, size_t errlen);

#endif
