/* problem: what went wrong with a request, as an HTTP status and a message for a person. */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>

bool problem_set(struct problem *p, unsigned status, const char *fmt, ...)
{
	p->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	return false;
}
