/* faultproxy: a TCP proxy to MariaDB for the tests, which can cut a connection at the COMMIT. */
/*
 * Listens on 127.0.0.1:$FAULTPROXY_PORT and forwards each connection to
 * 127.0.0.1:$FAULTPROXY_TARGET. It frames what clients send as MariaDB
 * packets ([3-byte length][sequence][payload]); when a packet is the text
 * command COMMIT (COM_QUERY 0x03 "COMMIT", as mysql_commit sends it), it reads
 * the one word in the file $FAULTPROXY_CONTROL and does what it says:
 *   pass        forward it (also when the file is missing)
 *   cut         forward it, then close both sides at once: the COMMIT is done,
 *               its answer lost
 *   drop        close both sides without forwarding it: the COMMIT never happened
 *   cut-refuse  as cut, then close every new connection at once until the
 *               file says something else
 * After cut or drop the file is rewritten to "pass" (one fault per order);
 * after cut-refuse to "refuse". Each fault is a line on stdout, for the test to wait for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	PAIRS_MAX = 256,
	CHUNK = 64 * 1024,
	PACKET_HEADER = 4,
	WORD_MAX = 32,
};

static const unsigned char COMMIT_PAYLOAD[] = "\x03"
					      "COMMIT";
enum { COMMIT_LEN = sizeof(COMMIT_PAYLOAD) - 1 };

/* Where a client's stream stands in its packets. */
struct framing {
	unsigned char header[PACKET_HEADER];
	size_t header_have;
	size_t remaining;                       /* payload bytes of the current packet still to come */
	unsigned char payload[COMMIT_LEN];      /* its first bytes, to recognise COMMIT */
	size_t payload_have, payload_len;
};

struct pair {
	int client, server;
	struct framing framing;
};

struct proxy {
	const char *control;
	int listener;
	struct pair pairs[PAIRS_MAX];
	size_t npairs;
};

static void say(const char *what)
{
	printf("faultproxy: %s\n", what);
	fflush(stdout);
}

static void read_word(const char *path, char word[WORD_MAX])
{
	snprintf(word, WORD_MAX, "pass");
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "%31s", word) != 1)
		snprintf(word, WORD_MAX, "pass");
	fclose(f);
}

static void write_word(const char *path, const char *word)
{
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", word);
	fclose(f);
	rename(tmp, path);
}

static bool send_all(int fd, const unsigned char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Walks the client's bytes through the packet framing; returns the offset
 * just past the end of a COMMIT packet, or 0 when the chunk completes none.
 * *start gets the offset where that packet began (0 if it began earlier).
 */
static size_t find_commit(struct framing *f, const unsigned char *data, size_t len, size_t *start)
{
	size_t packet_start = 0;
	for (size_t i = 0; i < len;) {
		if (f->header_have < PACKET_HEADER) {
			if (f->header_have == 0)
				packet_start = i;
			f->header[f->header_have++] = data[i++];
			if (f->header_have == PACKET_HEADER) {
				f->remaining = (size_t)f->header[0] | (size_t)f->header[1] << 8 |
					       (size_t)f->header[2] << 16;
				f->payload_len = f->remaining;
				f->payload_have = 0;
			}
		} else {
			size_t n = len - i < f->remaining ? len - i : f->remaining;
			for (size_t k = 0; k < n && f->payload_have < COMMIT_LEN; k++)
				f->payload[f->payload_have++] = data[i + k];
			i += n;
			f->remaining -= n;
		}
		if (f->header_have == PACKET_HEADER && f->remaining == 0) {
			bool commit = f->payload_len == COMMIT_LEN &&
				      memcmp(f->payload, COMMIT_PAYLOAD, COMMIT_LEN) == 0;
			f->header_have = 0;
			if (commit) {
				*start = packet_start;
				return i;
			}
		}
	}
	return 0;
}

static void close_pair(struct proxy *p, size_t i)
{
	close(p->pairs[i].client);
	close(p->pairs[i].server);
	p->pairs[i] = p->pairs[--p->npairs];
}

/* Client to server; false when the pair is to be closed. */
static bool from_client(struct proxy *p, struct pair *pair, const unsigned char *data, size_t len)
{
	size_t start = 0;
	size_t end = find_commit(&pair->framing, data, len, &start);
	if (!end)
		return send_all(pair->server, data, len);
	char word[WORD_MAX];
	read_word(p->control, word);
	if (strcmp(word, "drop") == 0) {
		send_all(pair->server, data, start);
		write_word(p->control, "pass");
		say("dropped a COMMIT and cut the connection");
		return false;
	}
	bool cut = strcmp(word, "cut") == 0 || strcmp(word, "cut-refuse") == 0;
	if (!send_all(pair->server, data, cut ? end : len))
		return false;
	if (!cut)
		return true;
	write_word(p->control, strcmp(word, "cut") == 0 ? "pass" : "refuse");
	say(strcmp(word, "cut") == 0 ? "cut the connection after a COMMIT"
				     : "cut the connection after a COMMIT; refusing new ones");
	return false;
}

static int connect_target(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_one(struct proxy *p, int target_port)
{
	int client = accept(p->listener, NULL, NULL);
	if (client < 0)
		return;
	char word[WORD_MAX];
	read_word(p->control, word);
	if (strcmp(word, "refuse") == 0 || p->npairs == PAIRS_MAX) {
		close(client);
		say("refused a connection");
		return;
	}
	int server = connect_target(target_port);
	if (server < 0) {
		close(client);
		return;
	}
	p->pairs[p->npairs++] = (struct pair){.client = client, .server = server};
}

static int listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0)
		return -1;
	return fd;
}

static int env_port(const char *name)
{
	const char *v = getenv(name);
	int port = v ? atoi(v) : 0;
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "faultproxy: set %s to a port\n", name);
		exit(2);
	}
	return port;
}

int main(void)
{
	static struct proxy p;
	static unsigned char buf[CHUNK];
	int port = env_port("FAULTPROXY_PORT"), target = env_port("FAULTPROXY_TARGET");
	p.control = getenv("FAULTPROXY_CONTROL");
	if (!p.control) {
		fprintf(stderr, "faultproxy: set FAULTPROXY_CONTROL to a file\n");
		return 2;
	}
	p.listener = listen_on(port);
	if (p.listener < 0) {
		perror("faultproxy: listen");
		return 1;
	}
	say("listening");
	static struct pollfd fds[1 + 2 * PAIRS_MAX];
	for (;;) {
		fds[0] = (struct pollfd){.fd = p.listener, .events = POLLIN};
		for (size_t i = 0; i < p.npairs; i++) {
			fds[1 + 2 * i] = (struct pollfd){.fd = p.pairs[i].client, .events = POLLIN};
			fds[2 + 2 * i] = (struct pollfd){.fd = p.pairs[i].server, .events = POLLIN};
		}
		size_t n = p.npairs;
		if (poll(fds, 1 + 2 * n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		/* Backwards, so that closing pair i (which moves the last into its place) skips nothing. */
		for (size_t i = n; i-- > 0;) {
			struct pair *pair = &p.pairs[i];
			bool keep = true;
			if (fds[1 + 2 * i].revents) {
				ssize_t got = recv(pair->client, buf, sizeof(buf), 0);
				keep = got > 0 && from_client(&p, pair, buf, (size_t)got);
			}
			if (keep && fds[2 + 2 * i].revents) {
				ssize_t got = recv(pair->server, buf, sizeof(buf), 0);
				keep = got > 0 && send_all(pair->client, buf, (size_t)got);
			}
			if (!keep)
				close_pair(&p, i);
		}
		if (fds[0].revents)
			accept_one(&p, target);
	}
}
