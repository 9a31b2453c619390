/* job_thumbnail: the thumbnail job: an original's 's' and 'm' WebPs, stored by its hash and recorded. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "core/blob.h"
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

/* Stores each size under the original's hash and records it; a second run finds the same. */
static enum job_run store(const struct job_ctx *ctx, const char *sha256,
			  const struct made made[VARIANT_SIZE_COUNT], struct variant v[VARIANT_SIZE_COUNT],
			  char *err, size_t errlen)
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
	for (int i = 0; i < VARIANT_SIZE_COUNT; i++)
		if (variants_record(ctx->db, sha256, &v[i]) != DB_OK) {
			snprintf(err, errlen, "cannot record the thumbnails: the database does "
					      "not answer");
			return JOB_RUN_RETRY;
		}
	return JOB_RUN_DONE;
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
	struct buf original = BUF_INIT, out = BUF_INIT;
	char why[BLOB_ERR_MAX] = "";
	enum job_run run = JOB_RUN_RETRY;
	enum blob_status st = blob_get(ctx->blobs, &ref, &original, why, sizeof(why));
	if (st == BLOB_NOT_FOUND) {
		snprintf(err, errlen, "the image %s.%s is no longer stored", ref.sha256, ref.ext);
		run = JOB_RUN_FAILED;
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
	run = store(ctx, ref.sha256, made, v, err, errlen);
	if (run == JOB_RUN_DONE && !result_json(v, result)) {
		snprintf(err, errlen, "out of memory");
		run = JOB_RUN_RETRY;
	}
out_free:
	buf_free(&out);
	buf_free(&original);
	return run;
}
