/* fuzz_hashtags: hashtags_extract over any bytes: spans inside the text, normal forms that are tags themselves. */
#include <stdbool.h>
#include <string.h>
#include <utf8proc.h>

#include "core/hashtags.h"
#include "tests/fuzz/fuzz.h"

/* Valid UTF-8 with nothing invisible in it: what a stored tag must be. */
static bool visible_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || cp == 0 || utf8proc_get_property(cp)->ignorable)
			return false;
		utf8proc_category_t cat = utf8proc_category(cp);
		if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZS ||
		    cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP)
			return false;
		i += (size_t)n;
	}
	return true;
}

int fuzz_hashtags_one(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read past the end is the sanitizer's to see. */
	char *text = malloc(size ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size)
		memcpy(text, data, size);
	struct hashtags h;
	hashtags_extract(text, size, &h);
	FUZZ_CHECK(h.n <= HASHTAGS_MAX);
	FUZZ_CHECK(h.dropped == 0 || h.n == HASHTAGS_MAX);
	size_t last_end = 0;
	for (unsigned i = 0; i < h.n; i++) {
		const struct hashtag *t = &h.tags[i];
		FUZZ_CHECK(t->start >= last_end && t->len >= 2 && t->start + t->len <= size);
		FUZZ_CHECK(text[t->start] == '#');
		last_end = t->start + t->len;
		FUZZ_CHECK(t->normlen >= 1 && t->normlen <= HASHTAG_NORM_MAX);
		FUZZ_CHECK(strlen(t->norm) == t->normlen);
		FUZZ_CHECK(visible_utf8(t->norm, t->normlen));
		for (unsigned k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(h.tags[k].norm, t->norm) != 0);
		/* The tag as written, without its '#', is a tag alone, of the same normal form. */
		char norm[HASHTAG_NORM_MAX + 1];
		size_t normlen = 0;
		FUZZ_CHECK(hashtags_normalise(text + t->start + 1, t->len - 1, norm, &normlen));
		FUZZ_CHECK(normlen == t->normlen && memcmp(norm, t->norm, normlen) == 0);
	}
	/* hashtags_next from any point stays inside the text. */
	size_t start, end, normlen;
	char norm[HASHTAG_NORM_MAX + 1];
	for (size_t from = 0; from <= size && from < 64; from++)
		if (hashtags_next(text, size, from, &start, &end, norm, &normlen))
			FUZZ_CHECK(start >= from && end <= size && start < end && text[start] == '#');
	free(text);
	return 0;
}
