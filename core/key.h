/* key: checks of image keys, which are user text: length, UTF-8, no control characters. */
#ifndef GALLERY_KEY_H
#define GALLERY_KEY_H

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

#endif
