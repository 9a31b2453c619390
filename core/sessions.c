/* sessions: the SQL of browser sessions and API tokens, kept as SHA-256 of the token. */
#include "sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TOUCH_EVERY_S = 60 };

static struct db_param hash_param(const unsigned char *hash)
{
	return DB_STRN((const char *)hash, TOKEN_HASH_BYTES);
}

enum db_status sessions_create(struct db *db, long long user_id, enum session_kind kind,
			       const char *name, const unsigned char hash[TOKEN_HASH_BYTES],
			       long max_s)
{
	struct db_param null = {.type = DB_PARAM_NULL};
	struct db_param p[] = {hash_param(hash), DB_INT(user_id),
			       DB_STR(kind == SESSION_API ? "api" : "browser"),
			       name ? DB_STR(name) : null, DB_INT(kind == SESSION_API ? 0 : max_s)};
	return db_exec(db,
		       "INSERT INTO sessions (token_hash, user_id, kind, name, expires_at) VALUES "
		       "(?, ?, ?, ?, IF(kind = 'api', NULL, NOW(3) + INTERVAL ? SECOND))",
		       p, 5, NULL, NULL);
}

struct resolved {
	struct session_user *u;
	bool found, stale;
};

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static bool on_session(void *ctx, char **cols, const unsigned long *lens, unsigned n)
{
	(void)lens;
	struct resolved *r = ctx;
	if (n < 7 || !db_column_int(cols[0], &r->u->user_id))
		return false;
	r->found = true;
	r->u->kind = cols[1] && strcmp(cols[1], "api") == 0 ? SESSION_API : SESSION_BROWSER;
	copy(r->u->username, sizeof(r->u->username), cols[2]);
	copy(r->u->email, sizeof(r->u->email), cols[3]);
	r->u->admin = cols[4] && cols[4][0] == '1';
	copy(r->u->joined, sizeof(r->u->joined), cols[5]);
	r->stale = cols[6] && cols[6][0] == '1';
	return false;
}

enum db_status sessions_resolve(struct db *db, const unsigned char hash[TOKEN_HASH_BYTES],
				long idle_s, struct session_user *out, bool *found)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->hash, hash, TOKEN_HASH_BYTES);
	struct resolved r = {.u = out};
	struct db_param p[] = {DB_INT(TOUCH_EVERY_S), hash_param(hash), DB_INT(idle_s)};
	enum db_status s = db_exec(
		db,
		"SELECT s.user_id, s.kind, u.username, u.email, u.is_admin, "
		"DATE_FORMAT(u.created_at, '%Y-%m-%dT%H:%i:%sZ'), "
		"s.last_used_at < NOW(3) - INTERVAL ? SECOND "
		"FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? "
		"AND (s.expires_at IS NULL OR s.expires_at > NOW(3)) "
		"AND (s.kind = 'api' OR s.last_used_at > NOW(3) - INTERVAL ? SECOND) "
		"AND u.verified_at IS NOT NULL",
		p, 3, on_session, &r);
	*found = s == DB_OK && r.found;
	if (*found && r.stale) {
		struct db_param q[] = {hash_param(hash)};
		db_exec(db, "UPDATE sessions SET last_used_at = NOW(3) WHERE token_hash = ?", q, 1,
			NULL, NULL);
	}
	return s;
}

enum db_status sessions_delete(struct db *db, const unsigned char hash[TOKEN_HASH_BYTES])
{
	struct db_param p[] = {hash_param(hash)};
	return db_exec(db, "DELETE FROM sessions WHERE token_hash = ?", p, 1, NULL, NULL);
}

enum db_status sessions_delete_user(struct db *db, long long user_id, const unsigned char *keep)
{
	static const unsigned char none[TOKEN_HASH_BYTES];
	struct db_param p[] = {DB_INT(user_id), hash_param(keep ? keep : none)};
	return db_exec(db, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", p, 2, NULL,
		       NULL);
}

struct listing {
	sessions_token_fn fn;
	void *ctx;
};

static bool on_token(void *ctx, char **cols, const unsigned long *lens, unsigned n)
{
	struct listing *l = ctx;
	if (n < 4 || lens[0] != TOKEN_HASH_BYTES)
		return false;
	struct session_token t;
	token_hash_hex((const unsigned char *)cols[0], t.id);
	copy(t.name, sizeof(t.name), cols[1]);
	copy(t.created_at, sizeof(t.created_at), cols[2]);
	copy(t.last_used_at, sizeof(t.last_used_at), cols[3]);
	return l->fn(l->ctx, &t);
}

enum db_status sessions_list_tokens(struct db *db, long long user_id, sessions_token_fn fn,
				    void *ctx)
{
	struct listing l = {fn, ctx};
	struct db_param p[] = {DB_INT(user_id)};
	return db_exec(db,
		       "SELECT token_hash, name, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "
		       "DATE_FORMAT(last_used_at, '%Y-%m-%dT%H:%i:%sZ') FROM sessions "
		       "WHERE user_id = ? AND kind = 'api' ORDER BY created_at DESC",
		       p, 1, on_token, &l);
}

enum db_status sessions_revoke_token(struct db *db, long long user_id, const char *id_hex,
				     bool *revoked)
{
	unsigned char hash[TOKEN_HASH_BYTES];
	size_t len = 0;
	*revoked = false;
	if (!id_hex || strlen(id_hex) != 2 * TOKEN_HASH_BYTES ||
	    sodium_hex2bin(hash, sizeof(hash), id_hex, strlen(id_hex), NULL, &len, NULL) != 0 ||
	    len != TOKEN_HASH_BYTES)
		return DB_OK;
	struct db_param p[] = {hash_param(hash), DB_INT(user_id)};
	enum db_status s = db_exec(
		db, "DELETE FROM sessions WHERE token_hash = ? AND user_id = ? AND kind = 'api'", p,
		2, NULL, NULL);
	*revoked = s == DB_OK && db_affected_rows(db) > 0;
	return s;
}
