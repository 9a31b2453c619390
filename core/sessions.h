/* sessions: the SQL of browser sessions and API tokens, kept as SHA-256 of the token. */
#ifndef GALLERY_SESSIONS_H
#define GALLERY_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/db.h"
#include "core/token.h"
#include "core/users.h"

enum session_kind { SESSION_BROWSER, SESSION_API };

enum { SESSIONS_NAME_MAX = 64 };

/* Who a request's token names. */
struct session_user {
	unsigned char hash[TOKEN_HASH_BYTES];
	enum session_kind kind;
	long long user_id;
	char username[USERS_NAME_MAX + 1];
	char email[USERS_EMAIL_MAX + 1];
	bool admin;
	char joined[USERS_TIME_MAX];
};

/* A browser session lasts max_s in all; an API token (kind SESSION_API, named) until revoked. */
enum db_status sessions_create(struct db *db, long long user_id, enum session_kind kind,
			       const char *name, const unsigned char hash[TOKEN_HASH_BYTES],
			       long max_s);
/*
 * The user of a live session or token, by primary key: *found false when unknown,
 * expired, or a browser session unused for idle_s. Marks it used (at most once
 * a minute, so that reads do not all write).
 */
enum db_status sessions_resolve(struct db *db, const unsigned char hash[TOKEN_HASH_BYTES],
				long idle_s, struct session_user *out, bool *found);
enum db_status sessions_delete(struct db *db, const unsigned char hash[TOKEN_HASH_BYTES]);
/* Every session and token of the user but keep (NULL: all). */
enum db_status sessions_delete_user(struct db *db, long long user_id,
				    const unsigned char *keep);

struct session_token {
	char id[TOKEN_HASH_HEX]; /* the hash in hex: how the owner names it to revoke it */
	char name[SESSIONS_NAME_MAX + 1];
	char created_at[USERS_TIME_MAX], last_used_at[USERS_TIME_MAX];
};
typedef bool (*sessions_token_fn)(void *ctx, const struct session_token *t);
enum db_status sessions_list_tokens(struct db *db, long long user_id, sessions_token_fn fn,
				    void *ctx);
/* *revoked false when the user has no token with that id. */
enum db_status sessions_revoke_token(struct db *db, long long user_id, const char *id_hex,
				     bool *revoked);

#endif
