/* unit_cache: cmocka tests of the cache core (memcache/cache.c) without threads or I/O. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "memcache/cache.h"

/* Keys "k0".."k9" with 8-byte values: every item costs exactly ITEM_BYTES. */
enum { KEY_LEN = 2, VALUE_LEN = 8, ITEM_BYTES = KEY_LEN + VALUE_LEN };
enum { SEED = 42 };

/* RR fairness: 20000 evictions spread over 10 keys. */
enum { RR_KEYS = 10, RR_TRIALS = 20000 };
/* chi-square with 9 degrees of freedom exceeds this with probability 0.001 */
#define CHI2_9DF_P001 27.88
#define RR_TOLERANCE 0.15

/* A value holding s, charged charge bytes, held once for the caller. */
static struct cache_value *value_charged(const char *s, size_t charge)
{
	size_t len = strlen(s);
	struct cache_value *v = cache_value_new(len, charge);
	assert_non_null(v);
	memcpy(v->data, s, len);
	return v;
}

static struct cache_value *value_of(const char *s)
{
	return value_charged(s, strlen(s));
}

static enum cache_put_result put(struct cache *c, const char *key, const char *val,
				 uint64_t version)
{
	return cache_put(c, key, strlen(key), value_of(val), version);
}

static enum cache_put_result put_charged(struct cache *c, const char *key, size_t charge)
{
	return cache_put(c, key, strlen(key), value_charged("x", charge), CACHE_UNVERSIONED);
}

/* Note: a hit counts as a use, so this moves key to the front under LRU. */
static bool has(struct cache *c, const char *key)
{
	struct cache_value *v = cache_get(c, key, strlen(key));
	cache_value_release(v);
	return v != NULL;
}

static void assert_holds(struct cache *c, const char *key, const char *val)
{
	struct cache_value *v = cache_get(c, key, strlen(key));
	assert_non_null(v);
	assert_int_equal(v->len, strlen(val));
	assert_memory_equal(v->data, val, strlen(val));
	cache_value_release(v);
}

static struct cache_stats stats_of(struct cache *c)
{
	struct cache_stats s;
	cache_get_stats(c, &s);
	return s;
}

static void assert_size(struct cache *c, size_t items, size_t bytes)
{
	struct cache_stats s = stats_of(c);
	assert_int_equal(s.items, items);
	assert_int_equal(s.bytes, bytes);
}

static const char *key_name(char buf[static 16], int i)
{
	snprintf(buf, 16, "k%d", i);
	return buf;
}

/* Puts k<from>..k<to-1>, each ITEM_BYTES, in that order. */
static void fill(struct cache *c, int from, int to)
{
	char key[16];
	for (int i = from; i < to; i++)
		assert_int_equal(put(c, key_name(key, i), "value-00", 0), CACHE_PUT_STORED);
}

/* LRU */

static void test_lru_evicts_least_recently_used(void **state)
{
	(void)state;
	struct cache *c = cache_create(4 * ITEM_BYTES, CACHE_LRU, SEED);
	fill(c, 1, 5); /* recency, newest first: k4 k3 k2 k1 */
	assert_true(has(c, "k1"));
	assert_true(has(c, "k2"));
	assert_false(has(c, "k9")); /* a miss touches nothing */
	/* k2 k1 k4 k3 */
	fill(c, 5, 6); /* evicts k3; k5 k2 k1 k4 */
	assert_int_equal(put(c, "k1", "value-01", 0), CACHE_PUT_STORED);
	/* an overwrite is a use: k1 k5 k2 k4 */
	fill(c, 6, 7); /* evicts k4; k6 k1 k5 k2 */
	fill(c, 7, 8); /* evicts k2; k7 k6 k1 k5 */

	assert_int_equal(stats_of(c).evictions, 3);
	assert_false(has(c, "k2"));
	assert_false(has(c, "k3"));
	assert_false(has(c, "k4"));
	assert_holds(c, "k1", "value-01");
	assert_true(has(c, "k5"));
	assert_true(has(c, "k6"));
	assert_true(has(c, "k7"));
	assert_size(c, 4, 4 * ITEM_BYTES);
	cache_destroy(c);
}

/* RR */

static void test_rr_evicts_only_when_full(void **state)
{
	(void)state;
	struct cache *c = cache_create(RR_KEYS * ITEM_BYTES, CACHE_RR, SEED);
	fill(c, 0, RR_KEYS);
	assert_int_equal(stats_of(c).evictions, 0);
	assert_size(c, RR_KEYS, RR_KEYS * ITEM_BYTES);
	char key[16];
	for (int i = 0; i < RR_KEYS; i++)
		assert_true(has(c, key_name(key, i)));

	assert_int_equal(put(c, "xx", "value-xx", 0), CACHE_PUT_STORED);
	assert_int_equal(stats_of(c).evictions, 1);
	assert_size(c, RR_KEYS, RR_KEYS * ITEM_BYTES);
	assert_true(has(c, "xx"));

	/* twice an item's size: exactly two of the equal items must go */
	assert_int_equal(put_charged(c, "yy", 2 * ITEM_BYTES - KEY_LEN), CACHE_PUT_STORED);
	assert_int_equal(stats_of(c).evictions, 3);
	assert_size(c, RR_KEYS - 1, RR_KEYS * ITEM_BYTES);
	cache_destroy(c);
}

/* Fills k0..k9, puts one more, and returns the index of the key that went. */
static int rr_one_victim(struct cache *c)
{
	char key[16];
	cache_clear(c);
	fill(c, 0, RR_KEYS);
	assert_int_equal(put(c, "xx", "value-xx", 0), CACHE_PUT_STORED);
	int victim = -1;
	for (int i = 0; i < RR_KEYS; i++) {
		if (has(c, key_name(key, i)))
			continue;
		assert_int_equal(victim, -1); /* exactly one key may go */
		victim = i;
	}
	assert_int_not_equal(victim, -1);
	return victim;
}

static void test_rr_evicts_uniformly(void **state)
{
	(void)state;
	struct cache *c = cache_create(RR_KEYS * ITEM_BYTES, CACHE_RR, SEED);
	unsigned counts[RR_KEYS] = { 0 };
	for (int t = 0; t < RR_TRIALS; t++)
		counts[rr_one_victim(c)]++;
	assert_int_equal(stats_of(c).evictions, RR_TRIALS);

	double mean = (double)RR_TRIALS / RR_KEYS;
	double chi2 = 0;
	for (int i = 0; i < RR_KEYS; i++) {
		double d = counts[i] - mean;
		chi2 += d * d / mean;
		assert_true(counts[i] > mean * (1 - RR_TOLERANCE));
		assert_true(counts[i] < mean * (1 + RR_TOLERANCE));
	}
	assert_true(chi2 < CHI2_9DF_P001);
	cache_destroy(c);
}

/* Size accounting */

static void test_bytes_follow_overwrites_invalidations_clears(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	assert_int_equal(put(c, "a", "12345", 0), CACHE_PUT_STORED);
	assert_size(c, 1, 1 + 5);
	assert_int_equal(put_charged(c, "bb", 10), CACHE_PUT_STORED);
	assert_size(c, 2, (1 + 5) + (2 + 10));

	assert_int_equal(put_charged(c, "a", 20), CACHE_PUT_STORED); /* bigger */
	assert_size(c, 2, (1 + 20) + (2 + 10));
	assert_int_equal(put_charged(c, "a", 2), CACHE_PUT_STORED); /* smaller */
	assert_size(c, 2, (1 + 2) + (2 + 10));

	cache_invalidate(c, "bb", 2, CACHE_UNVERSIONED);
	assert_size(c, 1, 1 + 2);
	cache_invalidate(c, "nothing", 7, CACHE_UNVERSIONED);
	assert_size(c, 1, 1 + 2);

	assert_int_equal(put(c, "ccc", "1234567", 0), CACHE_PUT_STORED);
	assert_size(c, 2, (1 + 2) + (3 + 7));
	assert_int_equal(cache_clear(c), 2);
	assert_size(c, 0, 0);
	assert_false(has(c, "a"));
	assert_false(has(c, "ccc"));
	assert_int_equal(cache_clear(c), 0);
	assert_int_equal(stats_of(c).evictions, 0);
	cache_destroy(c);
}

static void test_overwrite_bigger_evicts_others_not_itself(void **state)
{
	(void)state;
	struct cache *c = cache_create(3 * ITEM_BYTES, CACHE_LRU, SEED);
	fill(c, 1, 4); /* k3 k2 k1, full */
	/* same size again: the old copy makes room, nothing is evicted */
	assert_int_equal(put(c, "k2", "value-02", 0), CACHE_PUT_STORED);
	assert_int_equal(stats_of(c).evictions, 0);
	/* k2 k3 k1; doubling k2 must push out k1 only */
	assert_int_equal(put_charged(c, "k2", 2 * ITEM_BYTES - KEY_LEN), CACHE_PUT_STORED);
	assert_int_equal(stats_of(c).evictions, 1);
	assert_size(c, 2, 3 * ITEM_BYTES);
	assert_false(has(c, "k1"));
	assert_true(has(c, "k2"));
	assert_true(has(c, "k3"));
	cache_destroy(c);
}

/* Configuration */

static void test_shrink_evicts_at_once(void **state)
{
	(void)state;
	struct cache *c = cache_create(5 * ITEM_BYTES, CACHE_LRU, SEED);
	fill(c, 1, 6); /* k5 k4 k3 k2 k1 */
	assert_true(has(c, "k1")); /* k1 k5 k4 k3 k2 */
	cache_configure(c, 3 * ITEM_BYTES + ITEM_BYTES / 2, CACHE_LRU);

	struct cache_stats s = stats_of(c);
	assert_int_equal(s.capacity, 3 * ITEM_BYTES + ITEM_BYTES / 2);
	assert_int_equal(s.evictions, 2);
	assert_size(c, 3, 3 * ITEM_BYTES);
	assert_false(has(c, "k2"));
	assert_false(has(c, "k3"));
	assert_true(has(c, "k1"));
	assert_true(has(c, "k4"));
	assert_true(has(c, "k5"));
	cache_destroy(c);
}

/* Touches "hot", then puts a new key into the full cache; true if hot went. */
static bool hot_evicted_within(struct cache *c, int rounds, int *next_key)
{
	char key[16];
	for (int r = 0; r < rounds; r++) {
		if (!has(c, "hot"))
			return true;
		snprintf(key, sizeof(key), "n%03d", (*next_key)++); /* ITEM_BYTES, like k0..k9 */
		assert_int_equal(put(c, key, "val-nn", 0), CACHE_PUT_STORED);
	}
	return !has(c, "hot");
}

static void test_switching_policy_changes_victims(void **state)
{
	(void)state;
	enum { ROUNDS = 200 };
	struct cache *c = cache_create(RR_KEYS * ITEM_BYTES, CACHE_LRU, SEED);
	int next_key = 0;
	assert_int_equal(put_charged(c, "hot", ITEM_BYTES - 3), CACHE_PUT_STORED);
	fill(c, 1, RR_KEYS);
	/* LRU never evicts a key used just before each put */
	assert_false(hot_evicted_within(c, ROUNDS, &next_key));

	uint64_t evictions = stats_of(c).evictions;
	cache_configure(c, RR_KEYS * ITEM_BYTES, CACHE_RR);
	assert_int_equal(stats_of(c).policy, CACHE_RR);
	assert_int_equal(stats_of(c).evictions, evictions); /* same capacity: none */
	/* RR ignores use: a 1-in-10 chance per put, so (0.9)^200 to survive */
	assert_true(hot_evicted_within(c, ROUNDS, &next_key));

	cache_configure(c, RR_KEYS * ITEM_BYTES, CACHE_LRU);
	assert_int_equal(stats_of(c).policy, CACHE_LRU);
	assert_int_equal(put_charged(c, "hot", ITEM_BYTES - 3), CACHE_PUT_STORED);
	assert_false(hot_evicted_within(c, ROUNDS, &next_key));
	cache_destroy(c);
}

static void test_policy_names(void **state)
{
	(void)state;
	enum cache_policy p;
	assert_string_equal(cache_policy_name(CACHE_LRU), "LRU");
	assert_string_equal(cache_policy_name(CACHE_RR), "RR");
	assert_true(cache_policy_parse("lru", &p));
	assert_int_equal(p, CACHE_LRU);
	assert_true(cache_policy_parse("RR", &p));
	assert_int_equal(p, CACHE_RR);
	assert_true(cache_policy_parse("random", &p));
	assert_int_equal(p, CACHE_RR);
	assert_false(cache_policy_parse("fifo", &p));
}

/* Limits */

static void test_too_large_is_refused_and_changes_nothing(void **state)
{
	(void)state;
	enum { CAPACITY = 3 * ITEM_BYTES };
	struct cache *c = cache_create(CAPACITY, CACHE_LRU, SEED);
	fill(c, 1, 3);
	assert_int_equal(put_charged(c, "big", CAPACITY - 3 + 1), CACHE_PUT_TOO_LARGE);
	/* an oversized overwrite keeps the old value too */
	assert_int_equal(put_charged(c, "k1", CAPACITY - KEY_LEN + 1), CACHE_PUT_TOO_LARGE);

	assert_size(c, 2, 2 * ITEM_BYTES);
	assert_int_equal(stats_of(c).evictions, 0);
	assert_false(has(c, "big"));
	assert_holds(c, "k1", "value-00");
	assert_true(has(c, "k2"));

	/* exactly the capacity fits, by evicting everything else */
	assert_int_equal(put_charged(c, "big", CAPACITY - 3), CACHE_PUT_STORED);
	assert_size(c, 1, CAPACITY);
	cache_destroy(c);
}

static void test_capacity_zero_stores_nothing(void **state)
{
	(void)state;
	struct cache *c = cache_create(0, CACHE_LRU, SEED);
	assert_int_equal(put(c, "k1", "value-01", 0), CACHE_PUT_DISABLED);
	assert_int_equal(put(c, "k1", "value-01", 7), CACHE_PUT_DISABLED);
	assert_size(c, 0, 0);
	assert_false(has(c, "k1"));
	cache_destroy(c);
}

static void test_configure_zero_empties(void **state)
{
	(void)state;
	struct cache *c = cache_create(5 * ITEM_BYTES, CACHE_RR, SEED);
	fill(c, 1, 6);
	cache_configure(c, 0, CACHE_RR);
	assert_size(c, 0, 0);
	assert_int_equal(stats_of(c).evictions, 5);
	assert_false(has(c, "k1"));
	assert_int_equal(put(c, "k1", "value-01", 0), CACHE_PUT_DISABLED);
	assert_size(c, 0, 0);
	cache_destroy(c);
}

/* Versions */

static void test_older_put_is_stale(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	assert_int_equal(put(c, "k", "two", 2), CACHE_PUT_STORED);
	assert_int_equal(put(c, "k", "one", 1), CACHE_PUT_STALE);
	assert_holds(c, "k", "two");
	assert_int_equal(put(c, "k", "two again", 2), CACHE_PUT_STORED);
	assert_holds(c, "k", "two again");
	assert_int_equal(stats_of(c).stale_puts, 1);
	cache_destroy(c);
}

static void test_invalidation_version_guards_puts(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	assert_int_equal(put(c, "k", "three", 3), CACHE_PUT_STORED);
	cache_invalidate(c, "k", 1, 5);
	assert_false(has(c, "k"));
	assert_int_equal(put(c, "k", "four", 4), CACHE_PUT_STALE);
	assert_false(has(c, "k"));
	assert_int_equal(put(c, "k", "five", 5), CACHE_PUT_STORED);
	assert_holds(c, "k", "five");
	assert_int_equal(put(c, "k", "six", 6), CACHE_PUT_STORED);
	assert_holds(c, "k", "six");
	assert_int_equal(stats_of(c).stale_puts, 1);
	cache_destroy(c);
}

static void test_unversioned_puts_always_accepted(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	assert_int_equal(put(c, "k", "nine", 9), CACHE_PUT_STORED);
	assert_int_equal(put(c, "k", "plain", CACHE_UNVERSIONED), CACHE_PUT_STORED);
	assert_holds(c, "k", "plain");
	cache_invalidate(c, "k", 1, 20);
	assert_int_equal(put(c, "k", "plain again", CACHE_UNVERSIONED), CACHE_PUT_STORED);
	assert_holds(c, "k", "plain again");
	assert_int_equal(stats_of(c).stale_puts, 0);
	cache_destroy(c);
}

static void test_invalidating_absent_key_guards_later_puts(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	cache_invalidate(c, "ghost", 5, 3);
	assert_size(c, 0, 0);
	assert_int_equal(stats_of(c).tombstones, 1);
	assert_int_equal(put(c, "ghost", "two", 2), CACHE_PUT_STALE);
	assert_false(has(c, "ghost"));
	assert_int_equal(put(c, "ghost", "three", 3), CACHE_PUT_STORED);
	assert_holds(c, "ghost", "three");
	/* unversioned invalidation leaves no tombstone behind */
	cache_invalidate(c, "other", 5, CACHE_UNVERSIONED);
	assert_int_equal(stats_of(c).tombstones, 1);
	cache_destroy(c);
}

/* Invalidates fresh keys "t<from>".."t<to-1>" at version 1. */
static void invalidate_many(struct cache *c, int from, int to)
{
	char key[16];
	for (int i = from; i < to; i++) {
		snprintf(key, sizeof(key), "t%d", i);
		cache_invalidate(c, key, strlen(key), 1);
	}
}

/* The tombstone bound is private to cache.c: find it by watching the count stop. */
static size_t tombstone_bound(void)
{
	enum { PROBE_LIMIT = 1 << 16 };
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	invalidate_many(c, 0, PROBE_LIMIT);
	size_t bound = stats_of(c).tombstones;
	cache_destroy(c);
	assert_true(bound > 0 && bound < PROBE_LIMIT);
	return bound;
}

/* A key invalidated again is as fresh as any: the FIFO must not drop it next. */
static void test_reinvalidated_key_keeps_its_guard(void **state)
{
	(void)state;
	int bound = (int)tombstone_bound();
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	cache_invalidate(c, "a", 1, 1);
	invalidate_many(c, 1, bound); /* full, with "a" the oldest */
	assert_int_equal(stats_of(c).tombstones, bound);
	cache_invalidate(c, "a", 1, 5);
	invalidate_many(c, bound, bound + 1); /* drops the oldest */
	assert_int_equal(stats_of(c).tombstones, bound);
	assert_int_equal(put(c, "a", "four", 4), CACHE_PUT_STALE);
	assert_int_equal(put(c, "a", "five", 5), CACHE_PUT_STORED);
	cache_destroy(c);
}

/* Counters */

static void assert_counters(struct cache *c, uint64_t requests, uint64_t hits, uint64_t misses,
			    uint64_t puts, uint64_t evictions, uint64_t stale_puts)
{
	struct cache_stats s = stats_of(c);
	assert_int_equal(s.requests, requests);
	assert_int_equal(s.hits, hits);
	assert_int_equal(s.misses, misses);
	assert_int_equal(s.puts, puts);
	assert_int_equal(s.evictions, evictions);
	assert_int_equal(s.stale_puts, stale_puts);
}

static void test_counters(void **state)
{
	(void)state;
	struct cache *c = cache_create(2 * ITEM_BYTES, CACHE_LRU, SEED);
	assert_counters(c, 0, 0, 0, 0, 0, 0);
	fill(c, 1, 3);
	assert_counters(c, 2, 0, 0, 2, 0, 0);
	assert_true(has(c, "k1"));
	assert_false(has(c, "k9"));
	assert_counters(c, 4, 1, 1, 2, 0, 0);
	fill(c, 3, 4); /* evicts k2 */
	assert_counters(c, 5, 1, 1, 3, 1, 0);

	assert_int_equal(put(c, "k1", "value-01", 7), CACHE_PUT_STORED);
	assert_int_equal(put(c, "k1", "value-01", 6), CACHE_PUT_STALE);
	assert_counters(c, 7, 1, 1, 5, 1, 1);
	cache_invalidate(c, "k1", 2, 8);
	cache_invalidate(c, "k9", 2, CACHE_UNVERSIONED);
	assert_counters(c, 9, 1, 1, 5, 1, 1);
	assert_int_equal(cache_clear(c), 1);
	assert_counters(c, 10, 1, 1, 5, 1, 1);
	assert_false(has(c, "k3"));
	assert_counters(c, 11, 1, 2, 5, 1, 1);
	cache_destroy(c);
}

/* Reference counting */

static void assert_value(const struct cache_value *v, const char *s)
{
	assert_int_equal(v->len, strlen(s));
	assert_memory_equal(v->data, s, strlen(s) + 1); /* and the terminating NUL */
}

static void test_held_value_survives_eviction(void **state)
{
	(void)state;
	struct cache *c = cache_create(ITEM_BYTES, CACHE_LRU, SEED);
	assert_int_equal(put(c, "k1", "value-01", 0), CACHE_PUT_STORED);
	struct cache_value *held = cache_get(c, "k1", KEY_LEN);
	assert_non_null(held);
	assert_int_equal(atomic_load(&held->refs), 2); /* the cache's and ours */

	assert_int_equal(put(c, "k2", "value-02", 0), CACHE_PUT_STORED);
	assert_int_equal(stats_of(c).evictions, 1);
	assert_false(has(c, "k1"));
	assert_int_equal(atomic_load(&held->refs), 1);
	assert_value(held, "value-01");
	cache_value_release(held);
	cache_destroy(c);
}

static void test_held_value_survives_overwrite(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_LRU, SEED);
	assert_int_equal(put(c, "k", "old bytes", 0), CACHE_PUT_STORED);
	struct cache_value *held = cache_get(c, "k", 1);
	assert_non_null(held);
	assert_int_equal(put(c, "k", "new", 0), CACHE_PUT_STORED);
	assert_int_equal(atomic_load(&held->refs), 1);
	assert_value(held, "old bytes");
	assert_holds(c, "k", "new");
	cache_value_release(held);
	cache_destroy(c);
}

static void test_held_values_survive_clear_invalidate_destroy(void **state)
{
	(void)state;
	struct cache *c = cache_create(1000, CACHE_RR, SEED);
	assert_int_equal(put(c, "a", "alpha", 0), CACHE_PUT_STORED);
	assert_int_equal(put(c, "b", "beta", 0), CACHE_PUT_STORED);
	assert_int_equal(put(c, "c", "gamma", 0), CACHE_PUT_STORED);
	struct cache_value *a = cache_get(c, "a", 1);
	struct cache_value *b = cache_get(c, "b", 1);
	struct cache_value *g = cache_get(c, "c", 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(g);

	cache_invalidate(c, "a", 1, 1);
	assert_int_equal(cache_clear(c), 2);
	assert_int_equal(put(c, "c", "delta", 0), CACHE_PUT_STORED);
	cache_destroy(c);

	assert_value(a, "alpha");
	assert_value(b, "beta");
	assert_value(g, "gamma");
	cache_value_release(a);
	cache_value_release(b);
	cache_value_release(g);
}

static void test_refused_put_drops_only_the_callers_hold(void **state)
{
	(void)state;
	struct cache *c = cache_create(ITEM_BYTES, CACHE_LRU, SEED);
	struct cache_value *v = value_charged("x", 2 * ITEM_BYTES);
	cache_value_hold(v); /* keep it to look at after the put */
	assert_int_equal(cache_put(c, "k1", KEY_LEN, v, 0), CACHE_PUT_TOO_LARGE);
	assert_int_equal(atomic_load(&v->refs), 1);
	cache_value_release(v);

	v = value_of("value-01");
	cache_value_hold(v);
	assert_int_equal(cache_put(c, "k1", KEY_LEN, v, 0), CACHE_PUT_STORED);
	assert_int_equal(atomic_load(&v->refs), 2); /* ours and the cache's */
	cache_value_release(v);
	cache_destroy(c);
}

/* --- the slab: values in the cache's own memory ------------------------------- */

enum {
	MB = 1024 * 1024,
	SLAB_CAPACITY = 8 * MB,
	LARGE_VALUE = 133536, /* the base64 of a ~100 KB image */
	SMALL_MIN = 1024,
	SMALL_MAX = 24 * 1024,
};

/* What the cache may take for values: capacity + 1/16 + 1 MB. */
static size_t memory_limit_of(size_t capacity)
{
	return capacity + capacity / 16 + 1 * MB;
}

/* A value of len bytes of fill written into a chunk of the cache, held once. */
static struct cache_value *slab_value(struct cache *c, size_t len, char fill)
{
	struct cache_value *v = cache_value_reserve(c, len);
	assert_non_null(v);
	assert_true(v->room_len >= len);
	memset(v->room, fill, len);
	v->data = v->room;
	v->len = len;
	v->charge = len;
	return v;
}

static enum cache_put_result put_slab(struct cache *c, const char *key, size_t len, char fill)
{
	return cache_put(c, key, strlen(key), slab_value(c, len, fill), CACHE_UNVERSIONED);
}

static void assert_memory_within_limit(struct cache *c)
{
	struct cache_stats s = stats_of(c);
	assert_true(s.memory_bytes <= s.memory_limit);
	assert_int_equal(s.memory_limit, memory_limit_of(s.capacity));
	assert_true(s.bytes <= s.capacity);
}

static void test_slab_classes_fit_closely(void **state)
{
	(void)state;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_LRU, SEED);
	static const size_t rooms[] = {1, 100, 1000, 4096, 12345, 65536, LARGE_VALUE, 1500000};
	for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
		struct cache_value *v = cache_value_reserve(c, rooms[i]);
		assert_non_null(v);
		assert_true(v->room_len >= rooms[i]);
		/* classes are 1/8 apart: a chunk wastes at most 1/8 of the value and some alignment */
		if (rooms[i] >= 1000)
			assert_true(v->room_len <= rooms[i] + rooms[i] / 8 + 256);
		assert_true(v->data == v->room && v->len == 0);
		cache_value_release(v);
	}
	assert_null(cache_value_reserve(c, (size_t)1 << 31));
	cache_destroy(c);
}

static void test_slab_off_when_capacity_zero(void **state)
{
	(void)state;
	struct cache *c = cache_create(0, CACHE_LRU, SEED);
	assert_null(cache_value_reserve(c, 100));
	assert_int_equal(stats_of(c).memory_bytes, 0);
	cache_destroy(c);
}

static void test_slab_reuses_freed_chunks(void **state)
{
	(void)state;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_LRU, SEED);
	struct cache_value *first = slab_value(c, LARGE_VALUE, 'a');
	assert_int_equal(cache_put(c, "k", 1, first, CACHE_UNVERSIONED), CACHE_PUT_STORED);
	size_t memory = stats_of(c).memory_bytes;
	/* Replacing a key many times takes no more pages: the old chunk comes back. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(put_slab(c, "k", LARGE_VALUE, (char)('b' + i % 20)), CACHE_PUT_STORED);
	assert_int_equal(stats_of(c).memory_bytes, memory);
	cache_invalidate(c, "k", 1, CACHE_UNVERSIONED);
	struct cache_value *again = cache_value_reserve(c, LARGE_VALUE);
	assert_ptr_equal(again, first); /* the most recently freed chunk of the class */
	cache_value_release(again);
	cache_destroy(c);
}

/* Puts distinct keys of len bytes; every put is stored and memory stays bounded. */
static void fill_slab(struct cache *c, const char *prefix, int count, size_t min, size_t max,
		      unsigned *rng)
{
	char key[32];
	for (int i = 0; i < count; i++) {
		*rng = *rng * 1103515245u + 12345u;
		size_t len = min + (*rng >> 8) % (max - min + 1);
		snprintf(key, sizeof(key), "%s%d", prefix, i);
		assert_int_equal(put_slab(c, key, len, (char)('a' + i % 26)), CACHE_PUT_STORED);
		assert_memory_within_limit(c);
	}
}

static void test_slab_memory_bound_large_values(void **state)
{
	(void)state;
	unsigned rng = 1;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_LRU, SEED);
	fill_slab(c, "big", 4 * SLAB_CAPACITY / LARGE_VALUE, LARGE_VALUE, LARGE_VALUE, &rng);
	struct cache_stats s = stats_of(c);
	assert_true(s.evictions > 0);
	/* memory, not only bytes, fills close to capacity: most of the capacity holds values */
	assert_true(s.bytes >= SLAB_CAPACITY - SLAB_CAPACITY / 8);
	cache_destroy(c);
}

static void test_slab_memory_bound_small_values(void **state)
{
	(void)state;
	unsigned rng = 2;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_RR, SEED);
	fill_slab(c, "small", 4 * SLAB_CAPACITY / ((SMALL_MIN + SMALL_MAX) / 2), SMALL_MIN,
		  SMALL_MAX, &rng);
	assert_true(stats_of(c).bytes >= SLAB_CAPACITY / 2);
	cache_destroy(c);
}

/* Small values fill every page; large ones must then take pages from their classes. */
static void test_slab_mix_change_moves_pages(void **state)
{
	(void)state;
	for (int policy = CACHE_LRU; policy <= CACHE_RR; policy++) {
		unsigned rng = 3;
		struct cache *c = cache_create(SLAB_CAPACITY, (enum cache_policy)policy, SEED);
		fill_slab(c, "small", 3 * SLAB_CAPACITY / ((SMALL_MIN + SMALL_MAX) / 2), SMALL_MIN,
			  SMALL_MAX, &rng);
		fill_slab(c, "big", 3 * SLAB_CAPACITY / LARGE_VALUE, LARGE_VALUE, LARGE_VALUE,
			  &rng);
		struct cache_stats s = stats_of(c);
		assert_true(s.page_moves > 0);
		/* the large values now hold most of the cache */
		assert_true(s.bytes >= SLAB_CAPACITY / 2);
		assert_true(s.items <= s.bytes / LARGE_VALUE + 40);
		/* and back: small values take the pages again */
		fill_slab(c, "again", 3 * SLAB_CAPACITY / ((SMALL_MIN + SMALL_MAX) / 2), SMALL_MIN,
			  SMALL_MAX, &rng);
		assert_true(stats_of(c).bytes >= SLAB_CAPACITY / 2);
		cache_destroy(c);
	}
}

static void test_slab_held_chunk_survives_eviction_and_returns_at_release(void **state)
{
	(void)state;
	unsigned rng = 4;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_LRU, SEED);
	assert_int_equal(put_slab(c, "held", LARGE_VALUE, 'h'), CACHE_PUT_STORED);
	struct cache_value *held = cache_get(c, "held", 4);
	assert_non_null(held);
	fill_slab(c, "big", 2 * SLAB_CAPACITY / LARGE_VALUE, LARGE_VALUE, LARGE_VALUE, &rng);
	assert_false(has(c, "held"));
	/* the chunk is not handed out again while held */
	for (size_t i = 0; i < LARGE_VALUE; i++)
		if (held->data[i] != 'h')
			fail_msg("byte %zu of a held value changed after its eviction", i);
	struct cache_value *next = cache_value_reserve(c, LARGE_VALUE);
	assert_ptr_not_equal(next, held);
	cache_value_release(next);
	/* its last release gives it back to its class: the next reservation takes it */
	cache_value_release(held);
	next = cache_value_reserve(c, LARGE_VALUE);
	assert_ptr_equal(next, held);
	cache_value_release(next);
	cache_destroy(c);
}

/* Small values fill the memory while a large one is held: its page cannot move, others do. */
static void test_slab_held_chunk_pins_only_its_page(void **state)
{
	(void)state;
	unsigned rng = 5;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_LRU, SEED);
	fill_slab(c, "big", SLAB_CAPACITY / LARGE_VALUE, LARGE_VALUE, LARGE_VALUE, &rng);
	struct cache_value *held = cache_get(c, "big0", 4);
	assert_non_null(held);
	fill_slab(c, "small", 3 * SLAB_CAPACITY / ((SMALL_MIN + SMALL_MAX) / 2), SMALL_MIN,
		  SMALL_MAX, &rng);
	assert_true(held->data[0] == 'a' && held->data[LARGE_VALUE - 1] == 'a');
	cache_value_release(held);
	assert_memory_within_limit(c);
	cache_destroy(c);
}

static void test_slab_shrink_gives_memory_back(void **state)
{
	(void)state;
	unsigned rng = 6;
	struct cache *c = cache_create(SLAB_CAPACITY, CACHE_LRU, SEED);
	fill_slab(c, "big", 2 * SLAB_CAPACITY / LARGE_VALUE, LARGE_VALUE, LARGE_VALUE, &rng);
	cache_configure(c, SLAB_CAPACITY / 4, CACHE_LRU);
	assert_memory_within_limit(c);
	cache_configure(c, 0, CACHE_LRU);
	assert_int_equal(stats_of(c).memory_bytes, 0);
	cache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lru_evicts_least_recently_used),
		cmocka_unit_test(test_rr_evicts_only_when_full),
		cmocka_unit_test(test_rr_evicts_uniformly),
		cmocka_unit_test(test_bytes_follow_overwrites_invalidations_clears),
		cmocka_unit_test(test_overwrite_bigger_evicts_others_not_itself),
		cmocka_unit_test(test_shrink_evicts_at_once),
		cmocka_unit_test(test_switching_policy_changes_victims),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_too_large_is_refused_and_changes_nothing),
		cmocka_unit_test(test_capacity_zero_stores_nothing),
		cmocka_unit_test(test_configure_zero_empties),
		cmocka_unit_test(test_older_put_is_stale),
		cmocka_unit_test(test_invalidation_version_guards_puts),
		cmocka_unit_test(test_unversioned_puts_always_accepted),
		cmocka_unit_test(test_invalidating_absent_key_guards_later_puts),
		cmocka_unit_test(test_reinvalidated_key_keeps_its_guard),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_held_value_survives_eviction),
		cmocka_unit_test(test_held_value_survives_overwrite),
		cmocka_unit_test(test_held_values_survive_clear_invalidate_destroy),
		cmocka_unit_test(test_refused_put_drops_only_the_callers_hold),
		cmocka_unit_test(test_slab_classes_fit_closely),
		cmocka_unit_test(test_slab_off_when_capacity_zero),
		cmocka_unit_test(test_slab_reuses_freed_chunks),
		cmocka_unit_test(test_slab_memory_bound_large_values),
		cmocka_unit_test(test_slab_memory_bound_small_values),
		cmocka_unit_test(test_slab_mix_change_moves_pages),
		cmocka_unit_test(test_slab_held_chunk_survives_eviction_and_returns_at_release),
		cmocka_unit_test(test_slab_held_chunk_pins_only_its_page),
		cmocka_unit_test(test_slab_shrink_gives_memory_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
