/* thumbnail: a WebP thumbnail of an uploaded image, from bytes in memory to bytes in memory. */
#include "worker/thumbnail.h"

#include "worker/imaging_vips.h"

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
	if (!imaging_webp_without_metadata(bytes, size, webp_out))
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
