/* server: starting and stopping a libmicrohttpd daemon, and waiting for SIGTERM. */
#ifndef GALLERY_SERVER_H
#define GALLERY_SERVER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct server_params {
	const char *bind; /* IPv4 or IPv6 address */
	long port;
	long threads; /* 0: one per core */
	long connection_timeout_s; /* a connection silent this long is closed */
	long per_ip_connections;   /* open connections from one address; 0: no limit */
	long header_timeout_s;     /* a request head must be whole this long after the connection is ready */
	long min_body_kbps;        /* KB/s a body must average once header_timeout_s passed; 0: none */
	const char *trusted_proxies; /* comma-separated addresses or CIDRs whose X-Forwarded-For we believe */
	size_t connection_memory_bytes; /* each connection's buffers; 0: libmicrohttpd's 32 KB */
	MHD_AccessHandlerCallback handler;
	MHD_RequestCompletedCallback completed;
	void *cls; /* handed to both callbacks */
	/* NULL keeps libmicrohttpd's own percent-decoding of paths and arguments */
	size_t (*unescape)(void *cls, struct MHD_Connection *conn, char *s);
	struct server **self; /* NULL, or set to the server before its first request */
};

/*
 * Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread it
 * starts later, so that server_wait_for_signal() alone receives them.
 */
void server_block_signals(void);
/* Returns the signal that asked us to stop. */
int server_wait_for_signal(void);

/* True for 127.0.0.0/8 and ::1: addresses no other machine can reach. */
bool server_bind_is_loopback(const char *bind);

/*
 * A running daemon: libmicrohttpd's workers, and a thread of ours that accepts
 * connections and spreads them over the workers. NULL with a reason in err when
 * it cannot listen.
 */
struct server;
struct server *server_start(const struct server_params *p, char *err, size_t errlen);
/*
 * Stops accepting and lets requests in flight finish, up to grace_s. The
 * daemon still serves the connections it has, so work that will resume a
 * suspended request can end after this and before server_stop.
 */
void server_drain(struct server *s, unsigned grace_s);
/*
 * server_drain if not done yet, then closes every connection, idle keep-alive
 * ones included, and frees s.
 */
void server_stop(struct server *s, unsigned grace_s);
/*
 * Who sent the request on conn, as text: the peer, or when the peer is one of
 * trusted_proxies, the nearest address in X-Forwarded-For that is not one (the
 * ones before it are whatever the client chose to write).
 */
void server_client_address(const struct server *s, struct MHD_Connection *conn, char *out,
			   size_t size);

#endif
