/* unit_search: the search tokeniser's terms and the query parser, without a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/search.h"
#include "core/search_terms.h"

static bool has_term(const struct search_term_set *set, const char *term)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->terms[i], term) == 0)
			return true;
	return false;
}

static void test_normalise(void **state)
{
	(void)state;
	char *out;
	size_t len;
	assert_true(search_terms_normalize("Café ÅNGSTRÖM ﬁ Ｔｏｋｙｏ", strlen("Café ÅNGSTRÖM ﬁ Ｔｏｋｙｏ"),
					   &out, &len));
	assert_string_equal(out, "cafe angstrom fi tokyo");
	free(out);
	/* Japanese voiced marks stay: ビール is not ヒール. */
	assert_true(search_terms_normalize("ﾋﾞｰﾙ", strlen("ﾋﾞｰﾙ"), &out, &len));
	assert_string_equal(out, "ビール");
	free(out);
	assert_false(search_terms_normalize("\xff\xfe", 2, &out, &len));
}

static void test_index_terms(void **state)
{
	(void)state;
	struct search_term_set set = {0};
	const char *text = "The BEACH, 東京タワー; internationalization #tag";
	assert_true(search_terms_add(&set, text, strlen(text)));
	search_terms_finish(&set);
	assert_true(has_term(&set, "t"));
	assert_true(has_term(&set, "the"));
	assert_true(has_term(&set, "beac"));
	assert_true(has_term(&set, "beach"));
	assert_true(has_term(&set, "東"));
	assert_true(has_term(&set, "東京"));
	assert_true(has_term(&set, "京タ"));
	assert_false(has_term(&set, "東京タ"));
	assert_true(has_term(&set, "internat"));
	assert_false(has_term(&set, "internati"));
	assert_true(has_term(&set, "tag"));
	for (size_t i = 1; i < set.n; i++)
		assert_true(strcmp(set.terms[i - 1], set.terms[i]) < 0);
	search_terms_free(&set);
}

static void test_parse(void **state)
{
	(void)state;
	struct search_query q;
	char err[128];
	const char *text = "#Leaves @Bob \"red car\" 東京タワー internationalization";
	assert_int_equal(search_parse(text, strlen(text), &q, err, sizeof(err)), SEARCH_PARSED);
	assert_int_equal(q.terms[0].kind, SEARCH_TAG);
	assert_string_equal(q.terms[0].text, "leaves");
	assert_int_equal(q.terms[1].kind, SEARCH_USER);
	assert_string_equal(q.terms[1].text, "bob");
	assert_string_equal(q.terms[2].text, "red");
	assert_string_equal(q.terms[3].text, "car");
	/* 東京, タワ, the last pair ワー, and the first 8 letters of the long word. */
	assert_string_equal(q.terms[4].text, "東京");
	assert_string_equal(q.terms[7].text, "internat");
	assert_int_equal(q.nterms, 8);
	assert_int_equal(q.nchecks, 3);
	assert_string_equal(q.checks[0].text, "red car");
	assert_true(search_text_matches(&q, "a red car", 9, "k", 1) == false); /* all checks */
	search_query_free(&q);

	assert_int_equal(search_parse("a b c d e f g h i", 17, &q, err, sizeof(err)), SEARCH_TOO_MANY);
	search_query_free(&q);
	assert_int_equal(search_parse("\xc3\x28", 2, &q, err, sizeof(err)), SEARCH_BAD_UTF8);
	search_query_free(&q);
	char big[SEARCH_QUERY_MAX + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(search_parse(big, sizeof(big), &q, err, sizeof(err)), SEARCH_TOO_LONG);
	search_query_free(&q);
	assert_int_equal(search_parse("% _ \\ ' ; --", 12, &q, err, sizeof(err)), SEARCH_PARSED);
	assert_int_equal(q.nterms, 0);
	search_query_free(&q);
}

static void test_checks(void **state)
{
	(void)state;
	struct search_query q;
	char err[128];
	assert_int_equal(search_parse("\"red car\"", 9, &q, err, sizeof(err)), SEARCH_PARSED);
	assert_true(search_text_matches(&q, "A Red  Car!", 11, "k", 1));
	assert_true(search_text_matches(&q, "x", 1, "red-cars.jpg", 12));
	assert_false(search_text_matches(&q, "red big car", 11, "k", 1));
	assert_false(search_text_matches(&q, "bored car", 9, "k", 1));
	search_query_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_index_terms),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
