/* problem: what went wrong with a request, as an HTTP status and a message for a person. */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool problem_set(struct problem *p, unsigned status, const char *fmt, ...)
{
	p->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	return false;
}

unsigned problem_status_of(enum outcome_code code)
{
	switch (code) {
	case OUTCOME_OK: return 200;
	case OUTCOME_BAD_INPUT: return 400;
	case OUTCOME_FORBIDDEN: return 403;
	case OUTCOME_NOT_FOUND: return 404;
	case OUTCOME_CONFLICT: return 409;
	case OUTCOME_TOO_LARGE: return 413;
	case OUTCOME_NOT_AN_IMAGE: return 415;
	case OUTCOME_UNAVAILABLE: return 503;
	case OUTCOME_DISK_FULL: return 507;
	case OUTCOME_INTERNAL: break;
	}
	return 500;
}

void problem_from_outcome(struct problem *p, const struct outcome *o)
{
	p->status = problem_status_of(o->code);
	_Static_assert(sizeof(p->message) >= sizeof(o->message), "a problem holds any outcome");
	memcpy(p->message, o->message, sizeof(o->message));
}
