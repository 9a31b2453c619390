/* job_log: keeps a job's log text where GET /api/jobs/<id>/log will find it, by its SHA-256. */
#include "job_log.h"

#include <stdio.h>
#include <string.h>

bool job_store_log(struct blob_store *blobs, const void *data, size_t len,
		   char sha256_hex[JOB_LOG_SHA256_HEX], char *err, size_t errlen)
{
	struct blob_ref ref;
	char why[BLOB_ERR_MAX] = "";
	enum blob_status st = blob_put_bytes(blobs, BLOB_LOG, NULL, data, len, &ref, NULL, why,
					     sizeof(why));
	if (st != BLOB_OK) {
		snprintf(err, errlen, "cannot store the log: %s%s%s", blob_status_text(st),
			 *why ? ": " : "", why);
		return false;
	}
	memcpy(sha256_hex, ref.sha256, JOB_LOG_SHA256_HEX);
	return true;
}
