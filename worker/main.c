/* worker: claims jobs from the database's queue and runs them on a pool of threads. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "core/blob_disk.h"
#include "core/cache_client.h"
#include "core/catalog.h"
#include "core/images.h"
#include "worker/isolate.h"
#include "worker/kinds.h"
#include "worker/pool.h"

enum {
	/* On SIGTERM, running jobs get this long to finish before they are handed back. */
	STOP_GRACE_MS = 10000,
};

static const char SUMMARY[] =
	"Claims jobs (thumbnails, enhancement, statistics, mail) from the jobs table and\n"
	"runs GALLERY_WORKER_THREADS of them at once. Any number of workers may share\n"
	"one database. SIGTERM finishes running jobs or hands them back.";

static void block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	/* A child that dies while we feed it must not take the worker with it. */
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	/* The child side of isolate_run: no settings, no database, one operation. */
	if (argc == 4 && strcmp(argv[1], "--run-isolated") == 0) {
		size_t nops;
		const struct isolate_op *ops = kinds_isolated_ops(&nops);
		return isolate_child_main(argv[2], argv[3], ops, nops);
	}
	struct config cfg;
	int exit_code;
	if (!config_init(&cfg, argc, argv, SUMMARY, &exit_code))
		return exit_code;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		log_error("worker: cannot find its own binary: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	self[n] = '\0';
	sigset_t stop;
	block_stop_signals(&stop);
	db_library_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char err[512];
	int status = EXIT_FAILURE;
	struct worker_env env = {0};
	struct catalog *catalog = NULL;
	/* Enhance results are written like uploads: memcache must forget the old values. */
	struct cache_client *cache =
		cache_client_open(cfg.memcache_url, cfg.memcache_token, cfg.memcache_timeout_ms);
	env.blobs = blob_disk_open(cfg.data_dir, err, sizeof(err));
	if (env.blobs)
		catalog = catalog_open(&cfg, err, sizeof(err));
	if (catalog && cache)
		env.images = images_open(catalog, cache, env.blobs, err, sizeof(err));
	else if (!cache)
		snprintf(err, sizeof(err), "cannot use GALLERY_MEMCACHE_URL %s", cfg.memcache_url);
	/* Enhance results pass the same check as uploads, with the front end's limit. */
	if (env.images)
		images_set_max_pixels(env.images, (uint64_t)cfg.max_pixels);
	struct pool *pool = env.images ? pool_start(&cfg, self, &env, err, sizeof(err)) : NULL;
	if (!pool) {
		log_error("worker: %s", err);
		goto out_close;
	}
	log_info("worker started: %ld threads, lease %ld s, at most %ld attempts, "
		 "at most %ld pixels an image, mail %s%s",
		 cfg.worker_threads > 0 ? cfg.worker_threads : sysconf(_SC_NPROCESSORS_ONLN),
		 cfg.job_lease_s, cfg.job_max_attempts, cfg.max_pixels,
		 *cfg.smtp_url ? "to " : "as files in DATA_DIR/mail",
		 *cfg.smtp_url ? cfg.smtp_url : "");
	int sig;
	while (sigwait(&stop, &sig) != 0)
		;
	log_info("worker stopping on signal %d: no new jobs; running ones get %d s", sig,
		 STOP_GRACE_MS / 1000);
	status = EXIT_SUCCESS;
	if (!pool_stop(pool, STOP_GRACE_MS)) {
		/* A thread still runs and may use what follows; the exit ends it. */
		log_info("worker stopped");
		return status;
	}
	log_info("worker stopped");
out_close:
	images_close(env.images);
	catalog_close(catalog);
	cache_client_close(cache);
	blob_close(env.blobs);
	curl_global_cleanup();
	db_library_end();
	return status;
}
