/* auth: who a request comes from (session cookie or bearer token), and the cookie and CSRF token tied to it. */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/server.h"
#include "core/catalog.h"
#include "core/sessions.h"
#include "core/users.h"
#include "frontend/app.h"
#include "frontend/request.h"

enum { DAY_S = 86400, CSRF_CHARS = 32 };

bool auth_load_key(const char *data_dir, unsigned char key[AUTH_KEY_BYTES], char *err,
		   size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/csrf.key", data_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		randombytes_buf(key, AUTH_KEY_BYTES);
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
		int w = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		bool ok = w >= 0 && write(w, key, AUTH_KEY_BYTES) == AUTH_KEY_BYTES &&
			  fsync(w) == 0;
		if (w >= 0)
			close(w);
		/* link, not rename: a front end starting at the same time keeps the first key. */
		ok = ok && (link(tmp, path) == 0 || errno == EEXIST);
		unlink(tmp);
		if (!ok) {
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			return false;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	bool ok = fd >= 0 && read(fd, key, AUTH_KEY_BYTES) == AUTH_KEY_BYTES;
	if (fd >= 0)
		close(fd);
	if (!ok)
		snprintf(err, errlen, "cannot read the %d bytes of %s", AUTH_KEY_BYTES, path);
	return ok;
}

bool auth_resolve(struct app *app, struct request *req)
{
	if (req->auth_done)
		return !req->problem.status;
	req->auth_done = true;
	char token[TOKEN_CHARS + 1];
	bool bearer_present, cookie_present;
	const char *authz = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_AUTHORIZATION);
	bool bearer = token_from_bearer(authz, token, &bearer_present);
	if (bearer_present && !bearer) {
		problem_set(&req->problem, 401,
			    "the Authorization header must be 'Bearer " TOKEN_BEARER_PREFIX
			    "<token>' with a token from /account or /api/login");
		return false;
	}
	if (!bearer) {
		const char *cookies =
			MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
		/* A malformed cookie is no session: the person is simply logged out. */
		if (!token_from_cookie(cookies, AUTH_COOKIE, token, &cookie_present))
			return true;
	}
	unsigned char hash[TOKEN_HASH_BYTES];
	token_hash(token, TOKEN_CHARS, hash);
	sodium_memzero(token, sizeof(token));
	struct db *db = catalog_db(app->catalog);
	bool found = false;
	enum db_status s = db ? sessions_resolve(db, hash, app->cfg->session_idle_days * DAY_S,
						 &req->user, &found)
			      : DB_FAILED;
	if (s != DB_OK) {
		/*
		 * The session stays as it is. A read goes on as an anonymous one (an
		 * image from the cache needs no database); a write cannot be checked.
		 */
		if (!request_is_post(req))
			return true;
		problem_set(&req->problem, 503,
			    "the database does not answer, so your login cannot be checked; "
			    "try again in a moment");
		return false;
	}
	if (!found && bearer) {
		problem_set(&req->problem, 401, "the bearer token is unknown, revoked or expired");
		return false;
	}
	req->logged_in = found;
	req->by_cookie = found && !bearer;
	return true;
}

void auth_csrf_token(const struct app *app, const struct request *req, char out[33])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, req->user.hash, TOKEN_HASH_BYTES, app->csrf_key);
	sodium_bin2hex(out, CSRF_CHARS + 1, mac, CSRF_CHARS / 2);
}

bool auth_csrf_ok(const struct app *app, const struct request *req, const char *field)
{
	if (!field)
		field = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, AUTH_CSRF_HEADER);
	if (!field || strlen(field) != CSRF_CHARS)
		return false;
	char want[CSRF_CHARS + 1];
	auth_csrf_token(app, req, want);
	return sodium_memcmp(want, field, CSRF_CHARS) == 0;
}

static bool secure(const struct app *app)
{
	return strncmp(app->cfg->public_url, "https:", 6) == 0;
}

void auth_set_cookie(const struct app *app, struct MHD_Response *r, const char *token)
{
	char cookie[256];
	snprintf(cookie, sizeof(cookie),
		 AUTH_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld%s", token,
		 app->cfg->session_max_days * DAY_S, secure(app) ? "; Secure" : "");
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

void auth_clear_cookie(const struct app *app, struct MHD_Response *r)
{
	char cookie[160];
	snprintf(cookie, sizeof(cookie), AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s",
		 secure(app) ? "; Secure" : "");
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

bool auth_admin_ok(struct app *app, const struct request *req, struct problem *p)
{
	if (req->logged_in && req->user.admin)
		return true;
	struct db *db = catalog_db(app->catalog);
	bool exists = true;
	if (!db || users_admin_exists(db, &exists) != USERS_OK)
		return problem_set(p, 503, "the database does not answer; try again in a moment");
	if (!exists)
		return true;
	return problem_set(p, 403, "only the gallery's admin may do this; log in as the admin at /login");
}

void auth_address(const struct app *app, struct MHD_Connection *conn,
		  char out[AUTH_ADDRESS_MAX])
{
	snprintf(out, AUTH_ADDRESS_MAX, "unknown");
	if (app->server)
		server_client_address(app->server, conn, out, AUTH_ADDRESS_MAX);
	/* A trusted proxy's X-Forwarded-For is text: keep the column's ASCII, whatever it holds. */
	for (char *c = out; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != ':')
			*c = '_';
}
