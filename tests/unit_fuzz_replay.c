/*
 * unit_fuzz_replay: feeds every seed of tests/fuzz/corpus and every kept crash
 * of tests/fuzz/regressions through the fuzz targets, so that the normal and
 * the sanitizer builds check them on every test run. A target aborts on a
 * broken promise; here it must return 0 for every file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/fuzz/fuzz.h"

enum { PATH_LEN = 4096, READ_CHUNK = 4096 };

struct target {
	const char *name; /* the folder under corpus/ and regressions/ */
	int (*one)(const uint8_t *data, size_t size);
};

static const struct target TARGETS[] = {
	{"form", fuzz_form_one},
	{"key", fuzz_key_one},
	{"sniff", fuzz_sniff_one},
	{"tpl", fuzz_tpl_one},
	{"memcache_request", fuzz_memcache_request_one},
	{"config", fuzz_config_one},
	{"auth", fuzz_auth_one},
	{"hashtags", fuzz_hashtags_one},
	{"search", fuzz_search_one},
};

static const char *fuzz_root(void)
{
	const char *root = getenv("GALLERY_TEST_ROOT");
	return root ? root : ".";
}

static void read_whole(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char chunk[READ_CHUNK];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_true(buf_append(out, chunk, n));
	assert_false(ferror(f));
	fclose(f);
}

/* Runs every file of root/tests/fuzz/<kind>/<target>; how many there were (0 with no folder). */
static size_t replay_folder(const struct target *t, const char *kind)
{
	char dir[PATH_LEN];
	assert_true(snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", fuzz_root(), kind, t->name) <
		    PATH_LEN);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t files = 0;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_LEN];
		assert_true(snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < PATH_LEN);
		struct buf input = BUF_INIT;
		read_whole(path, &input);
		/* An exact-size copy: the buffer's spare room would hide a read past the end. */
		uint8_t *data = malloc(input.len ? input.len : 1);
		assert_non_null(data);
		if (input.len)
			memcpy(data, input.data, input.len);
		size_t len = input.len;
		buf_free(&input);
		if (t->one(data, len) != 0)
			fail_msg("%s returned non-zero", path);
		free(data);
		files++;
	}
	closedir(d);
	return files;
}

static void test_replay(void **state)
{
	const struct target *t = *state;
	size_t seeds = replay_folder(t, "corpus");
	size_t kept = replay_folder(t, "regressions");
	print_message("%s: %zu seeds, %zu regressions\n", t->name, seeds, kept);
	/* A target with no seeds would pass without testing anything. */
	assert_true(seeds > 0);
}

#define REPLAY(i, folder)                                                                 \
	{                                                                                \
		.name = "replay_" folder, .test_func = test_replay,                        \
		.initial_state = (void *)&TARGETS[i]                                     \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		REPLAY(0, "form"), REPLAY(1, "key"), REPLAY(2, "sniff"),
		REPLAY(3, "tpl"),  REPLAY(4, "memcache_request"), REPLAY(5, "config"),
		REPLAY(6, "auth"),
		REPLAY(7, "hashtags"), REPLAY(8, "search"),
	};
	_Static_assert(sizeof(tests) / sizeof(tests[0]) == sizeof(TARGETS) / sizeof(TARGETS[0]),
		       "one test per target");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
