/* buf: a growable byte buffer for responses, pages and request bodies. */
#ifndef GALLERY_BUF_H
#define GALLERY_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

bool buf_reserve(struct buf *b, size_t extra);
bool buf_append(struct buf *b, const void *data, size_t len);
bool buf_puts(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (free() them); the buffer is left empty. */
char *buf_steal(struct buf *b);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
