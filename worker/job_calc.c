/* job_calc: the calc job (CloudCal): statistics of the payload's numbers, and their log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/config.h"
#include "core/calc.h"
#include "worker/job_log.h"
#include "worker/kinds.h"

/* The payload is the numbers as a JSON array of integers, e.g. [1,2,3]. */
enum job_run job_calc_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen)
{
	const struct job *job = ctx->job;
	char why[CALC_ERR_SIZE];
	struct calc_input in;
	if (!calc_parse(job->payload, strlen(job->payload), &in, why)) {
		snprintf(err, errlen, "%s", why);
		return JOB_RUN_FAILED;
	}
	enum job_run run = JOB_RUN_RETRY;
	struct buf log = BUF_INIT;
	long long *sorted = malloc(in.count * sizeof(*sorted));
	if (!sorted) {
		snprintf(err, errlen, "out of memory");
		goto out_free_input;
	}
	struct calc_result r;
	calc_compute(&in, sorted, &r);
	struct calc_log_info info = {job->id, job->attempts, job->started_at, clock_unix_ms()};
	char sha[JOB_LOG_SHA256_HEX];
	if (!calc_log(&info, &in, sorted, &r, &log)) {
		snprintf(err, errlen, "out of memory");
		goto out_free_sorted;
	}
	if (!job_store_log(ctx->blobs, log.data, log.len, sha, err, errlen))
		goto out_free_sorted;
	if (!calc_result_json(&r, sha, result)) {
		snprintf(err, errlen, "out of memory");
		goto out_free_sorted;
	}
	run = JOB_RUN_DONE;
out_free_sorted:
	free(sorted);
out_free_input:
	buf_free(&log);
	calc_input_free(&in);
	return run;
}
