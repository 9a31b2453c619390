/* origin: refuses requests from elsewhere before any handler reads a body: a Host not ours, a
 * cross-site write. */
#ifndef GALLERY_ORIGIN_H
#define GALLERY_ORIGIN_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "frontend/problem.h"

struct origin_policy;

/*
 * The gallery's own origin is that of public_url; the hosts it answers are
 * public_url's host, localhost, 127.0.0.1, [::1] and the comma-separated
 * allowed_hosts, each with any port. NULL with err filled when public_url is
 * no http(s) URL or a listed host is malformed.
 */
struct origin_policy *origin_policy_create(const char *public_url, const char *allowed_hosts,
					   char *err, size_t errlen);
void origin_policy_destroy(struct origin_policy *g);

/*
 * Whether the request may go on, judged from its headers alone: a Host that
 * is not ours is 421 (DNS rebinding); a POST, PUT or DELETE whose Origin is
 * present and neither the gallery's nor the request's own scheme://Host, or
 * whose Sec-Fetch-Site is cross-site, is 403. A request without Origin and
 * Sec-Fetch-Site (curl, scripts) passes. False with p filled.
 */
bool origin_check(const struct origin_policy *g, struct MHD_Connection *conn, const char *method,
		  struct problem *p);

/* The pure steps, for tests and fuzzing: is host (a Host header's value) one we answer? */
bool origin_host_allowed(const struct origin_policy *g, const char *host);
/* Is origin (an Origin header's value) ours, for a request whose allowed Host is host? */
bool origin_is_ours(const struct origin_policy *g, const char *origin, const char *host);

#endif
