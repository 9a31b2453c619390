/* imaging: libvips set up for decoding untrusted files, and the outcome of an image operation. */
#include "worker/imaging.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "worker/imaging_vips.h"

/* The loaders for the upload formats DESIGN.md accepts; every other loader
 * (PDF, SVG, TIFF, matrix, ...) is blocked, untrusted or not. */
static const char *const ALLOWED_LOADERS[] = {
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadNsgif",
    "VipsForeignLoadWebp",
};

/* vips_foreign_find_load_buffer still picks a blocked loader (ImageMagick's
 * for a PPM) and names its class ("VipsForeignLoadJpegBuffer"), so the class
 * is checked too. */
static bool allowed_loader(const char *class_name)
{
	for (size_t i = 0; i < sizeof ALLOWED_LOADERS / sizeof ALLOWED_LOADERS[0]; i++)
		if (class_name &&
		    !strncmp(class_name, ALLOWED_LOADERS[i], strlen(ALLOWED_LOADERS[i])))
			return true;
	return false;
}

bool imaging_init(const char *argv0, unsigned threads_per_image, char *err, size_t errlen)
{
	if (VIPS_INIT(argv0)) {
		imaging_vips_failed("starting libvips", err, errlen);
		return false;
	}
	vips_block_untrusted_set(TRUE);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (size_t i = 0; i < sizeof ALLOWED_LOADERS / sizeof ALLOWED_LOADERS[0]; i++)
		vips_operation_block_set(ALLOWED_LOADERS[i], FALSE);
	/* A cached operation would keep a decoded image, and its memory, after its
	 * job ended, and could hand one job's pixels to the next. */
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	if (threads_per_image)
		vips_concurrency_set((int)threads_per_image);
	return true;
}

void imaging_shutdown(void)
{
	vips_shutdown();
}

const char *imaging_outcome_name(enum imaging_outcome outcome)
{
	switch (outcome) {
	case IMAGING_OK:
		return "ok";
	case IMAGING_BAD_IMAGE:
		return "bad image";
	case IMAGING_FAILED:
		return "failed";
	}
	return "unknown";
}

enum imaging_outcome imaging_fail(enum imaging_outcome outcome, char *err, size_t errlen,
				  const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return outcome;
}

/* libvips' text is one line per error; a job's error is one line. */
static void one_line(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ';';
}

enum imaging_outcome imaging_vips_failed(const char *what, char *err, size_t errlen)
{
	/* Copies and clears in one step, so another thread's error cannot slip in between. */
	char *text = vips_error_buffer_copy();
	enum imaging_outcome outcome = IMAGING_BAD_IMAGE;
	/* Running out of memory is the one failure on a well-formed image that a
	 * later attempt may not meet; anything else a decoder or our pipeline
	 * reports comes from the bytes, and they will not change. */
	if (text && strstr(text, "out of memory"))
		outcome = IMAGING_FAILED;
	if (text)
		one_line(text);
	imaging_fail(outcome, err, errlen, "%s: %s", what, text && *text ? text : "libvips failed");
	g_free(text);
	return outcome;
}

const char *imaging_loader(VipsImage *image)
{
	const char *loader = NULL;
	if (vips_image_get_typeof(image, VIPS_META_LOADER) &&
	    !vips_image_get_string(image, VIPS_META_LOADER, &loader) && loader)
		return loader;
	return "";
}

/* width x height x pages, or UINT64_MAX when that does not fit. */
static uint64_t pixel_count(VipsImage *image)
{
	uint64_t w = (uint64_t)vips_image_get_width(image);
	uint64_t h = (uint64_t)vips_image_get_height(image);
	int pages = vips_image_get_n_pages(image);
	uint64_t n = (uint64_t)(pages > 0 ? pages : 1);
	if (h && w > UINT64_MAX / h)
		return UINT64_MAX;
	if (n && w * h > UINT64_MAX / n)
		return UINT64_MAX;
	return w * h * n;
}

enum imaging_outcome imaging_open(const void *src, size_t len, uint64_t max_pixels,
				  VipsAccess access, VipsImage **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!src || !len)
		return imaging_fail(IMAGING_BAD_IMAGE, err, errlen, "empty file: no image in 0 bytes");
	if (!allowed_loader(vips_foreign_find_load_buffer(src, len))) {
		vips_error_clear();
		return imaging_fail(IMAGING_BAD_IMAGE, err, errlen,
				    "not a JPEG, PNG, GIF or WebP image (%zu bytes)", len);
	}
	/* fail_on=warning: libjpeg reports a truncated file only as a warning, and
	 * a body that is cut short must be an error, not grey rows. It also refuses
	 * JPEGs with lesser damage (stray bytes before a marker). */
	VipsImage *image = vips_image_new_from_buffer(src, len, "", "access", access, "fail_on",
						      VIPS_FAIL_ON_WARNING, NULL);
	if (!image)
		return imaging_vips_failed("cannot read the image's header", err, errlen);
	uint64_t pixels = pixel_count(image);
	if (pixels > max_pixels) {
		imaging_fail(IMAGING_BAD_IMAGE, err, errlen,
			     "too many pixels: %dx%d x %d page(s) is over the limit of %llu",
			     vips_image_get_width(image), vips_image_get_height(image),
			     vips_image_get_n_pages(image), (unsigned long long)max_pixels);
		g_object_unref(image);
		return IMAGING_BAD_IMAGE;
	}
	*out = image;
	return IMAGING_OK;
}

/* Prefixes of the metadata an output must not carry: where the photo was
 * taken, by what, its colour profile (the pixels are sRGB by now), comments. */
static const char *const PRIVATE_FIELDS[] = {
    "exif-", "xmp-", "iptc-", "icc-", "png-comment-", "gif-comment", VIPS_META_ORIENTATION,
};

static bool is_private(const char *name)
{
	for (size_t i = 0; i < sizeof PRIVATE_FIELDS / sizeof PRIVATE_FIELDS[0]; i++)
		if (!strncmp(name, PRIVATE_FIELDS[i], strlen(PRIVATE_FIELDS[i])))
			return true;
	return false;
}

enum imaging_outcome imaging_strip(VipsImage *image, VipsImage **out, char *err, size_t errlen)
{
	*out = NULL;
	VipsImage *copy = NULL;
	if (vips_copy(image, &copy, NULL))
		return imaging_vips_failed("cannot copy the image", err, errlen);
	char **names = vips_image_get_fields(copy);
	for (char **name = names; name && *name; name++)
		if (is_private(*name))
			vips_image_remove(copy, *name);
	g_strfreev(names);
	*out = copy;
	return IMAGING_OK;
}

enum {
	RIFF_HEADER = 12, /* "RIFF", size, "WEBP" */
	CHUNK_HEADER = 8, /* fourcc, little-endian size */
	VP8X_METADATA_FLAGS = 0x20 | 0x08 | 0x04, /* ICC, EXIF, XMP */
};

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

bool imaging_webp_without_metadata(const void *webp, size_t len, struct buf *out)
{
	const unsigned char *in = webp;
	if (len < RIFF_HEADER || memcmp(in, "RIFF", 4) || memcmp(in + 8, "WEBP", 4))
		return false;
	size_t start = out->len;
	if (!buf_append(out, in, RIFF_HEADER))
		return false;
	for (size_t at = RIFF_HEADER; at + CHUNK_HEADER <= len;) {
		size_t body = get_le32(in + at + 4);
		size_t whole = CHUNK_HEADER + body + (body & 1); /* chunks are padded to even sizes */
		if (whole > len - at)
			goto fail;
		const unsigned char *chunk = in + at;
		at += whole;
		if (!memcmp(chunk, "ICCP", 4) || !memcmp(chunk, "EXIF", 4) || !memcmp(chunk, "XMP ", 4))
			continue;
		size_t put = out->len;
		if (!buf_append(out, chunk, whole))
			goto fail;
		if (!memcmp(chunk, "VP8X", 4) && body)
			out->data[put + CHUNK_HEADER] &= (char)~VP8X_METADATA_FLAGS;
	}
	put_le32((unsigned char *)out->data + start + 4, (uint32_t)(out->len - start - 8));
	return true;
fail:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return false;
}

static bool is_grey(VipsImage *image)
{
	VipsInterpretation kind = vips_image_guess_interpretation(image);
	return kind == VIPS_INTERPRETATION_B_W || kind == VIPS_INTERPRETATION_GREY16;
}

enum imaging_outcome imaging_to_srgb8(VipsImage *image, VipsImage **out, char *err, size_t errlen)
{
	*out = NULL;
	VipsImage *managed = NULL, *spaced = NULL;
	g_object_ref(image);
	if (vips_image_get_typeof(image, VIPS_META_ICC_NAME)) {
		if (!vips_icc_transform(image, &managed, "srgb", "embedded", TRUE, "intent",
					VIPS_INTENT_RELATIVE, NULL)) {
			g_object_unref(image);
			image = managed;
		} else {
			/* A broken profile is the camera's mistake; the pixels are still
			 * worth showing as if they were sRGB. */
			vips_error_clear();
		}
	}
	VipsInterpretation want = is_grey(image) ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	int failed = vips_colourspace(image, &spaced, want, NULL);
	g_object_unref(image);
	if (failed)
		return imaging_vips_failed("cannot convert the image to sRGB", err, errlen);
	if (vips_image_get_format(spaced) == VIPS_FORMAT_UCHAR) {
		*out = spaced;
		return IMAGING_OK;
	}
	failed = vips_cast_uchar(spaced, out, NULL);
	g_object_unref(spaced);
	if (failed)
		return imaging_vips_failed("cannot convert the image to 8 bits", err, errlen);
	return IMAGING_OK;
}
