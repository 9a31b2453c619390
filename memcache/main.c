/* memcache: the gallery's in-memory image cache daemon. */
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "common/server.h"
#include "memcache/api.h"
#include "memcache/cache.h"
#include "memcache/cache_sql.h"
#include "memcache/stats_timer.h"

enum {
	SHUTDOWN_GRACE_S = 10,
	/*
	 * Values live in the cache's slab pages (64 KB to 1 MB), mapped when a
	 * class needs one and unmapped when a page moves to another class, never
	 * per value. A fixed threshold keeps glibc from raising it and keeping
	 * those pages, or a buffered body, in its heaps after they are freed.
	 */
	LARGE_ALLOCATION_BYTES = 64 * 1024,
	/*
	 * What stays in glibc's heaps (items, keys, bodies without a length,
	 * cJSON) is small; one heap instead of one per worker thread keeps their
	 * holes from multiplying.
	 */
	MALLOC_HEAPS = 1,
	/*
	 * A connection's buffers: eight times libmicrohttpd's 32 KB, so that a put
	 * of a ~130 KB value arrives in one or two reads instead of four or
	 * eight, each a system call and a pass through the request handler. Heads
	 * that fit them but are larger than any request needs are refused by the
	 * routes (api.c). libmicrohttpd zeroes all of them after each request, so
	 * every connection keeps them resident: 4 MB at 16 connections.
	 */
	CONNECTION_MEMORY_BYTES = 256 * 1024,
};

static const char SUMMARY[] =
	"Holds base64 images in memory under LRU or random replacement and answers\n"
	"HTTP/JSON on GALLERY_MEMCACHE_BIND:GALLERY_MEMCACHE_PORT.";

static void load_properties(struct cache_sql *sql, size_t *capacity, enum cache_policy *policy)
{
	char err[CACHE_SQL_ERR_LEN];
	if (cache_sql_load_properties(sql, capacity, policy, err, sizeof(err)) == DB_OK)
		return;
	*capacity = CACHE_DEFAULT_CAPACITY_MB * CACHE_BYTES_PER_MB;
	*policy = CACHE_DEFAULT_POLICY;
	log_warn("cannot read cache_properties (%s); starting with %d MB, %s until "
		 "/refresh_configuration",
		 err, CACHE_DEFAULT_CAPACITY_MB, cache_policy_name(*policy));
}

int main(int argc, char **argv)
{
	struct config cfg;
	int exit_code;
	if (!config_init(&cfg, argc, argv, SUMMARY, &exit_code))
		return exit_code;
	exit_code = EXIT_FAILURE;
	char err[512];
	if (sodium_init() < 0) {
		log_error("memcache: cannot initialise libsodium");
		return exit_code;
	}
	if (!server_bind_is_loopback(cfg.memcache_bind) && !*cfg.memcache_token) {
		log_error("memcache: GALLERY_MEMCACHE_BIND is %s, which other machines can reach; "
			  "set GALLERY_MEMCACHE_TOKEN (the front end sends it) or bind 127.0.0.1",
			  cfg.memcache_bind);
		return exit_code;
	}
	mallopt(M_MMAP_THRESHOLD, LARGE_ALLOCATION_BYTES);
	mallopt(M_ARENA_MAX, MALLOC_HEAPS);
	server_block_signals();
	db_library_init();

	struct cache_sql *sql = cache_sql_open(&cfg);
	if (!sql)
		goto out_library;
	size_t capacity;
	enum cache_policy policy;
	load_properties(sql, &capacity, &policy);
	struct cache *cache = cache_create(capacity, policy, (uint64_t)time(NULL) ^ (uint64_t)getpid());
	if (!cache)
		goto out_close_sql;
	struct stats_timer *timer = stats_timer_start(cache, sql, (unsigned)cfg.stats_interval_s);
	if (!timer)
		goto out_destroy_cache;
	struct api api = {cache, sql, (size_t)cfg.memcache_max_body_mb * CACHE_BYTES_PER_MB,
			  cfg.memcache_token};
	struct server_params params = {
		.bind = cfg.memcache_bind,
		.port = cfg.memcache_port,
		.threads = cfg.threads,
		.connection_timeout_s = cfg.connection_timeout_s,
		.per_ip_connections = cfg.per_ip_connections,
		.header_timeout_s = cfg.header_timeout_s,
		.min_body_kbps = cfg.min_body_kbps,
		.trusted_proxies = cfg.trusted_proxies,
		.connection_memory_bytes = CONNECTION_MEMORY_BYTES,
		.handler = api_handle,
		.completed = api_completed,
		.cls = &api,
	};
	struct server *server = server_start(&params, err, sizeof(err));
	if (!server) {
		log_error("memcache: %s", err);
		goto out_stop_timer;
	}
	log_info("memcache listening on %s:%ld, capacity %zu bytes, policy %s, %s", cfg.memcache_bind,
		 cfg.memcache_port, capacity, cache_policy_name(policy),
		 *cfg.memcache_token ? "token required" : "no token");

	int sig = server_wait_for_signal();
	log_info("memcache stopping on signal %d", sig);
	server_stop(server, SHUTDOWN_GRACE_S);
	exit_code = EXIT_SUCCESS;
out_stop_timer:
	stats_timer_stop(timer);
out_destroy_cache:
	cache_destroy(cache);
out_close_sql:
	cache_sql_close(sql);
out_library:
	db_library_end();
	if (exit_code == EXIT_SUCCESS)
		log_info("memcache stopped");
	return exit_code;
}
