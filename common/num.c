/* num: strict parsing of numbers from requests, the environment and the database. */
#include "num.h"

#include <limits.h>
#include <string.h>

enum { DECIMAL_BASE = 10 };

bool num_parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out)
{
	if (!text || len == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		unsigned digit = (unsigned)(text[i] - '0');
		if (v > (max - digit) / DECIMAL_BASE || max < digit)
			return false;
		v = v * DECIMAL_BASE + digit;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool num_parse_whole(const char *text, size_t len, long min, long max, long *out)
{
	uint64_t v;
	if (max < 0 || !num_parse_u64(text, len, (uint64_t)max, &v) || (long)v < min)
		return false;
	*out = (long)v;
	return true;
}

bool num_parse_long(const char *text, long min, long max, long *out)
{
	if (!text)
		return false;
	bool negative = text[0] == '-';
	const char *digits = text + negative;
	/* The magnitude of LONG_MIN is one more than LONG_MAX. */
	uint64_t limit = negative ? (uint64_t)LONG_MAX + 1 : (uint64_t)LONG_MAX;
	uint64_t v;
	if (!num_parse_u64(digits, strlen(digits), limit, &v))
		return false;
	long value = negative ? (v == (uint64_t)LONG_MAX + 1 ? LONG_MIN : -(long)v) : (long)v;
	if (value < min || value > max)
		return false;
	*out = value;
	return true;
}
