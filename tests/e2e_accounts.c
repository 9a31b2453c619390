/* e2e_accounts: sign-up, mailed verification, login, sessions and throttling through the real daemons and a real SMTP server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/harness.h"

enum {
	MAIL_WAIT_MS = 30000,
	POLL_MS = 50,
	LOGIN_WINDOW_S = 3,
	TIMING_TRIES = 20,
	COOKIE_MAX = 128,
	LINK_MAX = 512,
};

#define PASSWORD "correct horse battery staple"
#define FORM "Content-Type: application/x-www-form-urlencoded"
#define CSRF_PAIR "csrf_token=" HARNESS_CSRF_TOKEN

/*
 * The login throttle's window: short, so that the test can wait for it to pass,
 * yet long enough for five failed logins under valgrind or ThreadSanitizer.
 */
static int login_window_s(void)
{
	return LOGIN_WINDOW_S * harness_slowdown();
}

static struct gallery g;
static struct daemon smtp, worker;
static char maildir[GALLERY_PATH_MAX + 16];

static int setup(void **state)
{
	(void)state;
	int port = harness_free_port();
	static char smtp_url[64], window[64];
	snprintf(smtp_url, sizeof(smtp_url), "GALLERY_SMTP_URL=smtp://127.0.0.1:%d", port);
	snprintf(window, sizeof(window), "GALLERY_LOGIN_WINDOW_S=%d", login_window_s());
	setting fe[] = {window, NULL};
	if (!sql_exec("DELETE FROM users") || !sql_exec("DELETE FROM jobs") ||
	    !sql_exec("DELETE FROM login_failures") || !sql_empty_gallery())
		return -1;
	if (!gallery_start(&g, "accounts", NULL, fe))
		return -1;
	snprintf(maildir, sizeof(maildir), "%s/maildir", g.data_dir);
	if (!smtp_start(&smtp, port, maildir))
		return -1;
	setting w[] = {g.data_dir_setting, smtp_url, NULL};
	return worker_start(&worker, w) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	daemon_stop(&worker, SIGTERM);
	daemon_stop(&smtp, SIGTERM);
	/* The programs after this one expect a gallery with no admin, as before accounts. */
	bool clean = sql_exec("DELETE FROM users") && sql_exec("DELETE FROM login_failures") &&
		     sql_exec("DELETE FROM jobs") && sql_empty_gallery();
	return gallery_stop(&g) && clean ? 0 : -1;
}

static bool post(const char *path, const char *body, const char *cookie, struct reply *r)
{
	char url[256], cookie_line[COOKIE_MAX + 64];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	snprintf(cookie_line, sizeof(cookie_line), "Cookie: %s", cookie ? cookie : "");
	const char *headers[] = {FORM, cookie ? cookie_line : NULL, NULL};
	return http_request("POST", url, headers, body, strlen(body), r);
}

static bool get(const char *path, const char *header, struct reply *r)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	const char *headers[] = {"Accept: " HTML_ACCEPT, header, NULL};
	return http_request("GET", url, headers, NULL, 0, r);
}

static long post_status(const char *path, const char *body, const char *cookie)
{
	struct reply r;
	if (!post(path, body, cookie, &r))
		return -1;
	long s = r.status;
	reply_free(&r);
	return s;
}

/*
 * The verification link in the newest message to `to` that aiosmtpd received,
 * read out of its text part (the worker sends it base64-encoded).
 */
static bool mail_link(const char *to, const char *what, char link[LINK_MAX])
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import email,glob,os,re,sys\n"
		 "from email import policy\n"
		 "fs=sorted(glob.glob(sys.argv[1]+\"/new/*\"),key=os.path.getmtime)\n"
		 "out=\"\"\n"
		 "for f in fs:\n"
		 "  m=email.message_from_binary_file(open(f,\"rb\"),policy=policy.default)\n"
		 "  if m[\"To\"]!=sys.argv[2]: continue\n"
		 "  t=m.get_body(preferencelist=(\"plain\",)).get_content()\n"
		 "  x=re.search(r\"http\\S*\"+sys.argv[3]+r\"\\S*\",t)\n"
		 "  if x: out=x.group(0)\n"
		 "print(out)' '%s' '%s' '%s' 2>/dev/null",
		 maildir, to, what);
	for (int waited = 0; waited < MAIL_WAIT_MS * harness_slowdown(); waited += POLL_MS) {
		FILE *p = popen(cmd, "r");
		if (!p)
			return false;
		link[0] = '\0';
		if (!fgets(link, LINK_MAX, p))
			link[0] = '\0';
		pclose(p);
		link[strcspn(link, "\r\n")] = '\0';
		if (link[0])
			return true;
		sleep_ms(POLL_MS);
	}
	return false;
}

static long mails_to(const char *to)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "grep -l '^To: %s' '%s'/new/* 2>/dev/null | wc -l", to, maildir);
	FILE *p = popen(cmd, "r");
	long n = -1;
	if (p) {
		if (fscanf(p, "%ld", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static bool signup(const char *user, const char *email, const char *password, struct reply *r)
{
	char body[512];
	snprintf(body, sizeof(body), "username=%s&email=%s&password=%s", user, email, password);
	return post("/api/signup", body, NULL, r);
}

/* Signs up and follows the mailed link: GET shows the button, POST verifies. */
static void sign_up_verified(const char *user, const char *email)
{
	struct reply r;
	assert_true(signup(user, email, "correct+horse+battery+staple", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	char link[LINK_MAX];
	assert_true(mail_link(email, "verify", link));
	const char *token = strstr(link, "token=");
	assert_non_null(token);
	assert_true(get(strstr(link, "/verify"), NULL, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "Verify my address"));
	reply_free(&r);
	char body[128];
	snprintf(body, sizeof(body), "%s&%s", token, CSRF_PAIR);
	assert_true(post("/verify", body, "gallery_csrf=" HARNESS_CSRF_TOKEN, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "verified"));
	reply_free(&r);
}

/* Logs in through the page; the session cookie "gallery_session=..." into cookie. */
static long page_login(const char *name, const char *password, char cookie[COOKIE_MAX])
{
	char body[256];
	snprintf(body, sizeof(body), "username=%s&password=%s&%s", name, password, CSRF_PAIR);
	struct reply r;
	if (!post("/login", body, "gallery_csrf=" HARNESS_CSRF_TOKEN, &r))
		return -1;
	char v[512];
	const char *set = reply_header(&r, "Set-Cookie", v, sizeof(v));
	cookie[0] = '\0';
	if (set && strncmp(set, "gallery_session=", 16) == 0)
		snprintf(cookie, COOKIE_MAX, "%.*s", (int)strcspn(set, ";"), set);
	long s = r.status;
	reply_free(&r);
	return s;
}

static long api_login(const char *name, const char *password, char token[COOKIE_MAX])
{
	char body[256];
	snprintf(body, sizeof(body), "username=%s&password=%s", name, password);
	struct reply r;
	if (!post("/api/login", body, NULL, &r))
		return -1;
	token[0] = '\0';
	const char *t = strstr(r.body.data ? r.body.data : "", "\"token\":\"");
	if (t)
		snprintf(token, COOKIE_MAX, "%.*s", (int)strcspn(t + 9, "\""), t + 9);
	long s = r.status;
	reply_free(&r);
	return s;
}

static long me_status(const char *header, struct reply *keep)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/api/me", g.fe.url);
	const char *headers[] = {header, NULL};
	struct reply r;
	if (!http_request("GET", url, headers, NULL, 0, &r))
		return -1;
	long s = r.status;
	if (keep)
		*keep = r;
	else
		reply_free(&r);
	return s;
}

/* The CSRF token of a logged-in page: the hidden field the page carries. */
static void page_csrf(const char *cookie, char out[40])
{
	char header[COOKIE_MAX + 16];
	snprintf(header, sizeof(header), "Cookie: %s", cookie);
	struct reply r;
	assert_true(get("/login", header, &r));
	const char *f = strstr(r.body.data, "name=\"csrf_token\" value=\"");
	assert_non_null(f);
	snprintf(out, 40, "%.32s", f + 25);
	reply_free(&r);
}

static void sign_up_verify_log_in_upload_log_out(void **state)
{
	(void)state;
	sign_up_verified("Ada.L", "ada@example.org");
	/* The first verified account is the admin; the name is kept in lower case. */
	assert_int_equal(sql_scalar("SELECT is_admin FROM users WHERE username = 'ada.l'"), 1);
	char cookie[COOKIE_MAX], header[COOKIE_MAX + 16];
	assert_int_equal(page_login("ada.l", PASSWORD, cookie), 303);
	assert_true(cookie[0]);
	snprintf(header, sizeof(header), "Cookie: %s", cookie);
	struct reply r;
	assert_int_equal(me_status(header, &r), 200);
	assert_non_null(strstr(r.body.data, "\"username\":\"ada.l\""));
	assert_non_null(strstr(r.body.data, "\"admin\":true"));
	reply_free(&r);
	/* The navigation names who is logged in. */
	assert_true(get("/", header, &r));
	assert_non_null(strstr(r.body.data, "id=\"nav-user\">ada.l<"));
	assert_null(strstr(r.body.data, "id=\"nav-login\""));
	reply_free(&r);
	assert_true(get("/", NULL, &r));
	assert_non_null(strstr(r.body.data, "id=\"nav-login\""));
	assert_null(strstr(r.body.data, "id=\"nav-user\""));
	reply_free(&r);
	/* Logging out needs the session's CSRF token; after it the cookie names nobody. */
	assert_int_equal(post_status("/logout", CSRF_PAIR, cookie), 403);
	char csrf[40], body[64];
	page_csrf(cookie, csrf);
	snprintf(body, sizeof(body), "csrf_token=%s", csrf);
	assert_int_equal(post_status("/logout", body, cookie), 303);
	assert_int_equal(me_status(header, NULL), 401);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM sessions"), 0);
}

static void api_login_gives_a_bearer_token(void **state)
{
	(void)state;
	char token[COOKIE_MAX], header[COOKIE_MAX + 32];
	assert_int_equal(api_login("ada@EXAMPLE.org", PASSWORD, token), 200);
	assert_int_equal(strncmp(token, "gt_", 3), 0);
	snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
	assert_int_equal(me_status(header, NULL), 200);
	/* Each login is a new session with a new token. */
	char again[COOKIE_MAX];
	assert_int_equal(api_login("ada.l", PASSWORD, again), 200);
	assert_string_not_equal(token, again);
	/* API logout with the bearer token ends that session only. */
	char url[256];
	snprintf(url, sizeof(url), "%s/api/logout", g.fe.url);
	const char *h[] = {header, NULL};
	struct reply r;
	assert_true(http_request("POST", url, h, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(me_status(header, NULL), 401);
	snprintf(header, sizeof(header), "Authorization: Bearer %s", again);
	assert_int_equal(me_status(header, NULL), 200);
}

/*
 * A user whose stored hash was made with weaker argon2id parameters than the
 * front end uses now (an older release's, or an imported account) logs in as
 * before, and the login stores a new hash of today's parameters.
 */
static void a_weaker_hash_is_upgraded_at_login(void **state)
{
	(void)state;
	static const char pw[] = "correct horse battery staple";
	char weak[crypto_pwhash_STRBYTES], q[512];
	assert_int_equal(sodium_init() < 0, 0);
	assert_int_equal(crypto_pwhash_str(weak, pw, strlen(pw), crypto_pwhash_OPSLIMIT_MIN,
					   8u << 20),
			 0);
	snprintf(q, sizeof(q),
		 "INSERT INTO users (username, email, password_hash, verified_at) VALUES "
		 "('old.hash', 'old.hash@example.org', '%s', NOW(3))",
		 weak);
	assert_true(sql_exec(q));
	char token[COOKIE_MAX];
	assert_int_equal(api_login("old.hash", PASSWORD, token), 200);
	assert_true(strlen(token) > 10);
	/* The stored hash is another, of today's parameters (19 MiB, 2 passes), and it verifies. */
	assert_int_equal(sql_scalar("SELECT password_hash LIKE '$argon2id$v=19$m=19456,t=2,%' "
				    "FROM users WHERE username = 'old.hash'"),
			 1);
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM users WHERE username = 'old.hash' AND password_hash <> '%s'",
		 weak);
	assert_int_equal(sql_scalar(q), 1);
	/* It still opens the account, by the page as by the API. */
	char cookie[COOKIE_MAX];
	assert_int_equal(page_login("old.hash", "correct+horse+battery+staple", cookie), 303);
	assert_true(cookie[0] != '\0');
	assert_int_equal(api_login("old.hash", "wrong+password+here", token), 401);
	assert_true(sql_exec("DELETE FROM users WHERE username = 'old.hash'"));
	assert_true(sql_exec("DELETE FROM login_failures"));
}

static void known_email_gets_the_same_answer_and_a_notice(void **state)
{
	(void)state;
	struct reply fresh, known;
	assert_true(signup("someone", "someone@example.org", "correct+horse+battery+staple", &fresh));
	assert_true(signup("other", "ADA@example.org", "correct+horse+battery+staple", &known));
	assert_int_equal(fresh.status, 200);
	assert_int_equal(known.status, fresh.status);
	assert_string_equal(known.body.data, fresh.body.data);
	reply_free(&fresh);
	reply_free(&known);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM users WHERE username = 'other'"), 0);
	char link[LINK_MAX];
	assert_true(mail_link("ADA@example.org", "login", link));
	/* The unverified account may not log in; the answer offers the link again. */
	char token[COOKIE_MAX];
	struct reply r;
	assert_true(post("/login", "username=someone&password=correct+horse+battery+staple&" CSRF_PAIR,
			 "gallery_csrf=" HARNESS_CSRF_TOKEN, &r));
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "send the link again"));
	reply_free(&r);
	assert_int_equal(api_login("someone", PASSWORD, token), 403);
	/* Resending makes a second link. */
	assert_int_equal(post_status("/api/resend_verification", "email=someone@example.org", NULL),
			 200);
	for (int w = 0; mails_to("someone@example.org") < 2 && w < MAIL_WAIT_MS; w += POLL_MS)
		sleep_ms(POLL_MS);
	assert_int_equal(mails_to("someone@example.org"), 2);
	assert_int_equal(post_status("/api/resend_verification", "email=nobody@example.org", NULL),
			 200);
}

static void sixth_failure_is_429_until_the_window_passes(void **state)
{
	(void)state;
	assert_true(sql_exec("DELETE FROM login_failures"));
	char token[COOKIE_MAX];
	for (int i = 0; i < 5; i++)
		assert_int_equal(api_login("ada.l", "wrong+password+here", token), 401);
	struct reply r;
	assert_true(post("/api/login", "username=ada.l&password=" "correct+horse+battery+staple",
			 NULL, &r));
	assert_int_equal(r.status, 429);
	char v[32];
	const char *retry = reply_header(&r, "Retry-After", v, sizeof(v));
	assert_non_null(retry);
	assert_true(atol(retry) >= 1 && atol(retry) <= login_window_s() + 1);
	reply_free(&r);
	long waited = 0;
	while (api_login("ada.l", PASSWORD, token) == 429 && waited < 10000 * harness_slowdown()) {
		sleep_ms(200);
		waited += 200;
	}
	assert_int_equal(api_login("ada.l", PASSWORD, token), 200);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double login_time(const char *name, char *answer, size_t size)
{
	char body[256];
	snprintf(body, sizeof(body), "username=%s&password=wrong+password+here", name);
	assert_true(sql_exec("DELETE FROM login_failures"));
	struct reply r;
	double start = now_s();
	assert_true(post("/api/login", body, NULL, &r));
	double t = now_s() - start;
	assert_int_equal(r.status, 401);
	snprintf(answer, size, "%s", r.body.data);
	reply_free(&r);
	return t;
}

static double median(double *t, size_t n)
{
	qsort(t, n, sizeof(t[0]), cmp_double);
	return (t[n / 2 - 1] + t[n / 2]) / 2;
}

/*
 * The tries alternate, so that the load of other programs falls on both alike.
 * On a machine that other test suites share, one measurement may still be off;
 * a real difference (no dummy hash: a tenth of the time) fails every attempt.
 */
static bool timings_alike(char *a, char *b, size_t size)
{
	double unknown[TIMING_TRIES], wrong[TIMING_TRIES];
	for (int i = 0; i < TIMING_TRIES; i++) {
		if (i % 2) {
			unknown[i] = login_time("no.such.user", a, size);
			wrong[i] = login_time("ada.l", b, size);
		} else {
			wrong[i] = login_time("ada.l", b, size);
			unknown[i] = login_time("no.such.user", a, size);
		}
	}
	double mu = median(unknown, TIMING_TRIES), mw = median(wrong, TIMING_TRIES);
	print_message("login medians: unknown user %.1f ms, wrong password %.1f ms\n", mu * 1e3,
		      mw * 1e3);
	double hi = mu > mw ? mu : mw, lo = mu > mw ? mw : mu;
	return hi <= lo * 1.25;
}

static void unknown_user_and_wrong_password_look_the_same(void **state)
{
	(void)state;
	enum { ATTEMPTS = 3 };
	char a[512], b[512];
	login_time("ada.l", b, sizeof(b)); /* warms the connection and the statements */
	bool alike = false;
	for (int i = 0; i < ATTEMPTS && !alike; i++) {
		alike = timings_alike(a, b, sizeof(a));
		assert_string_equal(a, b);
	}
	assert_true(alike);
	assert_true(sql_exec("DELETE FROM login_failures"));
}

/* Sessions and tokens that name nobody: logged out for pages, 401 for a bearer. */
static void bad_cookies_and_bearers(void **state)
{
	(void)state;
	static const char *const cookies[] = {
		"Cookie: gallery_session=short",
		"Cookie: gallery_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Cookie: gallery_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Cookie: gallery_session=%00%01%02",
		"Cookie: gallery_session=\xff\xfe\xfd",
		"Cookie: gallery_session=a; gallery_session=b",
	};
	for (size_t i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++)
		assert_int_equal(me_status(cookies[i], NULL), 401);
	static const char *const bearers[] = {
		"Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Authorization: Bearer gt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Authorization: Bearer xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Authorization: Basic YWRhOnBhc3M=",
		"Authorization: Bearer gt_",
		"Authorization: Bearer",
		"Authorization: Bearer gt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	for (size_t i = 0; i < sizeof(bearers) / sizeof(bearers[0]); i++) {
		struct reply r;
		assert_int_equal(me_status(bearers[i], &r), 401);
		assert_true(reply_is_error(&r, 401));
		reply_free(&r);
	}
	/* A page with a bad cookie is simply logged out. */
	struct reply r;
	assert_true(get("/", cookies[1], &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "id=\"nav-login\""));
	reply_free(&r);
}

/* The bad input of issue 13: a clear 4xx each, and no user stored. */
static void bad_sign_ups_store_nothing(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		long status;
	} cases[] = {
		{"username=ab&email=x1@example.org&password=correct+horse+battery+staple", 400},
		{"username=abcdefghijklmnopqrstuvwxyz0123456&email=x2@example.org&password=correct+horse+battery+staple", 400},
		{"username=has+space&email=x3@example.org&password=correct+horse+battery+staple", 400},
		{"username=ADA.L&email=x4@example.org&password=correct+horse+battery+staple", 409},
		{"username=%3Cscript%3E&email=x5@example.org&password=correct+horse+battery+staple", 400},
		{"username=abc%E2%80%AEdef&email=x6@example.org&password=correct+horse+battery+staple", 400},
		{"username=abc%00def&email=x7@example.org&password=correct+horse+battery+staple", 400},
		{"username=newuser1&email=not-an-email&password=correct+horse+battery+staple", 400},
		{"username=newuser2&email=a%40b%40example.org&password=correct+horse+battery+staple", 400},
		{"username=newuser3&email=x%0D%0ABcc%3Aevil%40example.org&password=correct+horse+battery+staple", 400},
		{"username=newuser4&email=&password=correct+horse+battery+staple", 400},
		{"username=newuser5&email=x8@example.org&password=Abc%2312x", 400},
		{"username=newuser6&email=x9@example.org&password=password123", 400},
		{"username=newuser7&email=x10@example.org&password=newuser7", 400},
		{"username=newuser8&email=x11@example.org&password=%FF%FE%FDcorrect+horse+battery", 400},
		{"username=newuser9&email=x12@example.org", 400},
		{"email=x13@example.org&password=correct+horse+battery+staple", 400},
	};
	long before = sql_scalar("SELECT COUNT(*) FROM users");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply r;
		assert_true(post("/api/signup", cases[i].body, NULL, &r));
		if (r.status != cases[i].status)
			print_error("case %zu: %s answered %ld\n", i, cases[i].body, r.status);
		assert_int_equal(r.status, cases[i].status);
		assert_true(reply_is_error(&r, cases[i].status));
		reply_free(&r);
	}
	/* 300-byte email; 7 and 129 character passwords. */
	char body[1024], local[300], pw[200];
	memset(local, 'a', 290);
	local[290] = '\0';
	snprintf(body, sizeof(body), "username=longmail&email=%s@example.org&password=%s", local,
		 "correct+horse+battery+staple");
	assert_int_equal(post_status("/api/signup", body, NULL), 400);
	snprintf(body, sizeof(body), "username=shortpw&email=s@example.org&password=Xq7%%21zPw");
	assert_int_equal(post_status("/api/signup", body, NULL), 400);
	memset(pw, 'Q', 129);
	pw[129] = '\0';
	snprintf(body, sizeof(body), "username=longpw&email=l@example.org&password=%s", pw);
	assert_int_equal(post_status("/api/signup", body, NULL), 400);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM users"), before);
	/* The page says why, with the typed values kept. */
	struct reply r;
	assert_true(post("/signup",
			 "username=pageuser&email=p@example.org&password=password123&" CSRF_PAIR,
			 "gallery_csrf=" HARNESS_CSRF_TOKEN, &r));
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.data, "too easy to guess"));
	assert_non_null(strstr(r.body.data, "value=\"pageuser\""));
	reply_free(&r);
}

static void bad_verification_tokens(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"token=", "token=short",
		"token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",           /* forged */
		"token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",            /* truncated */
		"token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%00", "token=%FF%FE",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		assert_int_equal(post_status("/api/verify", bodies[i], NULL), 400);
	/* An expired link. */
	struct reply r;
	assert_true(signup("expiring", "exp@example.org", "correct+horse+battery+staple", &r));
	reply_free(&r);
	char link[LINK_MAX], body[128];
	assert_true(mail_link("exp@example.org", "verify", link));
	assert_true(sql_exec("UPDATE email_tokens SET expires_at = NOW(3) - INTERVAL 1 SECOND"));
	snprintf(body, sizeof(body), "%s", strstr(link, "token="));
	assert_int_equal(post_status("/api/verify", body, NULL), 400);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM users WHERE username = 'expiring' AND "
				    "verified_at IS NOT NULL"),
			 0);
}

static void expired_and_idle_sessions_end(void **state)
{
	(void)state;
	char cookie[COOKIE_MAX], header[COOKIE_MAX + 16];
	assert_int_equal(page_login("ada.l", PASSWORD, cookie), 303);
	snprintf(header, sizeof(header), "Cookie: %s", cookie);
	assert_int_equal(me_status(header, NULL), 200);
	assert_true(sql_exec("UPDATE sessions SET last_used_at = NOW(3) - INTERVAL 8 DAY"));
	assert_int_equal(me_status(header, NULL), 401);
	assert_int_equal(page_login("ada.l", PASSWORD, cookie), 303);
	snprintf(header, sizeof(header), "Cookie: %s", cookie);
	assert_true(sql_exec("UPDATE sessions SET expires_at = NOW(3) - INTERVAL 1 SECOND"));
	assert_int_equal(me_status(header, NULL), 401);
	/* A cookie-authenticated API write without the CSRF token is refused. */
	assert_int_equal(page_login("ada.l", PASSWORD, cookie), 303);
	assert_int_equal(post_status("/api/logout", "", cookie), 403);
	char other[COOKIE_MAX], csrf_other[40], body[64];
	assert_int_equal(page_login("ada.l", PASSWORD, other), 303);
	page_csrf(other, csrf_other);
	snprintf(body, sizeof(body), "csrf_token=%s", csrf_other);
	/* Another session's token does not do either. */
	assert_int_equal(post_status("/logout", body, cookie), 403);
	assert_int_equal(post_status("/logout", body, other), 303);
}

static const unsigned char PNG[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
	0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
	0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
	0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
	0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* POST base/api/upload of PNG under key, with an extra header (a bearer token) or none. */
static long upload_to(const char *base, const char *key, const char *header)
{
	struct buf body = BUF_INIT;
	buf_printf(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n%s\r\n"
			  "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
			  "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n",
		   key);
	buf_append(&body, PNG, sizeof(PNG));
	buf_puts(&body, "\r\n--XyZ--\r\n");
	char url[256];
	snprintf(url, sizeof(url), "%s/api/upload", base);
	const char *headers[] = {"Content-Type: multipart/form-data; boundary=XyZ", header, NULL};
	struct reply r;
	long s = http_request("POST", url, headers, body.data, body.len, &r) ? r.status : -1;
	if (s > 0)
		reply_free(&r);
	buf_free(&body);
	return s;
}

static long upload_as(const char *key, const char *header)
{
	return upload_to(g.fe.url, key, header);
}

static void owned_keys_refuse_other_uploaders(void **state)
{
	(void)state;
	sign_up_verified("bob", "bob@example.org");
	char ada[COOKIE_MAX], bob[COOKIE_MAX], ada_h[COOKIE_MAX + 32], bob_h[COOKIE_MAX + 32];
	assert_int_equal(api_login("ada.l", PASSWORD, ada), 200);
	assert_int_equal(api_login("bob", PASSWORD, bob), 200);
	snprintf(ada_h, sizeof(ada_h), "Authorization: Bearer %s", ada);
	snprintf(bob_h, sizeof(bob_h), "Authorization: Bearer %s", bob);
	assert_int_equal(upload_as("ada-key", ada_h), 200);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images i JOIN users u ON u.id = i.owner_id "
				    "WHERE i.image_key = 'ada-key' AND u.username = 'ada.l'"),
			 1);
	long long version = sql_scalar("SELECT version FROM images WHERE image_key = 'ada-key'");
	assert_int_equal(upload_as("ada-key", bob_h), 403);
	assert_int_equal(upload_as("ada-key", NULL), 403);
	assert_int_equal(sql_scalar("SELECT version FROM images WHERE image_key = 'ada-key'"), version);
	assert_int_equal(upload_as("ada-key", ada_h), 200);
	/* An ownerless key anybody may replace; a user who does takes it. */
	assert_int_equal(upload_as("free-key", NULL), 200);
	assert_int_equal(upload_as("free-key", NULL), 200);
	assert_int_equal(upload_as("free-key", bob_h), 200);
	assert_int_equal(upload_as("free-key", ada_h), 403);
}

static void second_user_is_no_admin(void **state)
{
	(void)state;
	assert_int_equal(sql_scalar("SELECT is_admin FROM users WHERE username = 'bob'"), 0);
	char bob[COOKIE_MAX], ada[COOKIE_MAX], csrf[40], body[128];
	assert_int_equal(page_login("bob", PASSWORD, bob), 303);
	page_csrf(bob, csrf);
	snprintf(body, sizeof(body), "capacity=20&policy=LRU&action=save&csrf_token=%s", csrf);
	struct reply r;
	assert_true(post("/cache_properties", body, bob, &r));
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "href=\"/login\""));
	reply_free(&r);
	assert_int_equal(post_status("/cache_properties",
				     "capacity=20&policy=LRU&action=save&" CSRF_PAIR,
				     "gallery_csrf=" HARNESS_CSRF_TOKEN),
			 403);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM cache_properties WHERE max_capacity = 20"),
			 0);
	assert_int_equal(page_login("ada.l", PASSWORD, ada), 303);
	page_csrf(ada, csrf);
	snprintf(body, sizeof(body), "capacity=20&policy=LRU&action=save&csrf_token=%s", csrf);
	assert_int_equal(post_status("/cache_properties", body, ada), 200);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM cache_properties WHERE max_capacity = 20"),
			 1);
}

/* POST /account with action and fields, as the page's forms send it; the page into r. */
static bool account_post(const char *cookie, const char *fields, struct reply *r)
{
	char csrf[40], body[512];
	page_csrf(cookie, csrf);
	snprintf(body, sizeof(body), "%s&csrf_token=%s", fields, csrf);
	return post("/account", body, cookie, r);
}

static void bearer_header(const char *token, char out[COOKIE_MAX + 32])
{
	snprintf(out, COOKIE_MAX + 32, "Authorization: Bearer %s", token);
}

static void cookie_header(const char *cookie, char out[COOKIE_MAX + 32])
{
	snprintf(out, COOKIE_MAX + 32, "Cookie: %s", cookie);
}

static void api_tokens_are_made_used_and_revoked(void **state)
{
	(void)state;
	char cookie[COOKIE_MAX], h[COOKIE_MAX + 32];
	assert_int_equal(page_login("ada.l", PASSWORD, cookie), 303);
	struct reply r;
	assert_true(account_post(cookie, "action=token_create&name=ci+script", &r));
	assert_int_equal(r.status, 200);
	char v[64];
	assert_non_null(reply_header(&r, "Cache-Control", v, sizeof(v)));
	assert_string_equal(v, "no-store");
	const char *t = strstr(r.body.data, "id=\"new-token-value\">");
	assert_non_null(t);
	char token[COOKIE_MAX];
	t += strlen("id=\"new-token-value\">");
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(t, "<"), t);
	assert_int_equal(strlen(token), 46);
	reply_free(&r);
	bearer_header(token, h);
	assert_int_equal(me_status(h, NULL), 200);
	assert_int_equal(upload_as("token-key", h), 200);
	/* Listed by name, never shown again. */
	cookie_header(cookie, h);
	assert_true(get("/account", h, &r));
	assert_non_null(strstr(r.body.data, "ci script"));
	assert_null(strstr(r.body.data, token));
	const char *id = strstr(r.body.data, "name=\"id\" value=\"");
	assert_non_null(id);
	char fields[160];
	snprintf(fields, sizeof(fields), "action=token_revoke&id=%.64s", id + strlen("name=\"id\" value=\""));
	reply_free(&r);
	assert_true(account_post(cookie, fields, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	bearer_header(token, h);
	assert_int_equal(me_status(h, NULL), 401);
	assert_int_equal(upload_as("token-key", h), 401);
	/* Another user's token id revokes nothing. */
	assert_true(account_post(cookie, "action=token_revoke&id=00", &r));
	assert_int_equal(r.status, 404);
	reply_free(&r);
}

static void password_change_and_reset_end_other_sessions(void **state)
{
	(void)state;
	sign_up_verified("carol", "carol@example.org");
	char a[COOKIE_MAX], b[COOKIE_MAX], ha[COOKIE_MAX + 32], hb[COOKIE_MAX + 32];
	assert_int_equal(page_login("carol", PASSWORD, a), 303);
	assert_int_equal(api_login("carol", PASSWORD, b), 200);
	cookie_header(a, ha);
	bearer_header(b, hb);
	struct reply r;
	assert_true(account_post(a, "action=password&current_password=wrong+one+entirely&"
				    "new_password=another+long+secret+phrase", &r));
	assert_int_equal(r.status, 403);
	reply_free(&r);
	assert_true(account_post(a, "action=password&current_password=correct+horse+battery+staple&"
				    "new_password=carol", &r));
	assert_int_equal(r.status, 400);
	reply_free(&r);
	assert_int_equal(me_status(hb, NULL), 200);
	assert_true(account_post(a, "action=password&current_password=correct+horse+battery+staple&"
				    "new_password=another+long+secret+phrase", &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(me_status(ha, NULL), 200);
	assert_int_equal(me_status(hb, NULL), 401);
	assert_int_equal(api_login("carol", PASSWORD, b), 401);
	/* Forgot: the same answer for a known and an unknown address; the known one gets a link. */
	struct reply known, unknown;
	assert_true(post("/api/forgot_password", "email=carol@example.org", NULL, &known));
	assert_true(post("/api/forgot_password", "email=nobody.here@example.org", NULL, &unknown));
	assert_int_equal(known.status, 200);
	assert_int_equal(unknown.status, 200);
	assert_string_equal(known.body.data, unknown.body.data);
	reply_free(&known);
	reply_free(&unknown);
	char link[LINK_MAX];
	assert_true(mail_link("carol@example.org", "reset_password", link));
	assert_true(get(strstr(link, "/reset_password"), NULL, &r));
	assert_int_equal(r.status, 200);
	char v[64];
	assert_non_null(reply_header(&r, "Referrer-Policy", v, sizeof(v)));
	assert_string_equal(v, "no-referrer");
	assert_non_null(strstr(r.body.data, "id=\"reset-form\""));
	reply_free(&r);
	char body[256];
	snprintf(body, sizeof(body), "%s&password=password123", strstr(link, "token="));
	assert_int_equal(post_status("/api/reset_password", body, NULL), 400);
	snprintf(body, sizeof(body), "%s&password=a+third+secret+phrase+here", strstr(link, "token="));
	assert_int_equal(post_status("/api/reset_password", body, NULL), 200);
	assert_int_equal(me_status(ha, NULL), 401);
	assert_int_equal(post_status("/api/reset_password", body, NULL), 400);
	assert_int_equal(api_login("carol", "a+third+secret+phrase+here", b), 200);
	/* Bad reset tokens. */
	assert_int_equal(post_status("/api/reset_password", "token=AAAA&password=a+third+secret+phrase+here", NULL), 400);
	assert_int_equal(post_status("/api/reset_password",
				     "token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&password=a+third+secret+phrase+here",
				     NULL),
			 400);
}

static void log_out_everywhere_and_delete_the_account(void **state)
{
	(void)state;
	const char *pw = "a+third+secret+phrase+here";
	char a[COOKIE_MAX], b[COOKIE_MAX], ha[COOKIE_MAX + 32], hb[COOKIE_MAX + 32];
	assert_int_equal(page_login("carol", pw, a), 303);
	assert_int_equal(api_login("carol", pw, b), 200);
	cookie_header(a, ha);
	bearer_header(b, hb);
	struct reply r;
	assert_true(account_post(a, "action=logout_all", &r));
	assert_int_equal(r.status, 200);
	char v[128];
	assert_non_null(reply_header(&r, "Set-Cookie", v, sizeof(v)));
	assert_non_null(strstr(v, "Max-Age=0"));
	reply_free(&r);
	assert_int_equal(me_status(ha, NULL), 401);
	assert_int_equal(me_status(hb, NULL), 401);
	/* Delete: the images and sessions go with the account. */
	assert_int_equal(page_login("carol", pw, a), 303);
	assert_int_equal(api_login("carol", pw, b), 200);
	bearer_header(b, hb);
	assert_int_equal(upload_as("carol-1", hb), 200);
	assert_int_equal(upload_as("carol-2", hb), 200);
	assert_true(account_post(a, "action=delete&current_password=wrong+one+entirely", &r));
	assert_int_equal(r.status, 403);
	reply_free(&r);
	char fields[128];
	snprintf(fields, sizeof(fields), "action=delete&current_password=%s", pw);
	assert_true(account_post(a, fields, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "2 images are deleted"));
	reply_free(&r);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM users WHERE username = 'carol'"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key LIKE 'carol-%'"), 0);
	assert_int_equal(me_status(hb, NULL), 401);
	assert_true(http_get(g.fe.url, "/api/key/carol-1", &r));
	assert_int_equal(r.status, 404);
	reply_free(&r);
	/* Without a session the page sends the person to log in. */
	assert_true(get("/account", NULL, &r));
	assert_int_equal(r.status, 303);
	reply_free(&r);
}

static void profiles_list_a_users_images(void **state)
{
	(void)state;
	struct reply r;
	assert_true(http_get(g.fe.url, "/api/users/ada.l", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"user\":{\"username\":\"ada.l\",\"joined\":\""));
	assert_non_null(strstr(r.body.data, "\"images\":2}"));
	/* Newest first. */
	const char *newer = strstr(r.body.data, "\"key\":\"token-key\"");
	const char *older = strstr(r.body.data, "\"key\":\"ada-key\"");
	assert_true(newer && older && newer < older);
	assert_non_null(strstr(r.body.data, "\"page\":1,\"more\":false"));
	reply_free(&r);
	assert_true(get("/u/ada.l", NULL, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "id=\"profile-count\">2<"));
	assert_non_null(strstr(r.body.data, "token-key"));
	reply_free(&r);
	static const char *const missing[] = {"/u/nobody.here", "/u/ADA.L", "/u/", "/u/a%20b",
					      "/u/%3Cscript%3E", "/api/users/nobody.here"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		assert_true(get(missing[i], NULL, &r));
		assert_int_equal(r.status, 404);
		reply_free(&r);
	}
	assert_true(http_get(g.fe.url, "/api/users/ada.l?page=0", &r));
	assert_int_equal(r.status, 400);
	reply_free(&r);
	/* The image page and the home grid name the owner, with a link. */
	assert_true(get("/image?key=ada-key", NULL, &r));
	assert_non_null(strstr(r.body.data, "<a href=\"/u/ada.l\" id=\"owner\">ada.l</a>"));
	reply_free(&r);
	assert_true(get("/", NULL, &r));
	assert_non_null(strstr(r.body.data, "by <a href=\"/u/ada.l\">ada.l</a>"));
	reply_free(&r);
}

/* MariaDB down: logins and cookie writes answer 503; afterwards every session still works. */
static void database_outage_logs_nobody_out(void **state)
{
	(void)state;
	char cookie[COOKIE_MAX], token[COOKIE_MAX], ch[COOKIE_MAX + 32], bh[COOKIE_MAX + 32];
	assert_int_equal(page_login("ada.l", PASSWORD, cookie), 303);
	assert_int_equal(api_login("ada.l", PASSWORD, token), 200);
	cookie_header(cookie, ch);
	bearer_header(token, bh);
	assert_true(db_server_stop());
	assert_int_equal(api_login("ada.l", PASSWORD, token), 503);
	assert_int_equal(post_status("/api/signup", "username=outage&email=outage@example.org&"
				     "password=correct+horse+battery+staple", NULL),
			 503);
	assert_int_equal(upload_as("outage-key", bh), 503);
	struct reply r;
	assert_true(get("/", ch, &r));
	assert_true(r.status == 200 || r.status == 503);
	reply_free(&r);
	assert_true(db_server_start());
	for (int w = 0; me_status(ch, NULL) != 200 && w < 20000; w += POLL_MS)
		sleep_ms(POLL_MS);
	assert_int_equal(me_status(ch, NULL), 200);
	assert_int_equal(me_status(bh, NULL), 200);
}

/* GALLERY_ANONYMOUS_UPLOADS=0: an upload needs a session or a token. */
static void anonymous_uploads_can_be_turned_off(void **state)
{
	(void)state;
	struct daemon fe;
	setting settings[] = {g.memcache_url_setting, g.data_dir_setting,
			      "GALLERY_ANONYMOUS_UPLOADS=0", NULL};
	assert_true(daemon_start(&fe, "frontend", settings));
	struct reply r;
	assert_true(http_upload(fe.url, "/api/upload", "closed", PNG, sizeof(PNG), "a.png", NULL, &r));
	assert_int_equal(r.status, 401);
	assert_true(reply_is_error(&r, 401));
	reply_free(&r);
	char token[COOKIE_MAX], h[COOKIE_MAX + 32];
	assert_int_equal(api_login("ada.l", PASSWORD, token), 200);
	bearer_header(token, h);
	char url[256];
	snprintf(url, sizeof(url), "%s/api/me", fe.url);
	const char *headers[] = {h, NULL};
	assert_true(http_request("GET", url, headers, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(upload_to(fe.url, "closed-but-mine", h), 200);
	assert_int_equal(daemon_stop(&fe, SIGTERM), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key = 'closed'"), 0);
}

/* The ECE1779 API with no account: unchanged. */
static void anonymous_api_upload_still_works(void **state)
{
	(void)state;
	static const unsigned char png[] = {
		0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
		0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
		0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
		0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
		0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", "anon", png, sizeof(png), "a.png", NULL, &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, UPLOAD_OK);
	reply_free(&r);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM images WHERE image_key = 'anon' AND "
				    "owner_id IS NULL"),
			 1);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sign_up_verify_log_in_upload_log_out),
	    cmocka_unit_test(api_login_gives_a_bearer_token),
	    cmocka_unit_test(a_weaker_hash_is_upgraded_at_login),
	    cmocka_unit_test(known_email_gets_the_same_answer_and_a_notice),
	    cmocka_unit_test(sixth_failure_is_429_until_the_window_passes),
	    cmocka_unit_test(unknown_user_and_wrong_password_look_the_same),
	    cmocka_unit_test(bad_cookies_and_bearers),
	    cmocka_unit_test(bad_sign_ups_store_nothing),
	    cmocka_unit_test(bad_verification_tokens),
	    cmocka_unit_test(expired_and_idle_sessions_end),
	    cmocka_unit_test(anonymous_api_upload_still_works),
	    cmocka_unit_test(owned_keys_refuse_other_uploaders),
	    cmocka_unit_test(second_user_is_no_admin),
	    cmocka_unit_test(api_tokens_are_made_used_and_revoked),
	    cmocka_unit_test(profiles_list_a_users_images),
	    cmocka_unit_test(database_outage_logs_nobody_out),
	    cmocka_unit_test(anonymous_uploads_can_be_turned_off),
	    cmocka_unit_test(password_change_and_reset_end_other_sessions),
	    cmocka_unit_test(log_out_everywhere_and_delete_the_account),
	};
	int failed = cmocka_run_group_tests_name("accounts", tests, setup, teardown);
	curl_global_cleanup();
	return failed;
}
