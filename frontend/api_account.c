/* api_account: sign-up, verification, login and logout, as pages and as JSON. */
#include "api_account.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/http.h"
#include "common/log.h"
#include "core/catalog.h"
#include "core/jobs.h"
#include "core/password.h"
#include "core/sessions.h"
#include "core/users.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/form.h"
#include "frontend/offload.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum {
	DAY_S = 86400,
	VERIFY_TTL_S = DAY_S,
	RESET_TTL_S = 3600,
	LOGIN_MAX_PER_USER = 5,
	LOGIN_MAX_PER_ADDRESS = 20,
	LINK_MAX = 512,
};

static const char SIGNUP_DONE[] =
	"Thanks. Check your mail: a message with a link to verify your address is on its way.";
static const char RESEND_DONE[] =
	"If an account with that email waits for verification, a new link is on its way.";
static const char DB_DOWN[] = "the database does not answer; try again in a moment";

static const char *field(const struct request *req, const char *name, size_t *len)
{
	size_t n = 0;
	const char *v = req->form ? form_field(req->form, name, &n) : NULL;
	/* A field with a NUL inside is refused by the rules, which count bytes. */
	if (len)
		*len = v ? n : 0;
	return v;
}

/* A page with a message, or the API's answer: success JSON or the error shape. */
static enum MHD_Result answer(struct app *app, struct request *req, unsigned status,
			      const char *message, const char *template_name, cJSON *data)
{
	if (request_is_api(req)) {
		cJSON_Delete(data);
		if (status >= 400)
			return reply_error(app, req, status, message);
		cJSON *ok = http_success_object();
		cJSON_AddStringToObject(ok, "message", message);
		return reply_json_with(app, req, status, ok);
	}
	if (!data)
		data = page_data("", "account");
	page_message(data, status < 400, message);
	req->no_store = true;
	return reply_page(app, req, status, template_name, data);
}

static struct db *db_of(struct app *app)
{
	return catalog_db(app->catalog);
}

static char *mail_payload(const char *to, const char *subject, const char *text,
			  const char *html, const char *link)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "to", to);
	cJSON_AddStringToObject(p, "subject", subject);
	cJSON_AddStringToObject(p, "text", text);
	cJSON_AddStringToObject(p, "html", html);
	if (link)
		cJSON_AddStringToObject(p, "link", link);
	char *s = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	return s;
}

static enum jobs_outcome enqueue_mail(struct app *app, struct db *db, bool in_tx, const char *to,
				      const char *subject, const char *text, const char *html,
				      const char *link)
{
	char *payload = mail_payload(to, subject, text, html, link);
	if (!payload)
		return JOBS_ERROR;
	struct job_request jr = {JOB_MAIL, payload, NULL, (int)app->cfg->job_max_attempts};
	long long id;
	enum jobs_outcome o = in_tx ? jobs_enqueue_in(db, &jr, &id) : jobs_enqueue(db, &jr, &id);
	cJSON_free(payload);
	return o;
}

/* A verification mail for user_id, its token stored in the caller's transaction. */
static bool enqueue_verify_in(struct app *app, struct db *db, long long user_id, const char *to,
			      const char *username)
{
	char token[TOKEN_CHARS + 1], link[LINK_MAX], text[2048], html[2048];
	unsigned char hash[TOKEN_HASH_BYTES];
	token_new(token);
	token_hash(token, TOKEN_CHARS, hash);
	if (users_token_create_in(db, user_id, USERS_TOKEN_VERIFY, hash, VERIFY_TTL_S) != USERS_OK)
		return false;
	snprintf(link, sizeof(link), "%s/verify?token=%s", app->cfg->public_url, token);
	snprintf(text, sizeof(text),
		 "Hello %s,\r\n\r\nopen this link to verify your address and finish signing up "
		 "(it works once, for 24 hours):\r\n\r\n%s\r\n\r\nIf you did not sign up, ignore "
		 "this message.\r\n",
		 username, link);
	snprintf(html, sizeof(html),
		 "<p>Hello %s,</p><p>open this link to verify your address and finish signing "
		 "up (it works once, for 24 hours):</p><p><a href=\"%s\">%s</a></p><p>If you did "
		 "not sign up, ignore this message.</p>",
		 username, link, link);
	return enqueue_mail(app, db, true, to, "Verify your address for Cloud Image Gallery", text,
			    html, link) == JOBS_OK;
}

static void notice_known_email(struct app *app, struct db *db, const char *to)
{
	char text[1024], html[1024];
	snprintf(text, sizeof(text),
		 "Someone tried to sign up to Cloud Image Gallery with this address, which "
		 "already has an account. If it was you, log in at %s/login (or reset the "
		 "password at %s/forgot_password). Otherwise ignore this message.\r\n",
		 app->cfg->public_url, app->cfg->public_url);
	snprintf(html, sizeof(html),
		 "<p>Someone tried to sign up to Cloud Image Gallery with this address, which "
		 "already has an account. If it was you, <a href=\"%s/login\">log in</a>. "
		 "Otherwise ignore this message.</p>",
		 app->cfg->public_url);
	if (enqueue_mail(app, db, false, to, "A sign-up with your address", text, html,
			 NULL) != JOBS_OK)
		log_warn("accounts: cannot queue the notice mail: %s", db_error(db));
}

static cJSON *signup_data(const struct request *req)
{
	cJSON *data = page_data("Sign up", "signup");
	const char *u = field(req, "username", NULL), *e = field(req, "email", NULL);
	cJSON_AddStringToObject(data, "username", u ? u : "");
	cJSON_AddStringToObject(data, "email", e ? e : "");
	return data;
}

enum MHD_Result account_signup(struct app *app, struct request *req)
{
	if (req->problem.status)
		return answer(app, req, req->problem.status, req->problem.message, "signup",
			      request_is_api(req) ? NULL : signup_data(req));
	if (!request_is_post(req))
		return answer(app, req, 200, "", "signup", signup_data(req));
	size_t ulen, elen, plen;
	const char *uname = field(req, "username", &ulen), *email = field(req, "email", &elen),
		   *pw = field(req, "password", &plen);
	char username[USERS_NAME_MAX + 1], err[PROBLEM_MESSAGE_MAX];
	cJSON *data = request_is_api(req) ? NULL : signup_data(req);
	if (!users_name_normalize(uname, ulen, username, err, sizeof(err)) ||
	    !users_email_valid(email, elen, err, sizeof(err)) ||
	    !password_acceptable(pw, plen, username, email, err, sizeof(err)))
		return answer(app, req, 400, err, "signup", data);
	char hash[PASSWORD_HASH_MAX];
	struct db *db = db_of(app);
	if (!password_hash(app->hasher, pw, plen, hash) || !db)
		return answer(app, req, 500, "cannot hash the password", "signup", data);
	long long id = 0;
	enum users_outcome o = USERS_ERROR;
	if (db_begin(db) == DB_OK) {
		o = users_create_in(db, username, email, hash, &id);
		if (o == USERS_OK && !enqueue_verify_in(app, db, id, email, username))
			o = USERS_ERROR;
		if (o == USERS_OK && db_commit(db) != DB_OK)
			o = USERS_ERROR;
		else if (o != USERS_OK)
			db_rollback(db);
	} else {
		o = USERS_UNAVAILABLE;
	}
	sodium_memzero(hash, sizeof(hash));
	switch (o) {
	case USERS_OK:
		log_info("accounts: %s signed up; verification mail queued", username);
		return answer(app, req, 200, SIGNUP_DONE, "signup", data);
	case USERS_EMAIL_TAKEN:
		/* The same answer as any sign-up; the address's owner hears of it. */
		notice_known_email(app, db, email);
		return answer(app, req, 200, SIGNUP_DONE, "signup", data);
	case USERS_NAME_TAKEN:
		return answer(app, req, 409, "that username is taken; choose another", "signup",
			      data);
	case USERS_UNAVAILABLE:
		return answer(app, req, 503, DB_DOWN, "signup", data);
	default:
		log_error("accounts: sign-up failed: %s", db_error(db));
		return answer(app, req, 500, "the account could not be made; try again", "signup",
			      data);
	}
}

static bool token_field(const struct request *req, unsigned char hash[TOKEN_HASH_BYTES],
			char shown[TOKEN_CHARS + 1])
{
	size_t len = 0;
	const char *t = field(req, "token", &len);
	if (!t) {
		t = request_arg(req, "token");
		len = t ? strlen(t) : 0;
	}
	if (!token_well_formed(t, len))
		return false;
	token_hash(t, len, hash);
	if (shown)
		snprintf(shown, TOKEN_CHARS + 1, "%s", t);
	return true;
}

enum MHD_Result account_verify(struct app *app, struct request *req)
{
	unsigned char hash[TOKEN_HASH_BYTES];
	char shown[TOKEN_CHARS + 1];
	cJSON *data = request_is_api(req) ? NULL : page_data("Verify your address", "verify");
	if (req->problem.status)
		return answer(app, req, req->problem.status, req->problem.message, "verify", data);
	if (!token_field(req, hash, shown))
		return answer(app, req, 400,
			      "this verification link is incomplete or malformed; copy the whole "
			      "link from the mail, or ask for a new one on the login page",
			      "verify", data);
	if (!request_is_post(req)) {
		/* A GET only shows the button: mail scanners fetch links without using them up. */
		cJSON_AddStringToObject(data, "token", shown);
		req->no_referrer = true;
		return answer(app, req, 200, "", "verify", data);
	}
	long long user_id;
	struct db *db = db_of(app);
	enum users_outcome o =
		db ? users_token_use(db, USERS_TOKEN_VERIFY, hash, &user_id) : USERS_ERROR;
	if (o == USERS_NOT_FOUND)
		return answer(app, req, 400,
			      "this verification link has expired or was used already; log in, "
			      "or ask for a new link on the login page",
			      "verify", data);
	if (o != USERS_OK)
		return answer(app, req, 503, DB_DOWN, "verify", data);
	if (data)
		cJSON_AddBoolToObject(data, "verified", true);
	return answer(app, req, 200, "Your address is verified. You can log in now.", "verify",
		      data);
}

enum MHD_Result account_resend(struct app *app, struct request *req)
{
	cJSON *data = request_is_api(req) ? NULL : page_data("Log in", "login");
	if (data)
		cJSON_AddStringToObject(data, "username", "");
	if (req->problem.status)
		return answer(app, req, req->problem.status, req->problem.message, "login", data);
	size_t elen;
	const char *email = field(req, "email", &elen);
	char err[PROBLEM_MESSAGE_MAX];
	if (!users_email_valid(email, elen, err, sizeof(err)))
		return answer(app, req, 400, err, "login", data);
	struct db *db = db_of(app);
	struct user u;
	enum users_outcome o = db ? users_by_email(db, email, &u) : USERS_ERROR;
	if (o == USERS_OK && !u.verified && db_begin(db) == DB_OK) {
		if (enqueue_verify_in(app, db, u.id, u.email, u.username))
			db_commit(db);
		else
			db_rollback(db);
	} else if (o != USERS_OK && o != USERS_NOT_FOUND) {
		return answer(app, req, 503, DB_DOWN, "login", data);
	}
	return answer(app, req, 200, RESEND_DONE, "login", data);
}

static cJSON *login_data(const struct request *req)
{
	cJSON *data = page_data("Log in", "login");
	const char *u = field(req, "username", NULL);
	cJSON_AddStringToObject(data, "username", u ? u : "");
	return data;
}

/* The user named by a login's username field (a username or an email), or not found. */
static enum users_outcome find_login(struct db *db, const char *name, size_t len, struct user *u)
{
	char lower[USERS_NAME_MAX + 1], err[8];
	if (name && memchr(name, '@', len))
		return len <= USERS_EMAIL_MAX && strlen(name) == len ? users_by_email(db, name, u)
								     : USERS_NOT_FOUND;
	if (!users_name_normalize(name, len, lower, err, sizeof(err)))
		return USERS_NOT_FOUND;
	return users_by_username(db, lower, u);
}

/*
 * A login, from the request's fields to its outcome: run on a login thread
 * (offload), one block, freed with the request.
 */
struct login_pending {
	struct offload_task task;
	struct app *app;
	const char *name, *pw; /* the request's fields, which outlive the task */
	size_t nlen, plen;
	char address[AUTH_ADDRESS_MAX];
	/* The outcome: */
	unsigned status; /* 200: logged in, token set */
	char message[160];
	long retry_after_s;
	bool unverified;
	char username[USERS_NAME_MAX + 1];
	char token[TOKEN_CHARS + 1];
};

static bool login_fail(struct login_pending *l, unsigned status, const char *message)
{
	l->status = status;
	snprintf(l->message, sizeof(l->message), "%s", message);
	return false;
}

/* On a login thread: the user, the throttle, the hash, the session; false with the outcome set. */
static bool login_steps(struct login_pending *l)
{
	struct app *app = l->app;
	struct db *db = db_of(app);
	struct user u;
	enum users_outcome o = db ? find_login(db, l->name, l->nlen, &u) : USERS_UNAVAILABLE;
	if (o != USERS_OK && o != USERS_NOT_FOUND)
		return login_fail(l, 503, DB_DOWN);
	bool known = o == USERS_OK;
	long window = app->cfg->login_window_s;
	bool over;
	if (users_failures_over(db, known ? u.id : 0, l->address, window, LOGIN_MAX_PER_USER,
				LOGIN_MAX_PER_ADDRESS, &over, &l->retry_after_s) != USERS_OK)
		return login_fail(l, 503, DB_DOWN);
	if (over) {
		login_fail(l, 429, "");
		snprintf(l->message, sizeof(l->message),
			 "too many failed logins; try again in %ld seconds", l->retry_after_s);
		return false;
	}
	if (!password_verify(app->hasher, known ? u.password_hash : NULL, l->pw, l->plen)) {
		users_failure_add(db, known ? u.id : 0, l->address, window);
		return login_fail(l, 401, "wrong username or password");
	}
	if (!u.verified) {
		l->unverified = true;
		return login_fail(l, 403, "verify your email first: open the link we mailed you, or "
					  "send the link again");
	}
	if (password_needs_rehash(u.password_hash)) {
		char hash[PASSWORD_HASH_MAX];
		if (password_hash(app->hasher, l->pw, l->plen, hash))
			users_set_password(db, u.id, hash);
	}
	users_failures_clear(db, u.id);
	unsigned char hash[TOKEN_HASH_BYTES];
	token_new(l->token);
	token_hash(l->token, TOKEN_CHARS, hash);
	if (sessions_create(db, u.id, SESSION_BROWSER, NULL, hash,
			    app->cfg->session_max_days * DAY_S) != DB_OK) {
		sodium_memzero(l->token, sizeof(l->token));
		return login_fail(l, 503, DB_DOWN);
	}
	snprintf(l->username, sizeof(l->username), "%s", u.username);
	l->status = 200;
	return true;
}

static void login_run(void *ctx)
{
	login_steps(ctx);
}

static enum MHD_Result login_answer(struct app *app, struct request *req, cJSON *data);

enum MHD_Result account_login(struct app *app, struct request *req)
{
	cJSON *data = request_is_api(req) ? NULL : login_data(req);
	if (req->problem.status)
		return answer(app, req, req->problem.status, req->problem.message, "login", data);
	if (!request_is_post(req))
		return answer(app, req, 200, "", "login", data);
	if (req->login)
		return login_answer(app, req, data);
	size_t nlen, plen;
	const char *name = field(req, "username", &nlen), *pw = field(req, "password", &plen);
	if (!name || !pw || !nlen || !plen || plen > PASSWORD_MAX_BYTES)
		return answer(app, req, 400, "give a username (or email) and a password", "login",
			      data);
	struct login_pending *l = calloc(1, sizeof(*l));
	if (!l)
		return answer(app, req, 500, "out of memory", "login", data);
	*l = (struct login_pending){.app = app, .name = name, .pw = pw, .nlen = nlen, .plen = plen};
	auth_address(app, req->conn, l->address);
	l->task = (struct offload_task){.run = login_run, .ctx = l, .conn = req->conn};
	req->login = l;
	cJSON_Delete(data);
	/* libmicrohttpd calls this again once the login ran: see login_answer. */
	req->answered = false;
	offload_submit(app->logins, &l->task);
	return MHD_YES;
}

static enum MHD_Result login_answer(struct app *app, struct request *req, cJSON *data)
{
	struct login_pending *l = req->login;
	if (!atomic_load(&l->task.finished))
		return answer(app, req, 503, DB_DOWN, "login", data);
	if (l->status != 200) {
		if (l->status == 429)
			req->retry_after_s = (unsigned)l->retry_after_s;
		if (l->unverified && data)
			cJSON_AddBoolToObject(data, "unverified", true);
		return answer(app, req, l->status, l->message, "login", data);
	}
	char *token = l->token;
	log_info("accounts: %s logged in", l->username);
	if (request_is_api(req)) {
		cJSON_Delete(data);
		cJSON *ok_json = http_success_object();
		char bearer[TOKEN_CHARS + 8];
		snprintf(bearer, sizeof(bearer), TOKEN_BEARER_PREFIX "%s", token);
		cJSON_AddStringToObject(ok_json, "token", bearer);
		sodium_memzero(l->token, sizeof(l->token));
		req->no_store = true;
		return reply_json_with(app, req, 200, ok_json);
	}
	cJSON_Delete(data);
	snprintf(req->set_session, sizeof(req->set_session), "%s", token);
	sodium_memzero(l->token, sizeof(l->token));
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/");
		reply_extra_headers(app, req, r);
	}
	return http_queue(req->conn, MHD_HTTP_SEE_OTHER, r);
}

enum MHD_Result account_logout(struct app *app, struct request *req)
{
	if (req->problem.status)
		return reply_problem(app, req, &req->problem);
	if (req->logged_in) {
		struct db *db = db_of(app);
		if (!db || sessions_delete(db, req->user.hash) != DB_OK)
			return reply_error(app, req, 503, DB_DOWN);
	}
	req->clear_session = true;
	if (request_is_api(req))
		return reply_json_with(app, req, 200, http_success_object());
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/");
		reply_extra_headers(app, req, r);
	}
	return http_queue(req->conn, MHD_HTTP_SEE_OTHER, r);
}

enum MHD_Result account_me(struct app *app, struct request *req)
{
	if (req->problem.status)
		return reply_problem(app, req, &req->problem);
	if (!req->logged_in)
		return reply_error(app, req, 401, "log in first (a session cookie or a bearer token)");
	cJSON *ok = http_success_object();
	cJSON *u = cJSON_AddObjectToObject(ok, "user");
	cJSON_AddStringToObject(u, "username", req->user.username);
	cJSON_AddStringToObject(u, "email", req->user.email);
	cJSON_AddBoolToObject(u, "admin", req->user.admin);
	cJSON_AddStringToObject(u, "joined", req->user.joined);
	req->no_store = true;
	return reply_json_with(app, req, 200, ok);
}

static const char FORGOT_DONE[] =
	"If an account has that email, a link to choose a new password is on its way.";

static void enqueue_reset(struct app *app, struct db *db, const struct user *u)
{
	char token[TOKEN_CHARS + 1], link[LINK_MAX], text[2048], html[2048];
	unsigned char hash[TOKEN_HASH_BYTES];
	token_new(token);
	token_hash(token, TOKEN_CHARS, hash);
	snprintf(link, sizeof(link), "%s/reset_password?token=%s", app->cfg->public_url, token);
	snprintf(text, sizeof(text),
		 "Hello %s,\r\n\r\nopen this link to choose a new password (it works once, for "
		 "one hour):\r\n\r\n%s\r\n\r\nIf you did not ask for it, ignore this message; "
		 "your password stays as it is.\r\n",
		 u->username, link);
	snprintf(html, sizeof(html),
		 "<p>Hello %s,</p><p>open this link to choose a new password (it works once, "
		 "for one hour):</p><p><a href=\"%s\">%s</a></p><p>If you did not ask for it, "
		 "ignore this message.</p>",
		 u->username, link, link);
	if (db_begin(db) != DB_OK)
		return;
	if (users_token_create_in(db, u->id, USERS_TOKEN_RESET, hash, RESET_TTL_S) == USERS_OK &&
	    enqueue_mail(app, db, true, u->email, "Choose a new password for Cloud Image Gallery",
			 text, html, link) == JOBS_OK)
		db_commit(db);
	else
		db_rollback(db);
}

enum MHD_Result account_forgot(struct app *app, struct request *req)
{
	cJSON *data = request_is_api(req) ? NULL : page_data("Forgot your password?", "login");
	if (req->problem.status)
		return answer(app, req, req->problem.status, req->problem.message, "forgot", data);
	if (!request_is_post(req))
		return answer(app, req, 200, "", "forgot", data);
	size_t elen;
	const char *email = field(req, "email", &elen);
	char err[PROBLEM_MESSAGE_MAX];
	if (!users_email_valid(email, elen, err, sizeof(err)))
		return answer(app, req, 400, err, "forgot", data);
	struct db *db = db_of(app);
	struct user u;
	enum users_outcome o = db ? users_by_email(db, email, &u) : USERS_UNAVAILABLE;
	if (o == USERS_OK)
		enqueue_reset(app, db, &u);
	else if (o != USERS_NOT_FOUND)
		return answer(app, req, 503, DB_DOWN, "forgot", data);
	/* The same words whether or not the address has an account. */
	return answer(app, req, 200, FORGOT_DONE, "forgot", data);
}

enum MHD_Result account_reset(struct app *app, struct request *req)
{
	cJSON *data = request_is_api(req) ? NULL : page_data("Choose a new password", "login");
	/* The token is in the address: it must not leave in a Referer header. */
	req->no_referrer = true;
	if (req->problem.status)
		return answer(app, req, req->problem.status, req->problem.message, "reset", data);
	unsigned char hash[TOKEN_HASH_BYTES];
	char shown[TOKEN_CHARS + 1];
	static const char BAD_LINK[] = "this link to choose a new password has expired, was used "
				       "already or is incomplete; ask for a new one";
	if (!token_field(req, hash, shown))
		return answer(app, req, 400, BAD_LINK, "reset", data);
	if (data)
		cJSON_AddStringToObject(data, "token", shown);
	struct db *db = db_of(app);
	long long user_id;
	enum users_outcome o = db ? users_token_peek(db, USERS_TOKEN_RESET, hash, &user_id)
				  : USERS_UNAVAILABLE;
	if (o == USERS_NOT_FOUND) {
		cJSON_DeleteItemFromObject(data, "token");
		return answer(app, req, 400, BAD_LINK, "reset", data);
	}
	if (o != USERS_OK)
		return answer(app, req, 503, DB_DOWN, "reset", data);
	if (!request_is_post(req))
		return answer(app, req, 200, "", "reset", data);
	struct user u;
	size_t plen;
	const char *pw = field(req, "password", &plen);
	char err[PROBLEM_MESSAGE_MAX], pw_hash[PASSWORD_HASH_MAX];
	if (users_by_id(db, user_id, &u) != USERS_OK)
		return answer(app, req, 503, DB_DOWN, "reset", data);
	if (!password_acceptable(pw, plen, u.username, u.email, err, sizeof(err)))
		return answer(app, req, 400, err, "reset", data);
	if (!password_hash(app->hasher, pw, plen, pw_hash))
		return answer(app, req, 500, "cannot hash the password", "reset", data);
	long long used_by;
	o = users_token_use(db, USERS_TOKEN_RESET, hash, &used_by);
	if (o == USERS_NOT_FOUND || (o == USERS_OK && used_by != user_id)) {
		cJSON_DeleteItemFromObject(data, "token");
		return answer(app, req, 400, BAD_LINK, "reset", data);
	}
	if (o != USERS_OK || users_set_password(db, user_id, pw_hash) != USERS_OK ||
	    sessions_delete_user(db, user_id, NULL) != DB_OK)
		return answer(app, req, 503, DB_DOWN, "reset", data);
	users_failures_clear(db, user_id);
	log_info("accounts: %s chose a new password; every session ended", u.username);
	cJSON_DeleteItemFromObject(data, "token");
	if (data)
		cJSON_AddBoolToObject(data, "done", true);
	return answer(app, req, 200, "Your new password is set and every session ended. Log in with it.",
		      "reset", data);
}
