/* image_job: what the thumbnail and enhance jobs share: the isolated decode, the test delay, the fence. */
#ifndef GALLERY_IMAGE_JOB_H
#define GALLERY_IMAGE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "worker/kinds.h"

/*
 * Runs the isolated operation op in a new child over its input: a line with the
 * pixel limit (GALLERY_MAX_PIXELS of this worker), then head (the op's own
 * parameters, "" for none) and the image's len bytes; image_job_child_input
 * splits it again. Maps the child's end to the job's: a refusal (a bad image,
 * one over the limit) is JOB_RUN_FAILED, a crash or a timeout JOB_RUN_RETRY (it
 * costs one attempt), a stop JOB_RUN_CANCELLED.
 */
enum job_run image_job_isolate(const struct job_ctx *ctx, const char *op, const char *head,
			       const void *image, size_t len, struct buf *out, char *err,
			       size_t errlen);

/*
 * In the child: the pixel limit from in's first line, and where the rest
 * (head and image) starts. False, with err set, when in does not start so.
 */
bool image_job_child_input(const struct buf *in, uint64_t *max_pixels, const char **rest,
			   size_t *restlen, char *err, size_t errlen);

/* The test hook GALLERY_TEST_JOB_DELAY_MS: waits, unless the worker stops; false then. */
bool image_job_delay(const struct job_ctx *ctx);
/* Waits ms, unless the worker stops; false then. */
bool image_job_sleep(const struct job_ctx *ctx, long ms);

/*
 * The fence before a write others will see: renews the lease under this
 * attempt. JOB_RUN_DONE when the job is still this attempt's; otherwise the
 * outcome to give (the lease was lost: another attempt owns the job).
 */
enum job_run image_job_fence(const struct job_ctx *ctx, char *err, size_t errlen);

/* In the child: libvips started once per process for untrusted input. */
bool image_job_child_init(char *err, size_t errlen);

#endif
