/*
 * job_test: a test hook, the isolated "test" operation. With GALLERY_TEST_CRASH_KIND
 * set to a kind, the worker runs that kind's jobs through it: the payload "crash"
 * dies of SIGSEGV in the child, "sleep MS" sleeps, "fail" fails for good,
 * anything else is echoed back. Left empty (the default), nothing reaches it.
 */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "worker/kinds.h"

enum { TEST_TIMEOUT_MS = 60000, TEST_MAX_OUTPUT = 1 << 20 };

enum isolate_op_status job_test_op(const struct buf *in, struct buf *out, char *err, size_t errlen)
{
	const char *text = in->data ? in->data : "";
	if (strcmp(text, "crash") == 0) {
		/* A sanitizer's handler would turn the signal into an abort: die of it as a decoder would. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		abort();
	}
	if (strcmp(text, "fail") == 0) {
		snprintf(err, errlen, "the test operation refused its input");
		return ISOLATE_OP_PERMANENT;
	}
	if (strncmp(text, "sleep ", 6) == 0) {
		long ms = strtol(text + 6, NULL, 10);
		struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&t, &t) != 0)
			;
	}
	return buf_append(out, text, strlen(text)) ? ISOLATE_OP_OK : ISOLATE_OP_TRANSIENT;
}

enum job_run job_test_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen)
{
	struct isolate_params p = {
		.program = ctx->self_path,
		.op = "test",
		.input = ctx->job->payload,
		.input_len = strlen(ctx->job->payload),
		.timeout_ms = TEST_TIMEOUT_MS,
		.max_output = TEST_MAX_OUTPUT,
		.cancel = ctx->cancel,
		.what = "the isolated test operation",
	};
	struct buf out = BUF_INIT;
	enum isolate_status status = isolate_run(&p, &out, err, errlen);
	enum job_run run = status == ISOLATE_OK		 ? JOB_RUN_DONE
			   : status == ISOLATE_PERMANENT ? JOB_RUN_FAILED
			   : status == ISOLATE_CANCELLED ? JOB_RUN_CANCELLED
							 : JOB_RUN_RETRY;
	if (run == JOB_RUN_DONE) {
		cJSON *obj = cJSON_CreateObject();
		char *text = NULL;
		if (obj && cJSON_AddStringToObject(obj, "echo", out.data ? out.data : "") &&
		    cJSON_AddNumberToObject(obj, "attempt", ctx->job->attempts))
			text = cJSON_PrintUnformatted(obj);
		if (!text || !buf_puts(result, text)) {
			snprintf(err, errlen, "out of memory");
			run = JOB_RUN_RETRY;
		}
		free(text);
		cJSON_Delete(obj);
	}
	buf_free(&out);
	return run;
}
