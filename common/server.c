/* server: starting and stopping a libmicrohttpd daemon, and waiting for SIGTERM. */
#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum {
	SERVER_DRAIN_POLL_MS = 20,
	LOOPBACK_NET = 127,
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
	MHD_AccessHandlerCallback handler;
	MHD_RequestCompletedCallback completed;
	void *cls;
	/* Requests between their first call and their completion; idle keep-alive connections hold none. */
	atomic_long in_flight;
};

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	/* Both daemons either answer on the first call or set *req_cls there. */
	if (!*req_cls)
		atomic_fetch_add(&s->in_flight, 1);
	return s->handler(s->cls, conn, url, method, version, upload_data, upload_data_size,
			  req_cls);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	if (s->completed)
		s->completed(s->cls, conn, req_cls, toe);
	atomic_fetch_sub(&s->in_flight, 1);
}

struct server *server_start(const struct server_params *p, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	memset(&addr, 0, sizeof(addr));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;
	if (inet_pton(AF_INET, p->bind, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p->port);
	} else if (inet_pton(AF_INET6, p->bind, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", p->bind);
		return NULL;
	}
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
	s->daemon = MHD_start_daemon(
		flags, (uint16_t)p->port, NULL, NULL, handle, s,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd_error, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
		MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		/*
		 * Each worker waits on epoll, so a slow client costs a connection, not a
		 * thread; the timeout and the per-address limit bound how many one
		 * client can hold.
		 */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)p->connection_timeout_s,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)p->per_ip_connections,
		/* Options after the first MHD_OPTION_END are ignored. */
		p->unescape ? MHD_OPTION_UNESCAPE_CALLBACK : MHD_OPTION_END, p->unescape, NULL,
		MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot listen on %s port %ld (in use, or not an address "
			 "of this machine)", p->bind, p->port);
		free(s);
		return NULL;
	}
	return s;
}

void server_stop(struct server *s, unsigned grace_s)
{
	if (!s)
		return;
	MHD_socket listener = MHD_quiesce_daemon(s->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	struct timespec pause = {0, SERVER_DRAIN_POLL_MS * 1000000L};
	for (unsigned waited_ms = 0; waited_ms < grace_s * 1000; waited_ms += SERVER_DRAIN_POLL_MS) {
		if (atomic_load(&s->in_flight) <= 0)
			break;
		nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(s->daemon);
	free(s);
}
