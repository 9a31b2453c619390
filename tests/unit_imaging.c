/* unit_imaging: cmocka tests of the worker's image operations on images made by libvips and on real photographs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/resource.h>

#include <vips/vips.h>

#include "worker/enhance.h"
#include "worker/imaging.h"
#include "worker/thumbnail.h"

enum {
	ERR_LEN = IMAGING_ERR_LEN,
	CORNER = 40,              /* the coloured square the orientation test follows */
	PROBE = 10,               /* how far from the edges a corner pixel is read */
	HUGE_SIDE = 50000,        /* the PNG that claims 50,000 x 50,000 pixels */
	NOISE_SIDE = 512,         /* a JPEG big enough to cut in half */
	MAX_RSS_GROWTH_KB = 65536, /* what refusing every hostile input may cost */
	PHOTO_SIDE = 768,          /* the photographs are shrunk to this for the quality test */
	MIN_PHOTOS = 10,
};

/* Debian's lomiri-wallpapers-16.04 (scripts/test-deps.sh installs it). */
static const char PHOTOS[] = "/usr/share/backgrounds/*_by_*.jpg";
static const double FADE = 1 / 1.3;     /* D's contrast around the mean */
static const double SOFTEN_SIGMA = 1.0; /* D's blur */
static const double MIN_PSNR_GAIN_DB = 2.0;
static const double MIN_CONTRAST_RATIO = 1.2, MAX_CONTRAST_RATIO = 1.3;

static const double RED[] = {255, 0, 0};
static const double GREY[] = {128, 128, 128};

/* ---- helpers ---- */

static void vips_ok(int failed)
{
	if (failed)
		fail_msg("libvips: %s", vips_error_buffer());
}

/* A w x h grey sRGB image with a red square in its (stored) top-left corner. */
static VipsImage *marked_image(int w, int h)
{
	VipsImage *black = NULL, *grey = NULL, *image = NULL;
	vips_ok(vips_black(&black, w, h, "bands", 3, NULL));
	vips_ok(vips_linear(black, &grey, (double[]){1, 1, 1}, (double *)GREY, 3, NULL));
	vips_ok(vips_cast_uchar(grey, &image, NULL));
	g_object_unref(black);
	g_object_unref(grey);
	VipsImage *memory = vips_image_copy_memory(image);
	g_object_unref(image);
	assert_non_null(memory);
	vips_ok(vips_draw_rect(memory, (double *)RED, 3, 0, 0, CORNER, CORNER, "fill", TRUE, NULL));
	memory->Type = VIPS_INTERPRETATION_sRGB;
	return memory;
}

static void *encode(VipsImage *image, const char *suffix, size_t *len)
{
	void *bytes = NULL;
	vips_ok(vips_image_write_to_buffer(image, suffix, &bytes, len, NULL));
	return bytes;
}

static void *marked_file(int w, int h, const char *suffix, size_t *len)
{
	VipsImage *image = marked_image(w, h);
	void *bytes = encode(image, suffix, len);
	g_object_unref(image);
	return bytes;
}

/* Decodes a thumbnail and checks that it is WebP of the reported size. */
static VipsImage *decode_webp(const struct buf *webp, unsigned w, unsigned h)
{
	assert_true(webp->len > 12);
	assert_memory_equal(webp->data, "RIFF", 4);
	assert_memory_equal(webp->data + 8, "WEBP", 4);
	VipsImage *image = vips_image_new_from_buffer(webp->data, webp->len, "", NULL);
	assert_non_null(image);
	const char *loader = NULL;
	vips_ok(vips_image_get_string(image, VIPS_META_LOADER, &loader));
	assert_string_equal(loader, "webpload_buffer");
	assert_int_equal(vips_image_get_width(image), w);
	assert_int_equal(vips_image_get_height(image), h);
	return image;
}

static void thumbnail_is(const void *src, size_t len, unsigned side, unsigned want_w,
			 unsigned want_h)
{
	struct buf webp = BUF_INIT;
	unsigned w = 0, h = 0;
	char err[ERR_LEN] = "";
	enum imaging_outcome outcome = thumbnail_make(src, len, side, IMAGING_MAX_PIXELS_DEFAULT,
						      &webp, &w, &h, err, sizeof err);
	if (outcome != IMAGING_OK)
		fail_msg("thumbnail %u: %s: %s", side, imaging_outcome_name(outcome), err);
	assert_int_equal(w, want_w);
	assert_int_equal(h, want_h);
	g_object_unref(decode_webp(&webp, w, h));
	buf_free(&webp);
}

static void pixel_at(VipsImage *image, int x, int y, double rgb[3])
{
	double *values = NULL;
	int n = 0;
	vips_ok(vips_getpoint(image, &values, &n, x, y, NULL));
	assert_true(n >= 3);
	memcpy(rgb, values, 3 * sizeof *values);
	g_free(values);
}

/* Within JPEG and WebP's error of the colour it was drawn with. */
static bool near(const double got[3], const double want[3])
{
	for (int i = 0; i < 3; i++)
		if (fabs(got[i] - want[i]) > 24)
			return false;
	return true;
}

static bool contains(const void *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* ---- thumbnails ---- */

static void thumbnail_fits_a_landscape_jpeg(void **state)
{
	(void)state;
	size_t len = 0;
	void *jpeg = marked_file(1600, 900, ".jpg", &len);
	thumbnail_is(jpeg, len, THUMBNAIL_SMALL, 512, 288);
	thumbnail_is(jpeg, len, THUMBNAIL_MEDIUM, 1440, 810);
	g_free(jpeg);
}

static void thumbnail_fits_a_portrait_png(void **state)
{
	(void)state;
	size_t len = 0;
	void *png = marked_file(600, 1200, ".png", &len);
	thumbnail_is(png, len, THUMBNAIL_SMALL, 256, 512);
	thumbnail_is(png, len, THUMBNAIL_MEDIUM, 600, 1200);
	g_free(png);
}

static void thumbnail_never_enlarges(void **state)
{
	(void)state;
	size_t len = 0;
	void *png = marked_file(100, 50, ".png", &len);
	thumbnail_is(png, len, THUMBNAIL_SMALL, 100, 50);
	g_free(png);
	void *webp = marked_file(100, 50, ".webp", &len);
	thumbnail_is(webp, len, THUMBNAIL_MEDIUM, 100, 50);
	g_free(webp);
}

/* Stored 400 x 200 with the red square top-left and EXIF orientation 6 (turn
 * 90 degrees clockwise to view): upright it is 200 x 400, red at the top right. */
static void thumbnail_applies_exif_orientation(void **state)
{
	(void)state;
	VipsImage *image = marked_image(400, 200);
	vips_image_set_int(image, VIPS_META_ORIENTATION, 6);
	size_t len = 0;
	void *jpeg = encode(image, ".jpg", &len);
	g_object_unref(image);

	struct buf webp = BUF_INIT;
	unsigned w = 0, h = 0;
	char err[ERR_LEN] = "";
	assert_int_equal(thumbnail_make(jpeg, len, THUMBNAIL_SMALL, IMAGING_MAX_PIXELS_DEFAULT,
					&webp, &w, &h, err, sizeof err),
			 IMAGING_OK);
	assert_int_equal(w, 200);
	assert_int_equal(h, 400);
	VipsImage *thumb = decode_webp(&webp, w, h);
	double rgb[3];
	pixel_at(thumb, (int)w - PROBE, PROBE, rgb);
	assert_true(near(rgb, RED));
	pixel_at(thumb, PROBE, PROBE, rgb);
	assert_true(near(rgb, GREY));
	pixel_at(thumb, (int)w - PROBE, (int)h - PROBE, rgb);
	assert_true(near(rgb, GREY));
	assert_false(vips_image_get_typeof(thumb, VIPS_META_ORIENTATION) &&
		     vips_image_get_orientation(thumb) != 1);
	g_object_unref(thumb);
	buf_free(&webp);
	g_free(jpeg);
}

/* A JPEG with EXIF, XMP and an ICC profile gives a WebP with none of them. */
static void thumbnail_strips_metadata(void **state)
{
	(void)state;
	VipsImage *plain = marked_image(300, 200), *tagged = NULL;
	vips_ok(vips_icc_transform(plain, &tagged, "srgb", "input_profile", "srgb", NULL));
	vips_image_set_int(tagged, VIPS_META_ORIENTATION, 1);
	static const char xmp[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'>gallery-secret</x:xmpmeta>";
	vips_image_set_blob_copy(tagged, VIPS_META_XMP_NAME, xmp, sizeof xmp - 1);
	size_t len = 0;
	void *jpeg = encode(tagged, ".jpg", &len);
	g_object_unref(tagged);
	g_object_unref(plain);
	assert_true(contains(jpeg, len, "Exif"));
	assert_true(contains(jpeg, len, "ICC_PROFILE"));
	assert_true(contains(jpeg, len, "gallery-secret"));

	struct buf webp = BUF_INIT;
	unsigned w = 0, h = 0;
	char err[ERR_LEN] = "";
	assert_int_equal(thumbnail_make(jpeg, len, THUMBNAIL_SMALL, IMAGING_MAX_PIXELS_DEFAULT,
					&webp, &w, &h, err, sizeof err),
			 IMAGING_OK);
	assert_false(contains(webp.data, webp.len, "EXIF"));
	assert_false(contains(webp.data, webp.len, "ICCP"));
	assert_false(contains(webp.data, webp.len, "XMP "));
	assert_false(contains(webp.data, webp.len, "gallery-secret"));
	VipsImage *thumb = decode_webp(&webp, w, h);
	assert_false(vips_image_get_typeof(thumb, VIPS_META_EXIF_NAME));
	assert_false(vips_image_get_typeof(thumb, VIPS_META_ICC_NAME));
	g_object_unref(thumb);
	buf_free(&webp);
	g_free(jpeg);
}

/* A CMYK JPEG comes out as 3-band sRGB with its red still red. */
static void thumbnail_converts_cmyk_to_srgb(void **state)
{
	(void)state;
	VipsImage *plain = marked_image(300, 200), *cmyk = NULL;
	vips_ok(vips_icc_transform(plain, &cmyk, "cmyk", "input_profile", "srgb", NULL));
	size_t len = 0;
	void *jpeg = encode(cmyk, ".jpg", &len);
	g_object_unref(cmyk);
	g_object_unref(plain);

	struct buf webp = BUF_INIT;
	unsigned w = 0, h = 0;
	char err[ERR_LEN] = "";
	assert_int_equal(thumbnail_make(jpeg, len, THUMBNAIL_SMALL, IMAGING_MAX_PIXELS_DEFAULT,
					&webp, &w, &h, err, sizeof err),
			 IMAGING_OK);
	VipsImage *thumb = decode_webp(&webp, 300, 200);
	assert_int_equal(vips_image_get_bands(thumb), 3);
	double rgb[3];
	pixel_at(thumb, PROBE, PROBE, rgb);
	assert_true(rgb[0] > 200 && rgb[1] < 80 && rgb[2] < 80);
	g_object_unref(thumb);
	buf_free(&webp);
	g_free(jpeg);
}

/* ---- enhancement ---- */

static VipsImage *to_float(VipsImage *image)
{
	VipsImage *f = NULL;
	vips_ok(vips_cast_float(image, &f, NULL));
	return f;
}

/* Rec. 709 luma, as enhance measures lightness. */
static VipsImage *lightness(VipsImage *rgb)
{
	VipsImage *matrix = vips_image_new_matrixv(3, 1, 0.2126, 0.7152, 0.0722), *y = NULL;
	vips_ok(vips_recomb(rgb, &y, matrix, NULL));
	g_object_unref(matrix);
	return y;
}

static double psnr(VipsImage *a, VipsImage *b)
{
	VipsImage *diff = NULL, *square = NULL;
	double mse = 0;
	vips_ok(vips_subtract(a, b, &diff, NULL));
	vips_ok(vips_multiply(diff, diff, &square, NULL));
	vips_ok(vips_avg(square, &mse, NULL));
	g_object_unref(diff);
	g_object_unref(square);
	return 10 * log10(255.0 * 255.0 / mse);
}

static VipsImage *blur(VipsImage *in)
{
	VipsImage *out = NULL;
	vips_ok(vips_gaussblur(in, &out, 1.5, "precision", VIPS_PRECISION_FLOAT, NULL));
	return out;
}

static VipsImage *times(VipsImage *a, VipsImage *b)
{
	VipsImage *out = NULL;
	vips_ok(vips_multiply(a, b, &out, NULL));
	return out;
}

/* Mean SSIM (Wang et al. 2004, Gaussian window of sigma 1.5) of the lightness. */
static double ssim(VipsImage *a_rgb, VipsImage *b_rgb)
{
	static const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
	VipsImage *x = lightness(a_rgb), *y = lightness(b_rgb);
	VipsImage *xx = times(x, x), *yy = times(y, y), *xy = times(x, y);
	VipsImage *mx = blur(x), *my = blur(y), *sxx = blur(xx), *syy = blur(yy), *sxy = blur(xy);
	VipsImage *memory[] = {mx, my, sxx, syy, sxy};
	float *p[5];
	size_t n = (size_t)vips_image_get_width(x) * (size_t)vips_image_get_height(x);
	VipsImage *mem[5];
	for (int i = 0; i < 5; i++) {
		mem[i] = vips_image_copy_memory(memory[i]);
		assert_non_null(mem[i]);
		p[i] = (float *)(void *)VIPS_IMAGE_ADDR(mem[i], 0, 0);
		assert_int_equal(vips_image_get_format(mem[i]), VIPS_FORMAT_FLOAT);
	}
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		double ux = p[0][i], uy = p[1][i];
		double vx = p[2][i] - ux * ux, vy = p[3][i] - uy * uy, cxy = p[4][i] - ux * uy;
		sum += (2 * ux * uy + C1) * (2 * cxy + C2) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
	}
	for (int i = 0; i < 5; i++) {
		g_object_unref(mem[i]);
		g_object_unref(memory[i]);
	}
	VipsImage *rest[] = {x, y, xx, yy, xy};
	for (int i = 0; i < 5; i++)
		g_object_unref(rest[i]);
	return sum / (double)n;
}

/* X's contrast around its mean lowered by 1/1.3, then blurred with sigma 1. */
static VipsImage *degrade(VipsImage *x)
{
	double mean = 0;
	vips_ok(vips_avg(x, &mean, NULL));
	VipsImage *faded = NULL, *soft = NULL, *rounded = NULL, *d = NULL;
	vips_ok(vips_linear1(x, &faded, FADE, mean * (1 - FADE), NULL));
	vips_ok(vips_gaussblur(faded, &soft, SOFTEN_SIGMA, "precision", VIPS_PRECISION_FLOAT, NULL));
	vips_ok(vips_round(soft, &rounded, VIPS_OPERATION_ROUND_RINT, NULL));
	vips_ok(vips_cast_uchar(rounded, &d, NULL));
	g_object_unref(faded);
	g_object_unref(soft);
	g_object_unref(rounded);
	return d;
}

static VipsImage *decode(const void *bytes, size_t len)
{
	VipsImage *image = vips_image_new_from_buffer(bytes, len, "", NULL);
	assert_non_null(image);
	VipsImage *memory = vips_image_copy_memory(image);
	g_object_unref(image);
	assert_non_null(memory);
	return memory;
}

struct quality {
	double psnr_d, psnr_e, ssim_d, ssim_e, ratio;
};

static void enhance_one_photo(const char *path, struct quality *q)
{
	VipsImage *shrunk = NULL;
	vips_ok(vips_thumbnail(path, &shrunk, PHOTO_SIDE, NULL));
	VipsImage *x = vips_image_copy_memory(shrunk);
	g_object_unref(shrunk);
	assert_non_null(x);
	VipsImage *d = degrade(x);
	size_t len = 0;
	void *png = encode(d, ".png", &len);
	struct buf out = BUF_INIT;
	char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
	struct enhance_measure before, after;
	enum imaging_outcome outcome =
	    enhance_make(png, len, ENHANCE_STRENGTH_MAX, IMAGING_MAX_PIXELS_DEFAULT, &out, mime,
			 &before, &after, err, sizeof err);
	if (outcome != IMAGING_OK)
		fail_msg("%s: %s", path, err);
	assert_string_equal(mime, "image/png");
	VipsImage *e = decode(out.data, out.len);
	VipsImage *xf = to_float(x), *df = to_float(d), *ef = to_float(e);
	q->psnr_d = psnr(df, xf);
	q->psnr_e = psnr(ef, xf);
	q->ssim_d = ssim(df, xf);
	q->ssim_e = ssim(ef, xf);
	q->ratio = after.rms_contrast / before.rms_contrast;
	print_message("%-48s PSNR %.2f -> %.2f dB, SSIM %.4f -> %.4f, contrast x%.3f, "
		      "sharpness %.1f -> %.1f, clipped %.4f -> %.4f\n",
		      strrchr(path, '/') + 1, q->psnr_d, q->psnr_e, q->ssim_d, q->ssim_e, q->ratio,
		      before.sharpness, after.sharpness, before.clipped, after.clipped);
	/* The measurements are of the pixels: recompute the contrast of D and E. */
	VipsImage *yd = lightness(df), *ye = lightness(ef);
	double sd = 0, se = 0;
	vips_ok(vips_deviate(yd, &sd, NULL));
	vips_ok(vips_deviate(ye, &se, NULL));
	assert_true(fabs(sd / 255 - before.rms_contrast) < 1e-6);
	assert_true(fabs(se / 255 - after.rms_contrast) < 1e-6);
	VipsImage *all[] = {x, d, e, xf, df, ef, yd, ye};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		g_object_unref(all[i]);
	buf_free(&out);
	g_free(png);
}

/* Every photograph of the package: D = X faded and blurred, E = D enhanced at
 * 0.30; E is closer to X than D is, by PSNR and SSIM, and 1.2-1.3x D's contrast. */
static void enhance_restores_faded_photos(void **state)
{
	(void)state;
	glob_t found;
	if (glob(PHOTOS, 0, NULL, &found) || found.gl_pathc < MIN_PHOTOS)
		fail_msg("fewer than %d photographs match %s: run scripts/test-deps.sh", MIN_PHOTOS,
			 PHOTOS);
	int bad = 0;
	for (size_t i = 0; i < found.gl_pathc; i++) {
		struct quality q;
		enhance_one_photo(found.gl_pathv[i], &q);
		if (!(q.psnr_e > q.psnr_d + MIN_PSNR_GAIN_DB && q.ssim_e > q.ssim_d &&
		      q.ratio >= MIN_CONTRAST_RATIO && q.ratio <= MAX_CONTRAST_RATIO)) {
			print_error("%s misses a target\n", found.gl_pathv[i]);
			bad++;
		}
	}
	globfree(&found);
	assert_int_equal(bad, 0);
}

static enum imaging_outcome enhance(const void *src, size_t len, double strength,
				    struct buf *out, char mime[ENHANCE_MIME_LEN], char *err)
{
	struct enhance_measure before, after;
	return enhance_make(src, len, strength, IMAGING_MAX_PIXELS_DEFAULT, out, mime, &before,
			    &after, err, ERR_LEN);
}

/* The largest difference of any band of any pixel. */
static double max_difference(VipsImage *a, VipsImage *b)
{
	VipsImage *diff = NULL, *mag = NULL;
	double most = 0;
	vips_ok(vips_subtract(a, b, &diff, NULL));
	vips_ok(vips_abs(diff, &mag, NULL));
	vips_ok(vips_max(mag, &most, NULL));
	g_object_unref(diff);
	g_object_unref(mag);
	return most;
}

static VipsImage *photo(int side)
{
	glob_t found;
	if (glob(PHOTOS, 0, NULL, &found) || !found.gl_pathc)
		fail_msg("no photograph matches %s: run scripts/test-deps.sh", PHOTOS);
	VipsImage *shrunk = NULL;
	vips_ok(vips_thumbnail(found.gl_pathv[0], &shrunk, side, NULL));
	globfree(&found);
	VipsImage *x = vips_image_copy_memory(shrunk);
	g_object_unref(shrunk);
	assert_non_null(x);
	return x;
}

/* Strength 0 gives back exactly the pixels that went in, in every format. */
static void enhance_at_zero_keeps_the_pixels(void **state)
{
	(void)state;
	VipsImage *x = photo(256);
	static const char *const suffixes[] = {".jpg", ".png", ".webp"};
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		size_t len = 0;
		void *src = encode(x, suffixes[i], &len);
		struct buf out = BUF_INIT;
		char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
		struct enhance_measure before, after;
		assert_int_equal(enhance_make(src, len, 0, IMAGING_MAX_PIXELS_DEFAULT, &out, mime,
					      &before, &after, err, sizeof err),
				 IMAGING_OK);
		assert_true(before.rms_contrast > 0 && before.sharpness > 0);
		assert_memory_equal(&before, &after, sizeof before);
		VipsImage *in = decode(src, len), *got = decode(out.data, out.len);
		assert_int_equal(vips_image_get_width(got), vips_image_get_width(in));
		assert_int_equal(max_difference(in, got), 0);
		g_object_unref(in);
		g_object_unref(got);
		buf_free(&out);
		g_free(src);
	}
	g_object_unref(x);
}

/* A little strength changes the pixels a little: the recipe is continuous
 * from 0, not a switch. */
static void enhance_scales_with_strength(void **state)
{
	(void)state;
	VipsImage *x = photo(256);
	size_t len = 0;
	void *png = encode(x, ".png", &len);
	VipsImage *in = decode(png, len);
	double last = 0;
	static const double strengths[] = {0.01, 0.1, 0.3};
	for (size_t i = 0; i < sizeof strengths / sizeof strengths[0]; i++) {
		struct buf out = BUF_INIT;
		char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
		assert_int_equal(enhance(png, len, strengths[i], &out, mime, err), IMAGING_OK);
		VipsImage *got = decode(out.data, out.len);
		double d = max_difference(in, got);
		print_message("strength %.2f: largest change %.0f\n", strengths[i], d);
		if (i == 0)
			assert_true(d > 0 && d <= 4);
		else
			assert_true(d > last);
		last = d;
		g_object_unref(got);
		buf_free(&out);
	}
	g_object_unref(in);
	g_free(png);
	g_object_unref(x);
}

/* JPEG stays JPEG, PNG and GIF give PNG, WebP stays WebP; upright, no metadata,
 * alpha kept. */
static void enhance_output_formats(void **state)
{
	(void)state;
	static const struct {
		const char *suffix, *mime, *magic;
		size_t magic_at;
	} cases[] = {
	    {".jpg", "image/jpeg", "\xff\xd8\xff", 0},
	    {".png", "image/png", "\x89PNG", 0},
	    {".gif", "image/png", "\x89PNG", 0},
	    {".webp", "image/webp", "WEBP", 8},
	};
	VipsImage *image = marked_image(300, 200);
	vips_image_set_int(image, VIPS_META_ORIENTATION, 6);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = 0;
		void *src = encode(image, cases[i].suffix, &len);
		struct buf out = BUF_INIT;
		char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
		if (enhance(src, len, 0.2, &out, mime, err) != IMAGING_OK)
			fail_msg("%s: %s", cases[i].suffix, err);
		assert_string_equal(mime, cases[i].mime);
		assert_memory_equal(out.data + cases[i].magic_at, cases[i].magic,
				    strlen(cases[i].magic));
		assert_false(contains(out.data, out.len, "Exif"));
		assert_false(contains(out.data, out.len, "EXIF"));
		VipsImage *got = decode(out.data, out.len);
		/* Only JPEG and WebP keep an orientation tag; those come out upright. */
		bool turned = !strcmp(cases[i].suffix, ".jpg") || !strcmp(cases[i].suffix, ".webp");
		assert_int_equal(vips_image_get_width(got), turned ? 200 : 300);
		g_object_unref(got);
		buf_free(&out);
		g_free(src);
	}
	g_object_unref(image);

	VipsImage *rgb = marked_image(64, 64), *alpha = NULL, *rgba = NULL;
	vips_ok(vips_bandjoin_const1(rgb, &alpha, 128, NULL));
	vips_ok(vips_copy(alpha, &rgba, "interpretation", VIPS_INTERPRETATION_sRGB, NULL));
	size_t len = 0;
	void *png = encode(rgba, ".png", &len);
	struct buf out = BUF_INIT;
	char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
	assert_int_equal(enhance(png, len, 0.3, &out, mime, err), IMAGING_OK);
	VipsImage *got = decode(out.data, out.len);
	assert_int_equal(vips_image_get_bands(got), 4);
	double a[4];
	double *values = NULL;
	int n = 0;
	vips_ok(vips_getpoint(got, &values, &n, 32, 32, NULL));
	memcpy(a, values, sizeof a);
	g_free(values);
	assert_int_equal((int)a[3], 128);
	g_object_unref(got);
	buf_free(&out);
	g_free(png);
	g_object_unref(rgba);
	g_object_unref(alpha);
	g_object_unref(rgb);
}

static void enhance_refuses_a_bad_strength(void **state)
{
	(void)state;
	size_t len = 0;
	void *png = marked_file(64, 64, ".png", &len);
	static const double bad[] = {-0.01, 0.31, 1.0, NAN, INFINITY};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf out = BUF_INIT;
		char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
		assert_int_equal(enhance(png, len, bad[i], &out, mime, err), IMAGING_BAD_IMAGE);
		assert_non_null(strstr(err, "strength"));
		assert_int_equal(out.len, 0);
	}
	g_free(png);
}

/* ---- hostile inputs ---- */

struct hostile {
	const char *name;
	unsigned char *bytes;
	size_t len;
	const char *message; /* what the error must say */
};

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static unsigned char *put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

/* A PNG chunk: length, type, data, CRC of type and data. */
static unsigned char *put_chunk(unsigned char *p, const char type[4], const void *data,
				uint32_t len)
{
	p = put_be32(p, len);
	unsigned char *crc_from = p;
	memcpy(p, type, 4);
	if (len)
		memcpy(p + 4, data, len);
	p += 4 + len;
	return put_be32(p, crc32_of(crc_from, 4 + len));
}

/* Signature, an IHDR of 50,000 x 50,000 8-bit RGB, a tiny IDAT, IEND. */
static unsigned char *huge_png(size_t *len)
{
	unsigned char *png = calloc(1, 128), *p = png;
	assert_non_null(png);
	memcpy(p, "\x89PNG\r\n\x1a\n", 8);
	p += 8;
	unsigned char ihdr[13] = {0};
	put_be32(ihdr, HUGE_SIDE);
	put_be32(ihdr + 4, HUGE_SIDE);
	ihdr[8] = 8; /* bit depth */
	ihdr[9] = 2; /* RGB */
	p = put_chunk(p, "IHDR", ihdr, sizeof ihdr);
	static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
	p = put_chunk(p, "IDAT", idat, sizeof idat);
	p = put_chunk(p, "IEND", NULL, 0);
	*len = (size_t)(p - png);
	return png;
}

/* A RIFF/WEBP/VP8 header followed by bytes from a fixed-seed generator. */
static unsigned char *random_webp(size_t *len)
{
	enum { N = 4096 };
	unsigned char *b = malloc(N);
	assert_non_null(b);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
	memcpy(b, "RIFF", 4);
	put_be32(b + 4, 0);
	b[4] = (unsigned char)((N - 8) & 0xff); /* little-endian size */
	b[5] = (unsigned char)((N - 8) >> 8);
	b[6] = b[7] = 0;
	memcpy(b + 8, "WEBPVP8 ", 8);
	*len = N;
	return b;
}

static unsigned char *truncated_jpeg(size_t *len)
{
	VipsImage *noise = NULL, *image = NULL;
	vips_ok(vips_gaussnoise(&noise, NOISE_SIDE, NOISE_SIDE, "mean", 128.0, "sigma", 60.0,
				NULL));
	vips_ok(vips_cast_uchar(noise, &image, NULL));
	size_t full = 0;
	void *jpeg = encode(image, ".jpg", &full);
	g_object_unref(noise);
	g_object_unref(image);
	*len = full / 2;
	unsigned char *cut = malloc(*len);
	assert_non_null(cut);
	memcpy(cut, jpeg, *len);
	g_free(jpeg);
	return cut;
}

static unsigned char *ppm(size_t *len)
{
	static const char text[] = "P6\n2 2\n255\n\xff\0\0\xff\0\0\xff\0\0\xff\0\0";
	unsigned char *b = malloc(sizeof text - 1);
	assert_non_null(b);
	memcpy(b, text, sizeof text - 1);
	*len = sizeof text - 1;
	return b;
}

static long max_rss_kb(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

enum { HOSTILE_COUNT = 5 };

static void hostile_inputs(struct hostile h[HOSTILE_COUNT])
{
	h[0] = (struct hostile){"0-byte file", NULL, 0, "empty"};
	h[1] = (struct hostile){"PNG of 50,000 x 50,000", NULL, 0, "too many pixels"};
	h[1].bytes = huge_png(&h[1].len);
	h[2] = (struct hostile){"random bytes with a WebP header", NULL, 0, "webp"};
	h[2].bytes = random_webp(&h[2].len);
	h[3] = (struct hostile){"truncated JPEG", NULL, 0, "jpeg"};
	h[3].bytes = truncated_jpeg(&h[3].len);
	h[4] = (struct hostile){"PPM (a blocked loader)", NULL, 0, "not a JPEG, PNG, GIF or WebP"};
	h[4].bytes = ppm(&h[4].len);
}

static void free_hostile(struct hostile h[HOSTILE_COUNT])
{
	for (int i = 0; i < HOSTILE_COUNT; i++)
		free(h[i].bytes);
}

static void is_bad_image(const struct hostile *h, enum imaging_outcome outcome, const char *err)
{
	print_message("%s: %s: %s\n", h->name, imaging_outcome_name(outcome), err);
	if (outcome != IMAGING_BAD_IMAGE)
		fail_msg("%s gave %s, not bad image", h->name, imaging_outcome_name(outcome));
	if (!strcasestr(err, h->message))
		fail_msg("%s: \"%s\" does not say \"%s\"", h->name, err, h->message);
}

/* Runs first, so that the peak RSS it checks is its own. */
static void hostile_thumbnails_are_bad_images(void **state)
{
	(void)state;
	struct hostile h[HOSTILE_COUNT];
	hostile_inputs(h);
	long rss_before = max_rss_kb();
	for (int i = 0; i < HOSTILE_COUNT; i++) {
		struct buf webp = BUF_INIT;
		unsigned w = 0, hh = 0;
		char err[ERR_LEN] = "";
		enum imaging_outcome outcome =
		    thumbnail_make(h[i].bytes, h[i].len, THUMBNAIL_SMALL,
				   IMAGING_MAX_PIXELS_DEFAULT, &webp, &w, &hh, err, sizeof err);
		is_bad_image(&h[i], outcome, err);
		assert_int_equal(webp.len, 0);
		buf_free(&webp);
	}
	assert_true(max_rss_kb() - rss_before < MAX_RSS_GROWTH_KB);
	free_hostile(h);
}

static void hostile_enhancements_are_bad_images(void **state)
{
	(void)state;
	struct hostile h[HOSTILE_COUNT];
	hostile_inputs(h);
	long rss_before = max_rss_kb();
	for (int i = 0; i < HOSTILE_COUNT; i++) {
		struct buf out = BUF_INIT;
		char mime[ENHANCE_MIME_LEN] = "", err[ERR_LEN] = "";
		for (int zero = 0; zero < 2; zero++) {
			enum imaging_outcome outcome =
			    enhance(h[i].bytes, h[i].len, zero ? 0 : 0.3, &out, mime, err);
			is_bad_image(&h[i], outcome, err);
			assert_int_equal(out.len, 0);
		}
		buf_free(&out);
	}
	assert_true(max_rss_kb() - rss_before < MAX_RSS_GROWTH_KB);
	free_hostile(h);
}

/* The limit is the caller's: a 1600 x 900 image is refused under 1,000,000. */
static void pixel_limit_is_a_parameter(void **state)
{
	(void)state;
	size_t len = 0;
	void *jpeg = marked_file(1600, 900, ".jpg", &len);
	struct buf webp = BUF_INIT;
	unsigned w = 0, h = 0;
	char err[ERR_LEN] = "";
	assert_int_equal(thumbnail_make(jpeg, len, THUMBNAIL_SMALL, 1000000, &webp, &w, &h, err,
					sizeof err),
			 IMAGING_BAD_IMAGE);
	assert_non_null(strstr(err, "1600x900"));
	assert_int_equal(thumbnail_make(jpeg, len, THUMBNAIL_SMALL, 1600 * 900, &webp, &w, &h, err,
					sizeof err),
			 IMAGING_OK);
	buf_free(&webp);
	g_free(jpeg);
}

int main(int argc, char **argv)
{
	(void)argc;
	char err[ERR_LEN];
	if (!imaging_init(argv[0], 0, err, sizeof err)) {
		fprintf(stderr, "imaging_init: %s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hostile_thumbnails_are_bad_images),
	    cmocka_unit_test(hostile_enhancements_are_bad_images),
	    cmocka_unit_test(pixel_limit_is_a_parameter),
	    cmocka_unit_test(thumbnail_fits_a_landscape_jpeg),
	    cmocka_unit_test(thumbnail_fits_a_portrait_png),
	    cmocka_unit_test(thumbnail_never_enlarges),
	    cmocka_unit_test(thumbnail_applies_exif_orientation),
	    cmocka_unit_test(thumbnail_strips_metadata),
	    cmocka_unit_test(thumbnail_converts_cmyk_to_srgb),
	    cmocka_unit_test(enhance_restores_faded_photos),
	    cmocka_unit_test(enhance_at_zero_keeps_the_pixels),
	    cmocka_unit_test(enhance_scales_with_strength),
	    cmocka_unit_test(enhance_output_formats),
	    cmocka_unit_test(enhance_refuses_a_bad_strength),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	imaging_shutdown();
	return failed;
}
