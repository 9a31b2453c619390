/*
 * search_bench: the search benchmark's data and clients. `gen N DIR` writes N
 * images' rows, search terms (from core/search_terms, as uploads make them) and
 * tags as tab-separated files, and the queries to time; `http URL CONNS COUNT
 * QUERIES` times /api/search; `fulltext CONNS COUNT QUERIES` times the same
 * queries through MATCH ... AGAINST; `upload URL CONNS SECONDS CAPTION` counts uploads
 * (with BENCH_CPU_PIDS, each figure comes with the CPU time those processes spent per call;
 * with BENCH_CALLS_DIR, `http` writes each call's start, client and time there).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/db.h"
#include "core/search_terms.h"

enum {
	VOCABULARY = 24000,   /* words, of which every 20th is Chinese or Japanese */
	CJK_EVERY = 20,
	TAGS = 2000,	      /* tag vocabulary besides #photo */
	PHOTO_PERCENT = 20,   /* images tagged #photo */
	USERS = 1000,
	WORDS_MIN = 6,
	WORDS_MAX = 12,
	KINDS_MAX = 8,
	SAMPLES_MAX = 100000,
	QUERY_MAX = 256,
};

/* xorshift64*: fast, and the same data for the same N on every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static char words[VOCABULARY][32];
static double zipf_cdf[VOCABULARY];

static void make_word(int rank, char *out, size_t size)
{
	static const char *const cons[] = {"b", "c", "d", "f", "g", "h", "k", "l", "m", "n",
					   "p", "r", "s", "t", "v", "w", "z", "ch", "st", "tr"};
	static const char *const vows[] = {"a", "e", "i", "o", "u", "ai", "ou", "ea"};
	/* Han and kana, so that pairs of them are real CJK terms. */
	static const char *const cjk[] = {"東", "京", "山", "川", "花", "海", "空", "雨", "夜",
					  "月", "星", "森", "光", "風", "タ", "ワ", "ー", "カ",
					  "メ", "ラ", "写", "真", "旅", "猫"};
	size_t len = 0;
	out[0] = '\0';
	if (rank % CJK_EVERY == CJK_EVERY - 1) {
		int chars = 2 + (int)(rnd() % 2);
		for (int i = 0; i < chars; i++)
			len += (size_t)snprintf(out + len, size - len, "%s", cjk[rnd() % 24]);
		return;
	}
	/* The commonest words are long enough for FULLTEXT to index them. */
	int syllables = (rank < 10 ? 2 : 1) + (int)(rnd() % 3);
	for (int i = 0; i < syllables && len + 6 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", cons[rnd() % 20], vows[rnd() % 8]);
}

static void make_vocabulary(void)
{
	/* Distinct words: a clash is made again (a little slow, once). */
	for (int r = 0; r < VOCABULARY; r++) {
		for (;;) {
			make_word(r, words[r], sizeof(words[r]));
			bool seen = false;
			for (int k = r - 1; k >= 0 && k >= r - 4000 && !seen; k--)
				seen = strcmp(words[k], words[r]) == 0;
			if (!seen)
				break;
		}
	}
	double sum = 0;
	for (int r = 0; r < VOCABULARY; r++)
		sum += 1.0 / (r + 1);
	double acc = 0;
	for (int r = 0; r < VOCABULARY; r++) {
		acc += 1.0 / (r + 1) / sum;
		zipf_cdf[r] = acc;
	}
}

static int zipf_rank(void)
{
	double u = rnd_unit();
	int lo = 0, hi = VOCABULARY - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_cjk_rank(int r)
{
	return r % CJK_EVERY == CJK_EVERY - 1;
}

static void tsv_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\t' || *s == '\n' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static int gen(long n, const char *dir)
{
	char path[1024];
	make_vocabulary();
	snprintf(path, sizeof(path), "%s/images.tsv", dir);
	FILE *img = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/terms.tsv", dir);
	FILE *terms = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/tags.tsv", dir);
	FILE *tags = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/users.tsv", dir);
	FILE *users = fopen(path, "w");
	if (!img || !terms || !tags || !users) {
		perror("gen");
		return 1;
	}
	for (int u = 1; u <= USERS; u++)
		fprintf(users, "%d\tuser%d\tuser%d@example.org\tx\n", u, u, u);
	static long docfreq[VOCABULARY];
	long photo = 0;
	char caption[2048], key[64];
	for (long id = 1; id <= n; id++) {
		int nwords = WORDS_MIN + (int)(rnd() % (WORDS_MAX - WORDS_MIN + 1));
		int ranks[WORDS_MAX];
		size_t len = 0;
		for (int w = 0; w < nwords; w++) {
			ranks[w] = zipf_rank();
			/* CJK words run together, as CJK text is written. */
			bool glue = w > 0 && is_cjk_rank(ranks[w]) && is_cjk_rank(ranks[w - 1]);
			len += (size_t)snprintf(caption + len, sizeof(caption) - len, "%s%s",
						w && !glue ? " " : "", words[ranks[w]]);
		}
		for (int w = 0; w < nwords; w++) {
			bool dup = false;
			for (int k = 0; k < w; k++)
				dup = dup || ranks[k] == ranks[w];
			if (!dup)
				docfreq[ranks[w]]++;
		}
		int ntags = (int)(rnd() % 5);
		bool is_photo = (long)(rnd() % 100) < PHOTO_PERCENT;
		int tag_ids[5];
		int t = 0;
		if (is_photo && ntags == 0)
			ntags = 1;
		for (; t < ntags; t++) {
			tag_ids[t] = t == 0 && is_photo ? -1 : (int)(rnd() % TAGS);
			bool dup = false;
			for (int k = 0; k < t; k++)
				dup = dup || tag_ids[k] == tag_ids[t];
			if (dup) {
				tag_ids[t] = -2;
				continue;
			}
			if (tag_ids[t] == -1)
				len += (size_t)snprintf(caption + len, sizeof(caption) - len, " #photo");
			else
				len += (size_t)snprintf(caption + len, sizeof(caption) - len, " #tag%d",
							tag_ids[t]);
		}
		photo += is_photo;
		snprintf(key, sizeof(key), "img/%07ld.jpg", id);
		/* Owners by a Zipf of their own: user1 has the most images. */
		int owner = 1 + (int)(zipf_rank() % USERS);
		fprintf(img, "%ld\t%s\tnone\timage/jpeg\t1000\t%064ld\t640\t480\t%d\t", id, key, id,
			owner);
		tsv_escape(img, caption);
		fputc('\n', img);
		for (int k = 0; k < t; k++) {
			if (tag_ids[k] == -1)
				fprintf(tags, "photo\t%ld\n", id);
			else if (tag_ids[k] >= 0)
				fprintf(tags, "tag%d\t%ld\n", tag_ids[k], id);
		}
		struct search_term_set set = {0};
		search_terms_add(&set, key, strlen(key));
		search_terms_add(&set, caption, len);
		search_terms_finish(&set);
		for (size_t i = 0; i < set.n; i++)
			fprintf(terms, "%s\t%ld\n", set.terms[i], id);
		search_terms_free(&set);
	}
	/* The queries: a rare word, one in ~40% of captions, two common ones, ... */
	/*
	 * Words of 3 letters or more, so that MariaDB's FULLTEXT (which drops
	 * shorter ones) is compared on words it indexes.
	 */
	int rare = -1, forty = -1, common1 = -1, common2 = -1, cjk = -1;
	for (int r = 0; r < VOCABULARY; r++) {
		if (is_cjk_rank(r)) {
			if (cjk < 0)
				cjk = r;
			continue;
		}
		if (strlen(words[r]) < 3)
			continue;
		double f = (double)docfreq[r] / (double)n;
		if (rare < 0 && docfreq[r] > 0 && docfreq[r] <= 10 + n / 100000)
			rare = r;
		if (forty < 0 || (f - 0.40) * (f - 0.40) < ((double)docfreq[forty] / n - 0.40) *
								  ((double)docfreq[forty] / n - 0.40))
			forty = r;
	}
	for (int r = 0; r < VOCABULARY && common2 < 0; r++) {
		if (is_cjk_rank(r) || strlen(words[r]) < 3 || r == forty)
			continue;
		if (common1 < 0)
			common1 = r;
		else
			common2 = r;
	}
	if (rare < 0)
		rare = VOCABULARY - 2;
	snprintf(path, sizeof(path), "%s/queries.txt", dir);
	FILE *q = fopen(path, "w");
	char prefix[8];
	snprintf(prefix, sizeof(prefix), "%.2s", words[0]);
	fprintf(q, "rare word (%ld images)\t%s\t+%s\n", docfreq[rare], words[rare], words[rare]);
	fprintf(q, "word in %.0f%% of captions\t%s\t+%s\n", 100.0 * docfreq[forty] / n, words[forty],
		words[forty]);
	fprintf(q, "two common words (%.0f%%, %.0f%%)\t%s %s\t+%s +%s\n",
		100.0 * docfreq[common1] / n, 100.0 * docfreq[common2] / n, words[common1], words[common2], words[common1], words[common2]);
	fprintf(q, "two-letter prefix\t%s\t+%s*\n", prefix, prefix);
	fprintf(q, "#photo (%.0f%% of images)\t#photo\t+photo\n", 100.0 * photo / n);
	fprintf(q, "@user\t@user1\t-\n");
	fprintf(q, "CJK word (%ld images)\t%s\t+%s\n", docfreq[cjk], words[cjk], words[cjk]);
	fclose(q);
	fclose(img);
	fclose(terms);
	fclose(tags);
	fclose(users);
	return 0;
}

/* ---- timing ---- */

struct kind {
	char label[64], ours[QUERY_MAX], fulltext[QUERY_MAX];
};

static size_t read_queries(const char *path, struct kind *k)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[1024];
	size_t n = 0;
	while (n < KINDS_MAX && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *a = strtok(line, "\t"), *b = strtok(NULL, "\t"), *c = strtok(NULL, "\t");
		if (!a || !b || !c)
			continue;
		snprintf(k[n].label, sizeof(k[n].label), "%s", a);
		snprintf(k[n].ours, sizeof(k[n].ours), "%s", b);
		snprintf(k[n].fulltext, sizeof(k[n].fulltext), "%s", c);
		n++;
	}
	fclose(f);
	return n;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * CPU time (user and system) of the processes in BENCH_CPU_PIDS, in ms: the
 * work a call costs, which other load on the machine moves less than its time.
 * Negative when the variable is not set.
 */
static double cpu_ms(void)
{
	const char *pids = getenv("BENCH_CPU_PIDS");
	if (!pids || !*pids)
		return -1;
	double ticks = 0;
	char copy[256], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", pids);
	for (char *pid = strtok_r(copy, " ", &save); pid; pid = strtok_r(NULL, " ", &save)) {
		char path[64], line[1024];
		snprintf(path, sizeof(path), "/proc/%s/stat", pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[len] = '\0';
		/* Fields after the command's closing parenthesis: utime and stime are the 12th and 13th. */
		char *p = strrchr(line, ')');
		unsigned long long ut = 0, st = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
				&st) == 2)
			ticks += (double)(ut + st);
	}
	return ticks * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct run {
	const char *url;	  /* http: the full request URL */
	const char *match;	  /* fulltext: the AGAINST text */
	const struct config *cfg; /* fulltext */
	int count;
	double *samples;
	double *starts;	  /* when each call began, ms since the run's start */
	int *conn_of;	  /* which client thread made each call */
	double t0;
	atomic_int next;
	atomic_int conn_seq;
	atomic_int failures;
};

static size_t discard(void *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static void *http_worker(void *arg)
{
	struct run *r = arg;
	int me = atomic_fetch_add(&r->conn_seq, 1);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	for (int i; (i = atomic_fetch_add(&r->next, 1)) < r->count;) {
		double t0 = now_ms();
		r->starts[i] = t0 - r->t0;
		r->conn_of[i] = me;
		long status = 0;
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
			atomic_fetch_add(&r->failures, 1);
		r->samples[i] = now_ms() - t0;
	}
	curl_easy_cleanup(c);
	return NULL;
}

static bool drop_rows(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	(void)ctx;
	(void)cols;
	(void)lens;
	(void)ncols;
	return true;
}

static void *fulltext_worker(void *arg)
{
	struct run *r = arg;
	struct db *db = db_open(r->cfg);
	for (int i; (i = atomic_fetch_add(&r->next, 1)) < r->count;) {
		struct db_param p[] = {DB_STR(r->match)};
		double t0 = now_ms();
		if (db_exec(db,
			    "SET STATEMENT max_statement_time = 9 FOR "
			    "SELECT id FROM images WHERE MATCH (caption) AGAINST (? IN BOOLEAN MODE) "
			    "ORDER BY id DESC LIMIT 21",
			    p, 1, drop_rows, NULL) != DB_OK)
			atomic_fetch_add(&r->failures, 1);
		r->samples[i] = now_ms() - t0;
	}
	db_close(db);
	return NULL;
}

/*
 * A thread that asks to sleep 1 ms at a time and notes each wake-up more than
 * 5 ms late: a moment when this client got no CPU (the machine was busy
 * elsewhere), which makes any call in flight then slow, whatever it asked.
 */
struct canary {
	atomic_bool stop;
	double t0;
	FILE *out;
};

static void *canary_thread(void *arg)
{
	struct canary *c = arg;
	while (!atomic_load(&c->stop)) {
		double before = now_ms();
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
		double late = now_ms() - before - 1.0;
		if (late > 5.0)
			fprintf(c->out, "%.3f\t%.3f\n", before - c->t0, late);
	}
	return NULL;
}

/*
 * Runs count calls over conns threads; p50 and p99 in ms. With `calls` named,
 * every call goes there as a line: when it began (ms), its client thread and
 * how long it took, to tell a slow query from a moment when everything stalled.
 */
static void time_calls(struct run *r, int conns, void *(*worker)(void *), double *p50, double *p99,
		       const char *calls)
{
	r->samples = calloc((size_t)r->count, sizeof(double));
	r->starts = calloc((size_t)r->count, sizeof(double));
	r->conn_of = calloc((size_t)r->count, sizeof(int));
	r->t0 = now_ms();
	atomic_store(&r->next, 0);
	atomic_store(&r->failures, 0);
	atomic_store(&r->conn_seq, 0);
	/* With the calls noted, the moments this client was kept off the CPU are too: <calls>.late */
	struct canary c = {.t0 = r->t0};
	pthread_t ct;
	char late[1100];
	snprintf(late, sizeof(late), "%s.late", calls ? calls : "");
	c.out = calls ? fopen(late, "w") : NULL;
	atomic_init(&c.stop, false);
	bool canary = c.out && pthread_create(&ct, NULL, canary_thread, &c) == 0;
	pthread_t t[64];
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, worker, r);
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	atomic_store(&c.stop, true);
	if (canary)
		pthread_join(ct, NULL);
	if (c.out)
		fclose(c.out);
	FILE *f = calls ? fopen(calls, "w") : NULL;
	for (int i = 0; f && i < r->count; i++)
		fprintf(f, "%.3f\t%d\t%.3f\n", r->starts[i], r->conn_of[i], r->samples[i]);
	if (f)
		fclose(f);
	free(r->starts);
	free(r->conn_of);
	qsort(r->samples, (size_t)r->count, sizeof(double), cmp_double);
	*p50 = r->samples[r->count / 2];
	*p99 = r->samples[(int)(r->count * 0.99)];
	free(r->samples);
}

static int timing(const char *mode, const char *base, int conns, int count, const char *qpath)
{
	struct kind k[KINDS_MAX];
	size_t n = read_queries(qpath, k);
	struct config cfg;
	char err[256];
	if (strcmp(mode, "fulltext") == 0 && !config_load(&cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CURL *esc = curl_easy_init();
	for (size_t i = 0; i < n; i++) {
		struct run r = {.count = count, .cfg = &cfg};
		char url[1024];
		double p50, p99;
		char cpu[32] = "";
		if (strcmp(mode, "http") == 0) {
			char *q = curl_easy_escape(esc, k[i].ours, 0);
			snprintf(url, sizeof(url), "%s/api/search?q=%s", base, q);
			curl_free(q);
			r.url = url;
			/* Warm the caches as a running gallery has them. */
			r.count = conns;
			time_calls(&r, conns, http_worker, &p50, &p99, NULL);
			r.count = count;
			double cpu0 = cpu_ms();
			const char *dir = getenv("BENCH_CALLS_DIR");
			char calls[1024];
			if (dir)
				snprintf(calls, sizeof(calls), "%s/calls-%d-%zu.tsv", dir, conns, i);
			time_calls(&r, conns, http_worker, &p50, &p99, dir ? calls : NULL);
			double cpu1 = cpu_ms();
			if (cpu0 >= 0)
				snprintf(cpu, sizeof(cpu), " %10.2f", (cpu1 - cpu0) / count);
		} else {
			if (strcmp(k[i].fulltext, "-") == 0) {
				printf("%-32.32s %10s %10s\n", k[i].label, "n/a", "n/a");
				continue;
			}
			r.match = k[i].fulltext;
			time_calls(&r, conns, fulltext_worker, &p50, &p99, NULL);
		}
		if (atomic_load(&r.failures))
			printf("%-32.32s %10.2f %10.2f%s  (%d of %d over 9 s or failed)\n", k[i].label,
			       p50, p99, cpu, atomic_load(&r.failures), r.count);
		else
			printf("%-32.32s %10.2f %10.2f%s\n", k[i].label, p50, p99, cpu);
		fflush(stdout);
	}
	curl_easy_cleanup(esc);
	return 0;
}

/* ---- uploads ---- */

struct uploads {
	const char *url, *caption;
	double until;
	atomic_long done, failed;
	atomic_int seq;
	long run; /* in every key, so that no run replaces the images of an earlier one */
};

static void *upload_worker(void *arg)
{
	struct uploads *u = arg;
	static const char PNG[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00"
				  "\x00\x10\x08\x02\x00\x00\x00\x90\x91\x68\x36 bench bytes";
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, u->url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	while (now_ms() < u->until) {
		char key[64];
		snprintf(key, sizeof(key), "up/%ld-%d", u->run, atomic_fetch_add(&u->seq, 1));
		curl_mime *mime = curl_mime_init(c);
		curl_mimepart *part = curl_mime_addpart(mime);
		curl_mime_name(part, "key");
		curl_mime_data(part, key, CURL_ZERO_TERMINATED);
		if (u->caption[0]) {
			part = curl_mime_addpart(mime);
			curl_mime_name(part, "caption");
			curl_mime_data(part, u->caption, CURL_ZERO_TERMINATED);
		}
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "file");
		curl_mime_filename(part, "a.png");
		curl_mime_data(part, PNG, sizeof(PNG));
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
		long status = 0;
		bool ok = curl_easy_perform(c) == CURLE_OK &&
			  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
			  status == 200;
		atomic_fetch_add(ok ? &u->done : &u->failed, 1);
		curl_mime_free(mime);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static int uploads(const char *base, int conns, int seconds, const char *caption)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/api/upload", base);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct uploads u = {.url = url, .caption = caption, .until = now_ms() + seconds * 1000.0,
			    .run = (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000};
	atomic_store(&u.seq, 0);
	double cpu0 = cpu_ms();
	pthread_t t[64];
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, upload_worker, &u);
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	double cpu1 = cpu_ms();
	long done = atomic_load(&u.done);
	printf("%.1f %ld %.2f\n", (double)done / seconds, atomic_load(&u.failed),
	       cpu0 >= 0 && done ? (cpu1 - cpu0) / (double)done : -1.0);
	return 0;
}

int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db_library_init();
	int rc = 2;
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		rc = gen(atol(argv[2]), argv[3]);
	else if (argc == 6 && strcmp(argv[1], "http") == 0)
		rc = timing("http", argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	else if (argc == 5 && strcmp(argv[1], "fulltext") == 0)
		rc = timing("fulltext", NULL, atoi(argv[2]), atoi(argv[3]), argv[4]);
	else if (argc == 6 && strcmp(argv[1], "upload") == 0)
		rc = uploads(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	else
		fprintf(stderr, "usage: search_bench gen N DIR | http URL CONNS COUNT QUERIES | "
				"fulltext CONNS COUNT QUERIES | upload URL CONNS SECONDS CAPTION\n");
	db_library_end();
	curl_global_cleanup();
	return rc;
}
