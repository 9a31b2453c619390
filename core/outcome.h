/* outcome: how a core call ended, in the domain's words, with a message for a person. */
#ifndef GALLERY_OUTCOME_H
#define GALLERY_OUTCOME_H

#include <stdbool.h>

/* Core never speaks HTTP: each front end (or the worker) maps these to its own answers. */
enum outcome_code {
	OUTCOME_OK,
	OUTCOME_BAD_INPUT,    /* the caller's input breaks a rule the message states */
	OUTCOME_NOT_FOUND,    /* no such thing, e.g. no image with that key */
	OUTCOME_FORBIDDEN,    /* not this caller's to do */
	OUTCOME_CONFLICT,     /* the state changed under the caller; try again */
	OUTCOME_TOO_LARGE,    /* over a size limit */
	OUTCOME_NOT_AN_IMAGE, /* bytes of no image type we take */
	OUTCOME_UNAVAILABLE,  /* the database (or another service) does not answer */
	OUTCOME_DISK_FULL,    /* the blob store has no room */
	OUTCOME_INTERNAL,     /* anything else: a bug or a broken machine, logged */
};

enum { OUTCOME_MESSAGE_MAX = 320 };

struct outcome {
	enum outcome_code code;
	char message[OUTCOME_MESSAGE_MAX];
};

/* Fills o and returns false, so that `return outcome_set(...)` ends a failing function. */
bool outcome_set(struct outcome *o, enum outcome_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
