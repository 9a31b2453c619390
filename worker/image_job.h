/* image_job: what the thumbnail and enhance jobs share: the isolated decode, the test delay, the fence. */
#ifndef GALLERY_IMAGE_JOB_H
#define GALLERY_IMAGE_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "worker/kinds.h"

/* The pixel limit of the decoders; GALLERY_MAX_PIXELS's default. */
#define IMAGE_JOB_MAX_PIXELS IMAGING_MAX_PIXELS_DEFAULT

/*
 * Runs the isolated operation op over input in a new child and maps its end to
 * the job's: a refusal (a bad image) is JOB_RUN_FAILED, a crash or a timeout
 * JOB_RUN_RETRY (it costs one attempt), a stop JOB_RUN_CANCELLED.
 */
enum job_run image_job_isolate(const struct job_ctx *ctx, const char *op, const void *input,
			       size_t len, struct buf *out, char *err, size_t errlen);

/* The test hook GALLERY_TEST_JOB_DELAY_MS: waits, unless the worker stops; false then. */
bool image_job_delay(const struct job_ctx *ctx);

/*
 * The fence before a write others will see: renews the lease under this
 * attempt. JOB_RUN_DONE when the job is still this attempt's; otherwise the
 * outcome to give (the lease was lost: another attempt owns the job).
 */
enum job_run image_job_fence(const struct job_ctx *ctx, char *err, size_t errlen);

/* In the child: libvips started once per process for untrusted input. */
bool image_job_child_init(char *err, size_t errlen);

#endif
