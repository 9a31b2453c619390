/* url: percent-decoding of request paths and percent-encoding of links. */
#ifndef GALLERY_URL_H
#define GALLERY_URL_H

#include <stddef.h>

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
 * Percent-encodes the len bytes of s, all but unreserved characters (RFC 3986),
 * into out of size bytes, NUL-terminated; stops early rather than overflow.
 */
void url_encode(const char *s, size_t len, char *out, size_t size);

#endif
