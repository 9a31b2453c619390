/* cache_config: the SQL of cache_properties, whose newest row is the cache's configuration. */
#include "cache_config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/num.h"

enum { MILLIS_END = 4 }; /* ".mmm" */

struct one_config {
	struct cache_config *out;
	bool found;
};

/* %f gives microseconds; a millisecond is plenty for people and graphs. */
static void copy_time(char *dst, const char *src)
{
	snprintf(dst, CACHE_CONFIG_TIME_MAX, "%s", src ? src : "");
	char *dot = strchr(dst, '.');
	if (dot && strlen(dot) > MILLIS_END + 1)
		memmove(dot + MILLIS_END, dot + strlen(dot) - 1, 2);
}

static bool on_config(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct one_config *c = ctx;
	if (ncols != 3 || !cols[0] || !cols[1])
		return false;
	if (!num_parse_whole(cols[0], lens[0], 0, LONG_MAX, &c->out->capacity_mb) ||
	    lens[1] >= sizeof(c->out->policy)) {
		log_warn("cache_properties: ignoring a row with capacity '%s' and policy '%s'",
			 cols[0], cols[1]);
		return false;
	}
	memcpy(c->out->policy, cols[1], lens[1] + 1);
	copy_time(c->out->set_at, cols[2]);
	c->found = true;
	return false;
}

enum db_status cache_config_load(struct db *db, struct cache_config *out, bool *found)
{
	struct one_config c = {out, false};
	*found = false;
	if (!db)
		return DB_FAILED;
	enum db_status status =
		db_exec(db,
			"SELECT max_capacity, replacement_policy, "
			"DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') FROM cache_properties "
			"ORDER BY id DESC LIMIT 1",
			NULL, 0, on_config, &c);
	*found = c.found;
	return status;
}

enum db_status cache_config_save(struct db *db, long capacity_mb, const char *policy)
{
	struct db_param params[] = {DB_INT(capacity_mb), DB_STR(policy)};
	if (!db)
		return DB_FAILED;
	return db_exec(db,
		       "INSERT INTO cache_properties (max_capacity, replacement_policy) VALUES (?, ?)",
		       params, 2, NULL, NULL);
}
