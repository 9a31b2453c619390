/* imaging: libvips set up for decoding untrusted files, and the outcome of an image operation. */
#ifndef GALLERY_IMAGING_H
#define GALLERY_IMAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an image operation gives back to the job runner. */
enum imaging_outcome {
	IMAGING_OK,
	/* Permanent: this input can never succeed (not a JPEG, PNG, GIF or WebP;
	 * undecodable, truncated, over the pixel limit, empty; or a parameter out
	 * of range). The job goes dead at once. */
	IMAGING_BAD_IMAGE,
	/* Transient or internal (out of memory, libvips failing on a valid image):
	 * worth another attempt. */
	IMAGING_FAILED,
};

enum { IMAGING_ERR_LEN = 512 }; /* a size for the callers' message buffers */

/* GALLERY_MAX_PIXELS's default: width x height x pages of one upload. */
#define IMAGING_MAX_PIXELS_DEFAULT UINT64_C(100000000)

/* Starts libvips once per process that decodes untrusted files, before its
 * first image operation and after any fork: only the JPEG, PNG, GIF and WebP
 * loaders stay usable, untrusted operations are blocked, the operation cache
 * is off (no decoded pixels outlive a job) and each pipeline uses
 * `threads_per_image` threads (0: libvips' default, the core count). */
bool imaging_init(const char *argv0, unsigned threads_per_image, char *err, size_t errlen);
void imaging_shutdown(void);

const char *imaging_outcome_name(enum imaging_outcome outcome);

#endif
