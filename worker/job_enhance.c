/* job_enhance: the enhance job (CloudPic): a source image enhanced into a new image under its target key. */
#include <cjson/cJSON.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "core/enhance_job.h"
#include "core/images.h"
#include "worker/enhance.h"
#include "worker/image_job.h"
#include "worker/kinds.h"

/*
 * The child's input, after the pixel limit (image_job_isolate): "<strength>\n"
 * and the image's bytes. Its output: a line
 * "<mime> <before rms> <sharpness> <clipped> <after rms> <sharpness> <clipped>\n"
 * and the enhanced image's bytes.
 */
enum isolate_op_status job_enhance_op(const struct buf *in, struct buf *out, char *err,
				      size_t errlen)
{
	uint64_t max_pixels;
	const char *head;
	size_t headlen;
	if (!image_job_child_input(in, &max_pixels, &head, &headlen, err, errlen))
		return ISOLATE_OP_PERMANENT;
	const char *nl = memchr(head, '\n', headlen);
	char *end = NULL;
	double strength = nl ? strtod(head, &end) : -1;
	if (!nl || end != nl) {
		snprintf(err, errlen, "the enhance input has no strength line");
		return ISOLATE_OP_PERMANENT;
	}
	if (!image_job_child_init(err, errlen))
		return ISOLATE_OP_TRANSIENT;
	const char *src = nl + 1;
	size_t len = headlen - (size_t)(src - head);
	struct buf image = BUF_INIT;
	char mime[ENHANCE_MIME_LEN];
	struct enhance_measure b, a;
	enum imaging_outcome o = enhance_make(src, len, strength, max_pixels, &image, mime,
					      &b, &a, err, errlen);
	bool ok = o == IMAGING_OK &&
		  buf_printf(out, "%s %.17g %.17g %.17g %.17g %.17g %.17g\n", mime, b.rms_contrast,
			     b.sharpness, b.clipped, a.rms_contrast, a.sharpness, a.clipped) &&
		  buf_append(out, image.data, image.len);
	buf_free(&image);
	if (ok)
		return ISOLATE_OP_OK;
	return o == IMAGING_BAD_IMAGE ? ISOLATE_OP_PERMANENT : ISOLATE_OP_TRANSIENT;
}

struct enhanced {
	struct enhance_measure before, after;
	const char *data;
	size_t len;
};

static bool parse_output(const struct buf *out, struct enhanced *e)
{
	const char *nl = out->data ? memchr(out->data, '\n', out->len) : NULL;
	char mime[ENHANCE_MIME_LEN];
	if (!nl || sscanf(out->data, "%31s %lf %lf %lf %lf %lf %lf", mime, &e->before.rms_contrast,
			  &e->before.sharpness, &e->before.clipped, &e->after.rms_contrast,
			  &e->after.sharpness, &e->after.clipped) != 7)
		return false;
	e->data = nl + 1;
	e->len = out->len - (size_t)(e->data - out->data);
	return e->len > 0;
}

static void sha256_hex(const void *data, size_t len, char hex[BLOB_SHA256_HEX])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static enum job_run from_outcome(const struct outcome *o, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", o->message);
	switch (o->code) {
	case OUTCOME_BAD_INPUT:
	case OUTCOME_NOT_FOUND:
	case OUTCOME_NOT_AN_IMAGE:
	case OUTCOME_TOO_LARGE:
	case OUTCOME_FORBIDDEN:
		return JOB_RUN_FAILED;
	default:
		return JOB_RUN_RETRY;
	}
}

/*
 * The field of a deferred run's result that names the target's version whose
 * older values memcache has yet to forget; the rest is the job's result.
 */
#define PENDING_VERSION "forgetting_below_version"

/*
 * DESIGN.md's write path: once the job is done (its result visible), no read
 * of the target may return the old image. A memcache that missed the
 * invalidation (down or slow) still holds the old value, so the job is not
 * done until memcache takes it. Waiting here would hold a worker thread for as
 * long as memcache is away; the job waits in the queue instead (deferred, its
 * attempt not counted), and the next run, on any worker, sends the
 * invalidation of version again before it ends the job.
 */
static enum job_run settle(const struct job_ctx *ctx, char *err, size_t errlen)
{
	if (images_invalidations_flush(ctx->images))
		return JOB_RUN_DONE;
	snprintf(err, errlen, "memcache has not taken the invalidation of the target; the job "
			      "ends once it has");
	return JOB_RUN_DEFERRED;
}

/*
 * Stores the result under the target as an upload does (file, row, thumbnail
 * job, memcache told to forget). A run that finds the target holding these
 * very bytes already (an earlier attempt stored them, then lost its lease)
 * writes nothing: the work done twice is visible once.
 */
static enum job_run store(const struct job_ctx *ctx, const struct enhance_job *job,
			  const struct enhanced *e, uint64_t *version, char *err, size_t errlen)
{
	char sha[BLOB_SHA256_HEX];
	sha256_hex(e->data, e->len, sha);
	struct image_row row;
	struct outcome o;
	if (images_find(ctx->images, job->target, job->targetlen, &row, &o) &&
	    strcmp(row.sha256, sha) == 0) {
		/* The try that stored it may have ended before memcache forgot. */
		*version = row.version;
		images_forget(ctx->images, job->target, job->targetlen, row.version);
		return settle(ctx, err, errlen);
	}
	if (o.code == OUTCOME_UNAVAILABLE)
		return from_outcome(&o, err, errlen);
	enum job_run fence = image_job_fence(ctx, err, errlen);
	if (fence != JOB_RUN_DONE)
		return fence;
	struct images_upload *u = images_upload_begin(ctx->images, &o);
	if (!u)
		return from_outcome(&o, err, errlen);
	if (!images_upload_write(u, e->data, e->len)) {
		o = *images_upload_outcome(u);
		images_upload_abort(u);
		return from_outcome(&o, err, errlen);
	}
	/* The result belongs to the requester; another user's target key refuses it (403). */
	images_upload_set_owner(u, job->owner);
	if (!images_upload_commit(u, job->target, job->targetlen, &row, &o))
		return from_outcome(&o, err, errlen);
	*version = row.version;
	return settle(ctx, err, errlen);
}

static bool add_measure(cJSON *root, const char *name, const struct enhance_measure *m)
{
	cJSON *obj = cJSON_AddObjectToObject(root, name);
	return obj && cJSON_AddNumberToObject(obj, "rms_contrast", m->rms_contrast) &&
	       cJSON_AddNumberToObject(obj, "sharpness", m->sharpness) &&
	       cJSON_AddNumberToObject(obj, "clipped", m->clipped);
}

/* The job's result; with pending (a deferred run) the version memcache has yet to forget below. */
static bool result_json(const struct enhance_job *job, const struct enhanced *e, bool pending,
			uint64_t version, struct buf *result)
{
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	if (root && cJSON_AddStringToObject(root, "target", job->target) &&
	    add_measure(root, "before", &e->before) && add_measure(root, "after", &e->after) &&
	    (!pending || cJSON_AddNumberToObject(root, PENDING_VERSION, (double)version)))
		text = cJSON_PrintUnformatted(root);
	bool ok = text && buf_puts(result, text);
	free(text);
	cJSON_Delete(root);
	return ok;
}

/*
 * A run after a deferred one: its work is stored, and only memcache's
 * forgetting is left. *resumed false when the job's result is no deferred one.
 */
static enum job_run resume(const struct job_ctx *ctx, const struct enhance_job *job,
			   struct buf *result, bool *resumed, char *err, size_t errlen)
{
	cJSON *root = ctx->job->result ? cJSON_Parse(ctx->job->result) : NULL;
	const cJSON *pending = cJSON_GetObjectItemCaseSensitive(root, PENDING_VERSION);
	double v = cJSON_IsNumber(pending) ? pending->valuedouble : -1;
	*resumed = v >= 1 && v <= 9007199254740992.0;
	enum job_run run = JOB_RUN_DONE;
	if (!*resumed)
		goto out;
	/* This process may not be the one whose send memcache missed: it sends its own. */
	images_forget(ctx->images, job->target, job->targetlen, (uint64_t)v);
	run = settle(ctx, err, errlen);
	if (run == JOB_RUN_DONE) {
		log_info("job %lld attempt %d: memcache took the target's invalidation",
			 ctx->job->id, ctx->job->attempts);
		cJSON_DeleteItemFromObjectCaseSensitive(root, PENDING_VERSION);
	} else {
		*err = '\0'; /* the first run's log line said why */
	}
	char *text = cJSON_PrintUnformatted(root);
	if (!text || !buf_puts(result, text)) {
		snprintf(err, errlen, "out of memory");
		run = JOB_RUN_RETRY;
	}
	free(text);
out:
	cJSON_Delete(root);
	return run;
}

enum job_run job_enhance_run(const struct job_ctx *ctx, struct buf *result, char *err,
			     size_t errlen)
{
	struct enhance_job job;
	struct outcome o;
	if (!enhance_job_parse(ctx->job->payload, &job, &o))
		return from_outcome(&o, err, errlen);
	bool resumed = false;
	enum job_run resumed_run = resume(ctx, &job, result, &resumed, err, errlen);
	if (resumed)
		return resumed_run;
	struct buf source = BUF_INIT, out = BUF_INIT;
	char head[64];
	enum job_run run = JOB_RUN_RETRY;
	/* The source as a reader sees it: memcache or the row's file. */
	if (!images_read_bytes(ctx->images, job.key, job.keylen, &source, &o)) {
		run = from_outcome(&o, err, errlen);
		goto out_free;
	}
	snprintf(head, sizeof(head), "%.17g\n", job.strength);
	run = image_job_isolate(ctx, "enhance", head, source.data, source.len, &out, err, errlen);
	if (run != JOB_RUN_DONE)
		goto out_free;
	struct enhanced e;
	if (!parse_output(&out, &e)) {
		snprintf(err, errlen, "the image decoder's output is not an enhanced image");
		run = JOB_RUN_RETRY;
		goto out_free;
	}
	if (!image_job_delay(ctx)) {
		run = JOB_RUN_CANCELLED;
		goto out_free;
	}
	uint64_t version = 0;
	run = store(ctx, &job, &e, &version, err, errlen);
	if ((run == JOB_RUN_DONE || run == JOB_RUN_DEFERRED) &&
	    !result_json(&job, &e, run == JOB_RUN_DEFERRED, version, result)) {
		snprintf(err, errlen, "out of memory");
		run = JOB_RUN_RETRY;
	}
out_free:
	buf_free(&out);
	buf_free(&source);
	return run;
}
