/* calc: CloudCal's statistics of a list of integers, exact, with no floating point. */
#ifndef GALLERY_CALC_H
#define GALLERY_CALC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum {
	CALC_MAX_COUNT = 10000,
	CALC_ERR_SIZE = 160,
	/* Enough for a 128-bit sum or an exact mean, sign and point included. */
	CALC_TEXT_SIZE = 64,
};
/* 2^53 - 1: the largest integer a JSON number keeps exactly in every client. */
#define CALC_MAX_ABS 9007199254740991LL

/* The numbers in the order given. */
struct calc_input {
	long long *values;
	size_t count;
};

/*
 * Reads 1 to CALC_MAX_COUNT integers within +-CALC_MAX_ABS from text: a JSON
 * array of numbers when it starts with '[' (after white space), else numbers
 * separated by commas, spaces or newlines. Only plain integer literals count:
 * 0.5, 1e3, 1e400, "7", nested arrays, 2^53 are errors, and err names the entry
 * ("entry 3 (0.5) is not an integer"). The JSON form is scanned here, not by
 * cJSON, which turns every number into a double and so cannot tell 2^53 from
 * 2^53 + 1. On success the caller frees out with calc_input_free.
 */
bool calc_parse(const char *text, size_t len, struct calc_input *out, char err[CALC_ERR_SIZE]);
void calc_input_free(struct calc_input *in);

/*
 * count, min and max fit a JSON number exactly; sum is a decimal string (it may
 * pass 2^53); mean and median are decimal strings, exact when the decimal
 * expansion ends ("2", "-2.5", "0.0009765625"), else rounded half away from zero
 * to 6 places ("0.333333"). The median of an even count is the mean of the
 * middle two.
 */
struct calc_result {
	size_t count;
	long long min, max;
	char sum[CALC_TEXT_SIZE], mean[CALC_TEXT_SIZE], median[CALC_TEXT_SIZE];
	bool mean_exact;
};

/* sorted receives the values in ascending order (in->count of them). */
void calc_compute(const struct calc_input *in, long long *sorted, struct calc_result *out);

/*
 * The job's result:
 * {"count":N,"min":N,"max":N,"sum":"..","mean":"..","median":"..","log_sha256":".."}
 * (count, min, max JSON numbers; the rest strings; log_sha256 only when given).
 */
bool calc_result_json(const struct calc_result *r, const char *log_sha256, struct buf *out);

/* What the log records of one run; times are Unix milliseconds. */
struct calc_log_info {
	long long job_id;
	int attempt;
	int64_t started_ms, finished_ms;
};

/* The log text: job id, attempt, times, the input, the sorted values and the results. */
bool calc_log(const struct calc_log_info *info, const struct calc_input *in,
	      const long long *sorted, const struct calc_result *r, struct buf *out);

#endif
