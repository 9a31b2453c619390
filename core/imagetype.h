/* imagetype: image type sniffing by the bytes, and dimensions from the header. Pure: no I/O. */
#ifndef GALLERY_IMAGETYPE_H
#define GALLERY_IMAGETYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * A JPEG's segments walked as its bytes arrive, from the byte after SOI to the
 * frame header, in constant memory: segments before the frame (EXIF, ICC
 * profiles, thumbnails) may run to megabytes, and are skipped, never held.
 */
enum image_jpeg_step { JPEG_AT_MARKER, JPEG_IN_FILL, JPEG_IN_LENGTH, JPEG_IN_SEGMENT, JPEG_IN_SOF };
enum image_walk { IMAGE_WALK_MORE, IMAGE_WALK_FOUND, IMAGE_WALK_FAILED };
enum { IMAGE_JPEG_SOF_BYTES = 7 }; /* of a SOFn from its length field: length, precision, h, w */

struct image_jpeg_walk {
	enum image_jpeg_step step;
	enum image_walk result;
	unsigned char field[IMAGE_JPEG_SOF_BYTES];
	size_t field_len;
	uint32_t skip; /* bytes of the current segment still to pass */
	uint32_t width, height;
};

void image_jpeg_walk_init(struct image_jpeg_walk *w);
/* Takes the next len bytes; FOUND or FAILED are final and later bytes are ignored. */
enum image_walk image_jpeg_walk_feed(struct image_jpeg_walk *w, const unsigned char *data,
				     size_t len);

/* What an upload learns of its image as its bytes arrive: its type, then its size. */
enum image_probe_state {
	IMAGE_PROBE_MORE,      /* not known yet */
	IMAGE_PROBE_SIZED,     /* type and a non-zero width and height known */
	IMAGE_PROBE_NOT_IMAGE, /* no JPEG, PNG, GIF or WebP */
	IMAGE_PROBE_NO_SIZE,   /* an image type whose header does not carry a usable size */
};

/* Enough leading bytes for the size of a PNG (24), a GIF (10) and each WebP kind (30). */
enum { IMAGE_PROBE_HEAD_BYTES = 32 };

struct image_probe {
	unsigned char head[IMAGE_PROBE_HEAD_BYTES];
	size_t head_len;
	enum image_type type;
	enum image_probe_state state;
	unsigned width, height;
	struct image_jpeg_walk jpeg;
};

void image_probe_init(struct image_probe *p);
/* The next len bytes of the file; a state other than MORE is final. */
enum image_probe_state image_probe_feed(struct image_probe *p, const unsigned char *data,
					size_t len);
/* After the last byte: never MORE. */
enum image_probe_state image_probe_finish(struct image_probe *p);


#endif
