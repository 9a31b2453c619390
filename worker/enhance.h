/* enhance: CloudPic's enhancement of a photo, from bytes in memory to bytes in memory, with measurements. */
#ifndef GALLERY_ENHANCE_H
#define GALLERY_ENHANCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "worker/imaging.h"

#define ENHANCE_STRENGTH_MAX 0.30 /* the seed's "up to 30%" */

enum { ENHANCE_MIME_LEN = 32 };

/* Of the lightness (Rec. 709 luma of the sRGB pixels, 0 to 255). */
struct enhance_measure {
	double rms_contrast; /* standard deviation of lightness / 255 */
	double sharpness;    /* variance of the 3x3 Laplacian of lightness (0-255 scale) */
	double clipped;      /* fraction of pixels with a colour band at 0 or 255 */
};

/* Enhances src (JPEG, PNG, GIF or WebP) by `strength` in [0, 0.30]: turns it
 * upright, stretches its lightness towards the 1st-99th percentiles, raises its
 * contrast and sharpens it, each scaled by strength; appends the result to out
 * and its media type to out_mime. JPEG gives JPEG (quality 92), PNG and GIF give
 * PNG (GIF's first frame), WebP gives WebP (quality 92), all sRGB, 8 bits, no
 * metadata. Strength 0 appends src itself, once it has decoded whole: the same
 * pixels exactly. *before and *after measure the upright input and the result.
 * Needs imaging_init. On anything but IMAGING_OK, err holds one line saying why
 * and out is as it was. */
enum imaging_outcome enhance_make(const void *src, size_t len, double strength, uint64_t max_pixels,
				  struct buf *out, char out_mime[ENHANCE_MIME_LEN],
				  struct enhance_measure *before, struct enhance_measure *after,
				  char *err, size_t errlen);

#endif
