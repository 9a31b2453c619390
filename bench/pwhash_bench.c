/* pwhash_bench: the time and memory of one password hash as the front end makes it (core/password). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/password.h"

enum { DEFAULT_ROUNDS = 20 };

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static long max_rss_kb(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* usage: pwhash_bench [rounds]; prints "hash_ms_median hash_ms_p90 rss_growth_mb params". */
int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : DEFAULT_ROUNDS;
	if (rounds < 1 || rounds > 10000 || sodium_init() < 0) {
		fprintf(stderr, "usage: %s [rounds, 1 to 10000]\n", argv[0]);
		return 2;
	}
	long rss_before = max_rss_kb();
	/* One hash at a time, as each of the front end's bounded slots runs them. */
	struct password_hasher *h = password_hasher_open(1);
	if (!h) {
		fprintf(stderr, "%s: cannot hash\n", argv[0]);
		return 1;
	}
	double *ms = calloc((size_t)rounds, sizeof(*ms));
	char out[PASSWORD_HASH_MAX];
	static const char pw[] = "correct horse battery staple";
	for (int i = 0; i < rounds && ms; i++) {
		double start = now_ms();
		if (!password_hash(h, pw, strlen(pw), out))
			return 1;
		ms[i] = now_ms() - start;
	}
	long rss_after = max_rss_kb();
	if (!ms)
		return 1;
	qsort(ms, (size_t)rounds, sizeof(*ms), compare_double);
	/* The parameters are what the hash string says: $argon2id$v=19$m=<KiB>,t=<passes>,p=1$... */
	const char *params = strstr(out, "$m=");
	int plen = params ? (int)strcspn(params + 1, "$") : 0;
	printf("%.1f %.1f %.1f %.*s\n", ms[rounds / 2], ms[(rounds * 9) / 10 < rounds ? (rounds * 9) / 10 : rounds - 1],
	       (double)(rss_after - rss_before) / 1024.0, plen, params ? params + 1 : "");
	free(ms);
	password_hasher_close(h);
	return 0;
}
