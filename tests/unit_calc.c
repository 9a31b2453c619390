/* unit_calc: cmocka tests for core/calc: strict parsing, exact statistics, the log and result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calc.h"

/*
 * Parses an exact-size heap copy of text (a read past its end is caught under
 * AddressSanitizer) and computes; false with err when the input is refused.
 */
static bool run(const char *text, struct calc_result *r, char *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	struct calc_input in;
	bool ok = calc_parse(copy, len, &in, err);
	free(copy);
	if (!ok)
		return false;
	long long *sorted = malloc(in.count * sizeof(*sorted));
	assert_non_null(sorted);
	calc_compute(&in, sorted, r);
	for (size_t i = 1; i < in.count; i++)
		assert_true(sorted[i - 1] <= sorted[i]);
	free(sorted);
	calc_input_free(&in);
	return true;
}

#define assert_stats(text, count_, min_, max_, sum_, mean_, median_)      \
	do {                                                               \
		struct calc_result r_;                                     \
		char err_[CALC_ERR_SIZE] = "";                             \
		assert_true(run((text), &r_, err_));                       \
		assert_int_equal(r_.count, (count_));                      \
		assert_true(r_.min == (min_));                             \
		assert_true(r_.max == (max_));                             \
		assert_string_equal(r_.sum, (sum_));                       \
		assert_string_equal(r_.mean, (mean_));                     \
		assert_string_equal(r_.median, (median_));                 \
	} while (0)

#define assert_refused(text, message)                  \
	do {                                           \
		struct calc_result r_;                 \
		char err_[CALC_ERR_SIZE] = "";         \
		assert_false(run((text), &r_, err_));  \
		assert_string_equal(err_, (message));  \
	} while (0)

static void odd_and_even_medians(void **state)
{
	(void)state;
	assert_stats("[3, 1, 2]", 3, 1, 3, "6", "2", "2");
	assert_stats("[4, 1, 3, 2]", 4, 1, 4, "10", "2.5", "2.5");
	assert_stats("[1, 2]", 2, 1, 2, "3", "1.5", "1.5");
	assert_stats("[7]", 1, 7, 7, "7", "7", "7");
	assert_stats("[1, 1, 100, 100]", 4, 1, 100, "202", "50.5", "50.5");
}

static void negative_medians(void **state)
{
	(void)state;
	assert_stats("[-3, -2]", 2, -3, -2, "-5", "-2.5", "-2.5");
	assert_stats("[-1, 0]", 2, -1, 0, "-1", "-0.5", "-0.5");
	assert_stats("[-5, -1, 3]", 3, -5, 3, "-3", "-1", "-1");
	assert_stats("[-2, 1]", 2, -2, 1, "-1", "-0.5", "-0.5");
}

static void means_exact_or_rounded(void **state)
{
	(void)state;
	assert_stats("[0, 0, 1]", 3, 0, 1, "1", "0.333333", "0");
	assert_stats("[0, 1, 1]", 3, 0, 1, "2", "0.666667", "1");
	assert_stats("[-1, -1, 0]", 3, -1, 0, "-2", "-0.666667", "-1");
	/* 1/16 and 1/8 end: exact, however many places. */
	assert_stats("1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", 16, 0, 1, "1", "0.0625", "0");
	/* 5/7 = 0.7142857...: the seventh place rounds the sixth up. */
	assert_stats("0 0 0 0 0 0 5", 7, 0, 5, "5", "0.714286", "0");
	assert_stats("0 0 0 0 0 0 -5", 7, -5, 0, "-5", "-0.714286", "0");
	assert_stats("1 0 0 0 0 0 0", 7, 0, 1, "1", "0.142857", "0");
}

static void limits_of_2_53(void **state)
{
	(void)state;
	assert_stats("[9007199254740991, 9007199254740991]", 2, 9007199254740991LL,
		     9007199254740991LL, "18014398509481982", "9007199254740991",
		     "9007199254740991");
	assert_stats("[-9007199254740991, -9007199254740991, -9007199254740990]", 3,
		     -9007199254740991LL, -9007199254740990LL, "-27021597764222972",
		     "-9007199254740990.666667", "-9007199254740991");
	/* Needs more than 64 bits on the way: the sum passes 2^63 only in 128 bits. */
	assert_stats("[-9007199254740991, 9007199254740991]", 2, -9007199254740991LL,
		     9007199254740991LL, "0", "0", "0");
	assert_stats("[9007199254740991, 9007199254740990]", 2, 9007199254740990LL,
		     9007199254740991LL, "18014398509481981", "9007199254740990.5",
		     "9007199254740990.5");
}

static void ten_thousand_largest(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	for (int i = 0; i < CALC_MAX_COUNT; i++)
		assert_true(buf_puts(&text, i ? ",9007199254740991" : "9007199254740991"));
	struct calc_result r;
	char err[CALC_ERR_SIZE] = "";
	assert_true(run(text.data, &r, err));
	assert_string_equal(r.sum, "90071992547409910000");
	assert_string_equal(r.mean, "9007199254740991");
	assert_true(buf_puts(&text, ",1"));
	assert_false(run(text.data, &r, err));
	assert_string_equal(err, "more than 10000 numbers: give at most 10000");
	buf_free(&text);
}

static void text_forms(void **state)
{
	(void)state;
	assert_stats("1, 2, 3", 3, 1, 3, "6", "2", "2");
	assert_stats("  1\n2\r\n3\t4 ,5,\n", 5, 1, 5, "15", "3", "3");
	assert_stats("-3 -2", 2, -3, -2, "-5", "-2.5", "-2.5");
	assert_stats("007 8", 2, 7, 8, "15", "7.5", "7.5");
	assert_stats(" [ 1 ,\n 2 ] ", 2, 1, 2, "3", "1.5", "1.5");
}

static void bad_entries_are_named(void **state)
{
	(void)state;
	assert_refused("[1, 2, 0.5]", "entry 3 (0.5) is not an integer");
	assert_refused("[1e400]", "entry 1 (1e400) has an exponent: write integers in plain digits");
	assert_refused("[1, 2E3]", "entry 2 (2E3) has an exponent: write integers in plain digits");
	assert_refused("[1, \"x\"]", "entry 2 (\"x\") is a string, not a number");
	assert_refused("[1, [2]]", "entry 2 ([) is a nested array: give numbers only");
	assert_refused("[{\"a\":1}]", "entry 1 ({) is an object: give numbers only");
	assert_refused("[1, true]", "entry 2 (true) is not a number");
	assert_refused("[1, null]", "entry 2 (null) is not a number");
	assert_refused("[9007199254740992]",
		       "entry 1 (9007199254740992) is outside +-9007199254740991 (2^53 - 1)");
	assert_refused("[-9007199254740992]",
		       "entry 1 (-9007199254740992) is outside +-9007199254740991 (2^53 - 1)");
	assert_refused("[1, 123456789012345678901234567890]",
		       "entry 2 (123456789012345678901234...) is outside +-9007199254740991 "
		       "(2^53 - 1)");
	assert_refused("[01]", "entry 1 (01) is not a number");
	assert_refused("[1.]", "entry 1 (1.) is not a number");
	assert_refused("[-]", "entry 1 (-) is not a number");
	assert_refused("[]", "no numbers: give 1 to 10000 integers");
	assert_refused("", "no numbers: give 1 to 10000 integers");
	assert_refused(" \n ", "no numbers: give 1 to 10000 integers");
	assert_refused("[1, 2", "after entry 2: expected ',' or ']'");
	assert_refused("[1,", "the list ends before entry 2 and its ']'");
	assert_refused("[1 2]", "after entry 1: expected ',' or ']'");
	assert_refused("[1] 2", "text after the list's closing ']'");
	assert_refused("1, 2, x", "entry 3 (x) is not a number");
	assert_refused("1 0.5", "entry 2 (0.5) is not an integer");
	assert_refused("1,,2", "entry 2 is empty (two commas in a row)");
	assert_refused("1 9007199254740992",
		       "entry 2 (9007199254740992) is outside +-9007199254740991 (2^53 - 1)");
	assert_refused("1 +2", "entry 2 (+2) is not a number");
	assert_refused("1 \x01\xff", "entry 2 (?" "?) is not a number");
}

static void result_json_and_log(void **state)
{
	(void)state;
	const char text[] = "[3, -2, -3, 10]";
	char err[CALC_ERR_SIZE];
	struct calc_input in;
	assert_true(calc_parse(text, sizeof(text) - 1, &in, err));
	long long sorted[4];
	struct calc_result r;
	calc_compute(&in, sorted, &r);
	struct buf json = BUF_INIT, log = BUF_INIT;
	assert_true(calc_result_json(&r, NULL, &json));
	assert_string_equal(json.data, "{\"count\":4,\"min\":-3,\"max\":10,\"sum\":\"8\","
				       "\"mean\":\"2\",\"median\":\"0.5\"}");
	buf_reset(&json);
	assert_true(calc_result_json(&r, "ab12", &json));
	assert_string_equal(json.data, "{\"count\":4,\"min\":-3,\"max\":10,\"sum\":\"8\","
				       "\"mean\":\"2\",\"median\":\"0.5\",\"log_sha256\":\"ab12\"}");
	struct calc_log_info info = {42, 2, 1700000000123LL, 1700000000456LL};
	assert_true(calc_log(&info, &in, sorted, &r, &log));
	assert_string_equal(log.data, "CloudCal statistics\njob: 42\nattempt: 2\n"
				      "started: 2023-11-14T22:13:20.123Z\n"
				      "finished: 2023-11-14T22:13:20.456Z\n\n"
				      "input (4 numbers, as given):\n3 -2 -3 10\n\n"
				      "sorted:\n-3 -2 3 10\n\nresults:\ncount: 4\nmin: -3\nmax: 10\n"
				      "sum: 8\nmean: 2\nmedian: 0.5\n");
	buf_free(&json);
	buf_free(&log);
	calc_input_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(odd_and_even_medians), cmocka_unit_test(negative_medians),
		cmocka_unit_test(means_exact_or_rounded), cmocka_unit_test(limits_of_2_53),
		cmocka_unit_test(ten_thousand_largest), cmocka_unit_test(text_forms),
		cmocka_unit_test(bad_entries_are_named), cmocka_unit_test(result_json_and_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
