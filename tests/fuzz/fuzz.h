/* fuzz: one function per fuzz target, called by libFuzzer and by unit_fuzz_replay alike. */
#ifndef GALLERY_FUZZ_H
#define GALLERY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Each takes one input of any bytes and returns 0 once it has checked what the
 * parser did with it. A broken promise aborts, with the reason on stderr, so
 * that libFuzzer keeps the input and the replay test fails on it.
 */
int fuzz_form_one(const uint8_t *data, size_t size);
int fuzz_key_one(const uint8_t *data, size_t size);
int fuzz_sniff_one(const uint8_t *data, size_t size);
int fuzz_tpl_one(const uint8_t *data, size_t size);
int fuzz_memcache_request_one(const uint8_t *data, size_t size);
int fuzz_config_one(const uint8_t *data, size_t size);
int fuzz_auth_one(const uint8_t *data, size_t size);
int fuzz_hashtags_one(const uint8_t *data, size_t size);
int fuzz_search_one(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

#endif
