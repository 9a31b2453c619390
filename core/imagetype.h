/* imagetype: image type sniffing by the bytes, and dimensions from the header. Pure: no I/O. */
#ifndef GALLERY_IMAGETYPE_H
#define GALLERY_IMAGETYPE_H

#include <stdbool.h>
#include <stddef.h>

enum image_type { IMAGE_UNKNOWN, IMAGE_JPEG, IMAGE_PNG, IMAGE_GIF, IMAGE_WEBP };

/* How many leading bytes image_sniff needs at most. */
enum { IMAGE_SNIFF_BYTES = 12 };

/*
 * By the bytes, never the name: JPEG FF D8 FF; PNG the 8-byte signature;
 * GIF "GIF87a"/"GIF89a"; WebP "RIFF" + 4 bytes + "WEBP".
 */
enum image_type image_sniff(const unsigned char *data, size_t len);
/* "image/jpeg", "image/png", "image/gif", "image/webp"; NULL for unknown. */
const char *image_type_mime(enum image_type t);
/* "jpg", "png", "gif", "webp"; NULL for unknown. */
const char *image_type_ext(enum image_type t);

/*
 * Width and height from the header bytes when they can be read from the first
 * len bytes: PNG IHDR; GIF logical screen; WebP VP8 (lossy), VP8L (lossless)
 * and VP8X (extended); JPEG by walking the segments to the first SOF0..SOF15
 * marker (not DHT C4, JPG C8 or DAC CC), skipping fill bytes and the
 * standalone markers RST0-7, TEM and SOI; scan data (SOS) or EOI first is a failure.
 * False, leaving width and height as they were, when the data is not of type
 * t, the size is not within len bytes, the header is malformed, or a side is
 * zero (a JPEG that defers its height to a DNL marker, say). Never reads past len.
 */
bool image_dimensions(const unsigned char *data, size_t len, enum image_type t, unsigned *width,
		      unsigned *height);


#endif
