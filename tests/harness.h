/* harness: what end-to-end tests need: free ports, the real daemons, HTTP and SQL. */
#ifndef GALLERY_HARNESS_H
#define GALLERY_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

/* A daemon of ours started by a test: bin/<name> on a free loopback port. */
struct daemon {
	const char *name;
	pid_t pid;
	int port;
	char url[64];
	char log_path[512];
};

/* A setting for a started daemon, "NAME=value"; lists of them end with NULL. */
typedef const char *setting;

/*
 * The API's answers as DESIGN.md gives them, written out here rather than taken
 * from the daemons' code, so that a change there cannot pass unnoticed.
 */
#define UPLOAD_OK "{\"success\":\"true\"}"
#define CONTENT_HEAD "{\"success\":\"true\",\"content\":\""
#define CONTENT_TAIL "\"}"
/* What a browser sends as its Accept header for a page. */
#define HTML_ACCEPT "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

/* The value of a variable the test driver sets; aborts when it is missing. */
const char *harness_env(const char *name);
int harness_free_port(void);
/*
 * Whether the daemons run under valgrind's memcheck (GALLERY_TEST_VALGRIND,
 * set by make valgrind), and by how much waits for them are multiplied then or
 * in a ThreadSanitizer build (GALLERY_TEST_TSAN, set by make tsan); 1 otherwise.
 * Only waits grow; what a test asserts stays the same.
 */
bool harness_valgrind(void);
int harness_slowdown(void);

/*
 * Starts bin/<name> ("memcache" or "frontend") with the suite's environment
 * plus settings, on a free port, and waits until GET /healthz answers.
 */
bool daemon_start(struct daemon *d, const char *name, const setting *settings);
/* Restarts a stopped daemon on the same port with the same settings. */
bool daemon_restart(struct daemon *d, const setting *settings);
/* Sends sig and waits for the exit (SIGKILL after 30 s); returns the wait status. */
int daemon_stop(struct daemon *d, int sig);
bool daemon_alive(const struct daemon *d);
/*
 * Sends SIGSTOP and waits until every thread of the daemon has stopped: the
 * signal only asks, and on a loaded machine a thread may serve one more
 * request before it is scheduled to stop. False when they do not stop in time.
 */
bool daemon_pause(const struct daemon *d);
/*
 * Starts bin/worker (no port: d->port is 0) with the suite's environment plus
 * settings, and waits for its "worker started" line.
 */
bool worker_start(struct daemon *d, const setting *settings);
/*
 * Starts Debian's aiosmtpd (python3-aiosmtpd) on 127.0.0.1:port, keeping each
 * message it receives as a file in maildir/new, and waits until it accepts.
 */
bool smtp_start(struct daemon *d, int port, const char *maildir);
/*
 * Starts bin/tests/faultproxy on a free loopback port, forwarding to
 * 127.0.0.1:target_port and doing what the file control says at each COMMIT
 * (tests/faultproxy.c), and waits until it listens.
 */
bool faultproxy_start(struct daemon *d, int target_port, const char *control);
/* Waits up to timeout_ms (times harness_slowdown) until the daemon's log holds text. */
bool daemon_wait_log(const struct daemon *d, const char *text, long timeout_ms);
/* How many files (sockets included) the daemon has open; -1 when it cannot be read. */
long daemon_open_files(const struct daemon *d);
/*
 * How many TCP connections from the IPv4 address from the daemon has taken
 * (accepted, not waiting in its listen queue); -1 when that cannot be read.
 */
long daemon_connections_from(const struct daemon *d, const char *from);
/* Whether the daemon's log holds text, and in how many lines. */
bool daemon_log_contains(const struct daemon *d, const char *text);
long daemon_log_count(const struct daemon *d, const char *text);

enum { GALLERY_SETTINGS_MAX = 16, GALLERY_PATH_MAX = 512 };

/* A memcache and a front end that uses it: what most end-to-end tests run against. */
struct gallery {
	struct daemon mc, fe;
	char data_dir[GALLERY_PATH_MAX]; /* the front end's GALLERY_DATA_DIR */
	char data_dir_setting[GALLERY_PATH_MAX + 32], memcache_url_setting[128];
	/* For daemon_restart of either one. */
	setting mc_settings[GALLERY_SETTINGS_MAX], fe_settings[GALLERY_SETTINGS_MAX];
};

/*
 * Starts memcache with mc_extra, then the front end on loopback with fe_extra,
 * pointed at it and keeping its images in a new folder of the test folder named
 * after name. Either extra list may be NULL. False, with neither left running,
 * when one does not start.
 */
bool gallery_start(struct gallery *g, const char *name, const setting *mc_extra,
		   const setting *fe_extra);
/* SIGTERM to the front end, then to memcache; true when both exited with status 0. */
bool gallery_stop(struct gallery *g);
/* POST /clear_cache to its memcache; true when it answered 200. */
bool gallery_clear_cache(const struct gallery *g);

struct reply {
	long status;
	struct buf body;
	struct buf headers;
	long long sent; /* request body bytes curl sent (0 when the server refused before) */
	bool refused;	/* no answer: nothing took the connection, the request reached no server */
	char error[256]; /* curl's account of why no answer came (CURL_ERROR_SIZE), or "" */
};

/* One HTTP request; body may be NULL. Returns false when no answer came. */
bool http_call(const char *method, const char *url, const char *content_type, const void *body,
	       size_t len, struct reply *out);
/*
 * Like http_call, with request headers given as "Name: value" lines in a
 * NULL-terminated list (headers may be NULL), e.g. {"Accept: text/html", NULL}.
 */
bool http_request(const char *method, const char *url, const char *const *headers,
		  const void *body, size_t len, struct reply *out);
/*
 * A multipart/form-data POST to base + path, as a browser sends a file form:
 * a text field "key" (left out when key is NULL), then a part "file" of len
 * bytes with the given filename (left out when data is NULL). accept is an
 * Accept header value or NULL. curl keeps its "Expect: 100-continue" for large
 * bodies, so a server can refuse one before it is sent: see out->sent.
 */
bool http_upload(const char *base, const char *path, const char *key, const void *data,
		 size_t len, const char *filename, const char *accept, struct reply *out);
/*
 * The form token that page form posts carry (the front end's gallery_csrf
 * cookie and csrf_token field); http_upload sends both for paths outside /api/.
 */
#define HARNESS_CSRF_TOKEN "0123456789abcdef0123456789abcdef"
#define HARNESS_CSRF_COOKIE "Cookie: gallery_csrf=" HARNESS_CSRF_TOKEN

/* POST of a JSON text to base + path. */
bool http_post_json(const char *base, const char *path, const char *json, struct reply *out);
bool http_get(const char *base, const char *path, struct reply *out);
/* The value of a response header (case-insensitive name), or NULL; valid until reply_free. */
const char *reply_header(struct reply *r, const char *name, char *value, size_t size);
void reply_free(struct reply *r);
/* True when the body is our JSON error with this code. */
bool reply_is_error(const struct reply *r, long code);
/* The number after "field": in the body (as in memcache's /stats); false when it has none. */
bool reply_number(const struct reply *r, const char *field, long long *value);

/* SQL as the database's administrator, on a fresh connection each call. */
bool sql_exec(const char *query);
/*
 * One administrator's connection kept open across statements, for what lives
 * in a session (LOCK TABLES): NULL when MariaDB does not answer.
 */
struct sql_session;
struct sql_session *sql_session_open(void);
bool sql_session_exec(struct sql_session *s, const char *query);
/* Closes the connection, which also lets go of its locks. */
void sql_session_close(struct sql_session *s);
/* Deletes every row of images (and the versions of deleted keys) and cache_properties; true when all went. */
bool sql_empty_gallery(void);
/* The first column of the first row as a number; -1 on error or no row. */
long long sql_scalar(const char *query);

/* Waits up to timeout_ms until sql_scalar(query) is expected; false when it never was. */
bool sql_wait_scalar(const char *query, long long expected, long timeout_ms);

/* Stops and starts the suite's private MariaDB; each returns once it is gone, or answers. */
bool db_server_stop(void);
bool db_server_start(void);
/* Whether a new connection to the suite's MariaDB is refused, as a daemon's would be. */
bool db_refuses_connections(void);

void sleep_ms(long ms);

/*
 * Polls ready(ctx) every 20 ms until it says true (true) or ms have passed
 * (false); ms grows under valgrind. Tests wait for a state with this, never for
 * a time: ms is only how long before the wait counts as a failure, so make it
 * generous, since a loaded machine may take many times longer than an idle one.
 */
bool wait_until(bool (*ready)(void *ctx), void *ctx, long ms);
/* How long a wait for a state may take before it fails: far above any healthy case. */
enum { HARNESS_STATE_WAIT_MS = 30000 };
/* Waits until the daemon's log holds text. */
bool daemon_wait_for_log(const struct daemon *d, const char *text, long ms);

/* How many regular files dir and its subfolders hold; -1 when a folder cannot be read. */
long count_files(const char *dir);

/*
 * Percent-encodes len bytes of s, all but letters and digits ('.' too, so that
 * curl keeps ".." as it is); returns out.
 */
const char *url_encode(const char *s, size_t len, char *out, size_t size);

/*
 * A TCP connection to 127.0.0.1:port, from the local address from (NULL: any),
 * whose sends and receives give up after timeout_s; -1 when it cannot be made.
 */
int tcp_connect(int port, const char *from, int timeout_s);

#endif
