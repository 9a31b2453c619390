/* config: every setting of the three programs, read once from the environment. */
#ifndef GALLERY_CONFIG_H
#define GALLERY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * X(type, field, variable, default, min, max, help)
 * type is STR or INT; min and max bound INT values and are ignored for STR.
 */
#define CONFIG_FIELDS(X)                                                                         \
	X(STR, db_host, "GALLERY_DB_HOST", "", 0, 0, "MariaDB host; empty uses the socket")       \
	X(INT, db_port, "GALLERY_DB_PORT", "3306", 0, 65535, "MariaDB TCP port")                  \
	X(STR, db_socket, "GALLERY_DB_SOCKET", "", 0, 0, "MariaDB unix socket path")              \
	X(STR, db_user, "GALLERY_DB_USER", "gallery", 0, 0, "MariaDB user")                       \
	X(STR, db_password, "GALLERY_DB_PASSWORD", "", 0, 0, "MariaDB password")                  \
	X(STR, db_name, "GALLERY_DB_NAME", "gallery", 0, 0, "database name")                      \
	X(STR, data_dir, "GALLERY_DATA_DIR", "./var", 0, 0, "folder for image files")             \
	X(STR, frontend_bind, "GALLERY_FRONTEND_BIND", "0.0.0.0", 0, 0, "front end address")     \
	X(INT, frontend_port, "GALLERY_FRONTEND_PORT", "5000", 1, 65535, "front end port")        \
	X(STR, memcache_bind, "GALLERY_MEMCACHE_BIND", "127.0.0.1", 0, 0, "memcache address")    \
	X(INT, memcache_port, "GALLERY_MEMCACHE_PORT", "5001", 1, 65535, "memcache port")         \
	X(STR, memcache_url, "GALLERY_MEMCACHE_URL", "http://127.0.0.1:5001", 0, 0,               \
	  "memcache base URL the front end calls")                                               \
	X(INT, memcache_timeout_ms, "GALLERY_MEMCACHE_TIMEOUT_MS", "200", 1, 60000,              \
	  "longest wait for one memcache call, in ms")                                           \
	X(INT, memcache_max_body_mb, "GALLERY_MEMCACHE_MAX_BODY_MB", "32", 1, 4096,              \
	  "largest request body memcache accepts, in MB")                                        \
	X(STR, memcache_token, "GALLERY_MEMCACHE_TOKEN", "", 0, 0,                               \
	  "shared secret memcache requires (Authorization: Bearer); needed off loopback")       \
	X(INT, connection_timeout_s, "GALLERY_CONNECTION_TIMEOUT_S", "30", 1, 3600,              \
	  "seconds a connection may stay silent before it is closed")                           \
	X(INT, per_ip_connections, "GALLERY_PER_IP_CONNECTIONS", "128", 0, 100000,               \
	  "open connections allowed from one address; 0 means no limit")                       \
	X(INT, header_timeout_s, "GALLERY_HEADER_TIMEOUT_S", "10", 1, 3600,                      \
	  "seconds a request head may take, from the connection's opening or last answer")      \
	X(INT, min_body_kbps, "GALLERY_MIN_BODY_KBPS", "8", 0, 1048576,                          \
	  "KB/s a request body must average once GALLERY_HEADER_TIMEOUT_S has passed; 0: no floor") \
	X(STR, trusted_proxies, "GALLERY_TRUSTED_PROXIES", "", 0, 0,                             \
	  "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed")    \
	X(INT, max_upload_mb, "GALLERY_MAX_UPLOAD_MB", "16", 1, 1024, "largest image upload, in MB") \
	X(INT, stats_interval_s, "GALLERY_STATS_INTERVAL_S", "5", 1, 3600,                       \
	  "seconds between cache_stats rows")                                                    \
	X(INT, threads, "GALLERY_THREADS", "0", 0, 256, "HTTP threads; 0 means one per core")        \
	X(INT, heavy_requests, "GALLERY_HEAVY_REQUESTS", "2", 0, 256,                            \
	  "whole-list requests (list_keys, filtered key pages) served at once; more wait in line; 0: no bound") \
	X(INT, heavy_wait_ms, "GALLERY_HEAVY_WAIT_MS", "10000", 0, 600000,                        \
	  "how long a whole-list request waits in line for its turn before 503; 0: 503 at once") \
	X(STR, template_dir, "GALLERY_TEMPLATE_DIR", "./templates", 0, 0, "HTML templates")      \
	X(INT, template_strict, "GALLERY_TEMPLATE_STRICT", "0", 0, 1,                             \
	  "1: a page naming a value its data lacks answers 500 instead of leaving it empty")   \
	X(STR, static_dir, "GALLERY_STATIC_DIR", "./static", 0, 0, "CSS, JS and icons")          \
	X(STR, chartjs_file, "GALLERY_CHARTJS_FILE", "/usr/share/javascript/chart.js/chart.min.js", \
	  0, 0, "Chart.js, served as /static/vendor/chart.js (Debian's libjs-chart.js)")         \
	X(STR, public_url, "GALLERY_PUBLIC_URL", "http://localhost:5000", 0, 0,                  \
	  "the gallery's address as people reach it (used in mail links)")                     \
	X(STR, allowed_hosts, "GALLERY_ALLOWED_HOSTS", "", 0, 0,                                  \
	  "more Host names the front end answers (comma-separated), besides PUBLIC_URL's host, " \
	  "localhost, 127.0.0.1 and [::1]; any other gets 421")                                 \
	X(INT, max_pixels, "GALLERY_MAX_PIXELS", "100000000", 1, 1000000000000,                   \
	  "largest image, width x height: uploads declaring more are refused, the worker decodes no more") \
	X(INT, worker_threads, "GALLERY_WORKER_THREADS", "0", 0, 256,                             \
	  "worker: jobs run at once; 0 means one per core")                                    \
	X(INT, job_lease_s, "GALLERY_JOB_LEASE_S", "30", 1, 3600,                                 \
	  "worker: seconds a claimed job stays leased without a heartbeat")                     \
	X(INT, job_max_attempts, "GALLERY_JOB_MAX_ATTEMPTS", "5", 1, 100,                         \
	  "attempts before a failing job is dead (set on each job when it is queued)")         \
	X(STR, smtp_url, "GALLERY_SMTP_URL", "", 0, 0,                                            \
	  "worker: SMTP server for mail, e.g. smtp://127.0.0.1:25; empty writes DATA_DIR/mail/*.eml") \
	X(STR, smtp_from, "GALLERY_SMTP_FROM", "gallery@localhost", 0, 0,                         \
	  "worker: the From address of mail")                                                  \
	X(STR, smtp_user, "GALLERY_SMTP_USER", "", 0, 0, "worker: SMTP user; empty: no login")    \
	X(STR, smtp_password, "GALLERY_SMTP_PASSWORD", "", 0, 0, "worker: SMTP password")         \
	X(STR, test_crash_kind, "GALLERY_TEST_CRASH_KIND", "", 0, 0,                              \
	  "worker, test hook: jobs of this kind run the isolated test op instead; keep empty") \
	X(INT, test_job_delay_ms, "GALLERY_TEST_JOB_DELAY_MS", "0", 0, 600000,                   \
	  "worker, test hook: image jobs wait this long between making and storing; keep 0")   \
	X(INT, session_idle_days, "GALLERY_SESSION_IDLE_DAYS", "7", 1, 3650,                      \
	  "a browser session ends after this many days unused")                                 \
	X(INT, session_max_days, "GALLERY_SESSION_MAX_DAYS", "30", 1, 3650,                       \
	  "a browser session ends this many days after the login")                              \
	X(INT, login_window_s, "GALLERY_LOGIN_WINDOW_S", "900", 1, 86400,                         \
	  "seconds over which failed logins count (5 per account, 20 per address)")             \
	X(INT, anonymous_uploads, "GALLERY_ANONYMOUS_UPLOADS", "1", 0, 1,                         \
	  "1: uploads without an account are allowed (and ownerless)")                          \
	X(STR, log_level, "GALLERY_LOG_LEVEL", "info", 0, 0, "debug, info, warn or error")

#define CONFIG_STR(field) const char *field;
#define CONFIG_INT(field) long field;
#define CONFIG_MEMBER(type, field, var, def, min, max, help) CONFIG_##type(field)

/* The cache's capacity while cache_properties has no row (the policy is then LRU). */
enum { CACHE_DEFAULT_CAPACITY_MB = 10 };

struct config {
	CONFIG_FIELDS(CONFIG_MEMBER)
};

/*
 * Fills cfg from the defaults and then the environment. A value that does not
 * parse stops with a message naming the variable in err.
 */
bool config_load(struct config *cfg, char *err, size_t errlen);
/* Lists every variable with its default, for --help. */
void config_print_help(FILE *out, const char *program, const char *summary);
/*
 * What each daemon's main calls first: answers --help, refuses other
 * arguments, and loads the environment, saying what is wrong on stderr.
 * Returns false when main should exit with *exit_code.
 */
bool config_init(struct config *cfg, int argc, char **argv, const char *summary,
		 int *exit_code);

#endif
