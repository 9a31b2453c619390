/* upload: the step the upload page and POST /api/upload share: the form's key and file, stored. */
#include "upload.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "core/catalog.h"
#include "core/captions.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/app.h"
#include "frontend/form.h"
#include "frontend/offload.h"
#include "frontend/request.h"

/* An upload's durable steps, run on an upload thread; one block, freed with the request. */
struct upload_pending {
	struct offload_task task;
	struct images_upload *upload;
	const char *key; /* the form's, which outlives the task */
	size_t keylen;
	/* The outcome: */
	bool stored;
	struct image_row row;
	struct outcome outcome;
};

static void commit_run(void *ctx)
{
	struct upload_pending *u = ctx;
	u->stored = images_upload_commit(u->upload, u->key, u->keylen, &u->row, &u->outcome);
	u->upload = NULL; /* freed by the commit whatever the outcome */
}

void upload_pending_free(struct upload_pending *pending)
{
	if (!pending)
		return;
	images_upload_abort(pending->upload);
	free(pending);
}

/* The second call: how the durable steps went. */
static enum upload_result upload_answer(struct request *req, struct image_row *row,
					struct problem *p)
{
	struct upload_pending *u = req->upload_pending;
	if (!atomic_load(&u->task.finished)) {
		/* Resumed by something other than its task: it may still be running. */
		problem_set(p, 503, "the upload is still being stored; read the key to see");
		return UPLOAD_REFUSED;
	}
	if (!u->stored) {
		problem_from_outcome(p, &u->outcome);
		return UPLOAD_REFUSED;
	}
	*row = u->row;
	return UPLOAD_STORED;
}

/* The checked key of an upload form; false with p filled. */
static bool form_key(const struct request *req, const char **key, size_t *len, struct problem *p)
{
	*key = form_field(req->form, "key", len);
	if (!*key)
		return problem_set(p, 400, "the form has no 'key' field; give the image a key");
	char err[PROBLEM_MESSAGE_MAX];
	if (!key_is_valid(*key, *len, err, sizeof(err)))
		return problem_set(p, 400, "%s", err);
	return true;
}

static bool only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

enum upload_result upload_from_form(struct app *app, struct request *req, bool blank_keeps,
				    struct image_row *row, struct problem *p)
{
	if (req->upload_pending)
		return upload_answer(req, row, p);
	const char *key;
	size_t keylen;
	if (!form_key(req, &key, &keylen, p))
		return UPLOAD_REFUSED;
	size_t caplen = 0;
	const char *caption = form_field(req->form, "caption", &caplen);
	if (caption && blank_keeps && only_space(caption, caplen))
		caption = NULL;
	char err[PROBLEM_MESSAGE_MAX];
	if (caption && !captions_check(caption, caplen, err, sizeof(err))) {
		problem_set(p, 400, "%s", err);
		return UPLOAD_REFUSED;
	}
	if (!form_has_file(req->form) || form_file_bytes(req->form) == 0) {
		problem_set(p, 400, form_has_file(req->form)
					    ? "the file is empty; choose an image file"
					    : "the form has no 'file' field; attach an image");
		return UPLOAD_REFUSED;
	}
	struct upload_pending *u = calloc(1, sizeof(*u));
	if (!u) {
		problem_set(p, 500, "out of memory");
		return UPLOAD_REFUSED;
	}
	u->upload = req->upload;
	req->upload = NULL;
	images_upload_set_owner(u->upload, req->logged_in ? req->user.user_id : 0);
	if (caption)
		images_upload_set_caption(u->upload, caption, caplen);
	u->key = key;
	u->keylen = keylen;
	u->task = (struct offload_task){.run = commit_run, .ctx = u, .conn = req->conn};
	req->upload_pending = u;
	/* libmicrohttpd calls the handler again once the steps ran: see upload_answer. */
	req->answered = false;
	offload_submit(app->uploads, &u->task);
	return UPLOAD_WAITING;
}

