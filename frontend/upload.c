/* upload: the step the upload page and POST /api/upload share: the form's key and file, stored. */
#include "upload.h"

#include "core/captions.h"
#include "core/images.h"
#include "core/key.h"
#include "frontend/form.h"
#include "frontend/request.h"

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

bool upload_from_form(struct request *req, bool blank_keeps, struct image_row *row,
		      struct problem *p)
{
	const char *key;
	size_t keylen;
	if (!form_key(req, &key, &keylen, p))
		return false;
	size_t caplen = 0;
	const char *caption = form_field(req->form, "caption", &caplen);
	if (caption && blank_keeps && only_space(caption, caplen))
		caption = NULL;
	char err[PROBLEM_MESSAGE_MAX];
	if (caption && !captions_check(caption, caplen, err, sizeof(err)))
		return problem_set(p, 400, "%s", err);
	if (!form_has_file(req->form) || form_file_bytes(req->form) == 0)
		return problem_set(p, 400, form_has_file(req->form)
						   ? "the file is empty; choose an image file"
						   : "the form has no 'file' field; attach an image");
	struct images_upload *upload = req->upload;
	req->upload = NULL;
	images_upload_set_owner(upload, req->logged_in ? req->user.user_id : 0);
	if (caption)
		images_upload_set_caption(upload, caption, caplen);
	struct outcome o;
	if (images_upload_commit(upload, key, keylen, row, &o))
		return true;
	problem_from_outcome(p, &o);
	return false;
}

