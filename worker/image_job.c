/* image_job: what the thumbnail and enhance jobs share: the isolated decode, the test delay, the fence. */
#include "image_job.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/num.h"
#include "core/jobs.h"
#include "worker/imaging.h"

enum {
	/* A 100-megapixel photo decodes in seconds; a minute means something is wrong. */
	IMAGE_TIMEOUT_MS = 120000,
	DELAY_SLICE_MS = 50,
};

enum job_run image_job_isolate(const struct job_ctx *ctx, const char *op, const char *head,
			       const void *image, size_t len, struct buf *out, char *err,
			       size_t errlen)
{
	/* The child reads no settings: the limit travels with the image, so that
	 * the decoder refuses exactly what this worker's configuration says. */
	struct buf input = BUF_INIT;
	if (!buf_printf(&input, "%" PRIu64 "\n%s", (uint64_t)ctx->cfg->max_pixels, head) ||
	    !buf_append(&input, image, len)) {
		buf_free(&input);
		snprintf(err, errlen, "out of memory");
		return JOB_RUN_RETRY;
	}
	struct isolate_params p = {
		.program = ctx->self_path,
		.op = op,
		.input = input.data,
		.input_len = input.len,
		.timeout_ms = IMAGE_TIMEOUT_MS,
		/* Outputs are at most a few times the input: a WebP of each size, an enhanced copy. */
		.max_output = 4 * len + (64u << 20),
		.cancel = ctx->cancel,
		.what = "the image decoder",
	};
	enum isolate_status status = isolate_run(&p, out, err, errlen);
	buf_free(&input);
	switch (status) {
	case ISOLATE_OK:
		return JOB_RUN_DONE;
	case ISOLATE_PERMANENT:
		return JOB_RUN_FAILED;
	case ISOLATE_CANCELLED:
		return JOB_RUN_CANCELLED;
	case ISOLATE_TRANSIENT:
		break;
	}
	return JOB_RUN_RETRY;
}

bool image_job_child_input(const struct buf *in, uint64_t *max_pixels, const char **rest,
			   size_t *restlen, char *err, size_t errlen)
{
	const char *nl = in->data ? memchr(in->data, '\n', in->len) : NULL;
	uint64_t limit = 0;
	if (!nl || !num_parse_u64(in->data, (size_t)(nl - in->data), UINT64_MAX, &limit) ||
	    limit == 0) {
		snprintf(err, errlen, "the image input has no pixel limit line");
		return false;
	}
	*max_pixels = limit;
	*rest = nl + 1;
	*restlen = in->len - (size_t)(*rest - in->data);
	return true;
}

bool image_job_delay(const struct job_ctx *ctx)
{
	return image_job_sleep(ctx, ctx->cfg->test_job_delay_ms);
}

bool image_job_sleep(const struct job_ctx *ctx, long ms)
{
	int64_t until = clock_ms() + ms;
	while (clock_ms() < until) {
		if (atomic_load(ctx->cancel))
			return false;
		struct timespec t = {0, DELAY_SLICE_MS * 1000000L};
		nanosleep(&t, NULL);
	}
	return true;
}

enum job_run image_job_fence(const struct job_ctx *ctx, char *err, size_t errlen)
{
	enum jobs_outcome o = jobs_heartbeat(ctx->db, ctx->job->id, ctx->job->attempts, ctx->lease_s);
	if (o == JOBS_OK)
		return JOB_RUN_DONE;
	if (o == JOBS_LEASE_LOST) {
		snprintf(err, errlen, "the lease was lost before the result was stored");
		/* Recorded as a failure, which the fence refuses too: the owner's result stands. */
		return JOB_RUN_RETRY;
	}
	snprintf(err, errlen, "the database does not answer; the job will run again");
	return JOB_RUN_RETRY;
}

bool image_job_child_init(char *err, size_t errlen)
{
	/* One thread per image: the worker's threads are the parallelism. */
	return imaging_init("bin/worker", 1, err, errlen);
}
