/* page_account: /account: password, API tokens, log out everywhere, delete the account. */
#include "page_account.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/http.h"
#include "common/log.h"
#include "core/catalog.h"
#include "core/images.h"
#include "core/password.h"
#include "core/sessions.h"
#include "core/users.h"
#include "frontend/app.h"
#include "frontend/auth.h"
#include "frontend/form.h"
#include "frontend/page.h"
#include "frontend/reply.h"
#include "frontend/request.h"

static const char DB_DOWN[] = "The database does not answer; nothing changed. Try again in a moment.";

static bool add_token(void *ctx, const struct session_token *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddStringToObject(o, "created_at", t->created_at);
	cJSON_AddStringToObject(o, "last_used_at", t->last_used_at);
	return cJSON_AddItemToArray(ctx, o);
}

/* The current password of the form, checked; false with the message set. */
static bool current_password_ok(struct app *app, struct request *req, struct db *db,
				cJSON *data, unsigned *status)
{
	size_t len;
	const char *pw = form_field(req->form, "current_password", &len);
	struct user u;
	if (users_by_id(db, req->user.user_id, &u) != USERS_OK) {
		page_message(data, false, DB_DOWN);
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return false;
	}
	if (!pw || !password_verify(app->hasher, u.password_hash, pw, len)) {
		page_message(data, false, "Your current password is not right.");
		*status = MHD_HTTP_FORBIDDEN;
		return false;
	}
	return true;
}

static unsigned change_password(struct app *app, struct request *req, struct db *db, cJSON *data)
{
	unsigned status = MHD_HTTP_OK;
	if (!current_password_ok(app, req, db, data, &status))
		return status;
	size_t len;
	const char *pw = form_field(req->form, "new_password", &len);
	char err[PROBLEM_MESSAGE_MAX], hash[PASSWORD_HASH_MAX];
	if (!password_acceptable(pw, len, req->user.username, req->user.email, err, sizeof(err))) {
		page_message(data, false, err);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (!password_hash(app->hasher, pw, len, hash) ||
	    users_set_password(db, req->user.user_id, hash) != USERS_OK ||
	    sessions_delete_user(db, req->user.user_id, req->user.hash) != DB_OK) {
		page_message(data, false, DB_DOWN);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	log_info("accounts: %s changed the password; other sessions ended", req->user.username);
	page_message(data, true, "Password changed. Every other session and API token has ended.");
	return MHD_HTTP_OK;
}

static bool token_name_ok(const char *name, size_t len)
{
	if (!name || len == 0 || len > SESSIONS_NAME_MAX || strlen(name) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < ' ' || name[i] == 0x7f)
			return false;
	return true;
}

static unsigned create_token(struct app *app, struct request *req, struct db *db, cJSON *data)
{
	size_t len;
	const char *name = form_field(req->form, "name", &len);
	if (!token_name_ok(name, len)) {
		page_message(data, false, "Name the token: 1 to 64 characters, no control characters.");
		return MHD_HTTP_BAD_REQUEST;
	}
	char token[TOKEN_CHARS + 1], shown[TOKEN_CHARS + 8];
	unsigned char hash[TOKEN_HASH_BYTES];
	token_new(token);
	token_hash(token, TOKEN_CHARS, hash);
	if (sessions_create(db, req->user.user_id, SESSION_API, name, hash, 0) != DB_OK) {
		page_message(data, false, DB_DOWN);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	snprintf(shown, sizeof(shown), TOKEN_BEARER_PREFIX "%s", token);
	sodium_memzero(token, sizeof(token));
	cJSON_AddStringToObject(data, "new_token", shown);
	page_message(data, true, "Token made. Copy it now: it is shown only this once.");
	(void)app;
	return MHD_HTTP_OK;
}

static unsigned revoke_token(struct request *req, struct db *db, cJSON *data)
{
	bool revoked;
	if (sessions_revoke_token(db, req->user.user_id, form_field(req->form, "id", NULL),
				  &revoked) != DB_OK) {
		page_message(data, false, DB_DOWN);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	page_message(data, revoked, revoked ? "Token revoked." : "You have no such token.");
	return revoked ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND;
}

/* The page as a person who is logged out sees it from here on. */
static void logged_out(struct request *req)
{
	req->logged_in = false;
	req->by_cookie = false;
	req->clear_session = true;
}

static unsigned logout_everywhere(struct request *req, struct db *db, cJSON *data)
{
	if (sessions_delete_user(db, req->user.user_id, NULL) != DB_OK) {
		page_message(data, false, DB_DOWN);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	logged_out(req);
	page_message(data, true, "Every session and API token of yours has ended.");
	return MHD_HTTP_OK;
}

static unsigned delete_account(struct app *app, struct request *req, struct db *db, cJSON *data)
{
	unsigned status = MHD_HTTP_OK;
	if (!current_password_ok(app, req, db, data, &status))
		return status;
	unsigned long count;
	struct outcome o;
	/* The images first: with the user gone first they would be ownerless, anyone's to replace. */
	if (!images_delete_owned(app->images, req->user.user_id, &count, &o) ||
	    users_delete(db, req->user.user_id) != USERS_OK) {
		page_message(data, false, DB_DOWN);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	log_info("accounts: %s deleted the account and %lu images", req->user.username, count);
	logged_out(req);
	cJSON_AddBoolToObject(data, "deleted", true);
	char msg[128];
	snprintf(msg, sizeof(msg), "Your account and its %lu image%s are deleted.", count,
		 count == 1 ? "" : "s");
	page_message(data, true, msg);
	return MHD_HTTP_OK;
}

enum MHD_Result page_account(struct app *app, struct request *req)
{
	req->no_store = true;
	if (!req->logged_in && !req->problem.status) {
		struct MHD_Response *r =
			MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/login");
		return http_queue(req->conn, MHD_HTTP_SEE_OTHER, r);
	}
	cJSON *data = page_data("Your account", "account");
	unsigned status = MHD_HTTP_OK;
	struct db *db = catalog_db(app->catalog);
	if (req->problem.status) {
		status = req->problem.status;
		page_message(data, false, req->problem.message);
	} else if (!db) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		page_message(data, false, DB_DOWN);
	} else if (request_is_post(req)) {
		const char *action = form_field(req->form, "action", NULL);
		action = action ? action : "";
		if (strcmp(action, "password") == 0)
			status = change_password(app, req, db, data);
		else if (strcmp(action, "token_create") == 0)
			status = create_token(app, req, db, data);
		else if (strcmp(action, "token_revoke") == 0)
			status = revoke_token(req, db, data);
		else if (strcmp(action, "logout_all") == 0)
			status = logout_everywhere(req, db, data);
		else if (strcmp(action, "delete") == 0)
			status = delete_account(app, req, db, data);
		else {
			status = MHD_HTTP_BAD_REQUEST;
			page_message(data, false, "Unknown action.");
		}
	}
	if (req->logged_in) {
		cJSON_AddStringToObject(data, "username", req->user.username);
		cJSON_AddStringToObject(data, "email", req->user.email);
		cJSON_AddStringToObject(data, "joined", req->user.joined);
		cJSON *tokens = cJSON_AddArrayToObject(data, "tokens");
		if (db && sessions_list_tokens(db, req->user.user_id, add_token, tokens) != DB_OK)
			cJSON_AddBoolToObject(data, "tokens_unknown", true);
		cJSON_AddBoolToObject(data, "active", true);
	}
	return reply_page(app, req, status, "account", data);
}
