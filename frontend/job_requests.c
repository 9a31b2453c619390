/* job_requests: what the API and the pages share about jobs: submitting calc and enhance, reading one. */
#include "job_requests.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/num.h"
#include "core/calc.h"
#include "core/catalog.h"
#include "core/enhance_job.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"


enum { STRENGTH_TEXT_MAX = 16, JOB_ID_DIGITS_MAX = 18 };

bool job_requests_outcome(enum jobs_outcome r, long long id, struct outcome *o)
{
	switch (r) {
	case JOBS_OK:
	case JOBS_DEDUPED:
		o->code = OUTCOME_OK;
		o->message[0] = '\0';
		return true;
	case JOBS_NOT_FOUND:
		return outcome_set(o, OUTCOME_NOT_FOUND, "there is no job %lld", id);
	case JOBS_NOT_DEAD:
		return outcome_set(o, OUTCOME_CONFLICT,
				   "job %lld is not dead; only a dead job can be retried", id);
	case JOBS_UNAVAILABLE:
	case JOBS_CONFLICT:
		return outcome_set(o, OUTCOME_UNAVAILABLE,
				   "the database does not answer; try again in a moment");
	case JOBS_EMPTY:
	case JOBS_LEASE_LOST:
	case JOBS_ERROR:
		break;
	}
	return outcome_set(o, OUTCOME_INTERNAL, "the job queue failed");
}

bool job_requests_parse_id(const char *text, size_t len, long long *id)
{
	uint64_t n;
	/* 18 digits keep every id inside a long long. */
	if (len == 0 || len > JOB_ID_DIGITS_MAX || !num_parse_u64(text, len, UINT64_MAX, &n) || n == 0)
		return false;
	*id = (long long)n;
	return true;
}

static struct db *db_of(struct app *app, struct outcome *o)
{
	struct db *db = catalog_db(app->catalog);
	if (!db)
		outcome_set(o, OUTCOME_UNAVAILABLE, "the database does not answer; try again in a moment");
	return db;
}

static bool enqueue(struct app *app, enum job_kind kind, const char *payload, long long *id,
		    struct outcome *o)
{
	struct db *db = db_of(app, o);
	if (!db)
		return false;
	struct job_request jr = {kind, payload, NULL, (int)app->cfg->job_max_attempts};
	return job_requests_outcome(jobs_enqueue(db, &jr, id), 0, o);
}

bool job_requests_calc(struct app *app, const char *text, size_t len, long long *id,
		       struct outcome *o)
{
	struct calc_input in;
	char why[CALC_ERR_SIZE];
	if (!calc_parse(text ? text : "", text ? len : 0, &in, why))
		return outcome_set(o, OUTCOME_BAD_INPUT, "%s", why);
	/* The worker gets the numbers as it would from a client: a JSON array of integers. */
	struct buf payload = BUF_INIT;
	bool ok = buf_append(&payload, "[", 1);
	for (size_t i = 0; ok && i < in.count; i++)
		ok = buf_printf(&payload, i ? ",%lld" : "%lld", in.values[i]);
	ok = ok && buf_append(&payload, "]", 1);
	calc_input_free(&in);
	if (!ok) {
		buf_free(&payload);
		return outcome_set(o, OUTCOME_INTERNAL, "out of memory");
	}
	ok = enqueue(app, JOB_CALC, payload.data, id, o);
	buf_free(&payload);
	return ok;
}

/* A decimal from 0 to 0.30 written as digits with at most one point ("0.3", ".25", "0"). */
static bool parse_strength(const char *text, size_t len, double *out)
{
	char copy[STRENGTH_TEXT_MAX];
	if (len == 0 || len >= sizeof(copy) || strlen(text) != len)
		return false;
	size_t digits = 0, points = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] >= '0' && text[i] <= '9')
			digits++;
		else if (text[i] == '.')
			points++;
		else
			return false;
	}
	if (digits == 0 || points > 1)
		return false;
	memcpy(copy, text, len);
	copy[len] = '\0';
	*out = strtod(copy, NULL);
	return true;
}

bool job_requests_enhance(struct app *app, const struct enhance_params *p, long long *id,
			  struct outcome *o)
{
	if (!p->key)
		return outcome_set(o, OUTCOME_BAD_INPUT, "give the image's key");
	double strength = ENHANCE_JOB_STRENGTH_DEFAULT;
	bool given = p->has_strength;
	if (given) {
		strength = p->strength;
	} else if (p->strength_text && p->strength_len) {
		given = true;
		if (!parse_strength(p->strength_text, p->strength_len, &strength))
			strength = -1;
	}
	struct enhance_job job;
	const char *target = p->target && p->target_len ? p->target : NULL;
	if (!enhance_job_make(p->key, p->keylen, target, p->target_len, given, strength, p->owner,
			      &job, o))
		return false;
	struct image_row row;
	if (!images_find(app->images, job.key, job.keylen, &row, o))
		return false;
	char *text = enhance_job_payload(&job);
	if (!text)
		return outcome_set(o, OUTCOME_INTERNAL, "out of memory");
	bool ok = enqueue(app, JOB_ENHANCE, text, id, o);
	cJSON_free(text);
	return ok;
}

bool job_requests_get(struct app *app, long long id, struct job *out, struct outcome *o)
{
	memset(out, 0, sizeof(*out));
	struct db *db = db_of(app, o);
	return db && job_requests_outcome(jobs_get(db, id, out), id, o);
}
