/* fuzz_sniff: image_sniff, image_dimensions and the upload's probe over any bytes, in any pieces. */
#include <string.h>

#include "core/imagetype.h"
#include "tests/fuzz/fuzz.h"

enum { UNTOUCHED_SIDE = 0xC0FFEE }; /* what the sides hold until image_dimensions writes them */

static const enum image_type ALL_TYPES[] = {IMAGE_UNKNOWN, IMAGE_JPEG, IMAGE_PNG, IMAGE_GIF,
					    IMAGE_WEBP};

static void check_dimensions(const unsigned char *image, size_t size, enum image_type sniffed,
			     enum image_type t)
{
	unsigned width = UNTOUCHED_SIDE, height = UNTOUCHED_SIDE;
	if (image_dimensions(image, size, t, &width, &height)) {
		/* A size is read only from an image of the type asked for, and is never zero. */
		FUZZ_CHECK(t == sniffed && t != IMAGE_UNKNOWN);
		FUZZ_CHECK(width > 0 && height > 0);
	} else {
		FUZZ_CHECK(width == UNTOUCHED_SIDE && height == UNTOUCHED_SIDE);
	}
}

/*
 * The probe, fed the bytes in pieces whose sizes the bytes themselves pick,
 * must learn what image_dimensions finds in the whole file: the same type and
 * size, or the same refusal.
 */
static void check_probe(const unsigned char *image, size_t size, enum image_type sniffed)
{
	struct image_probe probe;
	image_probe_init(&probe);
	enum image_probe_state state = IMAGE_PROBE_MORE;
	size_t at = 0;
	for (size_t piece = 0; at < size; piece++) {
		size_t n = 1 + (size_t)image[piece % size] % 97;
		if (piece % 5 == 4)
			n *= 700; /* now and then a piece far past the head */
		if (n > size - at)
			n = size - at;
		enum image_probe_state now = image_probe_feed(&probe, image + at, n);
		FUZZ_CHECK(state == IMAGE_PROBE_MORE || now == state); /* a verdict is final */
		state = now;
		at += n;
	}
	state = image_probe_finish(&probe);
	FUZZ_CHECK(state != IMAGE_PROBE_MORE);
	unsigned width = 0, height = 0;
	bool sized = image_dimensions(image, size, sniffed, &width, &height);
	if (sniffed == IMAGE_UNKNOWN) {
		FUZZ_CHECK(state == IMAGE_PROBE_NOT_IMAGE);
		return;
	}
	FUZZ_CHECK(probe.type == sniffed);
	FUZZ_CHECK((state == IMAGE_PROBE_SIZED) == sized);
	if (sized)
		FUZZ_CHECK(probe.width == width && probe.height == height);
}

int fuzz_sniff_one(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that AddressSanitizer sees a read one byte too far. */
	unsigned char *image = malloc(size ? size : 1);
	FUZZ_CHECK(image != NULL);
	if (size)
		memcpy(image, data, size);
	enum image_type sniffed = image_sniff(image, size);
	/* The type depends on the first IMAGE_SNIFF_BYTES only, as the upload path relies on. */
	FUZZ_CHECK(image_sniff(image, size < IMAGE_SNIFF_BYTES ? size : IMAGE_SNIFF_BYTES) ==
		   sniffed);
	FUZZ_CHECK((image_type_mime(sniffed) != NULL) == (sniffed != IMAGE_UNKNOWN));
	FUZZ_CHECK((image_type_ext(sniffed) != NULL) == (sniffed != IMAGE_UNKNOWN));
	for (size_t i = 0; i < sizeof(ALL_TYPES) / sizeof(ALL_TYPES[0]); i++)
		check_dimensions(image, size, sniffed, ALL_TYPES[i]);
	check_probe(image, size, sniffed);
	free(image);
	return 0;
}
