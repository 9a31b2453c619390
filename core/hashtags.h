/* hashtags: the hashtags of a caption, found and normalised (NFKC and case folding); no I/O. */
#ifndef GALLERY_HASHTAGS_H
#define GALLERY_HASHTAGS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A hashtag is '#' followed by 1 to 64 tag characters: Unicode letters,
 * combining marks, digits, '_', and emoji (Extended_Pictographic or symbol
 * characters, with their modifiers, and a zero-width joiner only between two
 * of them). A '#' right after a tag character starts none ("C#", "a#b"); a run
 * of more than 64 tag characters is no tag at all, not a cut one. Anything
 * else ends a tag: spaces, punctuation, bidirectional controls, a zero-width
 * joiner that does not join two emoji, a zero-width non-joiner. Tags are
 * compared by their NFKC_Casefold form (utf8proc): "#Leaves" and "#leaves" are
 * one, "#Ísland" and "#island", or "#ć" and "#c", are two.
 */
enum {
	HASHTAGS_MAX = 30,          /* tags kept per caption: the first 30 distinct ones */
	HASHTAG_CHARS_MAX = 64,     /* characters after the '#' */
	HASHTAG_NORM_MAX = 255,     /* bytes of a normalised tag, as image_tags holds it */
};

struct hashtag {
	size_t start, len;                 /* the tag as written, '#' included, in the caption */
	char norm[HASHTAG_NORM_MAX + 1];   /* normalised, without the '#' */
	size_t normlen;
};

struct hashtags {
	struct hashtag tags[HASHTAGS_MAX]; /* distinct by norm, in the caption's order */
	unsigned n;
	unsigned dropped; /* tags found past the first HASHTAGS_MAX distinct ones */
};

/*
 * The next hashtag of text[0..len) at or after byte from: true with its span
 * ('#' included) in *start and *end. text need not be valid UTF-8 (bad bytes
 * end a tag). *norm (HASHTAG_NORM_MAX + 1 bytes, or NULL) gets its normalised
 * form; a tag whose normal form is longer than HASHTAG_NORM_MAX bytes is none.
 */
bool hashtags_next(const char *text, size_t len, size_t from, size_t *start, size_t *end,
		   char *norm, size_t *normlen);
/* Every distinct tag of text, the first HASHTAGS_MAX kept (one that cannot be normalised is none). */
void hashtags_extract(const char *text, size_t len, struct hashtags *out);
/*
 * Normalises a tag given without its '#' (as in /tags/<tag>): true when it
 * is a whole tag by the rules above.
 */
bool hashtags_normalise(const char *tag, size_t len, char norm[HASHTAG_NORM_MAX + 1],
			size_t *normlen);

#endif
