/* api_jobs: the JSON API of jobs: calc and enhance requests, a job (waiting for it), its log, lists, retry. */
#ifndef GALLERY_API_JOBS_H
#define GALLERY_API_JOBS_H

#include <microhttpd.h>

struct app;
struct request;

/* POST /api/calc */
enum MHD_Result api_calc(struct app *app, struct request *req);
/* POST /api/enhance/<key> */
enum MHD_Result api_enhance(struct app *app, struct request *req);
/* GET /api/jobs?state=&kind=&page= */
enum MHD_Result api_jobs_list(struct app *app, struct request *req);
/* GET /api/jobs/<id>[?wait=S], GET /api/jobs/<id>/log, POST /api/jobs/<id>/retry */
enum MHD_Result api_job(struct app *app, struct request *req);

#endif
