/* job_thumbnail: the thumbnail job: an original's 's' and 'm' WebPs, stored by its hash and recorded. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "core/blob.h"
#include "core/jobs.h"
#include "core/variants.h"
#include "worker/image_job.h"
#include "worker/kinds.h"
#include "worker/thumbnail.h"

/*
 * The child's output: for each size, s then m, a line "<width> <height> <bytes>\n"
 * and that many bytes of WebP.
 */
struct made {
	unsigned width, height;
	const char *data;
	size_t len;
};

enum isolate_op_status job_thumbnail_op(const struct buf *in, struct buf *out, char *err,
					size_t errlen)
{
	uint64_t max_pixels;
	const char *src;
	size_t len;
	if (!image_job_child_input(in, &max_pixels, &src, &len, err, errlen))
		return ISOLATE_OP_PERMANENT;
	if (!image_job_child_init(err, errlen))
		return ISOLATE_OP_TRANSIENT;
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++) {
		struct buf webp = BUF_INIT;
		unsigned w = 0, h = 0;
		enum imaging_outcome o =
			thumbnail_make(src, len, variants_size_px((enum variant_size)i), max_pixels,
				       &webp, &w, &h, err, errlen);
		bool ok = o == IMAGING_OK && buf_printf(out, "%u %u %zu\n", w, h, webp.len) &&
			  buf_append(out, webp.data, webp.len);
		buf_free(&webp);
		if (!ok)
			return o == IMAGING_BAD_IMAGE ? ISOLATE_OP_PERMANENT : ISOLATE_OP_TRANSIENT;
	}
	return ISOLATE_OP_OK;
}

/* Splits the child's output; false when it is not what job_thumbnail_op writes. */
static bool parse_output(const struct buf *out, struct made made[VARIANT_SIZE_COUNT])
{
	const char *p = out->data, *end = out->data + out->len;
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++) {
		const char *nl = p ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		unsigned long long len;
		if (!nl || sscanf(p, "%u %u %llu", &made[i].width, &made[i].height, &len) != 3 ||
		    len > (unsigned long long)(end - nl - 1))
			return false;
		made[i].data = nl + 1;
		made[i].len = (size_t)len;
		p = nl + 1 + len;
	}
	return p == end;
}

/* The payload's original: {"sha256":"<64 hex>","ext":"jpg"} (variants.h). */
static bool parse_payload(const char *payload, struct blob_ref *ref)
{
	cJSON *root = cJSON_Parse(payload);
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(root, "sha256"));
	const char *ext = cJSON_GetStringValue(cJSON_GetObjectItem(root, "ext"));
	bool ok = sha && ext && variants_sha256_ok(sha) && strlen(ext) < BLOB_EXT_MAX;
	if (ok) {
		*ref = (struct blob_ref){.kind = BLOB_IMAGE};
		memcpy(ref->sha256, sha, BLOB_SHA256_HEX);
		memcpy(ref->ext, ext, strlen(ext) + 1);
		char name[BLOB_NAME_MAX];
		ok = blob_ref_name(ref, name);
	}
	cJSON_Delete(root);
	return ok;
}

/* The result and log line of a job whose content no image has any more. */
#define GONE_RESULT "{\"skipped\":\"no image has this content any more\"}"
#define GONE_NOTE                                                                                \
	"nothing to do: no image has this content any more (it was deleted, or its key was "     \
	"uploaded again with other bytes)"

enum { GONE_TRIES = 3 };

/* Removes the thumbnail files of sha256; false, with err set, when one stays. */
static bool remove_thumbnails(const struct job_ctx *ctx, const char *sha256, char *err,
			      size_t errlen)
{
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++) {
		struct blob_ref ref = {.kind = variants_blob_kind((enum variant_size)i)};
		snprintf(ref.sha256, sizeof(ref.sha256), "%s", sha256);
		snprintf(ref.ext, sizeof(ref.ext), "webp");
		char why[BLOB_ERR_MAX] = "";
		if (blob_delete(ctx->blobs, &ref, why, sizeof(why)) != BLOB_OK) {
			snprintf(err, errlen, "cannot remove the %s thumbnail of a deleted image: %s",
				 variants_size_name((enum variant_size)i), why);
			return false;
		}
	}
	return true;
}

/* One try of finish_if_gone's transaction; DB_CONFLICT: a deadlock undid it. */
static enum db_status gone_once(const struct job_ctx *ctx, const char *sha256, bool wrote,
				bool *gone, enum job_run *run, char *err, size_t errlen)
{
	struct db *db = ctx->db;
	enum db_status status = db_begin(db);
	if (status != DB_OK)
		return status;
	enum jobs_outcome o = jobs_complete(db, ctx->job->id, ctx->job->attempts, GONE_RESULT);
	if (o == JOBS_LEASE_LOST) {
		db_rollback(db);
		snprintf(err, errlen, "the lease was lost before the result was stored");
		*run = JOB_RUN_RETRY;
		return DB_OK;
	}
	if (o == JOBS_CONFLICT)
		status = DB_CONFLICT;
	else if (o != JOBS_OK)
		status = DB_FAILED;
	bool in_use = true;
	if (status == DB_OK)
		status = variants_content_in_use(db, sha256, &in_use);
	if (status == DB_OK && in_use) {
		/* An upload brought the content back before this job's row was locked. */
		db_rollback(db);
		*run = JOB_RUN_DONE;
		return DB_OK;
	}
	if (status == DB_OK && wrote && !remove_thumbnails(ctx, sha256, err, errlen)) {
		db_rollback(db);
		*run = JOB_RUN_RETRY;
		return DB_OK;
	}
	if (status == DB_OK)
		status = db_commit(db);
	if (status != DB_OK) {
		db_rollback(db);
		return status;
	}
	*gone = true;
	*run = JOB_RUN_RECORDED;
	return DB_OK;
}

/*
 * Ends the job as done with nothing to do when no image has its content any
 * more: the user deleted it, or uploaded its key again with other bytes, so
 * this is no failure. One transaction completes the job first (fenced), checks
 * the content second, and removes the thumbnails this run wrote (wrote) before
 * it commits. The completion's lock on the job's row holds back an upload of
 * the same bytes that would join this job (the queue dedupes a running job):
 * either the check sees its row, or it waits and, once this job is done, gets
 * a job of its own, whose files come after this run's are gone.
 * JOB_RUN_DONE with *gone false: an image has the content; go on.
 */
static enum job_run finish_if_gone(const struct job_ctx *ctx, const char *sha256, bool wrote,
				   bool *gone, struct buf *result, char *err, size_t errlen)
{
	*gone = false;
	enum job_run run = JOB_RUN_RETRY;
	enum db_status status = DB_CONFLICT;
	for (int tries = 0; status == DB_CONFLICT && tries < GONE_TRIES; tries++)
		status = gone_once(ctx, sha256, wrote, gone, &run, err, errlen);
	if (status != DB_OK) {
		snprintf(err, errlen, "the database does not answer; the job will run again");
		return JOB_RUN_RETRY;
	}
	if (*gone) {
		buf_puts(result, GONE_RESULT);
		snprintf(err, errlen, "%s", GONE_NOTE);
	}
	return run;
}

/*
 * Stores each size under the original's hash and records it while an image has
 * the content; a second run finds the same. When none has it any more, the job
 * ends done with nothing to do and what it stored goes.
 */
static enum job_run store(const struct job_ctx *ctx, const char *sha256,
			  const struct made made[VARIANT_SIZE_COUNT], struct variant v[VARIANT_SIZE_COUNT],
			  struct buf *result, char *err, size_t errlen)
{
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++) {
		v[i] = (struct variant){.size = (enum variant_size)i, .width = made[i].width,
					.height = made[i].height, .bytes = made[i].len};
		struct blob_ref ref;
		char why[BLOB_ERR_MAX] = "";
		enum blob_status st = blob_put_bytes_as(ctx->blobs, variants_blob_kind(v[i].size),
							sha256, made[i].data, made[i].len, &ref,
							NULL, why, sizeof(why));
		if (st != BLOB_OK) {
			snprintf(err, errlen, "cannot store the %s thumbnail: %s", 
				 variants_size_name(v[i].size), why);
			return JOB_RUN_RETRY;
		}
		blob_ref_name(&ref, v[i].location);
		/* The test hook stops a run here, with one file stored and no row. */
		if (i == 0 && !image_job_delay(ctx))
			return JOB_RUN_CANCELLED;
	}
	enum job_run fence = image_job_fence(ctx, err, errlen);
	if (fence != JOB_RUN_DONE)
		return fence;
	/* Between the record and the completion an upload may bring the content back: record again. */
	for (int tries = 0; tries < GONE_TRIES; tries++) {
		bool in_use = true, gone = false;
		if (variants_record_while_used(ctx->db, sha256, v, VARIANT_SIZE_COUNT, &in_use) !=
		    DB_OK) {
			snprintf(err, errlen, "cannot record the thumbnails: the database does "
					      "not answer");
			return JOB_RUN_RETRY;
		}
		if (in_use)
			return JOB_RUN_DONE;
		enum job_run run = finish_if_gone(ctx, sha256, true, &gone, result, err, errlen);
		if (gone || run != JOB_RUN_DONE)
			return run;
	}
	snprintf(err, errlen, "the image's content came and went while its thumbnails were stored");
	return JOB_RUN_RETRY;
}

static bool result_json(const struct variant v[VARIANT_SIZE_COUNT], struct buf *result)
{
	cJSON *root = cJSON_CreateObject();
	bool ok = root != NULL;
	for (int i = 0; ok && i < VARIANT_SIZE_COUNT; i++) {
		cJSON *one = cJSON_AddObjectToObject(root, variants_size_name(v[i].size));
		ok = one && cJSON_AddNumberToObject(one, "width", v[i].width) &&
		     cJSON_AddNumberToObject(one, "height", v[i].height) &&
		     cJSON_AddNumberToObject(one, "bytes", (double)v[i].bytes);
	}
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	ok = text && buf_puts(result, text);
	free(text);
	cJSON_Delete(root);
	return ok;
}

enum job_run job_thumbnail_run(const struct job_ctx *ctx, struct buf *result, char *err,
			       size_t errlen)
{
	struct blob_ref ref;
	if (!parse_payload(ctx->job->payload, &ref)) {
		snprintf(err, errlen, "the payload is not {\"sha256\":\"<64 hex digits>\","
				      "\"ext\":\"<letters>\"}");
		return JOB_RUN_FAILED;
	}
	bool in_use = true, gone = false;
	if (variants_content_in_use(ctx->db, ref.sha256, &in_use) != DB_OK) {
		snprintf(err, errlen, "the database does not answer; the job will run again");
		return JOB_RUN_RETRY;
	}
	enum job_run run = JOB_RUN_DONE;
	if (!in_use) {
		run = finish_if_gone(ctx, ref.sha256, false, &gone, result, err, errlen);
		if (gone || run != JOB_RUN_DONE)
			return run;
	}
	struct buf original = BUF_INIT, out = BUF_INIT;
	char why[BLOB_ERR_MAX] = "";
	run = JOB_RUN_RETRY;
	enum blob_status st = blob_get(ctx->blobs, &ref, &original, why, sizeof(why));
	if (st == BLOB_NOT_FOUND) {
		/* Deleted since the check above, or a store that lost a file an image has. */
		run = finish_if_gone(ctx, ref.sha256, false, &gone, result, err, errlen);
		if (!gone && run == JOB_RUN_DONE) {
			snprintf(err, errlen, "the image %s.%s is not in the store, though an image "
					      "has it; the job will run again",
				 ref.sha256, ref.ext);
			run = JOB_RUN_RETRY;
		}
		goto out_free;
	}
	if (st != BLOB_OK) {
		snprintf(err, errlen, "cannot read the image %s.%s: %s", ref.sha256, ref.ext, why);
		goto out_free;
	}
	run = image_job_isolate(ctx, "thumbnail", "", original.data, original.len, &out, err,
				errlen);
	if (run != JOB_RUN_DONE)
		goto out_free;
	struct made made[VARIANT_SIZE_COUNT];
	struct variant v[VARIANT_SIZE_COUNT];
	if (!parse_output(&out, made)) {
		snprintf(err, errlen, "the image decoder's output is not two thumbnails");
		run = JOB_RUN_RETRY;
		goto out_free;
	}
	run = store(ctx, ref.sha256, made, v, result, err, errlen);
	if (run == JOB_RUN_DONE && !result_json(v, result)) {
		snprintf(err, errlen, "out of memory");
		run = JOB_RUN_RETRY;
	}
out_free:
	buf_free(&out);
	buf_free(&original);
	return run;
}
