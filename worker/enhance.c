/* enhance: CloudPic's enhancement of a photo, from bytes in memory to bytes in memory, with measurements. */
#include "worker/enhance.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "worker/imaging_vips.h"

/* The recipe, per unit of strength (strength is at most 0.30):
 * - the lightness is stretched about its mean STRETCH_SHARE of the way
 *   (times strength) towards its 1st or 99th percentile reaching 0 or 255,
 *   whichever is nearer, multiplying its spread by at most 1 + MAX_STRETCH
 *   times strength; about the mean, so the exposure stays as it was;
 * - then the contrast about the mean is raised until the two steps together
 *   have multiplied the spread of lightness by 1 + CONTRAST * strength (a
 *   hazy photo's stretch may already go further; this step never lowers it);
 * - then an unsharp mask of radius USM_SIGMA adds USM_AMOUNT * strength times
 *   the lightness's fine detail, which raises the spread by another 1-2%.
 * One linear map of R, G and B applies the first two, so hues stay put.
 * At 0.30 a photo's RMS contrast grows by 1.24 to 1.29 (tests/unit_imaging). */
static const double STRETCH_SHARE = 1.0;
static const double MAX_STRETCH = 0.85;
static const double CONTRAST = 0.80;
static const double USM_SIGMA = 1.0;
static const double USM_AMOUNT = 2.0;
/* A nearly flat photo (fog, a wall) would have its noise stretched without it. */
static const double MAX_FULL_STRETCH = 3.0;
static const double LOW_PERCENTILE = 1.0, HIGH_PERCENTILE = 99.0;
static const double WHITE = 255.0;
/* Rec. 709 luma weights, on the sRGB values. */
static const double LUMA[3] = {0.2126, 0.7152, 0.0722};

enum { JPEG_QUALITY = 92, WEBP_QUALITY = 92, SCOPE_IMAGES = 64 };

struct output_format {
	const char *loader; /* prefix of the loader's nickname */
	const char *mime;   /* of the source, given back unchanged at strength 0 */
	const char *out_mime;
	const char *suffix; /* for vips_image_write_to_buffer */
};

/* GIF's 256 colours would band an enhanced photo, so it becomes PNG. WebP is
 * saved lossy at 92, like JPEG: most WebP photos are lossy already, and a
 * lossless copy of one would be several times its size. */
static const struct output_format FORMATS[] = {
    {"jpegload", "image/jpeg", "image/jpeg", ".jpg[Q=92,strip]"},
    {"pngload", "image/png", "image/png", ".png[strip]"},
    {"gifload", "image/gif", "image/png", ".png[strip]"},
    {"webpload", "image/webp", "image/webp", ".webp[Q=92,strip]"},
};

static const struct output_format *format_of(VipsImage *image)
{
	const char *loader = imaging_loader(image);
	for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
		if (!strncmp(loader, FORMATS[i].loader, strlen(FORMATS[i].loader)))
			return &FORMATS[i];
	return NULL;
}

/* Every intermediate image belongs to one scope object, unreferenced once. */
struct scope {
	VipsObject *owner;
	VipsImage **t;
	int used;
};

static VipsImage **slot(struct scope *s)
{
	g_assert(s->used < SCOPE_IMAGES);
	return &s->t[s->used++];
}

/* The lightness as one float band, 0 to 255. */
static int luma(struct scope *s, VipsImage *colour, VipsImage **out)
{
	if (vips_image_get_bands(colour) == 1)
		return vips_cast_float(colour, out, NULL);
	VipsImage **matrix = slot(s);
	*matrix = vips_image_new_matrix_from_array(3, 1, LUMA, 3);
	return !*matrix || vips_recomb(colour, out, *matrix, NULL);
}

static int measure(struct scope *s, VipsImage *colour, struct enhance_measure *m)
{
	VipsImage **y = slot(s), **kernel = slot(s), **lap = slot(s), **lo = slot(s),
		  **hi = slot(s), **either = slot(s), **any = slot(s);
	double deviation = 0, laplacian = 0, clipped = 0;
	static const double LAPLACIAN[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
	if (luma(s, colour, y) || vips_deviate(*y, &deviation, NULL))
		return -1;
	*kernel = vips_image_new_matrix_from_array(3, 3, LAPLACIAN, 9);
	if (!*kernel ||
	    vips_conv(*y, lap, *kernel, "precision", VIPS_PRECISION_FLOAT, NULL) ||
	    vips_deviate(*lap, &laplacian, NULL))
		return -1;
	if (vips_relational_const1(colour, lo, VIPS_OPERATION_RELATIONAL_EQUAL, 0, NULL) ||
	    vips_relational_const1(colour, hi, VIPS_OPERATION_RELATIONAL_EQUAL, WHITE, NULL) ||
	    vips_orimage(*lo, *hi, either, NULL) ||
	    vips_bandbool(*either, any, VIPS_OPERATION_BOOLEAN_OR, NULL) ||
	    vips_avg(*any, &clipped, NULL))
		return -1;
	m->rms_contrast = deviation / WHITE;
	m->sharpness = laplacian * laplacian;
	m->clipped = clipped / WHITE;
	return 0;
}

/* How far the lightness can be stretched about its mean before its 1st or
 * its 99th percentile reaches 0 or 255, whichever comes first. */
static double full_stretch(double mean, int p1, int p99)
{
	if (!(p1 < mean && mean < p99))
		return 1.0;
	double gain = fmin(mean / (mean - p1), (WHITE - mean) / (p99 - mean));
	return fmax(1.0, fmin(gain, MAX_FULL_STRETCH));
}

/* The gain of the stretch and contrast steps together, about the mean. */
static int tone_gain(struct scope *s, VipsImage *y, double strength, double *gain, double *mean)
{
	VipsImage **y8 = slot(s);
	int p1 = 0, p99 = 0;
	if (vips_cast_uchar(y, y8, NULL) || vips_percent(*y8, LOW_PERCENTILE, &p1, NULL) ||
	    vips_percent(*y8, HIGH_PERCENTILE, &p99, NULL) || vips_avg(y, mean, NULL))
		return -1;
	double full = full_stretch(*mean, p1, p99);
	double stretch = fmin(1.0 + STRETCH_SHARE * strength * (full - 1.0),
			      1.0 + MAX_STRETCH * strength);
	double contrast = fmax(1.0, (1.0 + CONTRAST * strength) / stretch);
	*gain = stretch * contrast;
	return 0;
}

/* colour (8-bit, 1 or 3 bands) enhanced, still 8-bit. */
static int enhance_pixels(struct scope *s, VipsImage *colour, double strength, VipsImage **out)
{
	VipsImage **y = slot(s), **mapped = slot(s), **y2 = slot(s), **blur = slot(s),
		  **detail = slot(s), **scaled = slot(s), **sharp = slot(s), **rounded = slot(s);
	double gain = 1, mean = 0;
	if (luma(s, colour, y) || tone_gain(s, *y, strength, &gain, &mean) ||
	    vips_linear1(colour, mapped, gain, (1.0 - gain) * mean, NULL))
		return -1;
	if (luma(s, *mapped, y2) ||
	    vips_gaussblur(*y2, blur, USM_SIGMA, "precision", VIPS_PRECISION_FLOAT, NULL) ||
	    vips_subtract(*y2, *blur, detail, NULL) ||
	    vips_linear1(*detail, scaled, USM_AMOUNT * strength, 0, NULL) ||
	    vips_add(*mapped, *scaled, sharp, NULL))
		return -1;
	return vips_round(*sharp, rounded, VIPS_OPERATION_ROUND_RINT, NULL) ||
	       vips_cast_uchar(*rounded, out, NULL);
}

static enum imaging_outcome save(struct scope *s, VipsImage *image,
				 const struct output_format *format, struct buf *out,
				 char out_mime[ENHANCE_MIME_LEN], char *err, size_t errlen)
{
	VipsImage **bare = slot(s);
	enum imaging_outcome outcome = imaging_strip(image, bare, err, errlen);
	if (outcome != IMAGING_OK)
		return outcome;
	void *bytes = NULL;
	size_t size = 0;
	if (vips_image_write_to_buffer(*bare, format->suffix, &bytes, &size, NULL))
		return imaging_vips_failed("cannot encode the result", err, errlen);
	bool copied = !strcmp(format->out_mime, "image/webp")
			  ? imaging_webp_without_metadata(bytes, size, out)
			  : buf_append(out, bytes, size);
	g_free(bytes);
	if (!copied)
		return imaging_fail(IMAGING_FAILED, err, errlen, "cannot copy a %zu-byte result",
				    size);
	snprintf(out_mime, ENHANCE_MIME_LEN, "%s", format->out_mime);
	return IMAGING_OK;
}

/* The upright, sRGB, 8-bit pixels of src, decoded whole into memory. */
static enum imaging_outcome decode(struct scope *s, const void *src, size_t len,
				   uint64_t max_pixels, VipsImage **out,
				   const struct output_format **format, char *err, size_t errlen)
{
	VipsImage **opened = slot(s), **upright = slot(s), **srgb = slot(s);
	/* Random access: turning the image upright reads it out of order. */
	enum imaging_outcome outcome =
	    imaging_open(src, len, max_pixels, VIPS_ACCESS_RANDOM, opened, err, errlen);
	if (outcome != IMAGING_OK)
		return outcome;
	*format = format_of(*opened);
	if (!*format)
		return imaging_fail(IMAGING_BAD_IMAGE, err, errlen, "no output format for %s",
				    imaging_loader(*opened));
	if (vips_autorot(*opened, upright, NULL))
		return imaging_vips_failed("cannot turn the image upright", err, errlen);
	outcome = imaging_to_srgb8(*upright, srgb, err, errlen);
	if (outcome != IMAGING_OK)
		return outcome;
	/* Every pixel is read here, once, so a truncated file fails here. */
	*out = vips_image_copy_memory(*srgb);
	if (!*out)
		return imaging_vips_failed("cannot decode the image", err, errlen);
	return IMAGING_OK;
}

enum imaging_outcome enhance_make(const void *src, size_t len, double strength, uint64_t max_pixels,
				  struct buf *out, char out_mime[ENHANCE_MIME_LEN],
				  struct enhance_measure *before, struct enhance_measure *after,
				  char *err, size_t errlen)
{
	if (!(strength >= 0 && strength <= ENHANCE_STRENGTH_MAX))
		return imaging_fail(IMAGING_BAD_IMAGE, err, errlen,
				    "strength %g is outside 0 to %.2f", strength,
				    ENHANCE_STRENGTH_MAX);
	struct scope s = {VIPS_OBJECT(vips_image_new()), NULL, 0};
	s.t = (VipsImage **)vips_object_local_array(s.owner, SCOPE_IMAGES);
	const struct output_format *format = NULL;
	VipsImage **decoded = slot(&s), **colour = slot(&s), **alpha = slot(&s),
		  **enhanced = slot(&s), **joined = slot(&s), **result = slot(&s);
	enum imaging_outcome outcome =
	    decode(&s, src, len, max_pixels, decoded, &format, err, errlen);
	if (outcome != IMAGING_OK)
		goto out;
	bool has_alpha = vips_image_hasalpha(*decoded);
	int bands = vips_image_get_bands(*decoded) - (has_alpha ? 1 : 0);
	if (vips_extract_band(*decoded, colour, 0, "n", bands, NULL) ||
	    (has_alpha && vips_extract_band(*decoded, alpha, bands, NULL)) ||
	    measure(&s, *colour, before)) {
		outcome = imaging_vips_failed("cannot measure the image", err, errlen);
		goto out;
	}
	if (strength == 0) {
		*after = *before;
		if (!buf_append(out, src, len)) {
			outcome = imaging_fail(IMAGING_FAILED, err, errlen, "out of memory");
			goto out;
		}
		snprintf(out_mime, ENHANCE_MIME_LEN, "%s", format->mime);
		goto out;
	}
	if (enhance_pixels(&s, *colour, strength, enhanced) ||
	    (has_alpha && vips_bandjoin2(*enhanced, *alpha, joined, NULL)) ||
	    !(*result = vips_image_copy_memory(has_alpha ? *joined : *enhanced))) {
		outcome = imaging_vips_failed("cannot enhance the image", err, errlen);
		goto out;
	}
	VipsImage **result_colour = slot(&s);
	if (vips_extract_band(*result, result_colour, 0, "n", bands, NULL) ||
	    measure(&s, *result_colour, after)) {
		outcome = imaging_vips_failed("cannot measure the result", err, errlen);
		goto out;
	}
	outcome = save(&s, *result, format, out, out_mime, err, errlen);
out:
	g_object_unref(s.owner);
	return outcome;
}
