/* cache_sql: the cache daemon's database: its configuration (core/cache_config) and its stats rows. */
#include "cache_sql.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/cache_config.h"

struct cache_sql {
	pthread_mutex_t lock;
	struct db *db;
};

struct cache_sql *cache_sql_open(const struct config *cfg)
{
	struct cache_sql *sql = calloc(1, sizeof(*sql));
	if (!sql)
		return NULL;
	sql->db = db_open(cfg);
	if (!sql->db || pthread_mutex_init(&sql->lock, NULL) != 0) {
		db_close(sql->db);
		free(sql);
		return NULL;
	}
	return sql;
}

void cache_sql_close(struct cache_sql *sql)
{
	if (!sql)
		return;
	db_close(sql->db);
	pthread_mutex_destroy(&sql->lock);
	free(sql);
}

/*
 * Copies the connection's error text to the caller while the lock is still
 * held: the message changes with the next call on the shared connection.
 */
static void copy_error(struct cache_sql *sql, enum db_status status, char *err, size_t errlen)
{
	if (status != DB_OK)
		snprintf(err, errlen, "%s", db_error(sql->db));
}

enum db_status cache_sql_load_properties(struct cache_sql *sql, size_t *capacity_bytes,
					 enum cache_policy *policy, char *err, size_t errlen)
{
	struct cache_config cfg;
	bool found = false;
	pthread_mutex_lock(&sql->lock);
	enum db_status status = cache_config_load(sql->db, &cfg, &found);
	copy_error(sql, status, err, errlen);
	pthread_mutex_unlock(&sql->lock);
	if (status != DB_OK)
		return status;
	if (found && !cache_policy_parse(cfg.policy, policy)) {
		log_warn("cache_properties: ignoring a row with capacity %ld and policy '%s'",
			 cfg.capacity_mb, cfg.policy);
		found = false;
	}
	*capacity_bytes = found ? (size_t)cfg.capacity_mb * CACHE_BYTES_PER_MB
				: CACHE_DEFAULT_CAPACITY_MB * CACHE_BYTES_PER_MB;
	if (!found)
		*policy = CACHE_DEFAULT_POLICY;
	return DB_OK;
}

#define STATS_COLUMN(name) #name ","
#define STATS_PLACEHOLDER(name) "?,"
#define STATS_PARAM(name) DB_INT((long long)row->name),

enum db_status cache_sql_insert_stats(struct cache_sql *sql, const struct cache_stats_row *row,
				      char *err, size_t errlen)
{
	static const char query[] = "INSERT INTO cache_stats (" CACHE_STATS_FIELDS(STATS_COLUMN)
		"created_at) VALUES (" CACHE_STATS_FIELDS(STATS_PLACEHOLDER) "NOW(3))";
	struct db_param params[] = {CACHE_STATS_FIELDS(STATS_PARAM)};
	pthread_mutex_lock(&sql->lock);
	enum db_status status =
		db_exec(sql->db, query, params, sizeof(params) / sizeof(params[0]), NULL, NULL);
	copy_error(sql, status, err, errlen);
	pthread_mutex_unlock(&sql->lock);
	return status;
}
