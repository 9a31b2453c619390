/* unit_validate: cmocka tests for core/key, common/url, common/num and core/imagetype: keys, URL decoding, image types and sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/num.h"
#include "common/url.h"
#include "core/imagetype.h"
#include "core/key.h"

enum {
	ERR_LEN = 128,
	LONG_KEY = 300,
	UNTOUCHED_SIDE = 12345, /* what width and height hold until image_dimensions writes them */
};

static const char UNTOUCHED_ERR[] = "untouched";

/* A string literal and its length, NULs inside included; BYTES gives it as image data. */
#define LIT(s) (s), sizeof(s) - 1
#define BYTES(s) (const unsigned char *)(s), sizeof(s) - 1

/*
 * An exact-size heap copy: the tests run under AddressSanitizer, and a read
 * one byte past len lands outside the block and is reported.
 */
static void *dup_exact(const void *p, size_t len)
{
	void *copy = malloc(len);
	assert_true(copy != NULL || len == 0);
	if (len)
		memcpy(copy, p, len);
	return copy;
}

/* ---- keys ---- */

/* key_is_valid on an exact-size copy; err starts as UNTOUCHED_ERR: success must leave it. */
static bool check_key(const char *key, size_t len, char *err)
{
	char *copy = dup_exact(key, len);
	strcpy(err, UNTOUCHED_ERR);
	bool ok = key_is_valid(copy, len, err, ERR_LEN);
	free(copy);
	return ok;
}

/*
 * Macros rather than functions so that a failure names the test line. Each
 * takes (key, len) or LIT("..."); the outer macro expands LIT into both.
 */
#define assert_key_ok(...) assert_key_ok_(__VA_ARGS__)
#define assert_key_ok_(key, len)                             \
	do {                                                 \
		char err_[ERR_LEN];                          \
		assert_true(check_key((key), (len), err_));  \
		assert_string_equal(err_, UNTOUCHED_ERR);    \
	} while (0)

#define assert_key_fails(...) assert_key_fails_(__VA_ARGS__)
#define assert_key_fails_(key, len, want)                    \
	do {                                                 \
		char err_[ERR_LEN];                          \
		assert_false(check_key((key), (len), err_)); \
		assert_string_equal(err_, (want));           \
	} while (0)

static const char NOT_UTF8_AT_1[] = "key is not valid UTF-8 (byte 1)";

static void test_key_valid_ascii(void **state)
{
	(void)state;
	assert_key_ok(LIT("a"));
	assert_key_ok(LIT("holiday/beach.jpg"));
	assert_key_ok(LIT("my photo with spaces"));
	assert_key_ok(LIT("/leading/and/trailing/"));
	assert_key_ok(LIT(".."));
	assert_key_ok(LIT("../../etc/passwd"));
	assert_key_ok(LIT("<script>alert(1)</script>"));
	assert_key_ok(LIT("quotes \" and ' and 100% and ~"));
	assert_key_ok(LIT(" ")); /* U+0020, the first character after the C0 controls */
}

static void test_key_valid_utf8(void **state)
{
	(void)state;
	assert_key_ok(LIT("\xC3\xA9"));                     /* é, 2 bytes */
	assert_key_ok(LIT("\xE6\x97\xA5\xE6\x9C\xAC"));     /* 日本, 3 bytes each */
	assert_key_ok(LIT("\xF0\x9F\x98\x80"));             /* 😀, 4 bytes */
	assert_key_ok(LIT("caf\xC3\xA9 \xF0\x9F\x98\x80")); /* mixed */
	assert_key_ok(LIT("\xC2\xA0"));                     /* U+00A0, first after the C1 controls */
	assert_key_ok(LIT("\xE0\xA0\x80"));                 /* U+0800, shortest 3-byte form */
	assert_key_ok(LIT("\xED\x9F\xBF"));                 /* U+D7FF, just below the surrogates */
	assert_key_ok(LIT("\xEE\x80\x80"));                 /* U+E000, just above them */
	assert_key_ok(LIT("\xF0\x90\x80\x80"));             /* U+10000, shortest 4-byte form */
	assert_key_ok(LIT("\xF4\x8F\xBF\xBF"));             /* U+10FFFF, the last code point */
}

static void test_key_length(void **state)
{
	(void)state;
	char key[LONG_KEY];
	memset(key, 'a', sizeof(key));
	assert_key_fails(key, 0, "key is empty; give 1 to 255 bytes");
	assert_key_ok(key, KEY_MAX_BYTES);
	assert_key_fails(key, KEY_MAX_BYTES + 1, "key is 256 bytes; the limit is 255");
	assert_key_fails(key, LONG_KEY, "key is 300 bytes; the limit is 255");

	/* A character that ends exactly at the limit is fine; one that crosses it is not. */
	memcpy(key + KEY_MAX_BYTES - 2, "\xC3\xA9", 2);
	assert_key_ok(key, KEY_MAX_BYTES);
	memcpy(key + KEY_MAX_BYTES - 1, "\xC3\xA9", 2);
	assert_key_fails(key, KEY_MAX_BYTES + 1, "key is 256 bytes; the limit is 255");

	/* The length is reported before any bad byte in it. */
	key[0] = '\x01';
	assert_key_fails(key, LONG_KEY, "key is 300 bytes; the limit is 255");
}

static void test_key_truncated_sequences(void **state)
{
	(void)state;
	assert_key_fails(LIT("\xC3"), NOT_UTF8_AT_1);
	assert_key_fails(LIT("ab\xC3"), "key is not valid UTF-8 (byte 3)");
	assert_key_fails(LIT("\xE6\x97"), NOT_UTF8_AT_1);
	assert_key_fails(LIT("x\xF0\x9F\x98"), "key is not valid UTF-8 (byte 2)");
	/* Cut short by the next character rather than by the end. */
	assert_key_fails(LIT("\xF0\x9F\x98z"), NOT_UTF8_AT_1);
}

static void test_key_bad_continuation(void **state)
{
	(void)state;
	assert_key_fails(LIT("\x80"), NOT_UTF8_AT_1); /* a continuation byte with no lead */
	assert_key_fails(LIT("a\xBF"), "key is not valid UTF-8 (byte 2)");
	assert_key_fails(LIT("\xC3\x28"), NOT_UTF8_AT_1);
	assert_key_fails(LIT("\xC3\xC3\xA9"), NOT_UTF8_AT_1); /* a lead where a continuation should be */
	assert_key_fails(LIT("\xE6\x97\x41"), NOT_UTF8_AT_1);
	assert_key_fails(LIT("abc\xF0\x9F\xF0\x80"), "key is not valid UTF-8 (byte 4)");
	assert_key_fails(LIT("\xC3\xA9\xA9"), "key is not valid UTF-8 (byte 3)"); /* one too many */
}

static void test_key_overlong(void **state)
{
	(void)state;
	assert_key_fails(LIT("\xC0\xAF"), NOT_UTF8_AT_1);             /* '/' in 2 bytes */
	assert_key_fails(LIT("a\xC0\x80"), "key is not valid UTF-8 (byte 2)"); /* NUL, not a control */
	assert_key_fails(LIT("\xC1\xBF"), NOT_UTF8_AT_1);             /* U+007F in 2 bytes */
	assert_key_fails(LIT("\xE0\x80\xAF"), NOT_UTF8_AT_1);         /* '/' in 3 bytes */
	assert_key_fails(LIT("\xE0\x9F\xBF"), NOT_UTF8_AT_1);         /* U+07FF in 3 bytes */
	assert_key_fails(LIT("\xF0\x80\x80\xAF"), NOT_UTF8_AT_1);     /* '/' in 4 bytes */
	assert_key_fails(LIT("\xF0\x8F\xBF\xBF"), NOT_UTF8_AT_1);     /* U+FFFF in 4 bytes */
}

static void test_key_surrogates(void **state)
{
	(void)state;
	assert_key_fails(LIT("\xED\xA0\x80"), NOT_UTF8_AT_1); /* U+D800 */
	assert_key_fails(LIT("\xED\xBF\xBF"), NOT_UTF8_AT_1); /* U+DFFF */
	assert_key_fails(LIT("ok\xED\xB0\x80"), "key is not valid UTF-8 (byte 3)");
	/* A pair, as CESU-8 would write 😀. */
	assert_key_fails(LIT("\xED\xA0\xBD\xED\xB8\x80"), NOT_UTF8_AT_1);
}

static void test_key_above_unicode(void **state)
{
	(void)state;
	assert_key_fails(LIT("\xF4\x90\x80\x80"), NOT_UTF8_AT_1); /* U+110000 */
	assert_key_fails(LIT("\xF4\xBF\xBF\xBF"), NOT_UTF8_AT_1); /* U+13FFFF */
}

static void test_key_forbidden_lead_bytes(void **state)
{
	(void)state;
	/* Each followed by continuation bytes, so that only the lead is wrong. */
	for (unsigned lead = 0xC0; lead <= 0xC1; lead++) {
		char key[] = {(char)lead, '\xBF'};
		assert_key_fails(key, sizeof(key), NOT_UTF8_AT_1);
	}
	for (unsigned lead = 0xF5; lead <= 0xFF; lead++) {
		char key[] = {(char)lead, '\x80', '\x80', '\x80', '\x80', '\x80'};
		assert_key_fails(key, sizeof(key), NOT_UTF8_AT_1);
		assert_key_fails(key, 1, NOT_UTF8_AT_1);
	}
}

static void test_key_control_characters(void **state)
{
	(void)state;
	assert_key_fails(LIT("\0"), "key contains a control character (byte 1)");
	assert_key_fails(LIT("a\0b"), "key contains a control character (byte 2)");
	assert_key_fails(LIT("a\x01" "b"), "key contains a control character (byte 2)");
	assert_key_fails(LIT("tab\there"), "key contains a control character (byte 4)");
	assert_key_fails(LIT("line\n"), "key contains a control character (byte 5)");
	assert_key_fails(LIT("\r"), "key contains a control character (byte 1)");
	assert_key_fails(LIT("\x1B[31m"), "key contains a control character (byte 1)");
	assert_key_fails(LIT("\x1F"), "key contains a control character (byte 1)");
	assert_key_fails(LIT("del\x7F"), "key contains a control character (byte 4)");
	assert_key_fails(LIT("\xC2\x80"), "key contains a control character (byte 1)"); /* U+0080 */
	assert_key_fails(LIT("\xC3\xA9\xC2\x85"), "key contains a control character (byte 3)"); /* NEL */
	assert_key_fails(LIT("ab\xC2\x9F"), "key contains a control character (byte 3)"); /* U+009F */
}

static void test_key_err_buffer(void **state)
{
	(void)state;
	/* No buffer, or no room in it: the answer alone. */
	assert_false(key_is_valid("", 0, NULL, 0));
	assert_true(key_is_valid("a", 1, NULL, 0));
	char err[8] = "xxxxxxx";
	assert_false(key_is_valid("", 0, err, 0));
	assert_string_equal(err, "xxxxxxx");
	/* A short buffer gets the start of the message, still terminated. */
	assert_false(key_is_valid("", 0, err, sizeof(err)));
	assert_string_equal(err, "key is ");
}

/* ---- URL decoding ---- */

struct decode_case {
	const char *in;
	const char *out;
};

static const struct decode_case decode_cases[] = {
	{"a%20b", "a b"},
	{"%2F..%2f", "/../"},
	{"100%", "100%"},
	{"%zz", "%zz"},
	{"%4", "%4"},
	{"%4g", "%4g"},
	{"a+b", "a+b"},
	{"%00x", "\x01x"},
	{"%C3%A9", "\xC3\xA9"},
	{"%e6%97%a5", "\xE6\x97\xA5"},
	{"%41%42", "AB"},
	{"%%41", "%A"},
	{"%4%41", "%4A"},
	{"%2", "%2"},
	{"%", "%"},
	{"", ""},
	{"plain", "plain"},
	{"%ff", "\xFF"},
	{"%252F", "%2F"}, /* decoded once, not twice */
};

/* Decodes an exact-size copy (len bytes and terminator); checks the bytes and new terminator. */
static void check_decode(const struct decode_case *c)
{
	size_t len = strlen(c->in);
	char *s = dup_exact(c->in, len + 1);
	size_t got = url_decode_inplace(s, len);
	assert_int_equal(got, strlen(c->out));
	assert_memory_equal(s, c->out, got + 1);
	free(s);
}

static void test_url_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++)
		check_decode(&decode_cases[i]);
}

static void test_url_decode_stops_at_len(void **state)
{
	(void)state;
	/* An escape cut short by len is kept; bytes after len are neither read into it nor moved. */
	char s[] = "a%20b";
	assert_int_equal(url_decode_inplace(s, 3), 3);
	assert_memory_equal(s, "a%2\0b", sizeof(s));

	char t[] = "%41%42";
	assert_int_equal(url_decode_inplace(t, 3), 1);
	assert_memory_equal(t, "A\0" "1%42", sizeof(t));
}

static void test_url_decode_then_key(void **state)
{
	(void)state;
	char nul[] = "%00";
	size_t len = url_decode_inplace(nul, strlen(nul));
	assert_key_fails(nul, len, "key contains a control character (byte 1)");

	char e[] = "caf%C3%A9";
	len = url_decode_inplace(e, strlen(e));
	assert_key_ok(e, len);

	char bad[] = "%C0%AF";
	len = url_decode_inplace(bad, strlen(bad));
	assert_key_fails(bad, len, NOT_UTF8_AT_1);
}

/* ---- image sniffing ---- */

static const unsigned char JPEG_MAGIC[] = {0xFF, 0xD8, 0xFF};
static const unsigned char PNG_MAGIC[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
static const unsigned char GIF87_MAGIC[] = {'G', 'I', 'F', '8', '7', 'a'};
static const unsigned char GIF89_MAGIC[] = {'G', 'I', 'F', '8', '9', 'a'};
static const unsigned char WEBP_MAGIC[] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};

static enum image_type sniff_exact(const void *data, size_t len)
{
	unsigned char *copy = dup_exact(data, len);
	enum image_type t = image_sniff(copy, len);
	free(copy);
	return t;
}

/* The whole signature is recognised and every shorter prefix is not. */
static void check_sniff(const unsigned char *magic, size_t len, enum image_type want)
{
	assert_int_equal(sniff_exact(magic, len), want);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(sniff_exact(magic, n), IMAGE_UNKNOWN);
}

static void test_sniff_each_type(void **state)
{
	(void)state;
	assert_int_equal(IMAGE_SNIFF_BYTES, sizeof(WEBP_MAGIC));
	check_sniff(JPEG_MAGIC, sizeof(JPEG_MAGIC), IMAGE_JPEG);
	check_sniff(PNG_MAGIC, sizeof(PNG_MAGIC), IMAGE_PNG);
	check_sniff(GIF87_MAGIC, sizeof(GIF87_MAGIC), IMAGE_GIF);
	check_sniff(GIF89_MAGIC, sizeof(GIF89_MAGIC), IMAGE_GIF);
	check_sniff(WEBP_MAGIC, sizeof(WEBP_MAGIC), IMAGE_WEBP);
	/* The RIFF size field may be anything. */
	assert_int_equal(sniff_exact(LIT("RIFF\xFF\xFF\xFF\xFFWEBPVP8 ")), IMAGE_WEBP);
}

static void test_sniff_short_inputs(void **state)
{
	(void)state;
	assert_int_equal(image_sniff(NULL, 0), IMAGE_UNKNOWN);
	for (size_t n = 0; n <= 3; n++) {
		assert_int_equal(sniff_exact(PNG_MAGIC, n), IMAGE_UNKNOWN);
		assert_int_equal(sniff_exact(GIF89_MAGIC, n), IMAGE_UNKNOWN);
		assert_int_equal(sniff_exact(WEBP_MAGIC, n), IMAGE_UNKNOWN);
		assert_int_equal(sniff_exact("abc", n), IMAGE_UNKNOWN);
	}
	for (size_t n = 0; n < 3; n++)
		assert_int_equal(sniff_exact(JPEG_MAGIC, n), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(JPEG_MAGIC, 3), IMAGE_JPEG);
}

static void test_sniff_not_images(void **state)
{
	(void)state;
	assert_int_equal(sniff_exact(LIT("hello, world")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("<html><body>")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("RIFF....WAVE")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("RIFF....WEB")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("GIF88a")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("\xFF\xD8\x00")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("\x89PNG\r\n\x1A\r")), IMAGE_UNKNOWN);
	assert_int_equal(sniff_exact(LIT("image.png")), IMAGE_UNKNOWN);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(image_type_mime(IMAGE_JPEG), "image/jpeg");
	assert_string_equal(image_type_mime(IMAGE_PNG), "image/png");
	assert_string_equal(image_type_mime(IMAGE_GIF), "image/gif");
	assert_string_equal(image_type_mime(IMAGE_WEBP), "image/webp");
	assert_null(image_type_mime(IMAGE_UNKNOWN));
	assert_null(image_type_mime((enum image_type)99));
	assert_string_equal(image_type_ext(IMAGE_JPEG), "jpg");
	assert_string_equal(image_type_ext(IMAGE_PNG), "png");
	assert_string_equal(image_type_ext(IMAGE_GIF), "gif");
	assert_string_equal(image_type_ext(IMAGE_WEBP), "webp");
	assert_null(image_type_ext(IMAGE_UNKNOWN));
	assert_null(image_type_ext((enum image_type)99));
}

/* ---- image dimensions ---- */

static bool dims_exact(const unsigned char *data, size_t len, enum image_type t, unsigned *w,
		       unsigned *h)
{
	unsigned char *copy = dup_exact(data, len);
	bool ok = image_dimensions(copy, len, t, w, h);
	free(copy);
	return ok;
}

static void assert_dims(const unsigned char *data, size_t len, enum image_type t, unsigned want_w,
			unsigned want_h)
{
	unsigned w = UNTOUCHED_SIDE, h = UNTOUCHED_SIDE;
	assert_true(dims_exact(data, len, t, &w, &h));
	assert_int_equal(w, want_w);
	assert_int_equal(h, want_h);
}

static void assert_no_dims(const unsigned char *data, size_t len, enum image_type t)
{
	unsigned w = UNTOUCHED_SIDE, h = UNTOUCHED_SIDE;
	assert_false(dims_exact(data, len, t, &w, &h));
	assert_int_equal(w, UNTOUCHED_SIDE);
	assert_int_equal(h, UNTOUCHED_SIDE);
}

/*
 * The size is read from the whole header and from its first need bytes, and
 * every shorter prefix fails without an out-of-bounds read.
 */
static void check_dims(const unsigned char *data, size_t len, size_t need, enum image_type t,
		       unsigned want_w, unsigned want_h)
{
	assert_true(need <= len);
	assert_dims(data, len, t, want_w, want_h);
	assert_dims(data, need, t, want_w, want_h);
	for (size_t n = 0; n < need; n++)
		assert_no_dims(data, n, t);
}

/* PNG: signature, IHDR length 13, "IHDR", width, height, then depth, colour type and methods. */
static const unsigned char PNG_640x480[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
	0, 0, 0x02, 0x80, 0, 0, 0x01, 0xE0, 8, 6, 0, 0, 0,
};
enum { PNG_NEED = 24 };

static void test_dimensions_png(void **state)
{
	(void)state;
	check_dims(PNG_640x480, sizeof(PNG_640x480), PNG_NEED, IMAGE_PNG, 640, 480);

	unsigned char png[sizeof(PNG_640x480)];
	memcpy(png, PNG_640x480, sizeof(png));
	png[17] = 0x01; /* width 0x01010280: every byte of the field counts */
	png[16] = 0x01;
	assert_dims(png, sizeof(png), IMAGE_PNG, 0x01010280, 480);
}

/* GIF: signature, logical screen width and height (little-endian), flags, background, aspect. */
static const unsigned char GIF_640x480[] = {
	'G', 'I', 'F', '8', '9', 'a', 0x80, 0x02, 0xE0, 0x01, 0xF7, 0, 0,
};
static const unsigned char GIF87_1x65535[] = {
	'G', 'I', 'F', '8', '7', 'a', 0x01, 0x00, 0xFF, 0xFF, 0, 0, 0,
};
enum { GIF_NEED = 10 };

static void test_dimensions_gif(void **state)
{
	(void)state;
	check_dims(GIF_640x480, sizeof(GIF_640x480), GIF_NEED, IMAGE_GIF, 640, 480);
	check_dims(GIF87_1x65535, sizeof(GIF87_1x65535), GIF_NEED, IMAGE_GIF, 1, 65535);
}

/*
 * WebP lossy: RIFF header, "VP8 " chunk of 24 bytes, key-frame tag, start
 * code, width 400 with scale bits 01 on top, height 300.
 */
static const unsigned char WEBP_VP8_400x300[] = {
	'R', 'I', 'F', 'F', 0x24, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' ', 0x18, 0, 0, 0,
	0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x90, 0x41, 0x2C, 0x01,
};
enum { WEBP_VP8_NEED = 30 };

/* WebP lossless: "VP8L", signature 2F, then 999 | 749 << 14 | alpha << 28, so 1000 x 750. */
static const unsigned char WEBP_VP8L_1000x750[] = {
	'R', 'I', 'F', 'F', 0x1A, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 0x0E, 0, 0, 0,
	0x2F, 0xE7, 0x43, 0xBB, 0x10,
};
enum { WEBP_VP8L_NEED = 25 };

/* WebP extended: "VP8X" of 10 bytes, flags, reserved, canvas width-1 = 19999, height-1 = 0. */
static const unsigned char WEBP_VP8X_20000x1[] = {
	'R', 'I', 'F', 'F', 0x16, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 0x0A, 0, 0, 0,
	0x10, 0, 0, 0, 0x1F, 0x4E, 0x00, 0x00, 0x00, 0x00,
};
enum { WEBP_VP8X_NEED = 30 };

static void test_dimensions_webp(void **state)
{
	(void)state;
	check_dims(WEBP_VP8_400x300, sizeof(WEBP_VP8_400x300), WEBP_VP8_NEED, IMAGE_WEBP, 400, 300);
	check_dims(WEBP_VP8L_1000x750, sizeof(WEBP_VP8L_1000x750), WEBP_VP8L_NEED, IMAGE_WEBP, 1000,
		   750);
	check_dims(WEBP_VP8X_20000x1, sizeof(WEBP_VP8X_20000x1), WEBP_VP8X_NEED, IMAGE_WEBP, 20000,
		   1);

	/* The largest sides each format can state. */
	unsigned char vp8l[sizeof(WEBP_VP8L_1000x750)];
	memcpy(vp8l, WEBP_VP8L_1000x750, sizeof(vp8l));
	memcpy(vp8l + 21, "\xFF\xFF\xFF\x0F", 4);
	assert_dims(vp8l, sizeof(vp8l), IMAGE_WEBP, 16384, 16384);
	unsigned char vp8x[sizeof(WEBP_VP8X_20000x1)];
	memcpy(vp8x, WEBP_VP8X_20000x1, sizeof(vp8x));
	memset(vp8x + 24, 0xFF, 6);
	assert_dims(vp8x, sizeof(vp8x), IMAGE_WEBP, 16777216, 16777216);
}

/* JPEG: SOI, an APP0 JFIF segment, then a frame header (SOF0) of 1024 x 768, 3 components. */
static const unsigned char JPEG_SOF0_1024x768[] = {
	0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x03, 0x00, 0x04, 0x00, 0x03, 0x01,
	0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xDA,
};
/* SOI 2 + APP0 18 + SOF marker 2 + length, precision, height, width 7 */
enum { JPEG_NEED = 29, JPEG_SOF_MARKER_AT = 21 };

/*
 * The walk must skip: DQT, DHT behind fill bytes (C4 is in the SOF range but
 * is not one), RST0, TEM and a repeated SOI (no length), DAC (CC) and JPG
 * (C8), before it reaches SOF1 of 32 x 16.
 */
static const unsigned char JPEG_MIXED_32x16[] = {
	0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xFF, 0xFF, 0xC4, 0x00, 0x03, 0x00,
	0xFF, 0xD0, 0xFF, 0x01, 0xFF, 0xD8, 0xFF, 0xCC, 0x00, 0x02, 0xFF, 0xC8, 0x00, 0x02,
	0xFF, 0xC1, 0x00, 0x0B, 0x08, 0x00, 0x10, 0x00, 0x20, 0x01, 0x01, 0x11, 0x00,
};
enum { JPEG_MIXED_NEED = 38 };

static void test_dimensions_jpeg(void **state)
{
	(void)state;
	check_dims(JPEG_SOF0_1024x768, sizeof(JPEG_SOF0_1024x768), JPEG_NEED, IMAGE_JPEG, 1024,
		   768);

	unsigned char progressive[sizeof(JPEG_SOF0_1024x768)];
	memcpy(progressive, JPEG_SOF0_1024x768, sizeof(progressive));
	progressive[JPEG_SOF_MARKER_AT] = 0xC2;
	check_dims(progressive, sizeof(progressive), JPEG_NEED, IMAGE_JPEG, 1024, 768);

	check_dims(JPEG_MIXED_32x16, sizeof(JPEG_MIXED_32x16), JPEG_MIXED_NEED, IMAGE_JPEG, 32, 16);

	/* Every SOFn counts, and the look-alikes never do. */
	unsigned char sof[sizeof(JPEG_SOF0_1024x768)];
	memcpy(sof, JPEG_SOF0_1024x768, sizeof(sof));
	for (unsigned m = 0xC0; m <= 0xCF; m++) {
		sof[JPEG_SOF_MARKER_AT] = (unsigned char)m;
		if (m == 0xC4 || m == 0xC8 || m == 0xCC)
			assert_no_dims(sof, sizeof(sof), IMAGE_JPEG);
		else
			assert_dims(sof, sizeof(sof), IMAGE_JPEG, 1024, 768);
	}
}

static void test_dimensions_jpeg_malformed(void **state)
{
	(void)state;
	/* Scan data or the end before any frame header. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\xFF\xC0"), IMAGE_JPEG);
	assert_no_dims(BYTES("\xFF\xD8\xFF\xD9"), IMAGE_JPEG);
	/* A segment length below 2, which cannot even cover itself. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xE0\x00\x01\xFF\xC0\x00\x11\x08\x03\x00\x04\x00\x03"),
		       IMAGE_JPEG);
	/* Bytes where a marker should stand. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xE0\x00\x04\x00\x00\x12\x34"
			     "\xFF\xC0\x00\x11\x08\x03\x00\x04\x00"),
		       IMAGE_JPEG);
	/* FF 00 is escaped data, not a marker. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\x00\xFF\xC0\x00\x11\x08\x03\x00\x04\x00\x03"), IMAGE_JPEG);
	/* A segment that claims to run past the data. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xE1\xFF\xFF\x00\x00\xFF\xC0\x00\x11\x08\x03\x00\x04\x00\x03"),
		       IMAGE_JPEG);
	/* Only fill bytes. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xFF\xFF\xFF"), IMAGE_JPEG);
	/* Height 0, to be given later by DNL. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xC0\x00\x0B\x08\x00\x00\x04\x00\x01\x01\x11\x00"), IMAGE_JPEG);
	/* A frame header too short to hold its own fields. */
	assert_no_dims(BYTES("\xFF\xD8\xFF\xC0\x00\x07\x08\x03\x00\x04\x00"), IMAGE_JPEG);
}

static void test_dimensions_malformed(void **state)
{
	(void)state;
	unsigned char png[sizeof(PNG_640x480)];
	memcpy(png, PNG_640x480, sizeof(png));
	png[15] = 'X'; /* not IHDR */
	assert_no_dims(png, sizeof(png), IMAGE_PNG);
	memcpy(png, PNG_640x480, sizeof(png));
	png[11] = 12; /* IHDR of the wrong length */
	assert_no_dims(png, sizeof(png), IMAGE_PNG);
	memcpy(png, PNG_640x480, sizeof(png));
	png[16] = 0x80; /* width beyond 31 bits */
	assert_no_dims(png, sizeof(png), IMAGE_PNG);
	memcpy(png, PNG_640x480, sizeof(png));
	memset(png + 16, 0, 4); /* width 0 */
	assert_no_dims(png, sizeof(png), IMAGE_PNG);

	assert_no_dims(BYTES("GIF89a\x00\x00\xE0\x01"), IMAGE_GIF);

	unsigned char webp[sizeof(WEBP_VP8_400x300)];
	memcpy(webp, WEBP_VP8_400x300, sizeof(webp));
	webp[20] |= 0x01; /* an inter frame carries no size */
	assert_no_dims(webp, sizeof(webp), IMAGE_WEBP);
	memcpy(webp, WEBP_VP8_400x300, sizeof(webp));
	webp[23] = 0x9C; /* bad start code */
	assert_no_dims(webp, sizeof(webp), IMAGE_WEBP);
	memcpy(webp, WEBP_VP8_400x300, sizeof(webp));
	webp[16] = 9; /* a chunk smaller than the header read from it */
	assert_no_dims(webp, sizeof(webp), IMAGE_WEBP);
	memcpy(webp, WEBP_VP8_400x300, sizeof(webp));
	memcpy(webp + 12, "ALPH", 4); /* a first chunk that carries no size */
	assert_no_dims(webp, sizeof(webp), IMAGE_WEBP);

	unsigned char vp8l[sizeof(WEBP_VP8L_1000x750)];
	memcpy(vp8l, WEBP_VP8L_1000x750, sizeof(vp8l));
	vp8l[20] = 0x2E; /* bad signature */
	assert_no_dims(vp8l, sizeof(vp8l), IMAGE_WEBP);
	memcpy(vp8l, WEBP_VP8L_1000x750, sizeof(vp8l));
	vp8l[24] |= 0x20; /* version 1 */
	assert_no_dims(vp8l, sizeof(vp8l), IMAGE_WEBP);
}

static void test_dimensions_wrong_type(void **state)
{
	(void)state;
	assert_no_dims(PNG_640x480, sizeof(PNG_640x480), IMAGE_GIF);
	assert_no_dims(PNG_640x480, sizeof(PNG_640x480), IMAGE_UNKNOWN);
	assert_no_dims(GIF_640x480, sizeof(GIF_640x480), IMAGE_PNG);
	assert_no_dims(JPEG_SOF0_1024x768, sizeof(JPEG_SOF0_1024x768), IMAGE_WEBP);
	assert_no_dims(WEBP_VP8_400x300, sizeof(WEBP_VP8_400x300), IMAGE_JPEG);
	assert_no_dims(BYTES("hello, world"), IMAGE_UNKNOWN);
	assert_no_dims(NULL, 0, IMAGE_PNG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_valid_ascii),
		cmocka_unit_test(test_key_valid_utf8),
		cmocka_unit_test(test_key_length),
		cmocka_unit_test(test_key_truncated_sequences),
		cmocka_unit_test(test_key_bad_continuation),
		cmocka_unit_test(test_key_overlong),
		cmocka_unit_test(test_key_surrogates),
		cmocka_unit_test(test_key_above_unicode),
		cmocka_unit_test(test_key_forbidden_lead_bytes),
		cmocka_unit_test(test_key_control_characters),
		cmocka_unit_test(test_key_err_buffer),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_url_decode_stops_at_len),
		cmocka_unit_test(test_url_decode_then_key),
		cmocka_unit_test(test_sniff_each_type),
		cmocka_unit_test(test_sniff_short_inputs),
		cmocka_unit_test(test_sniff_not_images),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_dimensions_png),
		cmocka_unit_test(test_dimensions_gif),
		cmocka_unit_test(test_dimensions_webp),
		cmocka_unit_test(test_dimensions_jpeg),
		cmocka_unit_test(test_dimensions_jpeg_malformed),
		cmocka_unit_test(test_dimensions_malformed),
		cmocka_unit_test(test_dimensions_wrong_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
