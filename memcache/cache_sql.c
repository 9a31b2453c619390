/* cache_sql: the only SQL the cache daemon speaks: its configuration and its stats rows. */
#include "cache_sql.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

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

struct properties {
	size_t capacity_bytes;
	enum cache_policy policy;
	bool valid;
};

static bool on_properties_row(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)lens;
	struct properties *p = ctx;
	if (ncols != 2 || !cols[0] || !cols[1])
		return false;
	char *end;
	unsigned long long mb = strtoull(cols[0], &end, 10);
	if (*end != '\0' || !cache_policy_parse(cols[1], &p->policy)) {
		log_warn("cache_properties: ignoring a row with capacity '%s' and policy '%s'",
			 cols[0], cols[1]);
		return false;
	}
	p->capacity_bytes = (size_t)mb * CACHE_BYTES_PER_MB;
	p->valid = true;
	return false;
}

/*
 * Runs one statement under the lock and copies its error text to the caller
 * while still holding it: the connection's message changes with the next call.
 */
static enum db_status locked_exec(struct cache_sql *sql, const char *query,
				  const struct db_param *params, size_t nparams, db_row_fn on_row,
				  void *ctx, char *err, size_t errlen)
{
	pthread_mutex_lock(&sql->lock);
	enum db_status status = db_exec(sql->db, query, params, nparams, on_row, ctx);
	if (status != DB_OK)
		snprintf(err, errlen, "%s", db_error(sql->db));
	pthread_mutex_unlock(&sql->lock);
	return status;
}

enum db_status cache_sql_load_properties(struct cache_sql *sql, size_t *capacity_bytes,
					 enum cache_policy *policy, char *err, size_t errlen)
{
	struct properties p = {0};
	enum db_status status = locked_exec(sql,
					    "SELECT max_capacity, replacement_policy FROM cache_properties "
					    "ORDER BY id DESC LIMIT 1",
					    NULL, 0, on_properties_row, &p, err, errlen);
	if (status != DB_OK)
		return status;
	*capacity_bytes = p.valid ? p.capacity_bytes : CACHE_DEFAULT_CAPACITY_MB * CACHE_BYTES_PER_MB;
	*policy = p.valid ? p.policy : CACHE_DEFAULT_POLICY;
	return DB_OK;
}

#define STATS_COLUMN(name) #name ","
#define STATS_PLACEHOLDER(name) "?,"
#define STATS_PARAM(name) DB_INT((long long)row->name),

enum db_status cache_sql_insert_stats(struct cache_sql *sql, const struct cache_stats_row *row,
				      char *err, size_t errlen)
{
	static const char query[] = "INSERT INTO cache_stats (" CACHE_STATS_ROW(STATS_COLUMN)
		"created_at) VALUES (" CACHE_STATS_ROW(STATS_PLACEHOLDER) "NOW(3))";
	struct db_param params[] = {CACHE_STATS_ROW(STATS_PARAM)};
	return locked_exec(sql, query, params, sizeof(params) / sizeof(params[0]), NULL, NULL, err,
			   errlen);
}
