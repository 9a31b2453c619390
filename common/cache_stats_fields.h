/* cache_stats_fields: the counts of a cache_stats row, listed once for its writer and its readers. */
#ifndef GALLERY_CACHE_STATS_FIELDS_H
#define GALLERY_CACHE_STATS_FIELDS_H

/*
 * X(column) for each count, in column order: memcache's INSERT, the catalog's
 * SELECT and struct, and the /api/stats JSON are made from it, so that adding
 * a column here adds it everywhere.
 */
#define CACHE_STATS_FIELDS(X) \
	X(cache_size)         \
	X(key_count)          \
	X(request_count)      \
	X(hit_count)          \
	X(miss_count)

#define CACHE_STATS_FIELD_MEMBER(name) uint64_t name;

#endif
