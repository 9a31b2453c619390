/* e2e_throttle: failed logins count per client address: a trusted proxy's X-Forwarded-For names it, anyone else's does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/harness.h"

enum {
	ANSWER_WAIT_S = 60,
	/* DESIGN.md: after 20 failures from one address, further tries answer 429. */
	PER_ADDRESS = 20,
};

#define PROXY "127.0.0.2"
#define STRANGER "127.0.0.3"

static struct gallery g;
static const setting fe_extra[] = {"GALLERY_TRUSTED_PROXIES=" PROXY, NULL};

/*
 * POST /api/login with a wrong password for an unknown name (so that no
 * account's own limit counts), on a connection from the local address from,
 * with X-Forwarded-For: xff unless it is NULL. Returns the answer's status.
 */
static long login_from(const char *from, const char *xff, int n)
{
	int fd = tcp_connect(g.fe.port, from, ANSWER_WAIT_S);
	assert_true(fd >= 0);
	char body[128], forwarded[160] = "", req[768];
	int blen = snprintf(body, sizeof(body), "username=nobody.%d&password=wrong+password+here", n);
	if (xff)
		snprintf(forwarded, sizeof(forwarded), "X-Forwarded-For: %s\r\n", xff);
	int len = snprintf(req, sizeof(req),
			   "POST /api/login HTTP/1.1\r\nHost: localhost\r\n%s"
			   "Content-Type: application/x-www-form-urlencoded\r\n"
			   "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			   forwarded, blen, body);
	assert_int_equal(send(fd, req, (size_t)len, MSG_NOSIGNAL), len);
	char answer[4096];
	size_t have = 0;
	ssize_t k;
	while (have < sizeof(answer) - 1 &&
	       (k = recv(fd, answer + have, sizeof(answer) - 1 - have, 0)) > 0)
		have += (size_t)k;
	answer[have] = '\0';
	close(fd);
	long status = 0;
	assert_int_equal(sscanf(answer, "HTTP/1.1 %ld", &status), 1);
	return status;
}

static long failures_of(const char *address)
{
	char q[256];
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM login_failures WHERE address = '%s'", address);
	return sql_scalar(q);
}

/* Behind a trusted proxy, each client has its own count, and the proxy none. */
static void a_trusted_proxy_s_clients_count_apart(void **state)
{
	(void)state;
	assert_true(sql_exec("DELETE FROM login_failures"));
	for (int i = 0; i < PER_ADDRESS; i++)
		assert_int_equal(login_from(PROXY, "203.0.113.5, 198.51.100.7", i), 401);
	assert_int_equal(failures_of("198.51.100.7"), PER_ADDRESS);
	assert_int_equal(failures_of(PROXY), 0);
	/* The client that failed 20 times is throttled, with what it wrote before ignored... */
	assert_int_equal(login_from(PROXY, "198.51.100.7", 100), 429);
	assert_int_equal(login_from(PROXY, "192.0.2.1, 198.51.100.7", 101), 429);
	/* ...while another client behind the same proxy, and the proxy itself, are not. */
	assert_int_equal(login_from(PROXY, "198.51.100.8", 102), 401);
	assert_int_equal(login_from(PROXY, NULL, 103), 401);
}

/* From a peer that is no trusted proxy the header is the client's own words: ignored. */
static void an_untrusted_peer_s_forwarded_for_is_ignored(void **state)
{
	(void)state;
	assert_true(sql_exec("DELETE FROM login_failures"));
	char xff[64];
	for (int i = 0; i < PER_ADDRESS; i++) {
		snprintf(xff, sizeof(xff), "192.0.2.%d", i + 1);
		assert_int_equal(login_from(STRANGER, xff, i), 401);
	}
	assert_int_equal(failures_of(STRANGER), PER_ADDRESS);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM login_failures WHERE address LIKE '192.0.2.%'"),
			 0);
	/* A new made-up address in the header does not escape the count. */
	assert_int_equal(login_from(STRANGER, "192.0.2.200", 100), 429);
	assert_int_equal(login_from(STRANGER, NULL, 101), 429);
}

static int setup(void **state)
{
	(void)state;
	if (!sql_exec("DELETE FROM login_failures"))
		return -1;
	return gallery_start(&g, "throttle", NULL, fe_extra) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	bool clean = sql_exec("DELETE FROM login_failures");
	return gallery_stop(&g) && clean ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_trusted_proxy_s_clients_count_apart),
		cmocka_unit_test(an_untrusted_peer_s_forwarded_for_is_ignored),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
