/* form: a POSTed form, urlencoded or multipart, whose "file" field streams to a sink. */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

enum {
	FORM_MAX_FIELDS = 16,
	FORM_FIELD_MAX_BYTES = 4096,
	FORM_NAME_MAX = 64,
	/* libmicrohttpd's parse buffer; a larger one means fewer sink calls. */
	FORM_PARSE_BUFFER = 64 * 1024,
};

static const char FILE_FIELD[] = "file";

struct field {
	char name[FORM_NAME_MAX];
	struct buf value;
};

struct form {
	struct MHD_PostProcessor *parser;
	struct form_sink sink;
	uint64_t max_file_bytes;
	uint64_t file_bytes;
	size_t field_max_bytes;
	bool has_file;
	enum form_error error;
	char too_large_field[FORM_NAME_MAX];
	struct field fields[FORM_MAX_FIELDS];
	unsigned nfields;
};

static struct field *field_named(struct form *f, const char *name)
{
	for (unsigned i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	if (f->nfields == FORM_MAX_FIELDS || strlen(name) >= FORM_NAME_MAX)
		return NULL;
	struct field *field = &f->fields[f->nfields++];
	snprintf(field->name, sizeof(field->name), "%s", name);
	buf_append(&field->value, "", 0);
	return field;
}

static enum MHD_Result take_file(struct form *f, const char *data, size_t size)
{
	f->has_file = true;
	if (size > f->max_file_bytes - f->file_bytes) {
		f->error = FORM_FILE_TOO_LARGE;
		return MHD_NO;
	}
	f->file_bytes += size;
	if (size && f->sink.write && !f->sink.write(f->sink.ctx, data, size)) {
		f->error = FORM_SINK_REFUSED;
		return MHD_NO;
	}
	return MHD_YES;
}

static enum MHD_Result take_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *filename, const char *content_type,
				  const char *transfer_encoding, const char *data, uint64_t off,
				  size_t size)
{
	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding, (void)off;
	struct form *f = cls;
	if (!key)
		return MHD_YES;
	if (strcmp(key, FILE_FIELD) == 0)
		return take_file(f, data, size);
	struct field *field = field_named(f, key);
	if (!field) {
		f->error = FORM_MALFORMED;
		return MHD_NO;
	}
	if (field->value.len + size > f->field_max_bytes) {
		f->error = FORM_FIELD_TOO_LARGE;
		snprintf(f->too_large_field, sizeof(f->too_large_field), "%s", key);
		return MHD_NO;
	}
	return buf_append(&field->value, data, size) ? MHD_YES : MHD_NO;
}

struct form *form_create(struct MHD_Connection *conn, uint64_t max_file_bytes,
			 const struct form_sink *sink)
{
	struct form *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->max_file_bytes = max_file_bytes;
	f->field_max_bytes = FORM_FIELD_MAX_BYTES;
	if (sink)
		f->sink = *sink;
	f->parser = MHD_create_post_processor(conn, FORM_PARSE_BUFFER, take_field, f);
	if (!f->parser) {
		free(f);
		return NULL;
	}
	return f;
}

void form_set_field_max(struct form *f, size_t max_bytes)
{
	f->field_max_bytes = max_bytes;
}

bool form_feed(struct form *f, const char *data, size_t len)
{
	if (f->error != FORM_OK)
		return false;
	if (MHD_post_process(f->parser, data, len) == MHD_YES)
		return true;
	if (f->error == FORM_OK)
		f->error = FORM_MALFORMED;
	return false;
}

bool form_finish(struct form *f)
{
	if (f->parser) {
		/* MHD_NO here means the body stopped inside a field or before the last boundary. */
		if (MHD_destroy_post_processor(f->parser) != MHD_YES && f->error == FORM_OK)
			f->error = FORM_MALFORMED;
		f->parser = NULL;
	}
	return f->error == FORM_OK;
}

enum form_error form_error(const struct form *f)
{
	return f->error;
}

const char *form_field_name_too_large(const struct form *f)
{
	return f->too_large_field;
}

const char *form_field(const struct form *f, const char *name, size_t *len)
{
	for (unsigned i = 0; i < f->nfields; i++) {
		if (strcmp(f->fields[i].name, name) == 0) {
			if (len)
				*len = f->fields[i].value.len;
			return f->fields[i].value.data;
		}
	}
	return NULL;
}

bool form_has_file(const struct form *f)
{
	return f->has_file;
}

uint64_t form_file_bytes(const struct form *f)
{
	return f->file_bytes;
}

void form_destroy(struct form *f)
{
	if (!f)
		return;
	if (f->parser)
		MHD_destroy_post_processor(f->parser);
	for (unsigned i = 0; i < f->nfields; i++)
		buf_free(&f->fields[i].value);
	free(f);
}
