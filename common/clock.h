/* clock: the monotonic time that intervals and deadlines are measured on. */
#ifndef GALLERY_CLOCK_H
#define GALLERY_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary start; never jumps with the wall clock. */
int64_t clock_ms(void);

#endif
