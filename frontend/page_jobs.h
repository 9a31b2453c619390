/* page_jobs: the pages of jobs: the queue, one job (and its retry), calc, and enhance on the image page. */
#ifndef GALLERY_PAGE_JOBS_H
#define GALLERY_PAGE_JOBS_H

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/jobs.h"

struct app;
struct request;

/* GET /jobs */
enum MHD_Result page_jobs(struct app *app, struct request *req);
/* GET /jobs/<id>, POST /jobs/<id>/retry */
enum MHD_Result page_job(struct app *app, struct request *req);
/* GET, POST /calc */
enum MHD_Result page_calc(struct app *app, struct request *req);
/* POST /enhance (the image page's Enhance button): queues, then shows the image page with the job. */
enum MHD_Result page_enhance(struct app *app, struct request *req);

/*
 * A job as the templates show it (the job_live partial): its state, times,
 * error, and the results of calc and enhance; refresh_url is the page to
 * reload for news of it.
 */
cJSON *page_job_json(const struct job *job, const char *refresh_url);
/*
 * For the image page of key: the enhance form's defaults and, when the query
 * names one (?job=N), that enhance job's progress or its before and after.
 */
void page_jobs_add_enhance(struct app *app, struct request *req, cJSON *image, const char *key_url);

#endif
