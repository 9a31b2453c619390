/* b64: base64 without line breaks, over libb64. */
#ifndef GALLERY_B64_H
#define GALLERY_B64_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* How many characters the base64 of len bytes takes, padding included. */
size_t b64_encoded_len(size_t len);
/* Appends the base64 of data to out, on one line. */
bool b64_encode(const void *data, size_t len, struct buf *out);
/* Appends the bytes that text encodes to out. */
bool b64_decode(const char *text, size_t len, struct buf *out);

#endif
