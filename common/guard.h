/* guard: per-address connection limits and request deadlines that libmicrohttpd's silence timeout lacks. */
#ifndef GALLERY_GUARD_H
#define GALLERY_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct guard_params {
	long per_ip;           /* open connections from one address; 0: no limit */
	long header_timeout_s; /* a request head must be whole this long after the connection is ready */
	long min_body_bps;     /* bytes a second a body must average once header_timeout_s passed; 0: none */
	const char *trusted_proxies; /* comma-separated addresses or CIDRs; exempt from per_ip */
};

/*
 * Connections are known by descriptor. The accept thread admits them and sweeps;
 * libmicrohttpd's threads report each request's progress. NULL with a reason in
 * err when trusted_proxies does not parse.
 */
struct guard;
struct guard *guard_create(const struct guard_params *p, char *err, size_t errlen);
void guard_free(struct guard *g);

/*
 * False when fd must be refused: its address holds per_ip connections and none
 * of them is merely waiting for a request head. Otherwise, at the limit, the one
 * that has waited longest for its head is shut down to make room, so that
 * clients that hold connections without sending a request cannot lock out
 * others behind the same address.
 */
bool guard_admit(struct guard *g, int fd, const struct sockaddr *addr);
/* fd was refused by libmicrohttpd, or is being closed. */
void guard_forget(struct guard *g, int fd);
/* The head of a request arrived; a body follows it or not. */
void guard_head_done(struct guard *g, int fd, bool body);
void guard_body_bytes(struct guard *g, int fd, size_t n);
/* The body is whole, or there was none: the request is being answered. */
void guard_body_done(struct guard *g, int fd);
/* The answer went out: the connection waits for its next head. */
void guard_request_done(struct guard *g, int fd);
/*
 * Shuts down connections whose clients are past their deadline, and returns how
 * many; call it about once a second. A connection holding bytes not yet read is
 * waiting on the server, not on its client, and is kept.
 */
int guard_sweep(struct guard *g);
/* True when addr is one of the trusted proxies. */
bool guard_is_trusted(const struct guard *g, const struct sockaddr *addr);
/* Parses a textual IPv4 or IPv6 address and says whether it is a trusted proxy. */
bool guard_is_trusted_text(const struct guard *g, const char *address);

#endif
