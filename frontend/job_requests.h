/* job_requests: what the API and the pages share about jobs: submitting calc and enhance, reading one. */
#ifndef GALLERY_JOB_REQUESTS_H
#define GALLERY_JOB_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/jobs.h"
#include "core/outcome.h"

struct app;

/* The default and the largest enhance strength: the seed's "up to 30%". */

/* o says what a queue call's answer means for job id; false unless JOBS_OK or JOBS_DEDUPED. */
bool job_requests_outcome(enum jobs_outcome r, long long id, struct outcome *o);
/* A job id as written in a path: 1 to 19 digits; false otherwise. */
bool job_requests_parse_id(const char *text, size_t len, long long *id);

/*
 * Queues a calc job of the numbers in text (a JSON array, or numbers separated
 * by commas, spaces or newlines): 1 to 10,000 integers within +-(2^53 - 1),
 * else OUTCOME_BAD_INPUT naming the entry, and nothing is queued.
 */
bool job_requests_calc(struct app *app, const char *text, size_t len, long long *id,
		       struct outcome *o);

/* An enhance request as it arrives; NULL fields take their defaults. */
struct enhance_params {
	const char *key; /* the source image's key */
	size_t keylen;
	const char *target; /* NULL or "": "<key> (enhanced)" */
	size_t target_len;
	const char *strength_text; /* from a form; NULL: see strength */
	size_t strength_len;
	bool has_strength; /* strength holds a JSON number */
	double strength;
	long long owner; /* the requester's user id; 0 for none */
};
/*
 * Checks the key (an image must have it: else OUTCOME_NOT_FOUND), the target (a
 * valid key, not the source) and the strength (0 to 0.30), and queues
 * {"key","target","strength","owner":null} as an enhance job.
 */
bool job_requests_enhance(struct app *app, const struct enhance_params *p, long long *id,
			  struct outcome *o);

/* The job of id; OUTCOME_NOT_FOUND when there is none. The caller frees out (job_free). */
bool job_requests_get(struct app *app, long long id, struct job *out, struct outcome *o);

#endif
