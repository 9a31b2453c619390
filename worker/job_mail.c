/* job_mail: the mail job: one message through SMTP, or an .eml file without a server. */
#include <stdio.h>

#include "worker/kinds.h"

enum job_run job_mail_run(const struct job_ctx *ctx, struct buf *result, char *err, size_t errlen)
{
	(void)ctx, (void)result;
	snprintf(err, errlen, "this worker cannot send mail yet");
	return JOB_RUN_FAILED;
}
