/* origin: refuses requests from elsewhere before any handler reads a body: a Host not ours, a
 * cross-site write. */
#include "origin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	/* A DNS name is at most 253 bytes; a bracketed IPv6 literal far less. */
	ORIGIN_HOST_MAX = 256,
	PORT_MAX = 65535,
	PORT_DIGITS_MAX = 5,
	HTTP_PORT = 80,
	HTTPS_PORT = 443,
};

/* The hosts every gallery answers, whatever it is configured with. */
static const char *const LOOPBACK_HOSTS[] = {"localhost", "127.0.0.1", "[::1]"};

/* An origin as RFC 6454 compares them: scheme, host (any case), port (the scheme's default if
 * none). */
struct origin {
	bool https;
	char host[ORIGIN_HOST_MAX];
	unsigned port;
};

struct origin_policy {
	struct origin own;
	char (*hosts)[ORIGIN_HOST_MAX];
	size_t nhosts;
};

static bool host_char(char c, bool bracketed)
{
	if (bracketed)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		       c == ':' || c == '.';
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '.' || c == '-' || c == '_';
}

/*
 * Splits "name[:port]" (name a DNS name, an IPv4 address or a bracketed IPv6
 * literal) of len bytes: the name is copied to host, the port (0 when none) to
 * *port. False for anything else.
 */
static bool split_host_port(const char *s, size_t len, char host[ORIGIN_HOST_MAX], unsigned *port)
{
	size_t n = 0;
	bool bracketed = len > 0 && s[0] == '[';
	if (bracketed) {
		const char *close = memchr(s, ']', len);
		if (!close)
			return false;
		n = (size_t)(close - s) + 1;
		for (size_t i = 1; i + 1 < n; i++)
			if (!host_char(s[i], true))
				return false;
	} else {
		while (n < len && s[n] != ':') {
			if (!host_char(s[n], false))
				return false;
			n++;
		}
	}
	if (n == 0 || (bracketed && n == 2) || n >= ORIGIN_HOST_MAX)
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = 0;
	if (n == len)
		return true;
	if (s[n] != ':' || len - n - 1 > PORT_DIGITS_MAX)
		return false;
	unsigned long value = 0;
	for (size_t i = n + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		value = value * 10 + (unsigned long)(s[i] - '0');
	}
	if (value > PORT_MAX)
		return false;
	*port = (unsigned)value;
	return true;
}

/* "http(s)://host[:port]", followed by nothing or, when path_ok, a path. */
static bool parse_origin(const char *s, bool path_ok, struct origin *o)
{
	size_t skip;
	if (strncasecmp(s, "http://", 7) == 0) {
		o->https = false;
		skip = 7;
	} else if (strncasecmp(s, "https://", 8) == 0) {
		o->https = true;
		skip = 8;
	} else {
		return false;
	}
	const char *authority = s + skip;
	size_t len = strcspn(authority, "/?#");
	if (authority[len] && !path_ok)
		return false;
	if (!split_host_port(authority, len, o->host, &o->port))
		return false;
	if (o->port == 0)
		o->port = o->https ? HTTPS_PORT : HTTP_PORT;
	return true;
}

static bool same_origin(const struct origin *a, const struct origin *b)
{
	return a->https == b->https && a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

/* Adds the comma-separated names of list to g->hosts; false on a malformed one. */
static bool add_hosts(struct origin_policy *g, const char *list, char *err, size_t errlen)
{
	for (const char *at = list; *at;) {
		size_t len = strcspn(at, ",");
		const char *next = at[len] ? at + len + 1 : at + len;
		while (len && (*at == ' ' || *at == '\t'))
			at++, len--;
		while (len && (at[len - 1] == ' ' || at[len - 1] == '\t'))
			len--;
		unsigned port;
		if (len) {
			char *slot = g->hosts[g->nhosts];
			if (!split_host_port(at, len, slot, &port) || port != 0) {
				snprintf(
				    err, errlen,
				    "GALLERY_ALLOWED_HOSTS: '%.*s' is no host name (give names "
				    "without ports, separated by commas)",
				    (int)(len < ORIGIN_HOST_MAX ? len : ORIGIN_HOST_MAX), at);
				return false;
			}
			g->nhosts++;
		}
		at = next;
	}
	return true;
}

struct origin_policy *origin_policy_create(const char *public_url, const char *allowed_hosts,
					   char *err, size_t errlen)
{
	struct origin_policy *g = calloc(1, sizeof(*g));
	if (!g)
		goto out_nomem;
	if (!parse_origin(public_url, true, &g->own)) {
		snprintf(err, errlen, "GALLERY_PUBLIC_URL: '%s' is no http:// or https:// URL",
			 public_url);
		goto out_free_origins;
	}
	size_t most = 1 + sizeof(LOOPBACK_HOSTS) / sizeof(LOOPBACK_HOSTS[0]) + 1;
	for (const char *c = allowed_hosts; *c; c++)
		most += *c == ',';
	g->hosts = calloc(most, sizeof(*g->hosts));
	if (!g->hosts)
		goto out_nomem_free;
	snprintf(g->hosts[g->nhosts++], ORIGIN_HOST_MAX, "%s", g->own.host);
	for (size_t i = 0; i < sizeof(LOOPBACK_HOSTS) / sizeof(LOOPBACK_HOSTS[0]); i++)
		snprintf(g->hosts[g->nhosts++], ORIGIN_HOST_MAX, "%s", LOOPBACK_HOSTS[i]);
	if (!add_hosts(g, allowed_hosts, err, errlen))
		goto out_free_origins;
	return g;
out_nomem_free:
	origin_policy_destroy(g);
out_nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
out_free_origins:
	origin_policy_destroy(g);
	return NULL;
}

void origin_policy_destroy(struct origin_policy *g)
{
	if (!g)
		return;
	free(g->hosts);
	free(g);
}

bool origin_host_allowed(const struct origin_policy *g, const char *host)
{
	char name[ORIGIN_HOST_MAX];
	unsigned port;
	if (!split_host_port(host, strlen(host), name, &port))
		return false;
	for (size_t i = 0; i < g->nhosts; i++)
		if (strcasecmp(name, g->hosts[i]) == 0)
			return true;
	return false;
}

bool origin_is_ours(const struct origin_policy *g, const char *origin, const char *host)
{
	struct origin o, self;
	if (!parse_origin(origin, false, &o))
		return false; /* "null" (a sandboxed frame, a redirect across sites) included */
	if (same_origin(&o, &g->own))
		return true;
	/* The front end itself speaks plain HTTP; TLS ends at a proxy named by PUBLIC_URL. */
	if (!host)
		return false;
	self.https = false;
	if (!split_host_port(host, strlen(host), self.host, &self.port))
		return false;
	if (self.port == 0)
		self.port = HTTP_PORT;
	return same_origin(&o, &self);
}

static bool state_changing(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_POST) == 0 ||
	       strcmp(method, MHD_HTTP_METHOD_PUT) == 0 ||
	       strcmp(method, MHD_HTTP_METHOD_DELETE) == 0;
}

bool origin_check(const struct origin_policy *g, struct MHD_Connection *conn, const char *method,
		  struct problem *p)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	/* HTTP/1.0 may leave Host out (HTTP/1.1 without one is refused before): no name to rebind.
	 */
	if (host && !origin_host_allowed(g, host))
		return problem_set(p, 421,
				   "this server does not answer for that host name; use the "
				   "gallery's own address");
	if (!state_changing(method))
		return true;
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	/*
	 * A page of ours sent with Referrer-Policy: no-referrer (the mailed-link
	 * pages) makes the browser post with Origin: null; its Sec-Fetch-Site
	 * still says same-origin, and only a browser sets that header.
	 */
	bool null_from_us = origin && strcmp(origin, "null") == 0 && site &&
			    strcasecmp(site, "same-origin") == 0;
	if ((origin && !null_from_us && !origin_is_ours(g, origin, host)) ||
	    (site && strcasecmp(site, "cross-site") == 0))
		return problem_set(p, 403,
				   "this request came from another site; changes are taken only "
				   "from the gallery's own pages or from programs");
	return true;
}
