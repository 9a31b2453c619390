/* api_jobs: the JSON API of jobs: calc and enhance requests, a job (waiting for it), its log, lists, retry. */
#include "api_jobs.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/http.h"
#include "common/num.h"
#include "core/blob.h"
#include "core/catalog.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/form.h"
#include "frontend/job_requests.h"
#include "frontend/job_wait.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum {
	JOBS_PER_PAGE = 50,
	PAGE_MAX = 1000000,
	MS_PER_S = 1000,
};

static const char NUMBERS_SHAPE[] =
	"send {\"numbers\":[...]} as JSON, or the form field numbers (separated by commas, "
	"spaces or newlines)";

/* {"success":"true","job":{...}} with status. */
static enum MHD_Result reply_job(struct app *app, struct request *req, unsigned status,
				 const struct job *job)
{
	cJSON *root = http_success_object();
	cJSON *obj = job_to_json(job);
	if (!root || !obj || !cJSON_AddItemToObject(root, "job", obj)) {
		cJSON_Delete(root);
		cJSON_Delete(obj);
		return reply_error(app, req, 500, "out of memory");
	}
	return reply_json(req, status, root);
}

/* Answers the job just queued (or why it was not). */
static enum MHD_Result reply_queued(struct app *app, struct request *req, bool queued,
				    long long id, struct outcome *o)
{
	struct job job;
	if (!queued || !job_requests_get(app, id, &job, o))
		return reply_outcome(app, req, o);
	enum MHD_Result ret = reply_job(app, req, MHD_HTTP_ACCEPTED, &job);
	job_free(&job);
	return ret;
}

static const char *skip_space(const char *at, const char *end)
{
	while (at < end && (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r'))
		at++;
	return at;
}

/* Past the JSON string that starts at at (a '"'). */
static const char *skip_string(const char *at, const char *end)
{
	for (at++; at < end && *at != '"'; at++)
		if (*at == '\\')
			at++;
	return at < end ? at + 1 : end;
}

/* Past the JSON value that starts at at, in a text that cJSON has already found well-formed. */
static const char *skip_value(const char *at, const char *end)
{
	if (*at == '"')
		return skip_string(at, end);
	if (*at != '[' && *at != '{') {
		while (at < end && !strchr(",]} \t\r\n", *at))
			at++;
		return at;
	}
	int depth = 0;
	while (at < end) {
		if (*at == '"') {
			at = skip_string(at, end);
			continue;
		}
		if (*at == '[' || *at == '{')
			depth++;
		else if ((*at == ']' || *at == '}') && --depth == 0)
			return at + 1;
		at++;
	}
	return end;
}

/*
 * The text of the top-level member name of a JSON object, so that calc_parse
 * reads its numbers as written: cJSON would have turned each into a double.
 */
static bool member_text(const char *json, size_t len, const char *name, const char **value,
			size_t *value_len)
{
	const char *at = json, *end = json + len;
	at = skip_space(at, end);
	if (at == end || *at++ != '{')
		return false;
	size_t name_len = strlen(name);
	for (;;) {
		at = skip_space(at, end);
		if (at == end || *at != '"')
			return false;
		const char *key = at + 1, *key_end = skip_string(at, end);
		at = skip_space(key_end, end);
		if (at == end || *at++ != ':')
			return false;
		at = skip_space(at, end);
		if (at == end)
			return false;
		const char *v = at;
		at = skip_value(at, end);
		if ((size_t)(key_end - 1 - key) == name_len && memcmp(key, name, name_len) == 0) {
			*value = v;
			*value_len = (size_t)(at - v);
			return true;
		}
		at = skip_space(at, end);
		if (at == end || *at++ != ',')
			return false;
	}
}

enum MHD_Result api_calc(struct app *app, struct request *req)
{
	struct outcome o;
	const char *text = NULL;
	size_t len = 0;
	if (req->has_json) {
		cJSON *body = cJSON_ParseWithLength(req->json.buf.data, req->json.buf.len);
		cJSON *numbers = cJSON_GetObjectItemCaseSensitive(body, "numbers");
		bool shaped = cJSON_IsObject(body) && cJSON_IsArray(numbers);
		cJSON_Delete(body);
		if (!shaped || !member_text(req->json.buf.data, req->json.buf.len, "numbers", &text,
					    &len))
			return reply_error(app, req, 400, NUMBERS_SHAPE);
	} else if (req->form) {
		text = form_field(req->form, "numbers", &len);
	}
	if (!text)
		return reply_error(app, req, 400, NUMBERS_SHAPE);
	long long id = 0;
	bool queued = job_requests_calc(app, text, len, &id, &o);
	return reply_queued(app, req, queued, id, &o);
}

/* The enhance parameters of a JSON body; false when it is not a JSON object of them. */
static bool json_params(cJSON *body, struct enhance_params *p, struct outcome *o)
{
	if (!cJSON_IsObject(body))
		return outcome_set(o, OUTCOME_BAD_INPUT,
				   "send a JSON object with target and strength, a form, or nothing");
	cJSON *target = cJSON_GetObjectItemCaseSensitive(body, "target");
	cJSON *strength = cJSON_GetObjectItemCaseSensitive(body, "strength");
	if (target && !cJSON_IsNull(target)) {
		if (!cJSON_IsString(target))
			return outcome_set(o, OUTCOME_BAD_INPUT, "target must be a key (a string)");
		p->target = target->valuestring;
		p->target_len = strlen(target->valuestring);
	}
	if (strength && !cJSON_IsNull(strength)) {
		p->has_strength = true;
		/* Anything but a number is out of range, and refused as such. */
		p->strength = cJSON_IsNumber(strength) ? strength->valuedouble : -1;
	}
	return true;
}

enum MHD_Result api_enhance(struct app *app, struct request *req)
{
	struct outcome o;
	struct enhance_params p = {.key = req->path_arg, .keylen = strlen(req->path_arg)};
	/* The result belongs to whoever asked for it. */
	p.owner = req->logged_in ? req->user.user_id : 0;
	cJSON *body = NULL;
	if (req->has_json) {
		body = cJSON_ParseWithLength(req->json.buf.data, req->json.buf.len);
		if (!json_params(body, &p, &o)) {
			cJSON_Delete(body);
			return reply_outcome(app, req, &o);
		}
	} else if (req->form) {
		p.target = form_field(req->form, "target", &p.target_len);
		p.strength_text = form_field(req->form, "strength", &p.strength_len);
	}
	long long id = 0;
	bool queued = job_requests_enhance(app, &p, &id, &o);
	cJSON_Delete(body);
	return reply_queued(app, req, queued, id, &o);
}

/* An optional query argument: absent or "" leaves *set false. */
static bool list_filter(struct request *req, struct jobs_filter *f, struct problem *p)
{
	const char *state = request_arg(req, "state"), *kind = request_arg(req, "kind");
	const char *page = request_arg(req, "page");
	f->page = 1;
	f->per_page = JOBS_PER_PAGE;
	if (state && *state && !(f->by_state = jobs_state_parse(state, &f->state)))
		return problem_set(p, 400, "state must be queued, running, done or dead");
	if (kind && *kind && !(f->by_kind = jobs_kind_parse(kind, &f->kind)))
		return problem_set(p, 400, "kind must be thumbnail, enhance, calc or mail");
	if (page && *page && !num_parse_whole(page, strlen(page), 1, PAGE_MAX, &f->page))
		return problem_set(p, 400, "page must be a whole number from 1 to %d", PAGE_MAX);
	return true;
}

enum MHD_Result api_jobs_list(struct app *app, struct request *req)
{
	struct jobs_filter f = {0};
	struct problem p;
	if (!list_filter(req, &f, &p))
		return reply_problem(app, req, &p);
	struct outcome o;
	struct db *db = catalog_db(app->catalog);
	struct job *jobs = NULL;
	size_t count = 0;
	bool more = false;
	if (!job_requests_outcome(db ? jobs_list(db, &f, &jobs, &count, &more) : JOBS_UNAVAILABLE,
				  0, &o))
		return reply_outcome(app, req, &o);
	cJSON *root = http_success_object();
	cJSON *list = cJSON_AddArrayToObject(root, "jobs");
	bool ok = list != NULL;
	for (size_t i = 0; ok && i < count; i++)
		ok = cJSON_AddItemToArray(list, job_to_json(&jobs[i]));
	jobs_free_list(jobs, count);
	ok = ok && cJSON_AddNumberToObject(root, "page", (double)f.page) &&
	     cJSON_AddBoolToObject(root, "more", more);
	if (!ok) {
		cJSON_Delete(root);
		return reply_error(app, req, 500, "out of memory");
	}
	return reply_json(req, MHD_HTTP_OK, root);
}

/* GET /api/jobs/<id>, waiting first when ?wait=S asks and the job is still to finish. */
static enum MHD_Result get_job(struct app *app, struct request *req, long long id)
{
	const char *wait = request_arg(req, "wait");
	long wait_s = 0;
	if (wait && !num_parse_whole(wait, strlen(wait), 0, JOB_WAIT_MAX_S, &wait_s))
		return reply_error(app, req, 400, "wait must be a whole number of seconds from 0 to 20");
	struct job job;
	struct outcome o;
	if (!job_requests_get(app, id, &job, &o))
		return reply_outcome(app, req, &o);
	bool finished = job.state == JOB_DONE || job.state == JOB_DEAD;
	if (!finished && wait_s > 0 && !req->resumed &&
	    job_wait_add(app->waits, req->conn, id, (int64_t)wait_s * MS_PER_S)) {
		job_free(&job);
		/* libmicrohttpd calls the handler again once the waiter resumes the request. */
		req->resumed = true;
		req->answered = false;
		return MHD_YES;
	}
	enum MHD_Result ret = reply_job(app, req, MHD_HTTP_OK, &job);
	job_free(&job);
	return ret;
}

static enum MHD_Result get_log(struct app *app, struct request *req, long long id)
{
	struct job job;
	struct outcome o;
	if (!job_requests_get(app, id, &job, &o))
		return reply_outcome(app, req, &o);
	cJSON *result = job.result ? cJSON_Parse(job.result) : NULL;
	cJSON *sha = cJSON_GetObjectItemCaseSensitive(result, "log_sha256");
	char name[BLOB_NAME_MAX] = "";
	if (cJSON_IsString(sha) && strlen(sha->valuestring) == BLOB_SHA256_HEX - 1)
		snprintf(name, sizeof(name), "%.2s/%s.txt", sha->valuestring, sha->valuestring);
	cJSON_Delete(result);
	struct blob_ref ref;
	enum job_kind kind = job.kind;
	enum job_state state = job.state;
	job_free(&job);
	if (kind != JOB_CALC)
		return reply_error(app, req, 404, "only calc jobs have a log");
	if (!*name || !blob_ref_parse(BLOB_LOG, name, &ref)) {
		char message[128];
		snprintf(message, sizeof(message), "job %lld has no log yet: it is %s", id,
			 jobs_state_name(state));
		return reply_error(app, req, 404, message);
	}
	struct buf text = BUF_INIT;
	char err[BLOB_ERR_MAX];
	enum blob_status bs = blob_get(app->blobs, &ref, &text, err, sizeof(err));
	if (bs != BLOB_OK) {
		buf_free(&text);
		return reply_error(app, req, bs == BLOB_NOT_FOUND ? 404 : 500,
				   bs == BLOB_NOT_FOUND ? "the job's log file is missing"
							: "the log could not be read");
	}
	struct MHD_Response *r = http_response_buf(&text, "text/plain; charset=utf-8");
	buf_free(&text);
	return http_queue(req->conn, MHD_HTTP_OK, r);
}

static enum MHD_Result retry_job(struct app *app, struct request *req, long long id)
{
	/* Running a dead job again is the admin's call once there is an admin. */
	struct problem p;
	if (!auth_admin_ok(app, req, &p))
		return reply_problem(app, req, &p);
	struct outcome o;
	struct db *db = catalog_db(app->catalog);
	if (!job_requests_outcome(db ? jobs_retry(db, id, (int)app->cfg->job_max_attempts)
				     : JOBS_UNAVAILABLE,
				  id, &o))
		return reply_outcome(app, req, &o);
	struct job job;
	if (!job_requests_get(app, id, &job, &o))
		return reply_outcome(app, req, &o);
	enum MHD_Result ret = reply_job(app, req, MHD_HTTP_OK, &job);
	job_free(&job);
	return ret;
}

enum MHD_Result api_job(struct app *app, struct request *req)
{
	const char *arg = req->path_arg;
	const char *slash = strchr(arg, '/');
	size_t id_len = slash ? (size_t)(slash - arg) : strlen(arg);
	const char *rest = slash ? slash + 1 : "";
	long long id;
	bool is_log = strcmp(rest, "log") == 0, is_retry = strcmp(rest, "retry") == 0;
	if (!job_requests_parse_id(arg, id_len, &id) || (slash && !is_log && !is_retry))
		return reply_error(app, req, 404, "there is no such job");
	req->allow = is_retry ? "POST" : "GET, HEAD";
	if (request_is_post(req) != is_retry) {
		struct problem p;
		problem_set(&p, 405, "this path takes only %s", req->allow);
		return reply_problem(app, req, &p);
	}
	if (is_retry)
		return retry_job(app, req, id);
	return is_log ? get_log(app, req, id) : get_job(app, req, id);
}
