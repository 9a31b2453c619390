/* calc: CloudCal's statistics of a list of integers, exact, with no floating point. */
#include "calc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

__extension__ typedef __int128 calc_i128;
__extension__ typedef unsigned __int128 calc_u128;

enum {
	/* Digits of CALC_MAX_ABS: a literal with more is out of range whatever it says. */
	MAX_ABS_DIGITS = 16,
	/* An entry's text in a message is cut to this many bytes. */
	SHOWN_ENTRY_BYTES = 24,
	ROUNDED_PLACES = 6,
	VALUES_PER_LOG_LINE = 10,
};

struct scan {
	const char *p, *end;
	struct calc_input *out;
	size_t cap;
	char *err;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_space(struct scan *s)
{
	while (s->p < s->end && is_space(*s->p))
		s->p++;
}

/* The entry's text for a message: cut short, with anything unprintable shown as '?'. */
static void shown(const char *tok, size_t len, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && i < SHOWN_ENTRY_BYTES && n + 1 < size; i++)
		out[n++] = tok[i] >= ' ' && tok[i] <= '~' ? tok[i] : '?';
	out[n] = '\0';
	if (len > SHOWN_ENTRY_BYTES && n + 4 < size)
		strcat(out, "...");
}

static bool fail_entry(struct scan *s, size_t entry, const char *tok, size_t len, const char *why)
{
	char text[SHOWN_ENTRY_BYTES + 8];
	shown(tok, len, text, sizeof(text));
	snprintf(s->err, CALC_ERR_SIZE, "entry %zu (%s) %s", entry, text, why);
	return false;
}

static bool add_value(struct scan *s, long long v)
{
	if (s->out->count == s->cap) {
		snprintf(s->err, CALC_ERR_SIZE, "more than %d numbers: give at most %d",
			 CALC_MAX_COUNT, CALC_MAX_COUNT);
		return false;
	}
	s->out->values[s->out->count++] = v;
	return true;
}

/*
 * One entry of len bytes that looks like a number. json: JSON's grammar
 * (no leading zeros, no '+'); otherwise any run of digits after an optional '-'.
 */
static bool take_number(struct scan *s, size_t entry, const char *tok, size_t len, bool json)
{
	size_t i = tok[0] == '-' ? 1 : 0, first = i;
	while (i < len && is_digit(tok[i]))
		i++;
	size_t digits = i - first;
	bool fraction = false, exponent = false, well_formed = digits > 0;
	if (i < len && tok[i] == '.') {
		fraction = true;
		size_t from = ++i;
		while (i < len && is_digit(tok[i]))
			i++;
		well_formed = well_formed && i > from;
	}
	if (i < len && (tok[i] == 'e' || tok[i] == 'E')) {
		exponent = true;
		if (++i < len && (tok[i] == '+' || tok[i] == '-'))
			i++;
		size_t from = i;
		while (i < len && is_digit(tok[i]))
			i++;
		well_formed = well_formed && i > from;
	}
	if (i != len || !well_formed || (json && digits > 1 && tok[first] == '0'))
		return fail_entry(s, entry, tok, len, "is not a number");
	if (exponent)
		return fail_entry(s, entry, tok, len,
				  "has an exponent: write integers in plain digits");
	if (fraction)
		return fail_entry(s, entry, tok, len, "is not an integer");
	while (digits > 1 && tok[first] == '0') /* text form: 007 is 7 */
		first++, digits--;
	long long v = 0;
	bool in_range = digits <= MAX_ABS_DIGITS;
	for (size_t k = first; in_range && k < first + digits; k++)
		v = v * 10 + (tok[k] - '0');
	if (!in_range || v > CALC_MAX_ABS)
		return fail_entry(s, entry, tok, len, "is outside +-9007199254740991 (2^53 - 1)");
	return add_value(s, tok[0] == '-' ? -v : v);
}

/* The length of the token at p: up to a separator of either form. */
static size_t token_len(const struct scan *s, const char *stops)
{
	size_t n = 0;
	while (s->p + n < s->end && !is_space(s->p[n]) && !strchr(stops, s->p[n]))
		n++;
	return n;
}

static bool json_entry(struct scan *s, size_t entry)
{
	const char *tok = s->p;
	char c = *tok;
	if (c == '[')
		return fail_entry(s, entry, "[", 1, "is a nested array: give numbers only");
	if (c == '{')
		return fail_entry(s, entry, "{", 1, "is an object: give numbers only");
	if (c == '"') {
		const char *q = tok + 1;
		while (q < s->end && *q != '"')
			q += *q == '\\' && q + 1 < s->end ? 2 : 1;
		size_t len = q < s->end ? (size_t)(q - tok) + 1 : (size_t)(s->end - tok);
		return fail_entry(s, entry, tok, len, "is a string, not a number");
	}
	size_t len = token_len(s, ",]");
	if (len == 0)
		return fail_entry(s, entry, tok, 1, "is not a number");
	s->p += len;
	if (c != '-' && !is_digit(c))
		return fail_entry(s, entry, tok, len, "is not a number");
	return take_number(s, entry, tok, len, true);
}

static bool parse_json(struct scan *s)
{
	s->p++; /* '[' */
	skip_space(s);
	if (s->p < s->end && *s->p == ']') {
		snprintf(s->err, CALC_ERR_SIZE, "no numbers: give 1 to %d integers", CALC_MAX_COUNT);
		return false;
	}
	for (size_t entry = 1;; entry++) {
		skip_space(s);
		if (s->p == s->end) {
			snprintf(s->err, CALC_ERR_SIZE, "the list ends before entry %zu and its ']'",
				 entry);
			return false;
		}
		if (!json_entry(s, entry))
			return false;
		skip_space(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']')
			break;
		snprintf(s->err, CALC_ERR_SIZE, "after entry %zu: expected ',' or ']'", entry);
		return false;
	}
	s->p++;
	skip_space(s);
	if (s->p != s->end) {
		snprintf(s->err, CALC_ERR_SIZE, "text after the list's closing ']'");
		return false;
	}
	return true;
}

static bool parse_text(struct scan *s)
{
	skip_space(s);
	for (size_t entry = 1; s->p < s->end; entry++) {
		const char *tok = s->p;
		size_t len = token_len(s, ",");
		if (len == 0) {
			snprintf(s->err, CALC_ERR_SIZE, "entry %zu is empty (two commas in a row)",
				 entry);
			return false;
		}
		s->p += len;
		if (!take_number(s, entry, tok, len, false))
			return false;
		skip_space(s);
		if (s->p < s->end && *s->p == ',') { /* one comma; a last one is allowed */
			s->p++;
			skip_space(s);
		}
	}
	if (s->out->count == 0) {
		snprintf(s->err, CALC_ERR_SIZE, "no numbers: give 1 to %d integers", CALC_MAX_COUNT);
		return false;
	}
	return true;
}

bool calc_parse(const char *text, size_t len, struct calc_input *out, char err[CALC_ERR_SIZE])
{
	memset(out, 0, sizeof(*out));
	/* n entries take at least 2n - 1 bytes; room for one more tells "too many" apart. */
	size_t cap = len / 2 + 1 < CALC_MAX_COUNT ? len / 2 + 1 : CALC_MAX_COUNT;
	out->values = malloc(cap * sizeof(*out->values));
	if (!out->values) {
		snprintf(err, CALC_ERR_SIZE, "out of memory");
		return false;
	}
	struct scan s = {text, text + len, out, cap, err};
	skip_space(&s);
	bool ok = s.p < s.end && *s.p == '[' ? parse_json(&s) : parse_text(&s);
	if (!ok)
		calc_input_free(out);
	return ok;
}

void calc_input_free(struct calc_input *in)
{
	free(in->values);
	in->values = NULL;
	in->count = 0;
}

static int compare_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Writes v in decimal; out has room for CALC_TEXT_SIZE bytes. */
static void u128_text(calc_u128 v, char *out)
{
	char digits[48];
	size_t n = 0;
	do {
		digits[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n] = '\0';
}

static calc_u128 gcd_u128(calc_u128 a, calc_u128 b)
{
	while (b) {
		calc_u128 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * The places the exact decimal of num/den needs, or -1 when it never ends:
 * it ends when den, reduced, has no prime factors but 2 and 5.
 */
static int exact_places(calc_u128 num, calc_u128 den)
{
	calc_u128 d = den / gcd_u128(num, den);
	int twos = 0, fives = 0;
	while (d % 2 == 0)
		d /= 2, twos++;
	while (d % 5 == 0)
		d /= 5, fives++;
	if (d != 1)
		return -1;
	return twos > fives ? twos : fives;
}

/* num/den as a decimal string, exact when it ends, else rounded half away from zero. */
static bool decimal_text(calc_i128 num, calc_u128 den, char *out)
{
	bool negative = num < 0;
	calc_u128 a = negative ? (calc_u128)0 - (calc_u128)num : (calc_u128)num;
	int places = exact_places(a, den);
	bool exact = places >= 0;
	if (!exact)
		places = ROUNDED_PLACES;
	calc_u128 whole = a / den, rest = a % den;
	char frac[48];
	for (int i = 0; i < places; i++) {
		rest *= 10;
		frac[i] = (char)('0' + (int)(rest / den));
		rest %= den;
	}
	frac[places] = '\0';
	/* Never a tie here: a tie would have made the expansion end. */
	if (!exact && rest * 2 >= den) {
		int i = places - 1;
		for (; i >= 0 && frac[i] == '9'; i--)
			frac[i] = '0';
		if (i >= 0)
			frac[i]++;
		else
			whole++;
	}
	bool zero = whole == 0 && strspn(frac, "0") == (size_t)places;
	char *p = out;
	if (negative && !zero)
		*p++ = '-';
	u128_text(whole, p);
	if (places > 0) {
		strcat(out, ".");
		strcat(out, frac);
	}
	return exact;
}

void calc_compute(const struct calc_input *in, long long *sorted, struct calc_result *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(sorted, in->values, in->count * sizeof(*sorted));
	qsort(sorted, in->count, sizeof(*sorted), compare_ll);
	calc_i128 sum = 0;
	for (size_t i = 0; i < in->count; i++)
		sum += sorted[i];
	size_t n = in->count;
	out->count = n;
	out->min = sorted[0];
	out->max = sorted[n - 1];
	decimal_text(sum, 1, out->sum);
	out->mean_exact = decimal_text(sum, n, out->mean);
	if (n % 2)
		decimal_text(sorted[n / 2], 1, out->median);
	else
		decimal_text((calc_i128)sorted[n / 2 - 1] + sorted[n / 2], 2, out->median);
}

bool calc_result_json(const struct calc_result *r, const char *log_sha256, struct buf *out)
{
	return buf_printf(out,
			  "{\"count\":%zu,\"min\":%lld,\"max\":%lld,\"sum\":\"%s\",\"mean\":\"%s\","
			  "\"median\":\"%s\"",
			  r->count, r->min, r->max, r->sum, r->mean, r->median) &&
	       (!log_sha256 || buf_printf(out, ",\"log_sha256\":\"%s\"", log_sha256)) &&
	       buf_puts(out, "}");
}

static bool log_values(struct buf *out, const long long *values, size_t n)
{
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++)
		ok = buf_printf(out, "%lld%s", values[i],
				i + 1 == n || (i + 1) % VALUES_PER_LOG_LINE == 0 ? "\n" : " ");
	return ok;
}

bool calc_log(const struct calc_log_info *info, const struct calc_input *in,
	      const long long *sorted, const struct calc_result *r, struct buf *out)
{
	char started[CLOCK_ISO_SIZE], finished[CLOCK_ISO_SIZE];
	clock_iso8601(info->started_ms, started);
	clock_iso8601(info->finished_ms, finished);
	return buf_printf(out,
			  "CloudCal statistics\njob: %lld\nattempt: %d\nstarted: %s\nfinished: %s\n"
			  "\ninput (%zu numbers, as given):\n",
			  info->job_id, info->attempt, started, finished, in->count) &&
	       log_values(out, in->values, in->count) && buf_puts(out, "\nsorted:\n") &&
	       log_values(out, sorted, in->count) &&
	       buf_printf(out,
			  "\nresults:\ncount: %zu\nmin: %lld\nmax: %lld\nsum: %s\nmean: %s%s\n"
			  "median: %s\n",
			  r->count, r->min, r->max, r->sum, r->mean,
			  r->mean_exact ? "" : " (rounded to 6 places)", r->median);
}
