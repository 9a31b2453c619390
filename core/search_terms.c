/* search_terms: the one tokeniser that both the search index and search queries use. */
#include "search_terms.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum {
	/* Below this, and in Latin Extended Additional and Greek Extended, marks are accents. */
	ACCENTED_SCRIPTS_END = 0x0530,
	LATIN_GREEK_EXTENDED_FIRST = 0x1E00,
	LATIN_GREEK_EXTENDED_LAST = 0x1FFF,
	TERM_SET_FIRST_CAP = 64,
};

static bool is_mark(utf8proc_category_t cat)
{
	return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
	       cat == UTF8PROC_CATEGORY_ME;
}

static bool has_accents(utf8proc_int32_t base)
{
	return base < ACCENTED_SCRIPTS_END ||
	       (base >= LATIN_GREEK_EXTENDED_FIRST && base <= LATIN_GREEK_EXTENDED_LAST);
}

bool search_terms_normalize(const char *text, size_t len, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	const utf8proc_option_t opts =
		UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE | UTF8PROC_STABLE;
	const utf8proc_uint8_t *in = (const utf8proc_uint8_t *)text;
	/* A first pass learns the size (and whether the text is UTF-8 at all). */
	utf8proc_ssize_t need = utf8proc_decompose(in, (utf8proc_ssize_t)len, NULL, 0, opts);
	if (need < 0)
		return false;
	/* reencode wants room for the UTF-8 and its NUL in the same buffer. */
	utf8proc_int32_t *cps = malloc(((size_t)need + 1) * sizeof(*cps));
	if (!cps)
		return false;
	utf8proc_ssize_t n = utf8proc_decompose(in, (utf8proc_ssize_t)len, cps, need, opts);
	if (n < 0 || n > need) {
		free(cps);
		return false;
	}
	utf8proc_ssize_t kept = 0;
	utf8proc_int32_t base = 0;
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		utf8proc_int32_t c = cps[i];
		if (is_mark(utf8proc_category(c))) {
			if (has_accents(base))
				continue;
		} else {
			base = c;
		}
		cps[kept++] = c;
	}
	utf8proc_ssize_t bytes = utf8proc_reencode(cps, kept, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
	if (bytes < 0) {
		free(cps);
		return false;
	}
	*out = (char *)cps;
	*outlen = (size_t)bytes;
	return true;
}

/* Han, kana, Hangul: scripts written without spaces between words (or, for Korean, with particles attached). */
static bool is_cjk(utf8proc_int32_t c)
{
	return (c >= 0x1100 && c <= 0x11FF) ||	 /* Hangul Jamo */
	       (c >= 0x3040 && c <= 0x30FF) ||	 /* Hiragana, Katakana */
	       (c >= 0x3130 && c <= 0x318F) ||	 /* Hangul Compatibility Jamo */
	       (c >= 0x31F0 && c <= 0x31FF) ||	 /* Katakana Phonetic Extensions */
	       (c >= 0x3400 && c <= 0x4DBF) ||	 /* CJK Extension A */
	       (c >= 0x4E00 && c <= 0x9FFF) ||	 /* CJK Unified Ideographs */
	       (c >= 0xAC00 && c <= 0xD7AF) ||	 /* Hangul Syllables */
	       (c >= 0xF900 && c <= 0xFAFF) ||	 /* CJK Compatibility Ideographs */
	       (c >= 0x20000 && c <= 0x3FFFF); /* the supplementary ideographic planes */
}

enum char_class { CHAR_OTHER, CHAR_WORD, CHAR_MARK, CHAR_CJK };

static enum char_class classify(utf8proc_int32_t c)
{
	if (is_cjk(c))
		return CHAR_CJK;
	utf8proc_category_t cat = utf8proc_category(c);
	if (is_mark(cat))
		return CHAR_MARK;
	switch (cat) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return CHAR_WORD;
	default:
		return CHAR_OTHER;
	}
}

void search_terms_tokens(const char *norm, size_t len, search_token_fn fn, void *ctx)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)norm;
	size_t i = 0, start = 0, end = 0, chars = 0;
	enum char_class run = CHAR_OTHER;
	for (;;) {
		utf8proc_int32_t c = 0;
		utf8proc_ssize_t step = 0;
		enum char_class cls = CHAR_OTHER;
		if (i < len) {
			step = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
			if (step <= 0)
				step = 1; /* not UTF-8: a separator, never a crash */
			else
				cls = classify(c);
		}
		/* A mark continues the word or run it follows, and separates elsewhere. */
		if (cls == CHAR_MARK)
			cls = run == CHAR_OTHER ? CHAR_OTHER : run;
		if (cls != run) {
			if (run != CHAR_OTHER && !fn(ctx, norm + start, end - start, chars, run == CHAR_CJK))
				return;
			run = cls;
			start = end = i;
			chars = 0;
		}
		if (i >= len)
			return;
		i += (size_t)step;
		if (run != CHAR_OTHER && (run == CHAR_CJK || chars < SEARCH_WORD_MAX)) {
			end = i;
			chars++;
		}
	}
}

size_t search_terms_prefix_bytes(const char *s, size_t len, size_t n)
{
	size_t i = 0;
	for (size_t k = 0; k < n && i < len; k++) {
		utf8proc_int32_t c;
		utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
							 (utf8proc_ssize_t)(len - i), &c);
		i += step > 0 ? (size_t)step : 1;
	}
	return i < len ? i : len;
}

static bool set_add(struct search_term_set *set, const char *term, size_t len)
{
	if (len == 0 || len > SEARCH_TERM_BYTES)
		return true;
	if (set->n >= SEARCH_IMAGE_TERMS_MAX) {
		set->full = true;
		return true;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : TERM_SET_FIRST_CAP;
		void *grown = realloc(set->terms, cap * sizeof(*set->terms));
		if (!grown)
			return false;
		set->terms = grown;
		set->cap = cap;
	}
	memcpy(set->terms[set->n], term, len);
	set->terms[set->n][len] = '\0';
	set->n++;
	return true;
}

struct add_ctx {
	struct search_term_set *set;
	bool ok;
};

static bool add_token(void *ctx, const char *tok, size_t len, size_t chars, bool cjk)
{
	struct add_ctx *a = ctx;
	if (!cjk) {
		for (size_t k = 1; k <= chars && k <= SEARCH_PREFIX_MAX && a->ok; k++)
			a->ok = set_add(a->set, tok, search_terms_prefix_bytes(tok, len, k));
		return a->ok;
	}
	/* Each character, and each character with the next one. */
	size_t i = 0;
	while (i < len && a->ok) {
		size_t one = search_terms_prefix_bytes(tok + i, len - i, 1);
		size_t two = search_terms_prefix_bytes(tok + i, len - i, 2);
		a->ok = set_add(a->set, tok + i, one);
		if (a->ok && two > one)
			a->ok = set_add(a->set, tok + i, two);
		i += one;
	}
	return a->ok;
}

bool search_terms_add(struct search_term_set *set, const char *text, size_t len)
{
	char *norm;
	size_t normlen;
	if (!search_terms_normalize(text, len, &norm, &normlen))
		return false;
	struct add_ctx a = {set, true};
	search_terms_tokens(norm, normlen, add_token, &a);
	free(norm);
	return a.ok;
}

static int compare_terms(const void *a, const void *b)
{
	return strcmp(a, b);
}

void search_terms_finish(struct search_term_set *set)
{
	if (set->n == 0)
		return;
	qsort(set->terms, set->n, sizeof(*set->terms), compare_terms);
	size_t kept = 1;
	for (size_t i = 1; i < set->n; i++)
		if (strcmp(set->terms[i], set->terms[kept - 1]) != 0)
			memmove(set->terms[kept++], set->terms[i], sizeof(*set->terms));
	set->n = kept;
}

void search_terms_free(struct search_term_set *set)
{
	free(set->terms);
	set->terms = NULL;
	set->n = set->cap = 0;
}
