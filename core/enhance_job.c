/* enhance_job: the enhance job's request (CloudPic): its checks, its payload, its enqueue. */
#include "enhance_job.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool enhance_job_make(const char *key, size_t keylen, const char *target, size_t targetlen,
		      bool strength_given, double strength, long long owner,
		      struct enhance_job *job, struct outcome *o)
{
	char why[OUTCOME_MESSAGE_MAX - 16];
	memset(job, 0, sizeof(*job));
	if (!key_is_valid(key, keylen, why, sizeof(why)))
		return outcome_set(o, OUTCOME_BAD_INPUT, "%s", why);
	memcpy(job->key, key, keylen);
	job->keylen = keylen;
	if (!target) {
		size_t suffix = strlen(ENHANCE_JOB_TARGET_SUFFIX);
		if (keylen + suffix > KEY_MAX_BYTES)
			return outcome_set(o, OUTCOME_BAD_INPUT,
					   "the key is too long for the default target; give a "
					   "target key");
		memcpy(job->target, key, keylen);
		memcpy(job->target + keylen, ENHANCE_JOB_TARGET_SUFFIX, suffix + 1);
		job->targetlen = keylen + suffix;
	} else {
		if (!key_is_valid(target, targetlen, why, sizeof(why)))
			return outcome_set(o, OUTCOME_BAD_INPUT, "target: %s", why);
		memcpy(job->target, target, targetlen);
		job->targetlen = targetlen;
	}
	if (job->targetlen == keylen && memcmp(job->target, key, keylen) == 0)
		return outcome_set(o, OUTCOME_BAD_INPUT,
				   "the target must differ from the image's own key");
	job->strength = strength_given ? strength : ENHANCE_JOB_STRENGTH_DEFAULT;
	if (!isfinite(job->strength) || job->strength < 0 ||
	    job->strength > ENHANCE_JOB_STRENGTH_MAX + 1e-9)
		return outcome_set(o, OUTCOME_BAD_INPUT,
				   "strength must be a number from 0 to 0.30 (0.30 when left out)");
	/* The slack above lets 0.30 written any way in; the image code takes 0.30 at most. */
	if (job->strength > ENHANCE_JOB_STRENGTH_MAX)
		job->strength = ENHANCE_JOB_STRENGTH_MAX;
	job->owner = owner > 0 ? owner : 0;
	return true;
}

char *enhance_job_payload(const struct enhance_job *job)
{
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	if (root && cJSON_AddStringToObject(root, "key", job->key) &&
	    cJSON_AddStringToObject(root, "target", job->target) &&
	    cJSON_AddNumberToObject(root, "strength", job->strength) &&
	    (job->owner ? cJSON_AddNumberToObject(root, "owner", (double)job->owner)
			: cJSON_AddNullToObject(root, "owner")))
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

bool enhance_job_parse(const char *payload, struct enhance_job *job, struct outcome *o)
{
	cJSON *root = cJSON_Parse(payload);
	const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(root, "key"));
	const char *target = cJSON_GetStringValue(cJSON_GetObjectItem(root, "target"));
	cJSON *strength = cJSON_GetObjectItem(root, "strength");
	cJSON *owner = cJSON_GetObjectItem(root, "owner");
	bool ok;
	if (!key || !target || !cJSON_IsNumber(strength) ||
	    (owner && !cJSON_IsNull(owner) && !cJSON_IsNumber(owner)))
		ok = outcome_set(o, OUTCOME_BAD_INPUT,
				 "the payload is not {\"key\",\"target\",\"strength\",\"owner\"}");
	else
		ok = enhance_job_make(key, strlen(key), target, strlen(target), true,
				      strength->valuedouble,
				      cJSON_IsNumber(owner) ? (long long)owner->valuedouble : 0, job,
				      o);
	cJSON_Delete(root);
	return ok;
}

enum jobs_outcome jobs_enqueue_enhance(struct db *db, const struct enhance_job *job,
				       int max_attempts, long long *id)
{
	char *payload = enhance_job_payload(job);
	if (!payload)
		return JOBS_ERROR;
	struct job_request req = {JOB_ENHANCE, payload, NULL, max_attempts};
	enum jobs_outcome outcome = jobs_enqueue(db, &req, id);
	free(payload);
	return outcome;
}
