/* unit_hashtags: the hashtag rules of core/hashtags and the caption rules of core/captions, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/captions.h"
#include "core/hashtags.h"

#define RLO "\xE2\x80\xAE"
#define LRI "\xE2\x81\xA6"
#define ZWJ "\xE2\x80\x8D"
#define ZWNJ "\xE2\x80\x8C"
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* The normalised tags of text, joined by spaces, and the written spans, joined by '|'. */
static void tags_of(const char *text, char *norms, size_t nsize, char *spans, size_t ssize)
{
	struct hashtags h;
	hashtags_extract(text, strlen(text), &h);
	size_t n = 0, m = 0;
	norms[0] = spans[0] = '\0';
	for (unsigned i = 0; i < h.n; i++) {
		n += (size_t)snprintf(norms + n, nsize - n, "%s%s", i ? " " : "", h.tags[i].norm);
		m += (size_t)snprintf(spans + m, ssize - m, "%s%.*s", i ? "|" : "",
				      (int)h.tags[i].len, text + h.tags[i].start);
	}
}

static void expect(const char *text, const char *want_norms, const char *want_spans)
{
	char norms[4096], spans[4096];
	tags_of(text, norms, sizeof(norms), spans, sizeof(spans));
	if (strcmp(norms, want_norms) != 0 || (want_spans && strcmp(spans, want_spans) != 0))
		fail_msg("tags of '%s': '%s' (written '%s'), expected '%s' ('%s')", text, norms, spans,
			 want_norms, want_spans ? want_spans : "");
}

static void test_case_folds_but_accents_and_scripts_stay(void **state)
{
	(void)state;
	expect("#Leaves #leaves #LEAVES", "leaves", "#Leaves");
	expect("#Ísland #island", "ísland island", NULL);
	expect("#ć #c", "ć c", NULL);
	/* A decomposed ć (c + U+0301) is the same tag as the composed one, and not c. */
	expect("#c\xCC\x81 #ć", "ć", "#c\xCC\x81");
	expect("#日本 #東京タワー", "日本 東京タワー", NULL);
	expect("#Straße #STRASSE #ﬁsh", "strasse fish", NULL);
	expect("#Ωmega #ωMEGA", "ωmega", NULL);
	expect("#١٢٣ #x_1", "١٢٣ x_1", NULL);
}

static void test_what_is_no_tag(void **state)
{
	(void)state;
	expect("#", "", NULL);
	expect("# #", "", NULL);
	expect("##", "", NULL);
	expect("##x", "x", "#x");
	expect("C# and a#b and 5#", "", NULL);
	expect("#-x #.x #!", "", NULL);
	/* A mark cannot start a tag: it would sit on the '#'. */
	expect("#\xCC\x81x", "", NULL);
	/* 64 letters are a tag; 65 are none, not a cut one, and what follows is no tag either. */
	expect("#" A64, A64, NULL);
	expect("#" A64 "b", "", NULL);
	expect("#" A64 "b#c #d", "d", NULL);
	/* Bad bytes end a tag. */
	expect("#ab\xFF" "cd #e\xC3", "ab e", NULL);
}

static void test_invisible_characters_end_a_tag(void **state)
{
	(void)state;
	expect("#ab" RLO "cd", "ab", "#ab");
	expect("#ab" LRI "cd", "ab", "#ab");
	expect("#ab" ZWJ "cd", "ab", "#ab");
	expect("#ab" ZWNJ "cd", "ab", "#ab");
	expect("#" RLO "ab", "", NULL);
	expect("#" ZWJ "ab", "", NULL);
	/* A joiner at the end of an emoji run joins nothing. */
	expect("#🍁" ZWJ, "🍁", "#🍁");
	expect("#🍁" ZWJ "x", "🍁", "#🍁");
}

static void test_emoji_are_tags(void **state)
{
	(void)state;
	expect("#🍁 #🍂", "🍁 🍂", NULL);
	/* A family is one tag; its joiners go with NFKC_Casefold, never stored. */
	expect("#👨" ZWJ "👩" ZWJ "👧", "👨👩👧", "#👨" ZWJ "👩" ZWJ "👧");
	/* Skin tones are part of the tag, and a variation selector goes. */
	expect("#👍🏽 #👍", "👍🏽 👍", NULL);
	expect("#❤️ #❤", "❤", NULL);
	expect("#🇨🇦 #🇯🇵", "🇨🇦 🇯🇵", NULL);
	expect("#sun☀️", "sun☀", NULL);
}

static void test_thirty_kept_in_order(void **state)
{
	(void)state;
	char text[1024] = "";
	for (int i = 1; i <= 31; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "#t%d #T%d ", i, i);
	struct hashtags h;
	hashtags_extract(text, strlen(text), &h);
	assert_int_equal(h.n, HASHTAGS_MAX);
	assert_int_equal(h.dropped, 2);
	assert_string_equal(h.tags[0].norm, "t1");
	assert_string_equal(h.tags[29].norm, "t30");
}

static void test_normalise_a_tag_alone(void **state)
{
	(void)state;
	char norm[HASHTAG_NORM_MAX + 1];
	size_t len;
	assert_true(hashtags_normalise("Leaves", 6, norm, &len));
	assert_string_equal(norm, "leaves");
	assert_int_equal(len, 6);
	assert_false(hashtags_normalise("", 0, norm, &len));
	assert_false(hashtags_normalise("two words", 9, norm, &len));
	assert_false(hashtags_normalise("#x", 2, norm, &len));
	assert_false(hashtags_normalise(A64 "a", 65, norm, &len));
	assert_false(hashtags_normalise("ab" RLO, 5, norm, &len));
}

static void test_caption_rules(void **state)
{
	(void)state;
	char err[128] = "";
	char text[2 * 2201];
	for (int i = 0; i < 2201; i++)
		memcpy(text + 2 * i, "é", 2);
	assert_true(captions_check(text, 2 * 2200, err, sizeof(err)));
	assert_true(captions_check("", 0, err, sizeof(err)));
	assert_true(captions_check("tab\tline\r\nbreak", 15, err, sizeof(err)));
	assert_false(captions_check(text, 2 * 2201, err, sizeof(err)));
	assert_string_equal(err, "the caption is 2201 characters; the limit is 2200");
	assert_false(captions_check("ab\xC3", 3, err, sizeof(err)));
	assert_string_equal(err, "the caption is not valid UTF-8 (byte 3)");
	assert_false(captions_check("a\xED\xA0\x80", 4, err, sizeof(err)));
	assert_string_equal(err, "the caption is not valid UTF-8 (byte 2)");
	assert_false(captions_check("a\0b", 3, err, sizeof(err)));
	assert_string_equal(err, "the caption contains a NUL character (byte 2)");
	assert_false(captions_check("a\x1b", 2, err, sizeof(err)));
	assert_string_equal(err, "the caption contains a control character (byte 2)");
	assert_false(captions_check("a\x1b", 2, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case_folds_but_accents_and_scripts_stay),
		cmocka_unit_test(test_what_is_no_tag),
		cmocka_unit_test(test_invisible_characters_end_a_tag),
		cmocka_unit_test(test_emoji_are_tags),
		cmocka_unit_test(test_thirty_kept_in_order),
		cmocka_unit_test(test_normalise_a_tag_alone),
		cmocka_unit_test(test_caption_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
