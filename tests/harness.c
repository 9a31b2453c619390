/* harness: what end-to-end tests need: free ports, the real daemons, HTTP and SQL. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <mysql.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum {
	/* Deadlines for a daemon to start or stop: far above what a loaded machine takes. */
	HEALTHY_WAIT_MS = 30000,
	STOP_WAIT_MS = 30000,
	POLL_MS = 20,
	HTTP_TIMEOUT_S = 30,
	/* curl's own threshold for asking "Expect: 100-continue" before a body. */
	EXPECT_FROM_BYTES = 1024 * 1024,
	MAX_SETTINGS = 32,
	/* Valgrind runs a daemon 20 to 50 times slower; waits for it grow by this much. */
	VALGRIND_SLOWDOWN = 10,
	/* ThreadSanitizer runs code 5 to 15 times slower, but waits for I/O as fast. */
	TSAN_SLOWDOWN = 4,
	/* The exit status of a daemon in which valgrind found an error. */
	VALGRIND_ERROR_EXIT = 99,
};

bool harness_valgrind(void)
{
	const char *v = getenv("GALLERY_TEST_VALGRIND");
	return v && *v && strcmp(v, "0") != 0;
}

int harness_slowdown(void)
{
	if (harness_valgrind())
		return VALGRIND_SLOWDOWN;
	const char *tsan = getenv("GALLERY_TEST_TSAN");
	return tsan && *tsan && strcmp(tsan, "0") != 0 ? TSAN_SLOWDOWN : 1;
}

void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

bool wait_until(bool (*ready)(void *ctx), void *ctx, long ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long limit = ms * harness_slowdown();
	for (;;) {
		if (ready(ctx))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited =
		    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= limit)
			return false;
		sleep_ms(POLL_MS);
	}
}

const char *harness_env(const char *name)
{
	const char *v = getenv(name);
	if (!v) {
		fprintf(stderr, "harness: %s is not set; run the tests with tests/run.sh\n", name);
		abort();
	}
	return v;
}

int harness_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t spawn(const char *program, const setting *settings, const char *port_setting,
		   const char *log_path)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (log >= 0) {
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
		close(log);
	}
	for (const setting *s = settings; s && *s; s++)
		putenv((char *)*s);
	putenv((char *)port_setting);
	if (harness_valgrind()) {
		/* One valgrind log per process (%p), beside the daemon's log; run.sh reads them. */
		char log_file[600], exit_code[32];
		snprintf(log_file, sizeof(log_file), "--log-file=%s.%%p.valgrind", log_path);
		snprintf(exit_code, sizeof(exit_code), "--error-exitcode=%d", VALGRIND_ERROR_EXIT);
		execlp("valgrind", "valgrind", "--tool=memcheck", "--leak-check=full",
		       "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
		       "--num-callers=30", exit_code, log_file, program, (char *)NULL);
	} else {
		execl(program, program, (char *)NULL);
	}
	fprintf(stderr, "harness: cannot run %s: %s\n", program, strerror(errno));
	_exit(127);
}

static bool wait_healthy(struct daemon *d)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", d->url);
	for (int waited = 0; waited < HEALTHY_WAIT_MS * harness_slowdown(); waited += POLL_MS) {
		struct reply r;
		if (http_call("GET", url, NULL, NULL, 0, &r) && r.status == 200) {
			reply_free(&r);
			return true;
		}
		reply_free(&r);
		if (!daemon_alive(d))
			break;
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "harness: %s did not become healthy; see %s\n", d->name, d->log_path);
	return false;
}

static bool launch(struct daemon *d, const setting *settings)
{
	char program[512], port_setting[64];
	snprintf(program, sizeof(program), "%s/%s", harness_env("GALLERY_TEST_BIN"), d->name);
	snprintf(port_setting, sizeof(port_setting), "%s=%d",
		 strcmp(d->name, "memcache") == 0 ? "GALLERY_MEMCACHE_PORT" : "GALLERY_FRONTEND_PORT",
		 d->port);
	d->pid = spawn(program, settings, port_setting, d->log_path);
	return d->pid > 0 && wait_healthy(d);
}

bool daemon_start(struct daemon *d, const char *name, const setting *settings)
{
	static int started;
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->port = harness_free_port();
	snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
	snprintf(d->log_path, sizeof(d->log_path), "%s/logs/%s-%d-%d.log",
		 harness_env("GALLERY_TEST_TMP"), name, (int)getpid(), ++started);
	return launch(d, settings);
}

bool daemon_wait_log(const struct daemon *d, const char *text, long timeout_ms)
{
	for (long waited = 0; waited < timeout_ms * harness_slowdown(); waited += POLL_MS) {
		if (daemon_log_contains(d, text))
			return true;
		sleep_ms(POLL_MS);
	}
	return daemon_log_contains(d, text);
}

bool worker_start(struct daemon *d, const setting *settings)
{
	static int started;
	memset(d, 0, sizeof(*d));
	d->name = "worker";
	snprintf(d->log_path, sizeof(d->log_path), "%s/logs/worker-%d-%d.log",
		 harness_env("GALLERY_TEST_TMP"), (int)getpid(), ++started);
	char program[512];
	snprintf(program, sizeof(program), "%s/worker", harness_env("GALLERY_TEST_BIN"));
	d->pid = spawn(program, settings, "GALLERY_TEST_DAEMON=worker", d->log_path);
	for (int waited = 0; d->pid > 0 && waited < HEALTHY_WAIT_MS * harness_slowdown();
	     waited += POLL_MS) {
		if (daemon_log_contains(d, "worker started"))
			return true;
		if (!daemon_alive(d))
			break;
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "harness: the worker did not start; see %s\n", d->log_path);
	return false;
}

bool faultproxy_start(struct daemon *d, int target_port, const char *control)
{
	memset(d, 0, sizeof(*d));
	d->name = "faultproxy";
	d->port = harness_free_port();
	snprintf(d->url, sizeof(d->url), "127.0.0.1:%d", d->port);
	snprintf(d->log_path, sizeof(d->log_path), "%s/logs/faultproxy-%d-%d.log",
		 harness_env("GALLERY_TEST_TMP"), (int)getpid(), d->port);
	char program[512], target[64], control_setting[GALLERY_PATH_MAX + 32];
	static char port_setting[64];
	snprintf(program, sizeof(program), "%s/tests/faultproxy", harness_env("GALLERY_TEST_BIN"));
	snprintf(target, sizeof(target), "FAULTPROXY_TARGET=%d", target_port);
	snprintf(control_setting, sizeof(control_setting), "FAULTPROXY_CONTROL=%s", control);
	snprintf(port_setting, sizeof(port_setting), "FAULTPROXY_PORT=%d", d->port);
	const setting settings[] = {target, control_setting, NULL};
	d->pid = spawn(program, settings, port_setting, d->log_path);
	if (d->pid > 0 && daemon_wait_log(d, "faultproxy: listening", HEALTHY_WAIT_MS))
		return true;
	fprintf(stderr, "harness: the fault proxy did not start; see %s\n", d->log_path);
	return false;
}

bool smtp_start(struct daemon *d, int port, const char *maildir)
{
	memset(d, 0, sizeof(*d));
	d->name = "aiosmtpd";
	d->port = port;
	snprintf(d->log_path, sizeof(d->log_path), "%s/logs/aiosmtpd-%d-%d.log",
		 harness_env("GALLERY_TEST_TMP"), (int)getpid(), port);
	char listen[64];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	d->pid = fork();
	if (d->pid == 0) {
		int log = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
			close(log);
		}
		/* Debian's python3, where python3-aiosmtpd lives, whatever else PATH offers. */
		execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
		      "aiosmtpd.handlers.Mailbox", maildir, (char *)NULL);
		_exit(127);
	}
	for (int waited = 0; d->pid > 0 && waited < HEALTHY_WAIT_MS * harness_slowdown();
	     waited += POLL_MS) {
		int fd = tcp_connect(port, NULL, 1);
		if (fd >= 0) {
			close(fd);
			return true;
		}
		if (!daemon_alive(d))
			break;
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "harness: aiosmtpd did not start; see %s\n", d->log_path);
	return false;
}

bool daemon_restart(struct daemon *d, const setting *settings)
{
	return launch(d, settings);
}

int daemon_stop(struct daemon *d, int sig)
{
	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	int status = -1;
	for (int waited = 0; waited < STOP_WAIT_MS * harness_slowdown(); waited += POLL_MS) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return status;
		}
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "harness: %s did not stop; killing it\n", d->name);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	return status;
}

bool daemon_alive(const struct daemon *d)
{
	return d->pid > 0 && waitpid(d->pid, NULL, WNOHANG) == 0;
}

/* Whether every thread of the process *(pid_t *)ctx is stopped ('T' in its stat line). */
static bool all_threads_stopped(void *ctx)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)*(const pid_t *)ctx);
	DIR *dir = opendir(path);
	if (!dir)
		return false;
	bool stopped = true, any = false;
	struct dirent *e;
	while (stopped && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		char stat_path[sizeof(path) + sizeof(e->d_name) + 8], line[512];
		snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, e->d_name);
		FILE *f = fopen(stat_path, "r");
		/* A thread that is gone has nothing left to serve. */
		if (!f)
			continue;
		const char *state = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		any = true;
		/* The state follows the name, which is in parentheses and may hold any byte. */
		stopped = state && state[1] == ' ' && (state[2] == 'T' || state[2] == 't');
	}
	closedir(dir);
	return stopped && any;
}

bool daemon_pause(const struct daemon *d)
{
	pid_t pid = d->pid;
	return kill(pid, SIGSTOP) == 0 && wait_until(all_threads_stopped, &pid, HEALTHY_WAIT_MS);
}

long daemon_open_files(const struct daemon *d)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	long count = 0;
	struct dirent *e;
	while ((e = readdir(dir)))
		count += e->d_name[0] != '.';
	closedir(dir);
	return count;
}

/*
 * Asks the kernel (sock_diag netlink) for the established TCP connections on
 * the daemon's port from addr. A connection the daemon has accepted has an
 * inode; one still waiting in the listen queue has none. /proc/net/tcp would
 * say the same, but reading it takes seconds on a machine with tens of
 * thousands of sockets in TIME_WAIT, which the load tests leave behind.
 */
long daemon_connections_from(const struct daemon *d, const char *from)
{
	struct in_addr addr;
	if (inet_pton(AF_INET, from, &addr) != 1)
		return -1;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	struct {
		struct nlmsghdr head;
		struct inet_diag_req_v2 req;
	} ask = {
	    .head = {.nlmsg_len = sizeof(ask),
		     .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		     .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
	    .req = {.sdiag_family = AF_INET,
		    .sdiag_protocol = IPPROTO_TCP,
		    .idiag_states = 1u << TCP_ESTABLISHED},
	};
	long count = -1;
	if (send(fd, &ask, sizeof(ask), 0) != (ssize_t)sizeof(ask))
		goto out_close;
	count = 0;
	for (bool done = false; !done;) {
		/* Aligned for the nlmsghdr and inet_diag_msg read from it. */
		static _Thread_local long answer[8192 / sizeof(long)];
		ssize_t n = recv(fd, answer, sizeof(answer), 0);
		if (n <= 0) {
			count = -1;
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				count = -1;
				done = true;
				break;
			}
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			if (ntohs(m->id.idiag_sport) == d->port && m->id.idiag_dst[0] == addr.s_addr &&
			    m->idiag_inode != 0)
				count++;
		}
	}
out_close:
	close(fd);
	return count;
}

long daemon_log_count(const struct daemon *d, const char *text)
{
	FILE *f = fopen(d->log_path, "r");
	if (!f)
		return 0;
	char line[2048];
	long count = 0;
	while (fgets(line, sizeof(line), f))
		count += strstr(line, text) != NULL;
	fclose(f);
	return count;
}

bool daemon_log_contains(const struct daemon *d, const char *text)
{
	return daemon_log_count(d, text) > 0;
}

struct log_wait {
	const struct daemon *d;
	const char *text;
};

static bool log_has(void *ctx)
{
	const struct log_wait *w = ctx;
	return daemon_log_contains(w->d, w->text);
}

bool daemon_wait_for_log(const struct daemon *d, const char *text, long ms)
{
	struct log_wait w = {d, text};
	return wait_until(log_has, &w, ms);
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
	return buf_append(userdata, data, size * n) ? size * n : 0;
}

/* Sends what curl is set up for and collects the answer into out. */
static bool perform(CURL *curl, const char *url, struct curl_slist *headers, struct reply *out)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out->headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)HTTP_TIMEOUT_S * harness_slowdown());
	/*
	 * A body sent with "Expect: 100-continue" waits for the server's word
	 * however slow the machine: after curl's default second it would send the
	 * body anyway, and a server that refused it would close on a body in flight.
	 */
	curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS,
			 1000L * HTTP_TIMEOUT_S * harness_slowdown());
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, out->error);
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK && !out->error[0])
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	out->refused = rc == CURLE_COULDNT_CONNECT;
	curl_off_t sent = 0;
	if (curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK)
		out->sent = (long long)sent;
	if (!out->body.data)
		buf_append(&out->body, "", 0);
	return rc == CURLE_OK;
}

bool http_request(const char *method, const char *url, const char *const *headers,
		  const void *body, size_t len, struct reply *out)
{
	memset(out, 0, sizeof(*out));
	CURL *curl = curl_easy_init();
	if (!curl)
		return false;
	struct curl_slist *list = NULL;
	for (const char *const *h = headers; h && *h; h++)
		list = curl_slist_append(list, *h);
	/*
	 * Small bodies go at once, as most clients send them; from 1 MB on, curl
	 * asks first with "Expect: 100-continue", as its command line does, so a
	 * server can refuse a body before it is sent.
	 */
	if (len < EXPECT_FROM_BYTES)
		list = curl_slist_append(list, "Expect:");
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	bool ok = perform(curl, url, list, out);
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return ok;
}

bool http_call(const char *method, const char *url, const char *content_type, const void *body,
	       size_t len, struct reply *out)
{
	char type[256];
	const char *headers[] = {type, NULL};
	snprintf(type, sizeof(type), "Content-Type: %s", content_type ? content_type : "");
	return http_request(method, url, content_type ? headers : NULL, body, len, out);
}

bool http_upload(const char *base, const char *path, const char *key, const void *data,
		 size_t len, const char *filename, const char *accept, struct reply *out)
{
	memset(out, 0, sizeof(*out));
	char url[4096], accept_header[256];
	snprintf(url, sizeof(url), "%s%s", base, path);
	CURL *curl = curl_easy_init();
	if (!curl)
		return false;
	curl_mime *form = curl_mime_init(curl);
	curl_mimepart *part;
	struct curl_slist *list = NULL;
	if (strncmp(path, "/api/", 5) != 0) {
		part = curl_mime_addpart(form);
		curl_mime_name(part, "csrf_token");
		curl_mime_data(part, HARNESS_CSRF_TOKEN, CURL_ZERO_TERMINATED);
		list = curl_slist_append(list, HARNESS_CSRF_COOKIE);
	}
	if (key) {
		part = curl_mime_addpart(form);
		curl_mime_name(part, "key");
		curl_mime_data(part, key, CURL_ZERO_TERMINATED);
	}
	if (data) {
		part = curl_mime_addpart(form);
		curl_mime_name(part, "file");
		curl_mime_data(part, data, len);
		curl_mime_filename(part, filename);
	}
	curl_easy_setopt(curl, CURLOPT_MIMEPOST, form);
	if (accept) {
		snprintf(accept_header, sizeof(accept_header), "Accept: %s", accept);
		list = curl_slist_append(list, accept_header);
	}
	bool ok = perform(curl, url, list, out);
	curl_slist_free_all(list);
	curl_mime_free(form);
	curl_easy_cleanup(curl);
	return ok;
}

bool http_post_json(const char *base, const char *path, const char *json, struct reply *out)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", base, path);
	return http_call("POST", url, "application/json", json, json ? strlen(json) : 0, out);
}

bool http_get(const char *base, const char *path, struct reply *out)
{
	char url[4096];
	snprintf(url, sizeof(url), "%s%s", base, path);
	return http_call("GET", url, NULL, NULL, 0, out);
}

const char *reply_header(struct reply *r, const char *name, char *value, size_t size)
{
	size_t name_len = strlen(name);
	const char *line = r->headers.data;
	while (line && *line) {
		const char *end = strstr(line, "\r\n");
		size_t line_len = end ? (size_t)(end - line) : strlen(line);
		if (line_len > name_len && strncasecmp(line, name, name_len) == 0 &&
		    line[name_len] == ':') {
			const char *v = line + name_len + 1;
			while (*v == ' ')
				v++;
			snprintf(value, size, "%.*s", (int)(line + line_len - v), v);
			return value;
		}
		line = end ? end + 2 : NULL;
	}
	return NULL;
}

void reply_free(struct reply *r)
{
	buf_free(&r->body);
	buf_free(&r->headers);
}

bool reply_is_error(const struct reply *r, long code)
{
	char expected[96];
	snprintf(expected, sizeof(expected), "{\"success\":\"false\",\"error\":{\"code\":%ld,", code);
	return r->status == code && r->body.data &&
	       strncmp(r->body.data, expected, strlen(expected)) == 0 &&
	       strstr(r->body.data, "\"message\":\"") != NULL;
}

bool reply_number(const struct reply *r, const char *field, long long *value)
{
	char pattern[64];
	snprintf(pattern, sizeof(pattern), "\"%s\":", field);
	const char *at = r->body.data ? strstr(r->body.data, pattern) : NULL;
	if (!at)
		return false;
	*value = strtoll(at + strlen(pattern), NULL, 10);
	return true;
}

static MYSQL *admin_connect(void)
{
	MYSQL *conn = mysql_init(NULL);
	if (conn && !mysql_real_connect(conn, NULL, harness_env("GALLERY_TEST_DB_ADMIN"), NULL,
					harness_env("GALLERY_DB_NAME"), 0,
					harness_env("GALLERY_DB_SOCKET"), 0)) {
		fprintf(stderr, "harness: cannot connect to MariaDB: %s\n", mysql_error(conn));
		mysql_close(conn);
		return NULL;
	}
	return conn;
}

struct sql_session {
	MYSQL *conn;
};

struct sql_session *sql_session_open(void)
{
	struct sql_session *s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	s->conn = admin_connect();
	if (!s->conn) {
		free(s);
		return NULL;
	}
	return s;
}

bool sql_session_exec(struct sql_session *s, const char *query)
{
	bool ok = mysql_query(s->conn, query) == 0;
	if (!ok)
		fprintf(stderr, "harness: %s: %s\n", query, mysql_error(s->conn));
	return ok;
}

void sql_session_close(struct sql_session *s)
{
	if (!s)
		return;
	mysql_close(s->conn);
	free(s);
}

bool sql_exec(const char *query)
{
	struct sql_session *s = sql_session_open();
	bool ok = s && sql_session_exec(s, query);
	sql_session_close(s);
	return ok;
}

bool sql_empty_gallery(void)
{
	bool images = sql_exec("DELETE FROM images");
	/* What the deleted rows' keys remember (008_deleted_versions.sql): a fresh gallery has none. */
	images = sql_exec("DELETE FROM image_deleted_versions") && images;
	return sql_exec("DELETE FROM cache_properties") && images;
}

long long sql_scalar(const char *query)
{
	MYSQL *conn = admin_connect();
	if (!conn)
		return -1;
	long long value = -1;
	if (mysql_query(conn, query) == 0) {
		MYSQL_RES *res = mysql_store_result(conn);
		MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
		if (row && row[0])
			value = strtoll(row[0], NULL, 10);
		mysql_free_result(res);
	} else {
		fprintf(stderr, "harness: %s: %s\n", query, mysql_error(conn));
	}
	mysql_close(conn);
	return value;
}

bool sql_wait_scalar(const char *query, long long expected, long timeout_ms)
{
	for (long waited = 0; waited < timeout_ms * harness_slowdown(); waited += POLL_MS) {
		if (sql_scalar(query) == expected)
			return true;
		sleep_ms(POLL_MS);
	}
	long long last = sql_scalar(query);
	if (last != expected)
		fprintf(stderr, "harness: %s is %lld, not %lld\n", query, last, expected);
	return last == expected;
}

static bool db_script(const char *action)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s/scripts/db.sh' %s '%s' >/dev/null",
		 harness_env("GALLERY_TEST_ROOT"), action, harness_env("GALLERY_TEST_DB_DIR"));
	return system(cmd) == 0;
}

long count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	long count = 0;
	struct dirent *e;
	while (count >= 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			count = -1;
		} else if (S_ISREG(st.st_mode)) {
			count++;
		} else if (S_ISDIR(st.st_mode)) {
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			long n = count_files(sub);
			count = n < 0 ? -1 : count + n;
		}
	}
	closedir(d);
	return count;
}

bool db_server_stop(void)
{
	return db_script("stop");
}

bool db_server_start(void)
{
	return db_script("start");
}

bool db_refuses_connections(void)
{
	MYSQL *conn = mysql_init(NULL);
	if (!conn)
		return false;
	unsigned timeout_s = 2;
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
	bool refused = !mysql_real_connect(conn, NULL, harness_env("GALLERY_TEST_DB_ADMIN"), NULL,
					   harness_env("GALLERY_DB_NAME"), 0,
					   harness_env("GALLERY_DB_SOCKET"), 0);
	mysql_close(conn);
	return refused;
}

/* Appends the NULL-terminated list from (may be NULL) to to[0..n), keeping room for the NULL. */
static void append_settings(setting *to, size_t n, const setting *from)
{
	for (; from && *from && n + 1 < GALLERY_SETTINGS_MAX; from++)
		to[n++] = *from;
	to[n] = NULL;
}

bool gallery_start(struct gallery *g, const char *name, const setting *mc_extra,
		   const setting *fe_extra)
{
	static int starts;
	snprintf(g->data_dir, sizeof(g->data_dir), "%s/%s-data-%d", harness_env("GALLERY_TEST_TMP"),
		 name, ++starts);
	snprintf(g->data_dir_setting, sizeof(g->data_dir_setting), "GALLERY_DATA_DIR=%s",
		 g->data_dir);
	append_settings(g->mc_settings, 0, mc_extra);
	if (!daemon_start(&g->mc, "memcache", g->mc_settings))
		return false;
	snprintf(g->memcache_url_setting, sizeof(g->memcache_url_setting),
		 "GALLERY_MEMCACHE_URL=%s", g->mc.url);
	g->fe_settings[0] = g->memcache_url_setting;
	g->fe_settings[1] = g->data_dir_setting;
	g->fe_settings[2] = "GALLERY_FRONTEND_BIND=127.0.0.1";
	append_settings(g->fe_settings, 3, fe_extra);
	if (!daemon_start(&g->fe, "frontend", g->fe_settings)) {
		daemon_stop(&g->mc, SIGTERM);
		return false;
	}
	return true;
}

bool gallery_stop(struct gallery *g)
{
	int fe_status = daemon_stop(&g->fe, SIGTERM);
	int mc_status = daemon_stop(&g->mc, SIGTERM);
	return fe_status == 0 && mc_status == 0;
}

bool gallery_clear_cache(const struct gallery *g)
{
	struct reply r;
	bool cleared = http_post_json(g->mc.url, "/clear_cache", NULL, &r) && r.status == 200;
	reply_free(&r);
	return cleared;
}

const char *url_encode(const char *s, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return out;
}

int tcp_connect(int port, const char *from, int timeout_s)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval wait = {timeout_s, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
	struct sockaddr_in local = {.sin_family = AF_INET};
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if ((from && (inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
		      bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0)) ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}
