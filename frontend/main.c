/* frontend: the gallery's web pages and JSON API. */
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "common/server.h"
#include "core/blob_disk.h"
#include "core/cache_client.h"
#include "core/catalog.h"
#include "core/images.h"
#include "core/search_index.h"
#include "core/password.h"
#include "frontend/auth.h"
#include "frontend/app.h"
#include "frontend/heavy.h"
#include "frontend/job_wait.h"
#include "frontend/origin.h"
#include "frontend/offload.h"
#include "frontend/router.h"
#include "frontend/tpl.h"

enum {
	SHUTDOWN_GRACE_S = 10,
	/* Logins run below the request threads' priority: under load, reads come first. */
	LOGIN_NICE = 10,
	/* Above an argon2 hash's 19 MiB; glibc's largest mmap threshold is 32 MiB. */
	HASH_ARENA_BYTES = 32 << 20,
	/* Handlers wait on MariaDB and memcache, so more threads than cores keep the CPU busy. */
	THREADS_PER_CORE = 4,
	/*
	 * Uploads in their durable steps at once. They wait on the disk, not the
	 * CPU, and share its syncs, so more of them at once is more per second.
	 */
	UPLOAD_THREADS = 32,
};

static const char SUMMARY[] =
	"Serves the gallery's pages and JSON API on GALLERY_FRONTEND_BIND:GALLERY_FRONTEND_PORT,\n"
	"with images under GALLERY_DATA_DIR, keys in MariaDB and memcache in front.";

int main(int argc, char **argv)
{
	struct config cfg;
	int exit_code;
	if (!config_init(&cfg, argc, argv, SUMMARY, &exit_code))
		return exit_code;
	exit_code = EXIT_FAILURE;
	char err[512];
	if (sodium_init() < 0) {
		log_error("frontend: cannot initialise libsodium");
		return exit_code;
	}
	/*
	 * An argon2 hash mallocs 19 MiB. Above glibc's mmap threshold each hash
	 * would mmap and munmap it, and munmap takes the process's mmap lock for
	 * writing: a login thread (at nice 10) preempted there stalls every request
	 * thread that faults a page meanwhile. Kept in the login threads' arenas,
	 * the memory is reused from one hash to the next.
	 */
	mallopt(M_MMAP_THRESHOLD, HASH_ARENA_BYTES);
	mallopt(M_TRIM_THRESHOLD, 4 * HASH_ARENA_BYTES);
	server_block_signals();
	db_library_init();

	struct app app = {.cfg = &cfg, .max_upload_bytes = (uint64_t)cfg.max_upload_mb << 20};
	app.templates = tpl_load_dir(cfg.template_dir, err, sizeof(err));
	if (!app.templates) {
		log_error("frontend: templates: %s", err);
		goto out_library;
	}
	tpl_set_strict(app.templates, cfg.template_strict);
	app.origins = origin_policy_create(cfg.public_url, cfg.allowed_hosts, err, sizeof(err));
	if (!app.origins) {
		log_error("frontend: %s", err);
		goto out_free_templates;
	}
	app.catalog = catalog_open(&cfg, err, sizeof(err));
	if (!app.catalog) {
		log_error("frontend: %s", err);
		goto out_free_origins;
	}
	app.cache = cache_client_open(cfg.memcache_url, cfg.memcache_token, cfg.memcache_timeout_ms);
	if (!app.cache) {
		log_error("frontend: cannot set up the memcache client");
		goto out_close_catalog;
	}
	app.blobs = blob_disk_open(cfg.data_dir, err, sizeof(err));
	if (!app.blobs) {
		log_error("frontend: %s", err);
		goto out_close_cache;
	}
	app.images = images_open(app.catalog, app.cache, app.blobs, err, sizeof(err));
	if (!app.images) {
		log_error("frontend: %s", err);
		goto out_close_blobs;
	}
	images_set_max_pixels(app.images, (uint64_t)cfg.max_pixels);
	images_sweep_orphans(app.images);
	app.waits = job_wait_start(app.catalog, err, sizeof(err));
	if (!app.waits) {
		log_error("frontend: %s", err);
		goto out_close_images;
	}
	app.heavy = heavy_start((unsigned)cfg.heavy_requests, (unsigned)cfg.heavy_wait_ms, err,
				sizeof(err));
	if (!app.heavy) {
		log_error("frontend: %s", err);
		goto out_free_waits;
	}
	if (!auth_load_key(cfg.data_dir, app.csrf_key, err, sizeof(err))) {
		log_error("frontend: %s", err);
		goto out_free_waits;
	}
	/* As many argon2 hashes at once as cores: a flood of logins queues, reads go on. */
	app.hasher = password_hasher_open((unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	if (!app.hasher) {
		log_error("frontend: cannot set up password hashing");
		goto out_free_waits;
	}
	/* Logins (a hash each) wait suspended for these, never holding a request thread. */
	app.logins = offload_start((unsigned)sysconf(_SC_NPROCESSORS_ONLN), LOGIN_NICE, err,
				   sizeof(err));
	if (!app.logins) {
		log_error("frontend: cannot start the login threads: %s", err);
		goto out_free_waits;
	}
	app.uploads = offload_start(UPLOAD_THREADS, 0, err, sizeof(err));
	if (!app.uploads) {
		log_error("frontend: cannot start the upload threads: %s", err);
		goto out_free_waits;
	}
	struct server_params params = {
		.bind = cfg.frontend_bind,
		.port = cfg.frontend_port,
		.threads = cfg.threads ? cfg.threads : THREADS_PER_CORE * sysconf(_SC_NPROCESSORS_ONLN),
		.connection_timeout_s = cfg.connection_timeout_s,
		.per_ip_connections = cfg.per_ip_connections,
		.header_timeout_s = cfg.header_timeout_s,
		.min_body_kbps = cfg.min_body_kbps,
		.trusted_proxies = cfg.trusted_proxies,
		.handler = router_handle,
		.completed = router_completed,
		.cls = &app,
		.unescape = router_unescape,
		.self = &app.server,
	};
	struct server *server = server_start(&params, err, sizeof(err));
	if (!server) {
		log_error("frontend: %s", err);
		goto out_free_waits;
	}
	log_info("frontend listening on %s:%ld, images in %s, memcache at %s", cfg.frontend_bind,
		 cfg.frontend_port, cfg.data_dir, cfg.memcache_url);
	/* Images from before the search index get their terms while the gallery serves. */
	struct search_backfill *backfill = search_backfill_start(&cfg);

	int sig = server_wait_for_signal();
	log_info("frontend stopping on signal %d", sig);
	/* Waiting requests answer now, so that the server's drain does not wait for them. */
	job_wait_stop(app.waits);
	heavy_stop(app.heavy);
	server_drain(server, SHUTDOWN_GRACE_S);
	/* Uploads and logins still running resume their requests: the daemon must still be there. */
	offload_drain(app.uploads);
	offload_drain(app.logins);
	server_stop(server, SHUTDOWN_GRACE_S);
	search_backfill_stop(backfill);
	exit_code = EXIT_SUCCESS;
out_free_waits:
	offload_stop(app.uploads);
	offload_stop(app.logins);
	heavy_free(app.heavy);
	job_wait_free(app.waits);
out_close_images:
	password_hasher_close(app.hasher);
	images_close(app.images);
out_close_blobs:
	blob_close(app.blobs);
out_close_cache:
	cache_client_close(app.cache);
out_close_catalog:
	catalog_close(app.catalog);
out_free_origins:
	origin_policy_destroy(app.origins);
out_free_templates:
	tpl_free(app.templates);
out_library:
	db_library_end();
	if (exit_code == EXIT_SUCCESS)
		log_info("frontend stopped");
	return exit_code;
}
