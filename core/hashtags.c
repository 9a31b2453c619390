/* hashtags: the hashtags of a caption, found and normalised (NFKC and case folding); no I/O. */
#include "hashtags.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum {
	ZERO_WIDTH_JOINER = 0x200D,
	EMOJI_MODIFIER_FIRST = 0x1F3FB, /* the skin tones, category Sk */
	EMOJI_MODIFIER_LAST = 0x1F3FF,
	UTF8_MAX = 4,
	/* A run of HASHTAG_CHARS_MAX characters of at most 4 bytes, and its NUL. */
	RUN_BYTES_MAX = HASHTAG_CHARS_MAX * UTF8_MAX + 1,
};

/* The code point at text[at] and its length in bytes; -1 for a byte that starts none. */
static size_t decode(const char *text, size_t len, size_t at, int32_t *cp)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + at,
					      (utf8proc_ssize_t)(len - at), &c);
	if (n <= 0) {
		*cp = -1;
		return 1;
	}
	*cp = c;
	return (size_t)n;
}

static bool is_mark(int32_t cp)
{
	utf8proc_category_t cat = utf8proc_category(cp);
	return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
	       cat == UTF8PROC_CATEGORY_ME;
}

/* Emoji are neither letters nor digits, yet people tag with them. */
static bool is_pictographic(int32_t cp)
{
	if (cp < 0)
		return false;
	const utf8proc_property_t *p = utf8proc_get_property(cp);
	return p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
	       p->boundclass == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR ||
	       p->category == UTF8PROC_CATEGORY_SO;
}

static bool is_tag_char(int32_t cp)
{
	if (cp < 0)
		return false;
	if (cp == '_' || is_pictographic(cp) ||
	    (cp >= EMOJI_MODIFIER_FIRST && cp <= EMOJI_MODIFIER_LAST))
		return true;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

/*
 * The run of tag characters at text[at]: its end and how many characters it
 * has. A mark cannot start it (it would sit on the '#'); a zero-width joiner
 * belongs to it only between two emoji, as in a family or a profession emoji.
 */
static size_t scan_run(const char *text, size_t len, size_t at, size_t *count)
{
	size_t j = at;
	bool in_emoji = false;
	*count = 0;
	while (j < len) {
		int32_t cp;
		size_t n = decode(text, len, j, &cp);
		if (cp == ZERO_WIDTH_JOINER) {
			int32_t next = -1;
			if (j + n < len)
				decode(text, len, j + n, &next);
			if (!in_emoji || !is_pictographic(next))
				break;
		} else if (!is_tag_char(cp) || (*count == 0 && is_mark(cp))) {
			break;
		} else {
			in_emoji = is_pictographic(cp) ||
				   (in_emoji && (is_mark(cp) || (cp >= EMOJI_MODIFIER_FIRST &&
								 cp <= EMOJI_MODIFIER_LAST)));
		}
		(*count)++;
		j += n;
	}
	return j;
}

/* Whether the character that ends just before text[at] is a tag character. */
static bool tag_char_before(const char *text, size_t at)
{
	size_t back = 1;
	while (back < UTF8_MAX && back < at && ((unsigned char)text[at - back] & 0xC0) == 0x80)
		back++;
	if (back > at)
		return false;
	int32_t cp;
	size_t n = decode(text, at, at - back, &cp);
	return n == back && is_tag_char(cp);
}

/*
 * The normal form of a run: NFKC_Casefold, which also drops default-ignorable
 * characters (joiners, variation selectors). False when it is empty, too long,
 * or holds anything that would make it invisible or unprintable.
 */
static bool normalise_run(const char *run, size_t len, char *norm, size_t *normlen)
{
	char copy[RUN_BYTES_MAX];
	if (len >= sizeof(copy))
		return false;
	memcpy(copy, run, len);
	copy[len] = '\0';
	char *folded = (char *)utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)copy);
	if (!folded)
		return false;
	size_t n = strlen(folded);
	bool ok = n > 0 && n <= HASHTAG_NORM_MAX;
	for (size_t i = 0; ok && i < n;) {
		int32_t cp;
		i += decode(folded, n, i, &cp);
		ok = cp > 0 && !utf8proc_get_property(cp)->ignorable &&
		     (is_tag_char(cp) || cp == ZERO_WIDTH_JOINER);
	}
	if (ok && norm) {
		memcpy(norm, folded, n + 1);
		*normlen = n;
	}
	free(folded);
	return ok;
}

bool hashtags_next(const char *text, size_t len, size_t from, size_t *start, size_t *end,
		   char *norm, size_t *normlen)
{
	bool after_tag_char = from > 0 && from <= len && tag_char_before(text, from);
	size_t i = from;
	while (i < len) {
		if (text[i] == '#' && !after_tag_char) {
			size_t count;
			size_t j = scan_run(text, len, i + 1, &count);
			if (count >= 1 && count <= HASHTAG_CHARS_MAX &&
			    normalise_run(text + i + 1, j - i - 1, norm, normlen)) {
				*start = i;
				*end = j;
				return true;
			}
			/* No tag here: a run too long, or one that normalises to nothing, is skipped whole. */
			after_tag_char = count > 0;
			i = count > 0 ? j : i + 1;
			continue;
		}
		int32_t cp;
		i += decode(text, len, i, &cp);
		after_tag_char = is_tag_char(cp);
	}
	return false;
}

void hashtags_extract(const char *text, size_t len, struct hashtags *out)
{
	memset(out, 0, sizeof(*out));
	size_t at = 0, start, end;
	char norm[HASHTAG_NORM_MAX + 1];
	size_t normlen;
	while (hashtags_next(text, len, at, &start, &end, norm, &normlen)) {
		at = end;
		bool seen = false;
		for (unsigned k = 0; k < out->n && !seen; k++)
			seen = out->tags[k].normlen == normlen &&
			       memcmp(out->tags[k].norm, norm, normlen) == 0;
		if (seen)
			continue;
		if (out->n == HASHTAGS_MAX) {
			out->dropped++;
			continue;
		}
		struct hashtag *t = &out->tags[out->n++];
		t->start = start;
		t->len = end - start;
		memcpy(t->norm, norm, normlen + 1);
		t->normlen = normlen;
	}
}

bool hashtags_normalise(const char *tag, size_t len, char norm[HASHTAG_NORM_MAX + 1],
			size_t *normlen)
{
	size_t count;
	if (len == 0 || scan_run(tag, len, 0, &count) != len || count > HASHTAG_CHARS_MAX)
		return false;
	return normalise_run(tag, len, norm, normlen);
}
