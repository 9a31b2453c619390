/* validate: image key checks, URL unescaping, image type sniffing. Pure: no I/O, no allocation. */
#ifndef GALLERY_VALIDATE_H
#define GALLERY_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* A key is 1 to 255 bytes of valid UTF-8 with no control characters. */
enum { KEY_MAX_BYTES = 255 };

/*
 * True for a valid key. Otherwise false, with a message for the user in err
 * (truncated to errlen; err may be NULL) that says what to fix and, for bad
 * bytes, the 1-based position of the first byte of the offending character:
 *   "key is empty; give 1 to 255 bytes"
 *   "key is 300 bytes; the limit is 255"
 *   "key is not valid UTF-8 (byte 4)"
 *   "key contains a control character (byte 2)"
 * Control characters are U+0000..U+001F, U+007F and U+0080..U+009F.
 * On success err is left as it was.
 */
bool key_is_valid(const char *key, size_t len, char *err, size_t errlen);

/*
 * Percent-decodes in place and returns the new length. Malformed escapes (a
 * '%' not followed by two hex digits) are kept as they are. '+' is kept as '+'.
 * A decoded NUL byte is written as 0x01 instead, so that the result stays one C
 * string and key_is_valid still rejects it as a control character.
 * s holds len bytes plus room for a terminator (a C string of length len): the
 * result is NUL-terminated at the new length, as MHD_OPTION_UNESCAPE_CALLBACK needs.
 */
size_t url_decode_inplace(char *s, size_t len);

/*
 * A whole number written in plain ASCII digits (no sign, space, or other
 * base) from min to max. text holds len bytes, so that a NUL inside it makes
 * it no number. False when it is not one, or out of range.
 */
bool whole_number_parse(const char *text, size_t len, long min, long max, long *out);

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
