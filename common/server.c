/* server: starting and stopping a libmicrohttpd daemon, and waiting for SIGTERM. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "guard.h"
#include "http.h"
#include "log.h"

enum {
	SERVER_DRAIN_POLL_MS = 20,
	LOOPBACK_NET = 127,
	/* After accept() fails for want of descriptors or memory, wait this long before trying again. */
	ACCEPT_RETRY_MS = 50,
	/* How often the accept thread closes connections past their deadlines. */
	SWEEP_MS = 1000,
	CLIENT_ADDRESS_MAX = 64,
	KB = 1024,
	/* libmicrohttpd's own default for MHD_OPTION_CONNECTION_MEMORY_LIMIT. */
	CONNECTION_MEMORY_DEFAULT = 32 * KB,
};

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

void server_block_signals(void)
{
	sigset_t set;
	stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A client that hangs up mid-answer must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
}

int server_wait_for_signal(void)
{
	sigset_t set;
	stop_signals(&set);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

static void log_mhd_error(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	log_warn("http: %s", line);
}

bool server_bind_is_loopback(const char *bind)
{
	struct in_addr v4;
	struct in6_addr v6;
	if (inet_pton(AF_INET, bind, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == LOOPBACK_NET;
	return inet_pton(AF_INET6, bind, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

struct server {
	struct MHD_Daemon *daemon;
	int listener;
	int stop_pipe[2]; /* a byte written to [1] stops the accept thread */
	pthread_t acceptor;
	MHD_AccessHandlerCallback handler;
	MHD_RequestCompletedCallback completed;
	void *cls;
	/* Requests between their first call and their completion; idle keep-alive connections hold none. */
	atomic_long in_flight;
	struct guard *guard;
};

static int fd_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return info ? info->connect_fd : -1;
}

void server_client_address(const struct server *s, struct MHD_Connection *conn, char *out,
			   size_t size)
{
	snprintf(out, size, "?");
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = info ? info->client_addr : NULL;
	if (!peer)
		return;
	const void *raw = peer->sa_family == AF_INET6
				  ? (const void *)&((const struct sockaddr_in6 *)peer)->sin6_addr
				  : (const void *)&((const struct sockaddr_in *)peer)->sin_addr;
	inet_ntop(peer->sa_family, raw, out, (socklen_t)size);
	const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (!xff || !guard_is_trusted(s->guard, peer))
		return;
	for (const char *end = xff + strlen(xff); end > xff;) {
		const char *start = end;
		while (start > xff && start[-1] != ',')
			start--;
		const char *a = start, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		char one[CLIENT_ADDRESS_MAX];
		if (b > a && (size_t)(b - a) < sizeof(one)) {
			memcpy(one, a, (size_t)(b - a));
			one[b - a] = '\0';
			snprintf(out, size, "%s", one);
			if (!guard_is_trusted_text(s->guard, one))
				return;
		}
		end = start > xff ? start - 1 : xff;
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	/* Both daemons either answer on the first call or set *req_cls there. */
	int fd = fd_of(conn);
	if (!*req_cls) {
		atomic_fetch_add(&s->in_flight, 1);
		/* The head is whole now; refuse what would frame the body one way here and another upstream. */
		struct http_framing f = http_framing_check(conn);
		guard_head_done(s->guard, fd, f.body && !f.status);
		if (f.status) {
			char who[CLIENT_ADDRESS_MAX];
			server_client_address(s, conn, who, sizeof(who));
			log_info("http: %u to %s: %s", f.status, who, f.why);
			return http_send_error_close(conn, f.status, f.why);
		}
	} else if (*upload_data_size == 0) {
		guard_body_done(s->guard, fd);
	}
	size_t offered = *upload_data_size;
	enum MHD_Result ret = s->handler(s->cls, conn, url, method, version, upload_data,
					 upload_data_size, req_cls);
	if (offered > *upload_data_size)
		guard_body_bytes(s->guard, fd, offered - *upload_data_size);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	if (s->completed)
		s->completed(s->cls, conn, req_cls, toe);
	guard_request_done(s->guard, fd_of(conn));
	atomic_fetch_sub(&s->in_flight, 1);
}

/* libmicrohttpd announces a close before it closes the descriptor, which may then be reused. */
static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_cls,
			     enum MHD_ConnectionNotificationCode code)
{
	(void)socket_cls;
	struct server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		guard_forget(s->guard, fd_of(conn));
}

/* A non-blocking listening socket on address:port; -1 with a reason in err. */
static int listen_on(const char *address, long port, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	memset(&addr, 0, sizeof(addr));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
	socklen_t addrlen;
	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		addrlen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		addrlen = sizeof(*v6);
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", address);
		return -1;
	}
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	int on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    bind(fd, (struct sockaddr *)&addr, addrlen) != 0 || listen(fd, SOMAXCONN) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on %s port %ld: %s", address, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void pause_ms(long ms)
{
	struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&pause, NULL);
}

/* Takes every connection waiting on the listening socket; returns the errno that stopped it. */
static int accept_waiting(struct server *s)
{
	for (;;) {
		struct sockaddr_storage addr;
		socklen_t addrlen = sizeof(addr);
		int fd = accept4(s->listener, (struct sockaddr *)&addr, &addrlen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return errno;
		if (!guard_admit(s->guard, fd, (struct sockaddr *)&addr)) {
			close(fd);
			continue;
		}
		/* It closes fd itself when it cannot take it. */
		if (MHD_add_connection(s->daemon, fd, (struct sockaddr *)&addr, addrlen) != MHD_YES)
			guard_forget(s->guard, fd);
	}
}

static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/*
 * Hands each new connection to libmicrohttpd, which gives it to the worker its
 * descriptor number picks. Left to themselves, the workers race for the
 * listening socket, and the first to wake takes up to ten at once; a burst of
 * connections then lands on a few workers, whose requests wait in line behind
 * each other's memcache and database calls while other workers sit idle.
 */
static void *accept_connections(void *arg)
{
	struct server *s = arg;
	struct pollfd fds[2] = {
		{.fd = s->listener, .events = POLLIN},
		{.fd = s->stop_pipe[0], .events = POLLIN},
	};
	bool starved = false; /* the last accept failed for want of descriptors or memory */
	int64_t swept = clock_ms();
	for (;;) {
		int64_t now = clock_ms();
		if (now - swept >= SWEEP_MS) {
			int dropped = guard_sweep(s->guard);
			/* Mostly idle keep-alive connections: worth a line only when debugging. */
			if (dropped)
				log_debug("http: closed %d connection%s past the head or body deadline",
					  dropped, dropped == 1 ? "" : "s");
			swept = now;
		}
		int ready = poll(fds, 2, SWEEP_MS);
		if (ready == 0)
			continue;
		if (ready < 0) {
			if (errno != EINTR) {
				log_warn("http: poll on the listening socket: %s", strerror(errno));
				pause_ms(ACCEPT_RETRY_MS);
			}
			continue;
		}
		if (fds[1].revents)
			return NULL;
		int err = accept_waiting(s);
		if (out_of_resources(err)) {
			/* The client stays queued; say so once, not at every retry. */
			if (!starved)
				log_warn("http: cannot accept connections: %s", strerror(err));
			starved = true;
			pause_ms(ACCEPT_RETRY_MS);
		} else if (starved) {
			log_info("http: accepting connections again");
			starved = false;
		}
	}
}

struct server *server_start(const struct server_params *p, char *err, size_t errlen)
{
	long threads = p->threads > 0 ? p->threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	struct server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->handler = p->handler;
	s->completed = p->completed;
	s->cls = p->cls;
	atomic_init(&s->in_flight, 0);
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	struct guard_params gp = {
		.per_ip = p->per_ip_connections,
		.header_timeout_s = p->header_timeout_s > 0 ? p->header_timeout_s : p->connection_timeout_s,
		.min_body_bps = p->min_body_kbps * KB,
		.trusted_proxies = p->trusted_proxies,
	};
	s->guard = guard_create(&gp, err, errlen);
	if (!s->guard)
		goto out_free;
	s->listener = listen_on(p->bind, p->port, err, errlen);
	if (s->listener < 0)
		goto out_guard;
	if (pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out_close;
	}
	s->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, handle, s,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd_error, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
		MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, connection_event, s,
		/*
		 * Each worker waits on epoll, so a slow client costs a connection, not a
		 * thread. The timeout measures silence only; the guard adds deadlines for
		 * heads and bodies and the per-address limit, which it enforces itself so
		 * that it can make room by closing a connection that sends no request.
		 */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)p->connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		p->connection_memory_bytes ? p->connection_memory_bytes
					   : (size_t)CONNECTION_MEMORY_DEFAULT,
		/* Options after the first MHD_OPTION_END are ignored. */
		p->unescape ? MHD_OPTION_UNESCAPE_CALLBACK : MHD_OPTION_END, p->unescape, NULL,
		MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot start the HTTP server's threads");
		goto out_close;
	}
	/* No request is handled before the accept thread starts. */
	if (p->self)
		*p->self = s;
	int rc = pthread_create(&s->acceptor, NULL, accept_connections, s);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the accept thread: %s", strerror(rc));
		MHD_stop_daemon(s->daemon);
		goto out_close;
	}
	return s;
out_close:
	if (s->stop_pipe[0] >= 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
	}
	close(s->listener);
out_guard:
	guard_free(s->guard);
out_free:
	free(s);
	return NULL;
}

void server_drain(struct server *s, unsigned grace_s)
{
	if (!s || s->listener < 0)
		return;
	char stop = 1;
	while (write(s->stop_pipe[1], &stop, 1) < 0 && errno == EINTR)
		;
	pthread_join(s->acceptor, NULL);
	close(s->listener);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	s->listener = -1;
	for (unsigned waited_ms = 0; waited_ms < grace_s * 1000; waited_ms += SERVER_DRAIN_POLL_MS) {
		if (atomic_load(&s->in_flight) <= 0)
			break;
		pause_ms(SERVER_DRAIN_POLL_MS);
	}
}

void server_stop(struct server *s, unsigned grace_s)
{
	if (!s)
		return;
	server_drain(s, grace_s);
	MHD_stop_daemon(s->daemon);
	guard_free(s->guard);
	free(s);
}
