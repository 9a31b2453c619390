/* cache_sql: the cache daemon's database: its configuration (core/cache_config) and its stats rows. */
#ifndef GALLERY_CACHE_SQL_H
#define GALLERY_CACHE_SQL_H

#include <stdint.h>

#include "common/cache_stats_fields.h"
#include "common/config.h"
#include "common/db.h"
#include "memcache/cache.h"

/* One cache_stats row; a column added to CACHE_STATS_FIELDS is added to the INSERT. */
struct cache_stats_row {
	CACHE_STATS_FIELDS(CACHE_STATS_FIELD_MEMBER)
};

#define CACHE_DEFAULT_POLICY CACHE_LRU
/* Room for a database error message in a caller's buffer. */
enum { CACHE_SQL_ERR_LEN = 256 };
#define CACHE_BYTES_PER_MB ((size_t)1 << 20)

struct config;
struct cache_sql;

/* Safe to call from any thread: calls are serialised on one connection. */
struct cache_sql *cache_sql_open(const struct config *cfg);
void cache_sql_close(struct cache_sql *sql);

/*
 * The newest cache_properties row, or the defaults when there is none. On
 * failure err gets the database's message: the caller's buffer, since threads
 * share the connection.
 */
enum db_status cache_sql_load_properties(struct cache_sql *sql, size_t *capacity_bytes,
					 enum cache_policy *policy, char *err, size_t errlen);
enum db_status cache_sql_insert_stats(struct cache_sql *sql, const struct cache_stats_row *row,
				      char *err, size_t errlen);

#endif
