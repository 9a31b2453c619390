/* clock: the monotonic time that intervals and deadlines are measured on. */
#ifndef GALLERY_CLOCK_H
#define GALLERY_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since an arbitrary start; never jumps with the wall clock. */
int64_t clock_ms(void);

/*
 * The monotonic time ms milliseconds from now, as pthread_cond_timedwait takes
 * it from a condition variable set to CLOCK_MONOTONIC.
 */
struct timespec clock_deadline(long ms);

/* The wall clock: milliseconds since 1970 (UTC), for times that people read. */
int64_t clock_unix_ms(void);

/* Unix milliseconds as ISO 8601 UTC with milliseconds, "2024-05-01T12:00:00.123Z". */
enum { CLOCK_ISO_SIZE = 32 };
void clock_iso8601(int64_t unix_ms, char out[CLOCK_ISO_SIZE]);

#endif
