/* mc_set: sets of one value over rotating keys against memcached's text protocol, one thread per connection, for the memcache benchmark. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONNECTIONS = 256, HEADER_MAX = 128, REPLY_MAX = 256, LATENCY_BUCKETS = 100000 };

static const char USAGE[] = "usage: mc_set PORT CONNECTIONS SECONDS KEYS VALUE_FILE\n"
			    "Sets VALUE_FILE's bytes under keys mc-0..mc-<KEYS-1> on "
			    "127.0.0.1:PORT, each connection rotating over its share,\n"
			    "and prints sets/s, p50 and p99 in ms and the errors.\n";

struct load {
	int port, connections, keys;
	double seconds;
	const char *value;
	size_t value_len;
	atomic_bool stop;
};

/* Latencies in 10 us buckets, the last one for everything longer. */
struct worker {
	struct load *load;
	int id;
	unsigned long sets, errors;
	unsigned long *buckets;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return true;
}

/* Reads one reply line; true when it is STORED. */
static bool read_reply(int fd)
{
	char line[REPLY_MAX];
	size_t got = 0;
	while (got < sizeof(line)) {
		ssize_t r = read(fd, line + got, sizeof(line) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
		if (got >= 2 && line[got - 2] == '\r' && line[got - 1] == '\n')
			return got == 8 && memcmp(line, "STORED\r\n", 8) == 0;
	}
	return false;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct load *l = w->load;
	int fd = connect_to(l->port);
	if (fd < 0) {
		w->errors++;
		return NULL;
	}
	char header[HEADER_MAX];
	static const char END[] = "\r\n";
	/* Connection i sets keys i, i + connections, ...: distinct keys per connection. */
	for (int k = w->id; !atomic_load(&l->stop); k += l->connections) {
		if (k >= l->keys)
			k = w->id % (l->keys > 0 ? l->keys : 1);
		int n = snprintf(header, sizeof(header), "set mc-%d 0 0 %zu\r\n", k, l->value_len);
		struct iovec iov[] = {{header, (size_t)n},
				      {(void *)l->value, l->value_len},
				      {(void *)END, 2}};
		double start = now_s();
		if (!send_all(fd, iov, 3) || !read_reply(fd)) {
			w->errors++;
			break;
		}
		size_t b = (size_t)((now_s() - start) * 1e5);
		w->buckets[b < LATENCY_BUCKETS ? b : LATENCY_BUCKETS - 1]++;
		w->sets++;
	}
	close(fd);
	return NULL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);
		rewind(f);
		data = n > 0 ? malloc((size_t)n) : NULL;
		if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
		*len = n > 0 ? (size_t)n : 0;
	}
	fclose(f);
	return data;
}

static double percentile_ms(const unsigned long *buckets, unsigned long total, double p)
{
	unsigned long want = (unsigned long)(p * (double)total), seen = 0;
	for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
		seen += buckets[i];
		if (seen > want)
			return (double)(i + 1) / 100.0;
	}
	return (double)LATENCY_BUCKETS / 100.0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fputs(USAGE, stderr);
		return 2;
	}
	struct load l = {.port = atoi(argv[1]), .connections = atoi(argv[2]),
			 .seconds = atof(argv[3]), .keys = atoi(argv[4])};
	if (l.connections < 1 || l.connections > MAX_CONNECTIONS || l.keys < 1 || l.seconds <= 0) {
		fputs(USAGE, stderr);
		return 2;
	}
	l.value = read_file(argv[5], &l.value_len);
	if (!l.value) {
		fprintf(stderr, "mc_set: cannot read %s\n", argv[5]);
		return 1;
	}
	struct worker workers[MAX_CONNECTIONS];
	pthread_t threads[MAX_CONNECTIONS];
	unsigned long *all = calloc(LATENCY_BUCKETS, sizeof(*all));
	double start = now_s();
	for (int i = 0; i < l.connections; i++) {
		workers[i] = (struct worker){&l, i, 0, 0, calloc(LATENCY_BUCKETS, sizeof(unsigned long))};
		pthread_create(&threads[i], NULL, run, &workers[i]);
	}
	struct timespec pause = {(time_t)l.seconds,
				 (long)((l.seconds - (double)(time_t)l.seconds) * 1e9)};
	nanosleep(&pause, NULL);
	atomic_store(&l.stop, true);
	unsigned long sets = 0, errors = 0;
	for (int i = 0; i < l.connections; i++) {
		pthread_join(threads[i], NULL);
		sets += workers[i].sets;
		errors += workers[i].errors;
		for (size_t b = 0; b < LATENCY_BUCKETS; b++)
			all[b] += workers[i].buckets[b];
		free(workers[i].buckets);
	}
	double elapsed = now_s() - start;
	printf("sets/s: %.2f\np50_ms: %.3f\np99_ms: %.3f\nerrors: %lu\n", (double)sets / elapsed,
	       percentile_ms(all, sets, 0.50), percentile_ms(all, sets, 0.99), errors);
	free(all);
	free((void *)l.value);
	return errors ? 1 : 0;
}
