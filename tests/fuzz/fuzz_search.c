/* fuzz_search: search_parse over any bytes, and its checks over the same bytes as a caption. */
#include <iconv.h>
#include <stdbool.h>
#include <string.h>

#include "core/search.h"
#include "tests/fuzz/fuzz.h"

enum { ERR_LEN = 160, UTF32_BYTES = 4 };

/* The oracle: glibc's iconv decodes strict UTF-8, a second opinion written by others. */
static bool oracle_utf8(const char *s, size_t len)
{
	static iconv_t cd = (iconv_t)-1;
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-32LE", "UTF-8");
	FUZZ_CHECK(cd != (iconv_t)-1);
	iconv(cd, NULL, NULL, NULL, NULL);
	if (memchr(s, '\0', len))
		return false;
	uint32_t wide[SEARCH_QUERY_MAX];
	char *in = (char *)s, *out = (char *)wide;
	size_t inleft = len, outleft = sizeof(wide);
	return iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1 && inleft == 0;
}

int fuzz_search_one(const uint8_t *data, size_t size)
{
	char *q = calloc(1, size ? size : 1);
	FUZZ_CHECK(q != NULL);
	if (size)
		memcpy(q, data, size);
	struct search_query query;
	char err[ERR_LEN] = "";
	enum search_parse_result r = search_parse(q, size, &query, err, sizeof(err));
	if (size > SEARCH_QUERY_MAX)
		FUZZ_CHECK(r == SEARCH_TOO_LONG);
	else if (!oracle_utf8(q, size))
		FUZZ_CHECK(r == SEARCH_BAD_UTF8);
	else
		FUZZ_CHECK(r == SEARCH_PARSED || r == SEARCH_TOO_MANY);
	if (r != SEARCH_PARSED) {
		/* A refusal says why. */
		FUZZ_CHECK(err[0] != '\0');
	} else {
		FUZZ_CHECK(query.nterms <= SEARCH_TERMS_MAX && query.nchecks <= SEARCH_TERMS_MAX);
		for (size_t i = 0; i < query.nterms; i++) {
			const struct search_term *t = &query.terms[i];
			FUZZ_CHECK(t->len > 0 && t->len <= SEARCH_TEXT_MAX && t->text[t->len] == '\0');
			FUZZ_CHECK(strlen(t->text) == t->len);
			/* A word longer than the index keeps could never be found. */
			if (t->kind == SEARCH_WORD)
				FUZZ_CHECK(t->len <= SEARCH_TERM_BYTES);
			FUZZ_CHECK(t->kind == SEARCH_WORD || t->kind == SEARCH_TAG || t->kind == SEARCH_USER);
		}
		/* The query's own text holds its phrases and words, unless it named tags or users. */
		bool only_text = true;
		for (size_t i = 0; i < query.nterms; i++)
			only_text = only_text && query.terms[i].kind == SEARCH_WORD;
		if (only_text && !memchr(q, '"', size) && !memchr(q, '#', size) &&
		    !memchr(q, '@', size))
			FUZZ_CHECK(search_text_matches(&query, q, size, "", 0));
	}
	search_query_free(&query);
	free(q);
	return 0;
}
