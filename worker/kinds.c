/* kinds: the worker's table of job kinds (kind -> run function, in-thread or isolated). */
#include "kinds.h"

#include <string.h>

#include "common/config.h"

static const struct job_kind_entry KINDS[JOB_KIND_COUNT] = {
	{JOB_THUMBNAIL, true, job_thumbnail_run},
	{JOB_ENHANCE, true, job_enhance_run},
	{JOB_CALC, false, job_calc_run},
	{JOB_MAIL, false, job_mail_run},
};

static const struct job_kind_entry TEST_KIND = {JOB_KIND_COUNT, true, job_test_run};

static const struct isolate_op OPS[] = {
	{"test", job_test_op},
	{"thumbnail", job_thumbnail_op},
	{"enhance", job_enhance_op},
};

const struct job_kind_entry *kinds_find(const struct config *cfg, enum job_kind kind)
{
	if ((unsigned)kind >= JOB_KIND_COUNT)
		return NULL;
	if (*cfg->test_crash_kind && strcmp(cfg->test_crash_kind, jobs_kind_name(kind)) == 0)
		return &TEST_KIND;
	return &KINDS[kind];
}

const struct isolate_op *kinds_isolated_ops(size_t *count)
{
	*count = sizeof(OPS) / sizeof(OPS[0]);
	return OPS;
}
