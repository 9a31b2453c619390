/* thumbnail: a WebP thumbnail of an uploaded image, from bytes in memory to bytes in memory. */
#include "worker/thumbnail.h"

#include <stdbool.h>
#include <string.h>

#include "worker/imaging_vips.h"

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

/* libvips 8.14's webpsave writes an EXIF chunk (and an ICC profile when the
 * image has one) whatever "strip" says, so the chunks are dropped from the
 * encoded file: copies the RIFF container into out without ICCP, EXIF and XMP
 * chunks and clears their flags in VP8X. */
static bool webp_without_metadata(const unsigned char *in, size_t len, struct buf *out)
{
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

/* Encodes and copies the result into webp_out. */
static enum imaging_outcome save_webp(VipsImage *image, struct buf *webp_out, char *err,
				      size_t errlen)
{
	VipsImage *bare = NULL;
	enum imaging_outcome outcome = imaging_strip(image, &bare, err, errlen);
	if (outcome != IMAGING_OK)
		return outcome;
	void *bytes = NULL;
	size_t size = 0;
	/* The pixels are computed here, so a truncated source fails here. */
	int failed =
	    vips_webpsave_buffer(bare, &bytes, &size, "Q", THUMBNAIL_QUALITY, "strip", TRUE, NULL);
	g_object_unref(bare);
	if (failed)
		return imaging_vips_failed("cannot make the thumbnail", err, errlen);
	if (!webp_without_metadata(bytes, size, webp_out))
		outcome = imaging_fail(IMAGING_FAILED, err, errlen,
				       "cannot copy a %zu-byte thumbnail", size);
	g_free(bytes);
	return outcome;
}

enum imaging_outcome thumbnail_make(const void *src, size_t len, unsigned longest_side,
				    uint64_t max_pixels, struct buf *webp_out, unsigned *width,
				    unsigned *height, char *err, size_t errlen)
{
	if (!longest_side || longest_side > VIPS_MAX_COORD)
		return imaging_fail(IMAGING_BAD_IMAGE, err, errlen, "thumbnail size %u out of range",
				    longest_side);
	/* The header alone, to refuse a decompression bomb before a pixel is decoded. */
	VipsImage *header = NULL;
	enum imaging_outcome outcome =
	    imaging_open(src, len, max_pixels, VIPS_ACCESS_SEQUENTIAL, &header, err, errlen);
	if (outcome != IMAGING_OK)
		return outcome;
	g_object_unref(header);

	VipsImage *thumb = NULL, *srgb = NULL;
	/* Shrink-on-load (JPEG's DCT scaling, WebP's scaled decode) and the EXIF
	 * orientation happen inside vips_thumbnail. The loader's fail_on goes in
	 * the option string: libvips 8.14 does not hand vips_thumbnail's own
	 * fail_on to the loader. The cast drops a const that libvips' prototype
	 * lacks; it only reads the bytes. */
	if (vips_thumbnail_buffer((void *)src, len, &thumb, (int)longest_side, "height",
				  (int)longest_side, "size", VIPS_SIZE_DOWN, "option_string", "fail_on=warning", NULL)) {
		outcome = imaging_vips_failed("cannot read the image", err, errlen);
		goto out;
	}
	/* Converting the small image is cheaper than asking vips_thumbnail for
	 * an export profile, which would transform every thumbnail, even sRGB ones. */
	outcome = imaging_to_srgb8(thumb, &srgb, err, errlen);
	if (outcome != IMAGING_OK)
		goto out_unref_thumb;
	outcome = save_webp(srgb, webp_out, err, errlen);
	if (outcome == IMAGING_OK) {
		*width = (unsigned)vips_image_get_width(srgb);
		*height = (unsigned)vips_image_get_height(srgb);
	}
	g_object_unref(srgb);
out_unref_thumb:
	g_object_unref(thumb);
out:
	return outcome;
}
