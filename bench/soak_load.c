/*
 * soak_load: the load of the soak benchmark (bench/soak.sh). N connections,
 * each a thread with one keep-alive libcurl handle, send reads
 * (GET /api/key/<k>) and uploads (POST /api/upload) in a given ratio to the
 * front end for a given time, then read back every image they uploaded and
 * compare it byte for byte.
 *
 * Every image says what it is: a GIF header, then the id of its key, its
 * version and its length, then bytes drawn from a generator seeded by id and
 * version. So any answer can be checked against the bytes it must hold, and a
 * read can tell an old version from the newest acknowledged one.
 *
 * Keys: each connection owns HOT_KEYS_PER_CONNECTION keys that it uploaded
 * before the clock started and that it alone overwrites (so the newest
 * acknowledged version of each is known), and it uploads fresh keys that are
 * never overwritten (so each of them can be checked at the end). Reads go to
 * the hot keys (memcache hits) or to fresh keys already acknowledged (mostly
 * misses, served from disk).
 *
 * usage: soak_load URL SECONDS CONNECTIONS READ_PERCENT READY_FILE MINUTES_TSV [MIN-MAX]
 * MIN-MAX: the range of image sizes in bytes (default 1024-24576).
 * It creates READY_FILE when the hot keys are in and the clock starts, writes
 * one line per minute to MINUTES_TSV, and prints its totals. Exit status 0
 * when every check at the end matched, 1 otherwise, 2 when it could not run.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/b64.h"

enum {
	HOT_KEYS_PER_CONNECTION = 16,
	HOT_READ_PERCENT = 70, /* of reads; the rest read fresh keys */
	FRESH_UPLOAD_PERCENT = 50, /* of uploads; the rest overwrite a hot key */
	IMAGE_MIN_BYTES = 1024,
	IMAGE_MAX_BYTES = 24 * 1024,
	IMAGE_LIMIT_BYTES = 16 * 1024 * 1024,
	REQUEST_TIMEOUT_S = 15,
	LATENCY_BUCKETS = 800, /* buckets of 3% from 1 us up */
	MAX_CONNECTIONS = 512, /* fresh key ids hold the connection in 10 bits */
	HEADER_BYTES = 10 + 12, /* GIF header, then id, version, length */
	SAY_FAILURES = 5, /* of each kind */
};

static const double BUCKET_RATIO = 1.03;

/* What can go wrong with one request. */
#define ERROR_KINDS(X)                                                                 \
	X(CONNECT, "connect")         /* no connection: refused, reset before answer */ \
	X(TIMEOUT, "timeout")         /* no answer within REQUEST_TIMEOUT_S */         \
	X(TRANSPORT, "transport")     /* any other libcurl failure */                  \
	X(HTTP_404, "http-404")                                                        \
	X(HTTP_500, "http-500")                                                        \
	X(HTTP_503, "http-503")                                                        \
	X(HTTP_OTHER, "http-other")   /* any other non-200 status */                   \
	X(BAD_BODY, "bad-body")       /* 200 but not the JSON of a success */          \
	X(WRONG_BYTES, "wrong-bytes") /* an image that is not what was uploaded */     \
	X(STALE, "stale")             /* an older version than one acknowledged */

#define KIND_ENUM(name, text) KIND_##name,
enum error_kind { ERROR_KINDS(KIND_ENUM) KIND_COUNT };
#define KIND_TEXT(name, text) text,
static const char *const KIND_NAMES[] = {ERROR_KINDS(KIND_TEXT)};

enum op { OP_READ, OP_UPLOAD, OP_COUNT };

struct minute {
	atomic_ulong requests[OP_COUNT];
	atomic_ulong errors[OP_COUNT][KIND_COUNT];
	atomic_ulong latency[LATENCY_BUCKETS];
	atomic_ulong max_us;
};

/* A hot key: only its owner writes it; readers only load acked. */
struct hot_key {
	atomic_uint acked;      /* newest version whose upload answered success */
	unsigned attempted;     /* newest version sent (owner only) */
};

struct fresh_list {
	pthread_mutex_t lock;
	uint32_t *ids;
	size_t len, cap;
};

struct run {
	const char *url;
	int connections;
	int read_percent;
	double seconds;
	uint32_t image_min, image_max; /* bytes */
	struct timespec start;
	int minutes;
	struct minute *per_minute;
	struct hot_key *hot;        /* connections * HOT_KEYS_PER_CONNECTION */
	struct fresh_list acked;    /* fresh keys whose upload answered success */
	struct fresh_list failed;   /* fresh keys whose upload answered an error */
	atomic_ulong http_other[600];
	atomic_int preload_failures;
	pthread_barrier_t ready;
	struct curl_slist *headers; /* shared by every handle, which only read it */
};

struct worker {
	struct run *run;
	int index;
	uint64_t rng;
	CURL *curl;
	struct buf body;
	struct buf image;
	struct buf decoded;
	uint32_t fresh_seq;
	/* the final check */
	unsigned long checked, matched, later_failed_version, failed_present, failed_absent;
	unsigned long check_errors[KIND_COUNT];
};

/* --- images ------------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The bytes of version of key id: always the same for the same pair. */
static bool make_image(const struct run *run, uint32_t id, uint32_t version, struct buf *out)
{
	uint64_t seed = (uint64_t)id << 32 | version;
	uint32_t len = run->image_min +
		       (uint32_t)(splitmix(&seed) % (run->image_max - run->image_min + 1));
	buf_reset(out);
	if (!buf_reserve(out, len))
		return false;
	unsigned char *p = (unsigned char *)out->data;
	memcpy(p, "GIF89a\x40\x01\xf0\x00", 10);
	put_u32(p + 10, id);
	put_u32(p + 14, version);
	put_u32(p + 18, len);
	for (uint32_t i = HEADER_BYTES; i < len; i += 8) {
		uint64_t r = splitmix(&seed);
		memcpy(p + i, &r, len - i < 8 ? len - i : 8);
	}
	out->len = len;
	out->data[len] = '\0';
	return true;
}

/* Fresh key ids carry their connection in the high bits; hot key ids are small. */
static uint32_t fresh_id(int connection, uint32_t seq)
{
	return (uint32_t)(connection + 1) << 22 | seq;
}

/* Keys hold a slash and a space, so every request also checks their escaping. */
static void key_name(uint32_t id, char *out, size_t size)
{
	if (id >> 22)
		snprintf(out, size, "soak/fresh %u-%u", (id >> 22) - 1, id & ((1u << 22) - 1));
	else
		snprintf(out, size, "soak/hot %u", id);
}

/* --- recording ------------------------------------------------------------------ */

static double now_s(const struct run *run)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - run->start.tv_sec) + (t.tv_nsec - run->start.tv_nsec) / 1e9;
}

static struct minute *minute_at(struct run *run, double t)
{
	int m = (int)(t / 60);
	return &run->per_minute[m < run->minutes ? m : run->minutes - 1];
}

static void record(struct run *run, enum op op, double started, double ended, int kind)
{
	struct minute *m = minute_at(run, started);
	atomic_fetch_add(&m->requests[op], 1);
	if (kind >= 0)
		atomic_fetch_add(&m->errors[op][kind], 1);
	/* The first failures of each kind, with their time, to match against events. */
	static atomic_int said[KIND_COUNT];
	if (kind >= 0 && atomic_fetch_add(&said[kind], 1) < SAY_FAILURES)
		printf("failure at %.1f s: %s %s after %.1f s\n", started, op == OP_READ ? "read" : "upload",
		       KIND_NAMES[kind], ended - started);
	unsigned long us = (unsigned long)((ended - started) * 1e6);
	int b = us <= 1 ? 0 : (int)(log((double)us) / log(BUCKET_RATIO));
	atomic_fetch_add(&m->latency[b < LATENCY_BUCKETS ? b : LATENCY_BUCKETS - 1], 1);
	unsigned long old = atomic_load(&m->max_us);
	while (us > old && !atomic_compare_exchange_weak(&m->max_us, &old, us))
		;
}

static bool list_add(struct fresh_list *l, uint32_t id)
{
	pthread_mutex_lock(&l->lock);
	bool ok = true;
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint32_t *ids = realloc(l->ids, cap * sizeof(*ids));
		if (ids) {
			l->ids = ids;
			l->cap = cap;
		} else {
			ok = false;
		}
	}
	if (ok)
		l->ids[l->len++] = id;
	pthread_mutex_unlock(&l->lock);
	return ok;
}

static bool list_pick(struct fresh_list *l, uint64_t r, uint32_t *id)
{
	pthread_mutex_lock(&l->lock);
	bool any = l->len > 0;
	if (any)
		*id = l->ids[r % l->len];
	pthread_mutex_unlock(&l->lock);
	return any;
}

/* --- requests ------------------------------------------------------------------ */

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
	return buf_append(userdata, data, size * n) ? size * n : 0;
}

/* The error kind of a finished transfer, or -1 for a 200. */
static int transfer_kind(struct run *run, CURLcode rc, long status)
{
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return KIND_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return KIND_TIMEOUT;
	default:
		return KIND_TRANSPORT;
	}
	switch (status) {
	case 200:
		return -1;
	case 404:
		return KIND_HTTP_404;
	case 500:
		return KIND_HTTP_500;
	case 503:
		return KIND_HTTP_503;
	default:
		if (status >= 0 && status < 600)
			atomic_fetch_add(&run->http_other[status], 1);
		return KIND_HTTP_OTHER;
	}
}

static CURLcode perform(struct worker *w, const char *url, long *status)
{
	buf_reset(&w->body);
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	CURLcode rc = curl_easy_perform(w->curl);
	*status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

static void key_url(struct worker *w, uint32_t id, char *url, size_t size)
{
	char key[64];
	key_name(id, key, sizeof(key));
	char *escaped = curl_easy_escape(w->curl, key, 0);
	snprintf(url, size, "%s/api/key/%s", w->run->url, escaped ? escaped : "");
	curl_free(escaped);
}

/*
 * Reads key id and checks its bytes. A version below min_version is stale; one
 * above max_version is wrong. Returns the error kind or -1; *version is what
 * the image said it was.
 */
static int read_image(struct worker *w, uint32_t id, uint32_t min_version, uint32_t max_version,
		      uint32_t *version)
{
	char url[256];
	key_url(w, id, url, sizeof(url));
	curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	long status;
	CURLcode rc = perform(w, url, &status);
	int kind = transfer_kind(w->run, rc, status);
	if (kind >= 0)
		return kind;
	cJSON *root = cJSON_ParseWithLength(w->body.data, w->body.len);
	const cJSON *success = cJSON_GetObjectItemCaseSensitive(root, "success");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
	kind = KIND_BAD_BODY;
	if (!cJSON_IsString(success) || strcmp(success->valuestring, "true") != 0 ||
	    !cJSON_IsString(content))
		goto out;
	buf_reset(&w->decoded);
	if (!b64_decode(content->valuestring, strlen(content->valuestring), &w->decoded))
		goto out;
	kind = KIND_WRONG_BYTES;
	const unsigned char *p = (const unsigned char *)w->decoded.data;
	if (w->decoded.len < HEADER_BYTES || get_u32(p + 10) != id)
		goto out;
	*version = get_u32(p + 14);
	if (*version < min_version) {
		kind = KIND_STALE;
		goto out;
	}
	if (*version > max_version || !make_image(w->run, id, *version, &w->image) ||
	    w->image.len != w->decoded.len || memcmp(w->image.data, p, w->image.len) != 0)
		goto out;
	kind = -1;
out:
	cJSON_Delete(root);
	return kind;
}

static int upload_image(struct worker *w, uint32_t id, uint32_t version)
{
	char key[64], url[256];
	key_name(id, key, sizeof(key));
	snprintf(url, sizeof(url), "%s/api/upload", w->run->url);
	if (!make_image(w->run, id, version, &w->image))
		return KIND_TRANSPORT;
	curl_mime *form = curl_mime_init(w->curl);
	curl_mimepart *part = curl_mime_addpart(form);
	curl_mime_name(part, "key");
	curl_mime_data(part, key, CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(form);
	curl_mime_name(part, "file");
	curl_mime_data(part, w->image.data, w->image.len);
	curl_mime_filename(part, "soak.gif");
	curl_easy_setopt(w->curl, CURLOPT_MIMEPOST, form);
	long status;
	CURLcode rc = perform(w, url, &status);
	curl_easy_setopt(w->curl, CURLOPT_MIMEPOST, NULL);
	curl_mime_free(form);
	int kind = transfer_kind(w->run, rc, status);
	if (kind < 0 && !(w->body.data && strcmp(w->body.data, "{\"success\":\"true\"}") == 0))
		kind = KIND_BAD_BODY;
	return kind;
}

/* --- the connections ---------------------------------------------------------------- */

static struct hot_key *own_hot(struct worker *w, unsigned i)
{
	return &w->run->hot[w->index * HOT_KEYS_PER_CONNECTION + i];
}

static uint32_t hot_id(const struct worker *w, unsigned i)
{
	return (uint32_t)(w->index * HOT_KEYS_PER_CONNECTION + i);
}

static void one_read(struct worker *w)
{
	struct run *run = w->run;
	uint64_t r = splitmix(&w->rng);
	uint32_t id, min_version, max_version = UINT32_MAX, version;
	if (r % 100 < HOT_READ_PERCENT || !list_pick(&run->acked, r >> 8, &id)) {
		id = (uint32_t)((r >> 8) % ((uint64_t)run->connections * HOT_KEYS_PER_CONNECTION));
		min_version = atomic_load(&run->hot[id].acked);
	} else {
		min_version = max_version = 0;
	}
	double started = now_s(run);
	int kind = read_image(w, id, min_version, max_version, &version);
	record(run, OP_READ, started, now_s(run), kind);
}

static void one_upload(struct worker *w)
{
	struct run *run = w->run;
	uint64_t r = splitmix(&w->rng);
	double started;
	int kind;
	if (r % 100 < FRESH_UPLOAD_PERCENT) {
		uint32_t id = fresh_id(w->index, w->fresh_seq++);
		started = now_s(run);
		kind = upload_image(w, id, 0);
		record(run, OP_UPLOAD, started, now_s(run), kind);
		list_add(kind < 0 ? &run->acked : &run->failed, id);
	} else {
		unsigned i = (unsigned)((r >> 8) % HOT_KEYS_PER_CONNECTION);
		struct hot_key *hot = own_hot(w, i);
		uint32_t version = ++hot->attempted;
		started = now_s(run);
		kind = upload_image(w, hot_id(w, i), version);
		record(run, OP_UPLOAD, started, now_s(run), kind);
		if (kind < 0)
			atomic_store(&hot->acked, version);
	}
}

static bool worker_open(struct worker *w)
{
	w->curl = curl_easy_init();
	if (!w->curl)
		return false;
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &w->body);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->run->headers);
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	/* The hot keys at version 1 before the clock starts. */
	for (unsigned i = 0; i < HOT_KEYS_PER_CONNECTION; i++) {
		struct hot_key *hot = own_hot(w, i);
		hot->attempted = 1;
		if (upload_image(w, hot_id(w, i), 1) < 0)
			atomic_store(&hot->acked, 1);
		else
			atomic_fetch_add(&run->preload_failures, 1);
	}
	pthread_barrier_wait(&run->ready);
	if (atomic_load(&run->preload_failures) > 0)
		return NULL;
	pthread_barrier_wait(&run->ready); /* the main thread has started the clock */
	while (now_s(run) < run->seconds) {
		if (splitmix(&w->rng) % 100 < (uint64_t)run->read_percent)
			one_read(w);
		else
			one_upload(w);
	}
	return NULL;
}

/* --- the check at the end ------------------------------------------------------- */

static void check_one(struct worker *w, uint32_t id, uint32_t min_version, uint32_t max_version)
{
	uint32_t version = 0;
	int kind = read_image(w, id, min_version, max_version, &version);
	w->checked++;
	if (kind >= 0)
		w->check_errors[kind]++;
	else if (version == min_version)
		w->matched++;
	else
		w->later_failed_version++;
}

static void check_list(struct worker *w, struct fresh_list *l, bool acknowledged)
{
	int n = w->run->connections;
	for (size_t i = (size_t)w->index; i < l->len; i += (size_t)n) {
		if (acknowledged) {
			check_one(w, l->ids[i], 0, 0);
			continue;
		}
		/* An upload that answered an error may or may not have been stored, never half. */
		uint32_t version;
		int kind = read_image(w, l->ids[i], 0, 0, &version);
		if (kind < 0)
			w->failed_present++;
		else if (kind == KIND_HTTP_404)
			w->failed_absent++;
		else
			w->check_errors[kind]++;
	}
}

static void *check_main(void *arg)
{
	struct worker *w = arg;
	for (unsigned i = 0; i < HOT_KEYS_PER_CONNECTION; i++) {
		struct hot_key *hot = own_hot(w, i);
		check_one(w, hot_id(w, i), atomic_load(&hot->acked), hot->attempted);
	}
	check_list(w, &w->run->acked, true);
	check_list(w, &w->run->failed, false);
	return NULL;
}

/* --- figures ------------------------------------------------------------------ */

static double percentile_ms(const struct minute *m, double q)
{
	unsigned long total = 0, seen = 0;
	for (int b = 0; b < LATENCY_BUCKETS; b++)
		total += atomic_load(&m->latency[b]);
	if (total == 0)
		return 0;
	for (int b = 0; b < LATENCY_BUCKETS; b++) {
		seen += atomic_load(&m->latency[b]);
		if ((double)seen >= q * (double)total)
			return pow(BUCKET_RATIO, b + 1) / 1000; /* the bucket's upper bound */
	}
	return 0;
}

static unsigned long minute_errors(const struct minute *m, int kind)
{
	return atomic_load(&m->errors[OP_READ][kind]) + atomic_load(&m->errors[OP_UPLOAD][kind]);
}

static bool write_minutes(const struct run *run, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	fprintf(f, "minute\treads\tuploads\terrors\tp50_ms\tp99_ms\tmax_ms\terror_kinds\n");
	for (int i = 0; i < run->minutes; i++) {
		const struct minute *m = &run->per_minute[i];
		unsigned long errors = 0;
		char kinds[512] = "";
		size_t used = 0;
		for (int k = 0; k < KIND_COUNT; k++) {
			unsigned long n = minute_errors(m, k);
			errors += n;
			if (n && used < sizeof(kinds))
				used += (size_t)snprintf(kinds + used, sizeof(kinds) - used, "%s%s %lu",
							 used ? ", " : "", KIND_NAMES[k], n);
		}
		fprintf(f, "%d\t%lu\t%lu\t%lu\t%.2f\t%.2f\t%.2f\t%s\n", i + 1,
			atomic_load(&m->requests[OP_READ]), atomic_load(&m->requests[OP_UPLOAD]),
			errors, percentile_ms(m, 0.50), percentile_ms(m, 0.99),
			atomic_load(&m->max_us) / 1000.0, used ? kinds : "-");
	}
	return fclose(f) == 0;
}

static void print_totals(struct run *run)
{
	static const char *const OP_NAMES[] = {"reads", "uploads"};
	printf("errors by kind over the whole run:\n");
	printf("  %-12s %10s %10s\n", "kind", "reads", "uploads");
	unsigned long total[OP_COUNT] = {0}, errors[OP_COUNT] = {0};
	for (int k = 0; k < KIND_COUNT; k++) {
		unsigned long n[OP_COUNT] = {0};
		for (int i = 0; i < run->minutes; i++)
			for (int op = 0; op < OP_COUNT; op++)
				n[op] += atomic_load(&run->per_minute[i].errors[op][k]);
		printf("  %-12s %10lu %10lu\n", KIND_NAMES[k], n[OP_READ], n[OP_UPLOAD]);
		for (int op = 0; op < OP_COUNT; op++)
			errors[op] += n[op];
	}
	for (int s = 0; s < 600; s++)
		if (atomic_load(&run->http_other[s]))
			printf("  (http-other: %lu answers with status %d)\n",
			       atomic_load(&run->http_other[s]), s);
	for (int i = 0; i < run->minutes; i++)
		for (int op = 0; op < OP_COUNT; op++)
			total[op] += atomic_load(&run->per_minute[i].requests[op]);
	for (int op = 0; op < OP_COUNT; op++)
		printf("%s: %lu, of which %lu errors (%.3f%%)\n", OP_NAMES[op], total[op], errors[op],
		       total[op] ? 100.0 * (double)errors[op] / (double)total[op] : 0.0);
	printf("requests: %lu in %.0f s, %.0f/s\n", total[OP_READ] + total[OP_UPLOAD], run->seconds,
	       (double)(total[OP_READ] + total[OP_UPLOAD]) / run->seconds);
}

/* --- main ------------------------------------------------------------------------ */

static bool run_threads(struct run *run, struct worker *workers, void *(*fn)(void *))
{
	pthread_t threads[MAX_CONNECTIONS];
	int started = 0;
	for (; started < run->connections; started++)
		if (pthread_create(&threads[started], NULL, fn, &workers[started]) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	return started == run->connections;
}

struct load_args {
	struct run *run;
	struct worker *workers;
};

static void *load_main(void *arg)
{
	struct load_args *a = arg;
	if (!run_threads(a->run, a->workers, worker_main)) {
		fprintf(stderr, "soak_load: cannot start the connections\n");
		exit(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: %s URL SECONDS CONNECTIONS READ_PERCENT READY_FILE "
				"MINUTES_TSV [MIN-MAX image bytes]\n", argv[0]);
		return 2;
	}
	struct run run = {.url = argv[1],
			  .seconds = atof(argv[2]),
			  .connections = atoi(argv[3]),
			  .read_percent = atoi(argv[4]),
			  .image_min = IMAGE_MIN_BYTES,
			  .image_max = IMAGE_MAX_BYTES};
	unsigned min = IMAGE_MIN_BYTES, max = IMAGE_MAX_BYTES;
	if (argc == 8 && sscanf(argv[7], "%u-%u", &min, &max) != 2)
		min = max = 0;
	run.image_min = min, run.image_max = max;
	if (run.seconds <= 0 || run.connections < 1 || run.connections > MAX_CONNECTIONS ||
	    run.read_percent < 0 || run.read_percent > 100 || min < HEADER_BYTES || max < min ||
	    max > IMAGE_LIMIT_BYTES) {
		fprintf(stderr, "soak_load: bad SECONDS, CONNECTIONS, READ_PERCENT or MIN-MAX\n");
		return 2;
	}
	int exit_code = 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	run.minutes = (int)ceil(run.seconds / 60);
	run.per_minute = calloc((size_t)run.minutes, sizeof(*run.per_minute));
	run.hot = calloc((size_t)run.connections * HOT_KEYS_PER_CONNECTION, sizeof(*run.hot));
	struct worker *workers = calloc((size_t)run.connections, sizeof(*workers));
	pthread_mutex_init(&run.acked.lock, NULL);
	pthread_mutex_init(&run.failed.lock, NULL);
	run.headers = curl_slist_append(NULL, "Expect:");
	if (!run.per_minute || !run.hot || !workers || !run.headers)
		goto out;
	for (int i = 0; i < run.connections; i++) {
		workers[i] = (struct worker){.run = &run, .index = i, .rng = 0x50a4ULL * (i + 1)};
		if (!worker_open(&workers[i]))
			goto out;
	}

	/* The connections preload, then wait at the barrier for the clock. */
	pthread_barrier_init(&run.ready, NULL, (unsigned)run.connections + 1);
	pthread_t load;
	struct load_args args = {&run, workers};
	if (pthread_create(&load, NULL, load_main, &args) != 0)
		goto out;
	pthread_barrier_wait(&run.ready);
	if (atomic_load(&run.preload_failures) > 0) {
		pthread_join(load, NULL);
		fprintf(stderr, "soak_load: %d of the hot keys could not be uploaded\n",
			atomic_load(&run.preload_failures));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &run.start);
	FILE *ready = fopen(argv[5], "w");
	if (ready)
		fclose(ready);
	pthread_barrier_wait(&run.ready);
	pthread_join(load, NULL);

	if (!write_minutes(&run, argv[6]))
		fprintf(stderr, "soak_load: cannot write %s: %s\n", argv[6], strerror(errno));
	print_totals(&run);

	printf("\nchecking every upload, byte for byte\n");
	fflush(stdout);
	if (!run_threads(&run, workers, check_main))
		goto out;
	unsigned long checked = 0, matched = 0, later = 0, present = 0, absent = 0;
	unsigned long errors[KIND_COUNT] = {0}, error_total = 0;
	for (int i = 0; i < run.connections; i++) {
		checked += workers[i].checked;
		matched += workers[i].matched;
		later += workers[i].later_failed_version;
		present += workers[i].failed_present;
		absent += workers[i].failed_absent;
		for (int k = 0; k < KIND_COUNT; k++) {
			errors[k] += workers[i].check_errors[k];
			error_total += workers[i].check_errors[k];
		}
	}
	size_t hot = (size_t)run.connections * HOT_KEYS_PER_CONNECTION;
	printf("fresh keys acknowledged: %zu; hot keys: %zu (overwritten by the owner; "
	       "checked at their newest acknowledged version)\n", run.acked.len, hot);
	printf("uploads checked: %lu; matched byte for byte: %lu; held a newer version whose "
	       "upload had answered an error: %lu\n", checked, matched, later);
	printf("fresh uploads that answered an error: %zu; stored whole anyway: %lu; "
	       "absent: %lu\n", run.failed.len, present, absent);
	printf("check failures: %lu", error_total);
	for (int k = 0; k < KIND_COUNT; k++)
		if (errors[k])
			printf(", %s %lu", KIND_NAMES[k], errors[k]);
	printf("\n");
	exit_code = error_total == 0 && checked == matched + later ? 0 : 1;
out:
	for (int i = 0; workers && i < run.connections; i++) {
		curl_easy_cleanup(workers[i].curl);
		buf_free(&workers[i].body);
		buf_free(&workers[i].image);
		buf_free(&workers[i].decoded);
	}
	free(workers);
	curl_slist_free_all(run.headers);
	free(run.acked.ids);
	free(run.failed.ids);
	free(run.hot);
	free(run.per_minute);
	curl_global_cleanup();
	return exit_code;
}
