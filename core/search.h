/* search: the query side of search, a query's parse and its pages of image ids, newest first. */
#ifndef GALLERY_SEARCH_H
#define GALLERY_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "core/search_terms.h"

enum {
	SEARCH_QUERY_MAX = 1024, /* bytes of a query; longer ones are refused */
	SEARCH_TERMS_MAX = 8,	 /* lookups of a query (words, tags, users); more are refused */
	SEARCH_PER_PAGE = 20,
	SEARCH_TAG_MAX = 64,	     /* characters of a hashtag, as captions have them */
	SEARCH_TEXT_MAX = 4 * 64 * 3, /* bytes of a normalised tag (NFKC may lengthen it) */
};

enum search_kind {
	SEARCH_WORD, /* a word or its prefix in a caption or key: search_terms */
	SEARCH_TAG,  /* #tag: image_tags */
	SEARCH_USER, /* @user: the user's images */
};

struct search_term {
	enum search_kind kind;
	char text[SEARCH_TEXT_MAX + 1];
	size_t len;
};

/* Text the caption or key must hold as written, once the lookups found a candidate. */
struct search_check {
	char *text; /* normalised tokens joined by one space */
	size_t len;
	bool anywhere; /* CJK: may start inside a run; otherwise at the start of a word */
};

struct search_query {
	struct search_term terms[SEARCH_TERMS_MAX];
	size_t nterms;
	struct search_check checks[SEARCH_TERMS_MAX];
	size_t nchecks;
	bool matches_nothing; /* a tag or user that cannot exist, e.g. "@x" */
};

enum search_parse_result {
	SEARCH_PARSED,	   /* possibly with no terms: nothing to look for */
	SEARCH_TOO_LONG,   /* more than SEARCH_QUERY_MAX bytes */
	SEARCH_BAD_UTF8,   /* not UTF-8 */
	SEARCH_TOO_MANY,   /* more than SEARCH_TERMS_MAX lookups */
	SEARCH_NO_MEMORY,
};

/*
 * Parses q: `#tag`, `@user`, "quoted phrases" and words, all of which must
 * match. A word matches any word it begins (any case, any accents); Chinese,
 * Japanese and Korean text matches where its characters stand in that order.
 * err says what is wrong on failure. Free out with search_query_free either way.
 */
enum search_parse_result search_parse(const char *q, size_t len, struct search_query *out,
				      char *err, size_t errlen);
void search_query_free(struct search_query *q);

/* Whether a caption and key (raw, not normalised) pass the query's checks. */
bool search_text_matches(const struct search_query *q, const char *caption, size_t caption_len,
			 const char *key, size_t keylen);

struct search_page {
	uint64_t ids[SEARCH_PER_PAGE]; /* images.id, newest first */
	size_t n;
	bool more;	   /* results may follow: ask again with before = next */
	uint64_t next;	   /* the cursor of the next page */
	uint64_t examined; /* candidates read, for the log and the benchmark */
};

/*
 * One page of the images matching q with ids below `before` (0: from the
 * newest), after skipping `skip` matches. Intersects the rarest term's list
 * with the others, newest first, a block at a time; reads at most a bounded
 * number of candidates, so a page of few results may end early with more set.
 */
enum db_status search_run(struct db *db, const struct search_query *q, uint64_t before, size_t skip,
			  struct search_page *page);

#endif
