/* thumbnail: a WebP thumbnail of an uploaded image, from bytes in memory to bytes in memory. */
#ifndef GALLERY_THUMBNAIL_H
#define GALLERY_THUMBNAIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "worker/imaging.h"

/* The longest sides of DESIGN.md's thumbnail sizes 's' and 'm'. */
enum { THUMBNAIL_SMALL = 512, THUMBNAIL_MEDIUM = 1440, THUMBNAIL_QUALITY = 80 };

/* Shrinks src (JPEG, PNG, GIF or WebP; the first frame of an animation) to fit
 * longest_side on its longer side, never enlarging it, turned upright by its
 * EXIF orientation, in sRGB, and appends it to webp_out as WebP quality 80 with
 * no metadata. *width and *height are the thumbnail's. Needs imaging_init. On
 * anything but IMAGING_OK, err holds one line saying why and webp_out is as it was. */
enum imaging_outcome thumbnail_make(const void *src, size_t len, unsigned longest_side,
				    uint64_t max_pixels, struct buf *webp_out, unsigned *width,
				    unsigned *height, char *err, size_t errlen);

#endif
