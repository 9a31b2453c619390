/* outcome: how a core call ended, in the domain's words, with a message for a person. */
#include "outcome.h"

#include <stdarg.h>
#include <stdio.h>

bool outcome_set(struct outcome *o, enum outcome_code code, const char *fmt, ...)
{
	o->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	return false;
}
