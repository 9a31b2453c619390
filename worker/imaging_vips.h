/* imaging_vips: what the image operations of worker/ share on top of libvips; no module's API. */
#ifndef GALLERY_IMAGING_VIPS_H
#define GALLERY_IMAGING_VIPS_H

#include <vips/vips.h>

#include "common/buf.h"
#include "worker/imaging.h"

/* Opens src (which must outlive *out) for reading in `access` order, after
 * refusing an empty buffer, a format other than the four we accept, and a
 * header of more than max_pixels (width x height x pages). Nothing is decoded
 * yet; a truncated or corrupt body fails when its pixels are read. */
enum imaging_outcome imaging_open(const void *src, size_t len, uint64_t max_pixels,
				  VipsAccess access, VipsImage **out, char *err, size_t errlen);

/* After a libvips call failed: moves libvips' error text into err (prefixed
 * with `what`), clears it, and says whether the image or the machine is to blame. */
enum imaging_outcome imaging_vips_failed(const char *what, char *err, size_t errlen);

/* Writes a message of our own into err and returns `outcome`. */
enum imaging_outcome imaging_fail(enum imaging_outcome outcome, char *err, size_t errlen,
				  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The loader that read `image` ("jpegload_buffer", ...), or "" if unknown. */
const char *imaging_loader(VipsImage *image);

/* `image` as 8-bit sRGB (1 or 3 bands, plus alpha when it has one), converted
 * from an embedded ICC profile when there is one. */
enum imaging_outcome imaging_to_srgb8(VipsImage *image, VipsImage **out, char *err, size_t errlen);

/* A copy of `image` without EXIF, XMP, IPTC, ICC profile or comments. The
 * savers' own "strip" is not enough: Debian's libvips 8.14 webpsave ignores it. */
enum imaging_outcome imaging_strip(VipsImage *image, VipsImage **out, char *err, size_t errlen);

/* libvips 8.14's webpsave writes an EXIF chunk (and an ICC profile when the
 * image has one) whatever "strip" says: copies the encoded WebP into out
 * without ICCP, EXIF and XMP chunks and with their flags cleared in VP8X.
 * False (out as it was) for a malformed container or no memory. */
bool imaging_webp_without_metadata(const void *webp, size_t len, struct buf *out);

#endif
