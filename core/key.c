/* key: checks of image keys, which are user text: length, UTF-8, no control characters. */
#include "key.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

enum {
	UNICODE_MAX = 0x10FFFF,
	SURROGATE_FIRST = 0xD800,
	SURROGATE_LAST = 0xDFFF,
	C0_CONTROL_LAST = 0x1F,
	DELETE_CHAR = 0x7F,
	C1_CONTROL_FIRST = 0x80,
	C1_CONTROL_LAST = 0x9F,
	UTF8_CONT_MASK = 0xC0,
	UTF8_CONT_TAG = 0x80,
	UTF8_CONT_BITS = 6,
};

/*
 * The UTF-8 encodings by length: what the lead byte looks like under mask,
 * and the lowest code point that needs this length. A smaller one is an
 * overlong encoding, a classic way to smuggle '/' or NUL past a filter.
 */
struct utf8_form {
	unsigned char mask, lead;
	size_t len;
	uint32_t min;
};

static const struct utf8_form utf8_forms[] = {
	{0x80, 0x00, 1, 0x0},
	{0xE0, 0xC0, 2, 0x80},
	{0xF0, 0xE0, 3, 0x800},
	{0xF8, 0xF0, 4, 0x10000},
};

static const struct utf8_form *utf8_form_of(unsigned char lead)
{
	for (size_t i = 0; i < sizeof(utf8_forms) / sizeof(utf8_forms[0]); i++)
		if ((lead & utf8_forms[i].mask) == utf8_forms[i].lead)
			return &utf8_forms[i];
	return NULL; /* a stray continuation byte, or F8..FF */
}

/* Decodes one character from s[0..avail); its length, or 0 when it is not valid UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	const struct utf8_form *form = utf8_form_of(s[0]);
	if (!form || form->len > avail)
		return 0;
	uint32_t c = s[0] & (unsigned char)~form->mask;
	for (size_t i = 1; i < form->len; i++) {
		if ((s[i] & UTF8_CONT_MASK) != UTF8_CONT_TAG)
			return 0;
		c = (c << UTF8_CONT_BITS) | (s[i] & (unsigned char)~UTF8_CONT_MASK);
	}
	/* C0, C1 and F5..F7 leads are caught here as overlong or too large. */
	if (c < form->min || c > UNICODE_MAX || (c >= SURROGATE_FIRST && c <= SURROGATE_LAST))
		return 0;
	*cp = c;
	return form->len;
}

static bool is_control(uint32_t c)
{
	return c <= C0_CONTROL_LAST || c == DELETE_CHAR ||
	       (c >= C1_CONTROL_FIRST && c <= C1_CONTROL_LAST);
}

/* Writes the message if there is room for one; always false, so that callers can return it. */
__attribute__((format(printf, 3, 4)))
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

bool key_is_valid(const char *key, size_t len, char *err, size_t errlen)
{
	if (len == 0)
		return fail(err, errlen, "key is empty; give 1 to %d bytes", KEY_MAX_BYTES);
	if (len > KEY_MAX_BYTES)
		return fail(err, errlen, "key is %zu bytes; the limit is %d", len, KEY_MAX_BYTES);
	const unsigned char *s = (const unsigned char *)key;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		/* Positions count from 1, as a person reading the message would. */
		if (!n)
			return fail(err, errlen, "key is not valid UTF-8 (byte %zu)", i + 1);
		if (is_control(cp))
			return fail(err, errlen, "key contains a control character (byte %zu)",
				    i + 1);
		i += n;
	}
	return true;
}

