/* page_jobs: the pages of jobs: the queue, one job (and its retry), calc, and enhance on the image page. */
#include "page_jobs.h"

#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/url.h"
#include "core/catalog.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/form.h"
#include "core/enhance_job.h"
#include "frontend/job_requests.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum {
	RECENT_JOBS = 50,
	URL_MAX = 3 * KEY_MAX_BYTES + 64,
	MS_PER_S = 1000,
};

/* "850 ms", "3.2 s", "4 min 10 s". */
static void human_ms(int64_t ms, char *out, size_t size)
{
	if (ms < 0)
		ms = 0;
	if (ms < MS_PER_S)
		snprintf(out, size, "%lld ms", (long long)ms);
	else if (ms < 60 * MS_PER_S)
		snprintf(out, size, "%.1f s", ms / 1000.0);
	else
		snprintf(out, size, "%lld min %lld s", (long long)(ms / 60000),
			 (long long)(ms / 1000 % 60));
}

static void add_time(cJSON *obj, const char *name, int64_t unix_ms)
{
	char text[CLOCK_ISO_SIZE] = "";
	if (unix_ms)
		clock_iso8601(unix_ms, text);
	cJSON_AddStringToObject(obj, name, text);
}

static void add_duration(cJSON *obj, const char *name, int64_t from, int64_t to)
{
	char text[32] = "";
	if (from && to)
		human_ms(to - from, text, sizeof(text));
	cJSON_AddStringToObject(obj, name, text);
}

/* A number of the result as text, or "" when it has none. */
static void copy_field(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);
	char text[64] = "";
	if (cJSON_IsString(v))
		snprintf(text, sizeof(text), "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(text, sizeof(text), "%.17g", v->valuedouble);
	cJSON_AddStringToObject(to, name, text);
}

static cJSON *calc_view(const cJSON *result)
{
	cJSON *calc = cJSON_CreateObject();
	static const char *const FIELDS[] = {"count", "min", "max", "sum", "mean", "median"};
	for (size_t i = 0; calc && i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++)
		copy_field(calc, result, FIELDS[i]);
	return calc;
}

static cJSON *measures_view(const cJSON *m)
{
	cJSON *view = cJSON_CreateObject();
	const char *const names[] = {"rms_contrast", "sharpness", "clipped"};
	for (size_t i = 0; view && i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, names[i]);
		char text[32] = "";
		if (cJSON_IsNumber(v))
			snprintf(text, sizeof(text), "%.4g", v->valuedouble);
		cJSON_AddStringToObject(view, names[i], text);
	}
	return view;
}

static cJSON *enhance_view(const cJSON *result, const char *payload)
{
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(result, "target");
	cJSON *source = cJSON_Parse(payload);
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(source, "key");
	cJSON *view = NULL;
	if (cJSON_IsString(target) && cJSON_IsString(key) && (view = cJSON_CreateObject())) {
		char url[URL_MAX];
		cJSON_AddStringToObject(view, "source", key->valuestring);
		url_encode(key->valuestring, strlen(key->valuestring), url, sizeof(url));
		cJSON_AddStringToObject(view, "source_url", url);
		cJSON_AddStringToObject(view, "target", target->valuestring);
		url_encode(target->valuestring, strlen(target->valuestring), url, sizeof(url));
		cJSON_AddStringToObject(view, "target_url", url);
		cJSON_AddItemToObject(view, "before", measures_view(cJSON_GetObjectItemCaseSensitive(
							      result, "before")));
		cJSON_AddItemToObject(view, "after", measures_view(cJSON_GetObjectItemCaseSensitive(
							     result, "after")));
	}
	cJSON_Delete(source);
	return view;
}

cJSON *page_job_json(const struct job *job, const char *refresh_url)
{
	cJSON *obj = cJSON_CreateObject();
	if (!obj)
		return NULL;
	cJSON_AddNumberToObject(obj, "id", (double)job->id);
	cJSON_AddStringToObject(obj, "kind", jobs_kind_name(job->kind));
	cJSON_AddStringToObject(obj, "state", jobs_state_name(job->state));
	cJSON_AddNumberToObject(obj, "attempts", job->attempts);
	add_time(obj, "created_at", job->created_at);
	add_time(obj, "started_at", job->started_at);
	add_time(obj, "finished_at", job->finished_at);
	add_duration(obj, "waited", job->created_at, job->started_at);
	add_duration(obj, "ran", job->started_at, job->finished_at);
	cJSON_AddBoolToObject(obj, "live", job->state == JOB_QUEUED || job->state == JOB_RUNNING);
	cJSON_AddBoolToObject(obj, "dead", job->state == JOB_DEAD);
	cJSON_AddStringToObject(obj, "refresh_url", refresh_url);
	if (job->error)
		cJSON_AddStringToObject(obj, "job_error", job->error);
	else
		cJSON_AddNullToObject(obj, "job_error");
	cJSON *result = job->result ? cJSON_Parse(job->result) : NULL;
	char *pretty = result ? cJSON_Print(result) : NULL;
	cJSON_AddStringToObject(obj, "result_text", pretty ? pretty : "");
	cJSON_free(pretty);
	if (result && job->state == JOB_DONE && job->kind == JOB_CALC)
		cJSON_AddItemToObject(obj, "calc", calc_view(result));
	if (result && job->state == JOB_DONE && job->kind == JOB_ENHANCE)
		cJSON_AddItemToObject(obj, "enhanced", enhance_view(result, job->payload));
	cJSON_Delete(result);
	return obj;
}

static void add_stats(struct db *db, cJSON *data)
{
	struct jobs_stats st;
	if (!db || jobs_stats(db, &st) != JOBS_OK) {
		page_message(data, false, "The database does not answer; try again in a moment.");
		return;
	}
	cJSON *stats = cJSON_AddObjectToObject(data, "stats");
	cJSON_AddNumberToObject(stats, "queued", (double)st.queued);
	cJSON_AddNumberToObject(stats, "running", (double)st.running);
	cJSON_AddNumberToObject(stats, "done", (double)st.done);
	cJSON_AddNumberToObject(stats, "dead", (double)st.dead);
	char age[32] = "none queued";
	if (st.queued)
		human_ms(st.oldest_queued_age_ms, age, sizeof(age));
	cJSON_AddStringToObject(stats, "oldest_queued", age);
}

enum MHD_Result page_jobs(struct app *app, struct request *req)
{
	cJSON *data = page_data("Jobs", "jobs");
	struct db *db = catalog_db(app->catalog);
	add_stats(db, data);
	cJSON *list = cJSON_AddArrayToObject(data, "jobs");
	struct jobs_filter f = {.page = 1, .per_page = RECENT_JOBS};
	struct job *jobs = NULL;
	size_t count = 0;
	bool more = false;
	if (db && jobs_list(db, &f, &jobs, &count, &more) == JOBS_OK) {
		for (size_t i = 0; i < count; i++) {
			char url[32];
			snprintf(url, sizeof(url), "/jobs/%lld", jobs[i].id);
			cJSON_AddItemToArray(list, page_job_json(&jobs[i], url));
		}
	}
	jobs_free_list(jobs, count);
	cJSON_AddBoolToObject(data, "has_jobs", count > 0);
	return reply_page(app, req, MHD_HTTP_OK, "jobs", data);
}

enum MHD_Result page_job(struct app *app, struct request *req)
{
	const char *arg = req->path_arg, *slash = strchr(arg, '/');
	size_t id_len = slash ? (size_t)(slash - arg) : strlen(arg);
	bool retry = slash && strcmp(slash, "/retry") == 0;
	long long id;
	if (!job_requests_parse_id(arg, id_len, &id) || (slash && !retry))
		return reply_error(app, req, 404, "there is no such job");
	if (request_is_post(req) != retry) {
		req->allow = retry ? "POST" : "GET, HEAD";
		struct problem p;
		problem_set(&p, 405, "this path takes only %s", req->allow);
		return reply_problem(app, req, &p);
	}
	char url[64];
	snprintf(url, sizeof(url), "/jobs/%lld", id);
	cJSON *data = page_data("Job", "jobs");
	unsigned status = MHD_HTTP_OK;
	struct outcome o;
	struct db *db = catalog_db(app->catalog);
	if (req->problem.status) {
		status = req->problem.status;
		page_message(data, false, req->problem.message);
	} else if (retry && !auth_admin_ok(app, req, &req->problem)) {
		/* Running a dead job again is the admin's call once there is an admin. */
		status = req->problem.status;
		page_message(data, false, req->problem.message);
	} else if (retry) {
		if (job_requests_outcome(db ? jobs_retry(db, id, (int)app->cfg->job_max_attempts)
					    : JOBS_UNAVAILABLE,
					 id, &o)) {
			cJSON_Delete(data);
			return reply_redirect(req, url);
		}
		status = problem_status_of(o.code);
		page_message(data, false, o.message);
	}
	struct job job;
	if (!job_requests_get(app, id, &job, &o)) {
		cJSON_Delete(data);
		return reply_outcome(app, req, &o);
	}
	char title[48];
	snprintf(title, sizeof(title), "Job %lld", id);
	cJSON_ReplaceItemInObject(data, "title", cJSON_CreateString(title));
	cJSON_AddItemToObject(data, "job", page_job_json(&job, url));
	job_free(&job);
	return reply_page(app, req, status, "job", data);
}

enum MHD_Result page_calc(struct app *app, struct request *req)
{
	cJSON *data = page_data("CloudCal", "calc");
	size_t len = 0;
	const char *numbers = req->form ? form_field(req->form, "numbers", &len) : NULL;
	cJSON_AddStringToObject(data, "numbers", numbers ? numbers : "");
	struct outcome o;
	long long id = 0;
	if (request_is_post(req)) {
		unsigned status = req->problem.status;
		if (status)
			page_message(data, false, req->problem.message);
		else if (req->has_json || !req->form)
			status = MHD_HTTP_BAD_REQUEST,
			page_message(data, false, "Send the form of this page.");
		else if (!job_requests_calc(app, numbers, len, &id, &o))
			status = problem_status_of(o.code), page_message(data, false, o.message);
		if (status)
			return reply_page(app, req, status, "calc", data);
		char url[64];
		snprintf(url, sizeof(url), "/calc?job=%lld", id);
		cJSON_Delete(data);
		return reply_redirect(req, url);
	}
	const char *job_text = request_arg(req, "job");
	if (job_text) {
		struct job job;
		if (!job_requests_parse_id(job_text, strlen(job_text), &id) ||
		    !job_requests_get(app, id, &job, &o)) {
			page_message(data, false, "There is no such job.");
			return reply_page(app, req, MHD_HTTP_NOT_FOUND, "calc", data);
		}
		char url[64];
		snprintf(url, sizeof(url), "/calc?job=%lld", id);
		cJSON_AddItemToObject(data, "job", page_job_json(&job, url));
		job_free(&job);
	}
	return reply_page(app, req, MHD_HTTP_OK, "calc", data);
}

enum MHD_Result page_enhance(struct app *app, struct request *req)
{
	if (req->problem.status)
		return reply_problem(app, req, &req->problem);
	struct enhance_params p = {0};
	p.key = form_field(req->form, "key", &p.keylen);
	p.target = form_field(req->form, "target", &p.target_len);
	p.strength_text = form_field(req->form, "strength", &p.strength_len);
	p.owner = req->logged_in ? req->user.user_id : 0;
	struct outcome o;
	long long id;
	if (!job_requests_enhance(app, &p, &id, &o))
		return reply_outcome(app, req, &o);
	char key_url[PAGE_KEY_URL_MAX], url[PAGE_KEY_URL_MAX + 64];
	url_encode(p.key, p.keylen, key_url, sizeof(key_url));
	snprintf(url, sizeof(url), "/image?key=%s&job=%lld", key_url, id);
	return reply_redirect(req, url);
}

void page_jobs_add_enhance(struct app *app, struct request *req, cJSON *image, const char *key_url)
{
	char strength[16];
	snprintf(strength, sizeof(strength), "%.2f", ENHANCE_JOB_STRENGTH_DEFAULT);
	cJSON_AddStringToObject(image, "default_strength", strength);
	const char *job_text = request_arg(req, "job");
	long long id;
	struct job job;
	struct outcome o;
	if (!job_text || !job_requests_parse_id(job_text, strlen(job_text), &id) ||
	    !job_requests_get(app, id, &job, &o))
		return;
	if (job.kind == JOB_ENHANCE) {
		char url[PAGE_KEY_URL_MAX + 64];
		snprintf(url, sizeof(url), "/image?key=%s&job=%lld", key_url, id);
		cJSON_AddItemToObject(image, "enhance_job", page_job_json(&job, url));
	}
	job_free(&job);
}
