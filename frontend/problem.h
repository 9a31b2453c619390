/* problem: what went wrong with a request, as an HTTP status and a message for a person. */
#ifndef GALLERY_PROBLEM_H
#define GALLERY_PROBLEM_H

#include <stdbool.h>

#include "core/outcome.h"

enum { PROBLEM_MESSAGE_MAX = 320 };

struct problem {
	unsigned status;
	char message[PROBLEM_MESSAGE_MAX];
};

/* Fills p and returns false, so that `return problem_set(...)` ends a failing function. */
bool problem_set(struct problem *p, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The HTTP status of a core outcome: the one place where the domain's words become statuses. */
unsigned problem_status_of(enum outcome_code code);
/* p gets o's message with the status of its code. */
void problem_from_outcome(struct problem *p, const struct outcome *o);

#endif
