/* cache_config: the SQL of cache_properties, whose newest row is the cache's configuration. */
#ifndef GALLERY_CACHE_CONFIG_H
#define GALLERY_CACHE_CONFIG_H

#include <stdbool.h>

#include "common/db.h"

enum { CACHE_CONFIG_POLICY_MAX = 16, CACHE_CONFIG_TIME_MAX = 32 };

struct cache_config {
	long capacity_mb;
	char policy[CACHE_CONFIG_POLICY_MAX]; /* "LRU" or "RR" as stored; the reader checks it */
	char set_at[CACHE_CONFIG_TIME_MAX];   /* "YYYY-MM-DDTHH:MM:SS.mmmZ", UTC */
};

/*
 * The newest row. *found is false when there is none or it is malformed (a
 * capacity that is no whole number), and the caller uses its defaults.
 */
enum db_status cache_config_load(struct db *db, struct cache_config *out, bool *found);
/* Adds a row, which becomes the configuration in force. */
enum db_status cache_config_save(struct db *db, long capacity_mb, const char *policy);

#endif
