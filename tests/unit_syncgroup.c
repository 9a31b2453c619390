/* unit_syncgroup: cmocka tests of the group commit in common/syncgroup, with threads and a slow sync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "common/syncgroup.h"

enum {
	THREADS = 8,
	SYNCS_PER_THREAD = 40,
	TARGETS = 3,
	SLOW_SYNC_US = 5000, /* long enough that callers pile up behind a round */
	FAILING_TARGET = 2,
};

/*
 * A stand-in for a disk: each target has a count of writes made and a count
 * made durable. A sync makes durable what was written when it began.
 */
struct disk {
	_Atomic long written[TARGETS];
	_Atomic long durable[TARGETS];
	_Atomic long calls;
	_Atomic int in_fn[TARGETS]; /* calls of a target running at once: must never exceed 1 */
	_Atomic bool overlapped;
	_Atomic int in_any;	     /* calls of any target running at once */
	_Atomic bool parallel;	     /* two targets' calls ran at once */
	int fail_errno; /* FAILING_TARGET's syncs answer this when not 0 */
};

static void pause_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static int slow_sync(void *ctx, unsigned target)
{
	struct disk *d = ctx;
	if (atomic_fetch_add(&d->in_fn[target], 1) != 0)
		atomic_store(&d->overlapped, true);
	if (atomic_fetch_add(&d->in_any, 1) != 0)
		atomic_store(&d->parallel, true);
	long seen = atomic_load(&d->written[target]);
	atomic_fetch_add(&d->calls, 1);
	pause_us(SLOW_SYNC_US);
	int err = target == FAILING_TARGET ? d->fail_errno : 0;
	if (!err) {
		long cur = atomic_load(&d->durable[target]);
		while (cur < seen && !atomic_compare_exchange_weak(&d->durable[target], &cur, seen))
			;
	}
	atomic_fetch_sub(&d->in_any, 1);
	atomic_fetch_sub(&d->in_fn[target], 1);
	return err;
}

struct worker {
	struct syncgroup *g;
	struct disk *d;
	int id;
	int targets; /* the thread cycles over targets 0 .. targets - 1 */
	int stale;	/* returns after which the write was not yet durable */
	int failures;	/* returns with an error */
	int wrong_errno; /* errors other than the failing target's */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < SYNCS_PER_THREAD; i++) {
		unsigned target = (unsigned)((w->id + i) % w->targets);
		long mine = atomic_fetch_add(&w->d->written[target], 1) + 1;
		int err = syncgroup_sync(w->g, target);
		if (err) {
			w->failures++;
			if (target != FAILING_TARGET || err != w->d->fail_errno)
				w->wrong_errno++;
		} else if (atomic_load(&w->d->durable[target]) < mine) {
			w->stale++;
		}
	}
	return NULL;
}

static void run_threads(struct syncgroup *g, struct disk *d, int targets, struct worker w[THREADS])
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.g = g, .d = d, .id = i, .targets = targets};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* Every caller returns only once its write is durable, and callers share the syncs. */
static void test_shared_and_durable(void **state)
{
	(void)state;
	struct disk d = {0};
	struct syncgroup *g = syncgroup_create(slow_sync, &d, TARGETS);
	assert_non_null(g);
	struct worker w[THREADS];
	run_threads(g, &d, 1, w);
	int stale = 0, failures = 0;
	for (int i = 0; i < THREADS; i++) {
		stale += w[i].stale;
		failures += w[i].failures;
	}
	assert_int_equal(stale, 0);
	assert_int_equal(failures, 0);
	assert_false(atomic_load(&d.overlapped));
	long calls = atomic_load(&d.calls);
	print_message("%d syncs asked, %ld made\n", THREADS * SYNCS_PER_THREAD, calls);
	/* Eight callers of one target and a slow sync: a round gathers those who came meanwhile. */
	assert_true(calls * 2 <= THREADS * SYNCS_PER_THREAD);
	syncgroup_destroy(g);
}

/* A failed sync reaches every member waiting on that target, and only them. */
static void test_errors_reach_every_member(void **state)
{
	(void)state;
	struct disk d = {.fail_errno = EIO};
	struct syncgroup *g = syncgroup_create(slow_sync, &d, TARGETS);
	assert_non_null(g);
	struct worker w[THREADS];
	run_threads(g, &d, TARGETS, w);
	int stale = 0, failures = 0, wrong = 0;
	for (int i = 0; i < THREADS; i++) {
		stale += w[i].stale;
		failures += w[i].failures;
		wrong += w[i].wrong_errno;
	}
	assert_int_equal(stale, 0);
	assert_int_equal(wrong, 0);
	assert_false(atomic_load(&d.overlapped));
	/* A slow sync of one folder must not hold up the others'. */
	assert_true(atomic_load(&d.parallel));
	/* Each thread's targets cycle over 0, 1, 2: a third of its syncs were of the failing one. */
	long expected = 0;
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < SYNCS_PER_THREAD; i++)
			expected += (t + i) % TARGETS == FAILING_TARGET;
	assert_int_equal(failures, expected);
	syncgroup_destroy(g);
}

/* Alone, a caller leads its own round: one sync, and its answer. */
static void test_alone(void **state)
{
	(void)state;
	struct disk d = {.fail_errno = ENOSPC};
	struct syncgroup *g = syncgroup_create(slow_sync, &d, TARGETS);
	assert_non_null(g);
	atomic_store(&d.written[0], 1);
	assert_int_equal(syncgroup_sync(g, 0), 0);
	assert_int_equal(atomic_load(&d.durable[0]), 1);
	assert_int_equal(syncgroup_sync(g, FAILING_TARGET), ENOSPC);
	assert_int_equal(atomic_load(&d.calls), 2);
	syncgroup_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alone),
	    cmocka_unit_test(test_shared_and_durable),
	    cmocka_unit_test(test_errors_reach_every_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
