/* guard: per-address connection limits and request deadlines that libmicrohttpd's silence timeout lacks. */
#include "guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#include "clock.h"

enum {
	/* Descriptors past this are refused: the table is indexed by descriptor. */
	GUARD_MAX_FDS = 1 << 20,
	ADDR_BYTES = 16,
	TRUSTED_MAX = 64,
	ENTRY_TEXT_MAX = 64,
};

enum phase {
	PHASE_HEAD, /* waiting for a request head, from accept or the last answer */
	PHASE_BODY, /* the head arrived; its body is coming */
	PHASE_BUSY, /* being answered: no deadline of ours */
	PHASE_GONE, /* shut down by us; libmicrohttpd has yet to close it */
};

struct addr_key {
	unsigned char family; /* AF_INET or AF_INET6 */
	unsigned char bytes[ADDR_BYTES];
};

struct slot {
	/* open, limited and key change under the guard's lock only */
	bool open;
	bool limited; /* counts toward per_ip: not a trusted proxy */
	struct addr_key key;
	atomic_int phase;
	atomic_llong since_ms; /* when the phase began */
	atomic_ullong body;    /* body bytes taken in PHASE_BODY */
};

struct cidr {
	struct addr_key key;
	unsigned prefix;
};

struct guard {
	struct guard_params p;
	pthread_mutex_t lock;
	struct slot *slots;
	int nslots;
	int high; /* one past the highest descriptor ever admitted */
	struct cidr trusted[TRUSTED_MAX];
	size_t ntrusted;
	/* the clock as of the last sweep or admission: requests read it for free */
	atomic_llong now_ms;
};

static bool key_of(const struct sockaddr *addr, struct addr_key *key)
{
	memset(key, 0, sizeof(*key));
	if (addr->sa_family == AF_INET) {
		key->family = AF_INET;
		memcpy(key->bytes, &((const struct sockaddr_in *)addr)->sin_addr, 4);
		return true;
	}
	if (addr->sa_family == AF_INET6) {
		key->family = AF_INET6;
		memcpy(key->bytes, &((const struct sockaddr_in6 *)addr)->sin6_addr, ADDR_BYTES);
		return true;
	}
	return false;
}

static bool key_parse(const char *text, struct addr_key *key)
{
	memset(key, 0, sizeof(*key));
	if (inet_pton(AF_INET, text, key->bytes) == 1) {
		key->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, key->bytes) == 1) {
		key->family = AF_INET6;
		return true;
	}
	return false;
}

static bool in_cidr(const struct cidr *c, const struct addr_key *key)
{
	if (c->key.family != key->family)
		return false;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(c->key.bytes, key->bytes, full) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (c->key.bytes[full] & mask) == (key->bytes[full] & mask);
}

static bool key_trusted(const struct guard *g, const struct addr_key *key)
{
	for (size_t i = 0; i < g->ntrusted; i++)
		if (in_cidr(&g->trusted[i], key))
			return true;
	return false;
}

/* "addr" or "addr/prefix", surrounding blanks allowed. */
static bool parse_cidr(const char *entry, size_t len, struct cidr *c)
{
	char text[ENTRY_TEXT_MAX];
	while (len && (*entry == ' ' || *entry == '\t'))
		entry++, len--;
	while (len && (entry[len - 1] == ' ' || entry[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof(text))
		return false;
	memcpy(text, entry, len);
	text[len] = '\0';
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (!key_parse(text, &c->key))
		return false;
	unsigned max = c->key.family == AF_INET ? 32 : 128;
	c->prefix = max;
	if (slash) {
		char *end;
		unsigned long n = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || n > max)
			return false;
		c->prefix = (unsigned)n;
	}
	return true;
}

static bool parse_trusted(struct guard *g, const char *list, char *err, size_t errlen)
{
	for (const char *s = list ? list : ""; *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (g->ntrusted == TRUSTED_MAX || !parse_cidr(s, len, &g->trusted[g->ntrusted])) {
			snprintf(err, errlen,
				 "GALLERY_TRUSTED_PROXIES: '%.*s' is not an address or CIDR (at most %d)",
				 (int)len, s, TRUSTED_MAX);
			return false;
		}
		g->ntrusted++;
		s += len + (comma ? 1 : 0);
	}
	return true;
}

struct guard *guard_create(const struct guard_params *p, char *err, size_t errlen)
{
	struct guard *g = calloc(1, sizeof(*g));
	if (!g)
		goto out_oom;
	g->p = *p;
	if (!parse_trusted(g, p->trusted_proxies, err, errlen))
		goto out_free;
	struct rlimit lim;
	rlim_t n = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur : 1024;
	g->nslots = n == RLIM_INFINITY || n > GUARD_MAX_FDS ? GUARD_MAX_FDS : (int)n;
	/* Pages of the table are touched only as descriptors reach them. */
	g->slots = calloc((size_t)g->nslots, sizeof(*g->slots));
	if (!g->slots)
		goto out_oom_free;
	pthread_mutex_init(&g->lock, NULL);
	atomic_init(&g->now_ms, clock_ms());
	return g;
out_oom_free:
	free(g);
out_oom:
	snprintf(err, errlen, "out of memory");
	return NULL;
out_free:
	free(g);
	return NULL;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g->slots);
	free(g);
}

static void set_phase(struct guard *g, struct slot *s, enum phase phase)
{
	atomic_store_explicit(&s->since_ms, atomic_load_explicit(&g->now_ms, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&s->phase, phase, memory_order_relaxed);
}

/* Shuts fd down; libmicrohttpd sees the end and closes it. Called with the lock held, so fd is still ours. */
static void drop(struct slot *s, int fd)
{
	atomic_store_explicit(&s->phase, PHASE_GONE, memory_order_relaxed);
	shutdown(fd, SHUT_RDWR);
}

bool guard_admit(struct guard *g, int fd, const struct sockaddr *addr)
{
	struct addr_key key;
	if (fd < 0 || fd >= g->nslots || !key_of(addr, &key))
		return false;
	atomic_store_explicit(&g->now_ms, clock_ms(), memory_order_relaxed);
	bool limited = g->p.per_ip > 0 && !key_trusted(g, &key);
	bool admitted = true;
	pthread_mutex_lock(&g->lock);
	if (limited) {
		long held = 0;
		int stalest = -1;
		long long stalest_since = 0;
		for (int i = 0; i < g->high; i++) {
			struct slot *s = &g->slots[i];
			if (!s->open || !s->limited || memcmp(&s->key, &key, sizeof(key)) != 0)
				continue;
			int phase = atomic_load_explicit(&s->phase, memory_order_relaxed);
			if (phase == PHASE_GONE)
				continue;
			held++;
			long long since = atomic_load_explicit(&s->since_ms, memory_order_relaxed);
			if (phase == PHASE_HEAD && (stalest < 0 || since < stalest_since)) {
				stalest = i;
				stalest_since = since;
			}
		}
		if (held >= g->p.per_ip) {
			if (stalest >= 0)
				drop(&g->slots[stalest], stalest);
			else
				admitted = false;
		}
	}
	if (admitted) {
		/* A slot still open here belonged to a descriptor libmicrohttpd closed unannounced. */
		struct slot *s = &g->slots[fd];
		s->open = true;
		s->limited = limited;
		s->key = key;
		atomic_store_explicit(&s->body, 0, memory_order_relaxed);
		set_phase(g, s, PHASE_HEAD);
		if (fd >= g->high)
			g->high = fd + 1;
	}
	pthread_mutex_unlock(&g->lock);
	return admitted;
}

void guard_forget(struct guard *g, int fd)
{
	if (fd < 0 || fd >= g->nslots)
		return;
	pthread_mutex_lock(&g->lock);
	g->slots[fd].open = false;
	pthread_mutex_unlock(&g->lock);
}

/* The slot of a descriptor libmicrohttpd serves; NULL past the table. */
static struct slot *slot_of(struct guard *g, int fd)
{
	return fd >= 0 && fd < g->nslots ? &g->slots[fd] : NULL;
}

/* Moves on unless we shut it down already. */
static void advance(struct guard *g, int fd, enum phase phase)
{
	struct slot *s = slot_of(g, fd);
	if (s && atomic_load_explicit(&s->phase, memory_order_relaxed) != PHASE_GONE)
		set_phase(g, s, phase);
}

void guard_head_done(struct guard *g, int fd, bool body)
{
	struct slot *s = slot_of(g, fd);
	if (s && body)
		atomic_store_explicit(&s->body, 0, memory_order_relaxed);
	advance(g, fd, body ? PHASE_BODY : PHASE_BUSY);
}

void guard_body_bytes(struct guard *g, int fd, size_t n)
{
	struct slot *s = slot_of(g, fd);
	if (s)
		atomic_fetch_add_explicit(&s->body, n, memory_order_relaxed);
}

void guard_body_done(struct guard *g, int fd)
{
	struct slot *s = slot_of(g, fd);
	if (s && atomic_load_explicit(&s->phase, memory_order_relaxed) == PHASE_BODY)
		set_phase(g, s, PHASE_BUSY);
}

void guard_request_done(struct guard *g, int fd)
{
	advance(g, fd, PHASE_HEAD);
}

/*
 * Whether the client has sent bytes we have not read. Then the connection waits
 * on us, not on its client: libmicrohttpd serves many connections per thread,
 * and a thread held up by a slow handler reads none of its others meanwhile.
 */
static bool unread_bytes(int fd)
{
	int n = 0;
	return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/* Whether the client has overstayed what its connection's phase allows. */
static bool overdue(const struct guard *g, struct slot *s, int fd, long long now)
{
	int phase = atomic_load_explicit(&s->phase, memory_order_relaxed);
	long long waited = now - atomic_load_explicit(&s->since_ms, memory_order_relaxed);
	long long grace_ms = g->p.header_timeout_s * 1000LL;
	bool late;
	if (phase == PHASE_HEAD) {
		late = waited > grace_ms;
	} else if (phase == PHASE_BODY && g->p.min_body_bps > 0 && waited > grace_ms) {
		unsigned long long body = atomic_load_explicit(&s->body, memory_order_relaxed);
		late = body * 1000ULL < (unsigned long long)g->p.min_body_bps * (unsigned long long)waited;
	} else {
		late = false;
	}
	return late && !unread_bytes(fd);
}

int guard_sweep(struct guard *g)
{
	long long now = clock_ms();
	atomic_store_explicit(&g->now_ms, now, memory_order_relaxed);
	int dropped = 0;
	pthread_mutex_lock(&g->lock);
	for (int i = 0; i < g->high; i++) {
		struct slot *s = &g->slots[i];
		if (s->open && overdue(g, s, i, now)) {
			drop(s, i);
			dropped++;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return dropped;
}

bool guard_is_trusted(const struct guard *g, const struct sockaddr *addr)
{
	struct addr_key key;
	return g->ntrusted && key_of(addr, &key) && key_trusted(g, &key);
}

bool guard_is_trusted_text(const struct guard *g, const char *address)
{
	struct addr_key key;
	return g->ntrusted && key_parse(address, &key) && key_trusted(g, &key);
}
