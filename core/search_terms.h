/* search_terms: the one tokeniser that both the search index and search queries use. */
#ifndef GALLERY_SEARCH_TERMS_H
#define GALLERY_SEARCH_TERMS_H

#include <stdbool.h>
#include <stddef.h>

enum {
	/*
	 * A word is stored under each of its prefixes of 1 to this many characters,
	 * so that a query word this long or shorter is one lookup; a longer one looks
	 * up its first SEARCH_PREFIX_MAX characters and is checked against the text.
	 */
	SEARCH_PREFIX_MAX = 8,
	/* The bytes of the longest term: SEARCH_PREFIX_MAX characters of 4 bytes. */
	SEARCH_TERM_BYTES = 4 * SEARCH_PREFIX_MAX,
	/* Characters of a word beyond this are not indexed (no word is this long). */
	SEARCH_WORD_MAX = 64,
	/* Terms one image may have: a 2,200-character caption in any script fits. */
	SEARCH_IMAGE_TERMS_MAX = 8192,
};

/*
 * text normalised for search: NFKC, case folded, default ignorables dropped,
 * and accents stripped from Latin, Greek and Cyrillic letters (so "Café"
 * becomes "cafe"), but never from other scripts, where marks change the word
 * (the Japanese voiced marks of "ビール" against "ヒール"). *out is malloc'd,
 * NUL-terminated; false on invalid UTF-8 or no memory.
 */
bool search_terms_normalize(const char *text, size_t len, char **out, size_t *outlen);

/*
 * Calls fn for each token of normalised text, in order: a word (a run of
 * letters, digits and marks; at most SEARCH_WORD_MAX characters kept) or a run
 * of Chinese, Japanese or Korean characters (cjk, any length). Everything else
 * separates tokens. fn returning false stops the walk.
 */
typedef bool (*search_token_fn)(void *ctx, const char *tok, size_t len, size_t chars, bool cjk);
void search_terms_tokens(const char *norm, size_t len, search_token_fn fn, void *ctx);

/* The bytes of the first n characters of UTF-8 s (of len bytes). */
size_t search_terms_prefix_bytes(const char *s, size_t len, size_t n);

/* The distinct index terms of some texts, sorted; each NUL-terminated. */
struct search_term_set {
	char (*terms)[SEARCH_TERM_BYTES + 1];
	size_t n, cap;
	bool full; /* SEARCH_IMAGE_TERMS_MAX was reached: later words were left out */
};

/*
 * Adds the index terms of text (not yet normalised): every prefix of 1 to
 * SEARCH_PREFIX_MAX characters of each word, and for CJK runs each character
 * and each pair of neighbours (so that 東京 is found in 東京タワー but not in
 * 京都). False on invalid UTF-8 or no memory.
 */
bool search_terms_add(struct search_term_set *set, const char *text, size_t len);
/* Sorts and drops repeats; call once after the last add. */
void search_terms_finish(struct search_term_set *set);
void search_terms_free(struct search_term_set *set);

#endif
