/* job_log: keeps a job's log text where GET /api/jobs/<id>/log will find it, by its SHA-256. */
#ifndef GALLERY_JOB_LOG_H
#define GALLERY_JOB_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/blob.h"

enum { JOB_LOG_SHA256_HEX = BLOB_SHA256_HEX };

/*
 * Stores len bytes durably in the blob store as a BLOB_LOG (on disk
 * DATA_DIR/logs/ab/<sha256>.txt) and gives the hash in sha256_hex. Equal texts
 * share one file, so a job run twice leaves one log.
 */
bool job_store_log(struct blob_store *blobs, const void *data, size_t len,
		   char sha256_hex[JOB_LOG_SHA256_HEX], char *err, size_t errlen);

#endif
