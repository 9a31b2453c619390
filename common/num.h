/* num: strict parsing of numbers from requests, the environment and the database. */
#ifndef GALLERY_NUM_H
#define GALLERY_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A whole number written in plain ASCII digits (no sign, space, or other
 * base) from min to max. text holds len bytes, so that a NUL inside it makes
 * it no number. False when it is not one, or out of range; *out is then untouched.
 */
bool num_parse_whole(const char *text, size_t len, long min, long max, long *out);

/* As num_parse_whole, for a C string that may start with one '-'. */
bool num_parse_long(const char *text, long min, long max, long *out);

/* As num_parse_whole, for unsigned 64-bit values up to max (a column of the database). */
bool num_parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out);

#endif
