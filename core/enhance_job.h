/* enhance_job: the enhance job's request (CloudPic): its checks, its payload, its enqueue. */
#ifndef GALLERY_ENHANCE_JOB_H
#define GALLERY_ENHANCE_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/jobs.h"
#include "core/key.h"
#include "core/outcome.h"

struct db;

/* DESIGN.md: strength 0 to 0.30, 0.30 when not given; target "<key> (enhanced)" when not given. */
#define ENHANCE_JOB_STRENGTH_MAX 0.30
#define ENHANCE_JOB_STRENGTH_DEFAULT 0.30
#define ENHANCE_JOB_TARGET_SUFFIX " (enhanced)"

/*
 * The payload, one JSON object:
 *   {"key":"<source key>","target":"<result key>","strength":0.3,"owner":null}
 * owner is the requester's user id (a number) or null for an anonymous request;
 * the result is stored under target with that owner. The job's result:
 *   {"target":"<key>","before":{"rms_contrast":..,"sharpness":..,"clipped":..},
 *    "after":{"rms_contrast":..,"sharpness":..,"clipped":..}}
 */
struct enhance_job {
	char key[KEY_MAX_BYTES + 1];
	size_t keylen;
	char target[KEY_MAX_BYTES + 1];
	size_t targetlen;
	double strength;
	long long owner; /* 0: none */
};

/*
 * Fills job from a request: target NULL takes the default (the key and
 * ENHANCE_JOB_TARGET_SUFFIX, which must fit in a key), strength_given false
 * takes the default. OUTCOME_BAD_INPUT, with a message saying what to fix,
 * for a bad key, target or strength, or a target equal to the key.
 */
bool enhance_job_make(const char *key, size_t keylen, const char *target, size_t targetlen,
		      bool strength_given, double strength, long long owner,
		      struct enhance_job *job, struct outcome *o);
/* The payload's text (the caller frees it); NULL when out of memory. */
char *enhance_job_payload(const struct enhance_job *job);
/* The payload read back, checked as enhance_job_make checks a request. */
bool enhance_job_parse(const char *payload, struct enhance_job *job, struct outcome *o);

/*
 * Enqueues the job in a transaction of its own (jobs_enqueue). No dedupe: each
 * request is a job, and their results are content-addressed.
 */
enum jobs_outcome jobs_enqueue_enhance(struct db *db, const struct enhance_job *job,
				       int max_attempts, long long *id);

#endif
