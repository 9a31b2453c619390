/* form: a POSTed form, urlencoded or multipart, whose "file" field streams to a sink. */
#ifndef GALLERY_FORM_H
#define GALLERY_FORM_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum form_error {
	FORM_OK,
	FORM_MALFORMED,      /* the body is not a well-formed form */
	FORM_FILE_TOO_LARGE, /* the file is over max_file_bytes */
	FORM_FIELD_TOO_LARGE,
	FORM_SINK_REFUSED, /* the sink said stop; it knows why */
};

struct form_sink {
	/* Takes the file's bytes in order; returning false stops the form. */
	bool (*write)(void *ctx, const char *data, size_t len);
	void *ctx;
};

struct form;

/*
 * NULL when the request is not a form (no multipart/form-data or
 * application/x-www-form-urlencoded Content-Type) or memory runs out.
 * sink may be NULL for forms without a file.
 */
struct form *form_create(struct MHD_Connection *conn, uint64_t max_file_bytes,
			 const struct form_sink *sink);
/* Raises (or lowers) the longest text field taken from the default of 4 KB, before the first feed. */
void form_set_field_max(struct form *f, size_t max_bytes);
/* false once the form has failed; form_error() says how. */
bool form_feed(struct form *f, const char *data, size_t len);
/* Call after the last chunk: checks that the body ended where a form ends. */
bool form_finish(struct form *f);
enum form_error form_error(const struct form *f);
const char *form_field_name_too_large(const struct form *f);

/* A text field's value (NUL-terminated, may hold NUL bytes: see len), or NULL. */
const char *form_field(const struct form *f, const char *name, size_t *len);
bool form_has_file(const struct form *f);
uint64_t form_file_bytes(const struct form *f);
void form_destroy(struct form *f);

#endif
