/* users: the SQL of users, mailed tokens and login failures, and the rules for names and addresses. */
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { USERS_EMAIL_LOCAL_MAX = 64 };

#define USER_COLUMNS                                                                        \
	"id, username, email, password_hash, verified_at IS NOT NULL, is_admin, "          \
	"DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ')"

static enum users_outcome outcome_of(enum db_status s)
{
	switch (s) {
	case DB_OK: return USERS_OK;
	case DB_UNAVAILABLE: return USERS_UNAVAILABLE;
	default: return USERS_ERROR;
	}
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

bool users_name_normalize(const char *name, size_t len, char out[USERS_NAME_MAX + 1], char *err,
			  size_t errlen)
{
	if (!name || len < USERS_NAME_MIN || len > USERS_NAME_MAX) {
		snprintf(err, errlen, "the username needs %d to %d characters", USERS_NAME_MIN,
			 USERS_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
			snprintf(err, errlen,
				 "the username may hold only letters a-z, digits, '_' and '.'");
			return false;
		}
		out[i] = c;
	}
	out[len] = '\0';
	return true;
}

bool users_email_valid(const char *email, size_t len, char *err, size_t errlen)
{
	const char *at = email ? memchr(email, '@', len) : NULL;
	bool ok = email && len >= 3 && len <= USERS_EMAIL_MAX && at && at > email &&
		  (size_t)(at - email) <= USERS_EMAIL_LOCAL_MAX && at + 1 < email + len &&
		  !memchr(at + 1, '@', len - (size_t)(at - email) - 1) &&
		  memchr(at + 1, '.', len - (size_t)(at - email) - 1) && email[len - 1] != '.';
	/* Printable ASCII without what would break a mail header or an SMTP command. */
	for (size_t i = 0; ok && i < len; i++) {
		unsigned char c = (unsigned char)email[i];
		ok = c > ' ' && c < 0x7f && !strchr("<>()[]\\,;:\"", c);
	}
	if (!ok)
		snprintf(err, errlen, "the email address is not valid (at most %d characters, as "
				      "name@example.org)", USERS_EMAIL_MAX);
	return ok;
}

static bool on_id(void *ctx, char **cols, const unsigned long *lens, unsigned n)
{
	(void)lens;
	if (n >= 1 && cols[0])
		db_column_int(cols[0], ctx);
	return false;
}

static enum db_status exists(struct db *db, const char *sql, const char *value, bool *found)
{
	long long id = 0;
	struct db_param p[] = {DB_STR(value)};
	enum db_status s = db_exec(db, sql, p, 1, on_id, &id);
	*found = id != 0;
	return s;
}

enum users_outcome users_create_in(struct db *db, const char *username, const char *email,
				   const char *hash, long long *id)
{
	bool found;
	enum db_status s = exists(db, "SELECT id FROM users WHERE username = ?", username, &found);
	if (s != DB_OK || found)
		return s == DB_OK ? USERS_NAME_TAKEN : outcome_of(s);
	s = exists(db, "SELECT id FROM users WHERE email = ?", email, &found);
	if (s != DB_OK || found)
		return s == DB_OK ? USERS_EMAIL_TAKEN : outcome_of(s);
	struct db_param p[] = {DB_STR(username), DB_STR(email), DB_STR(hash)};
	s = db_exec(db, "INSERT INTO users (username, email, password_hash) VALUES (?, ?, ?)", p, 3,
		    NULL, NULL);
	if (s == DB_FAILED && strstr(db_error(db), "Duplicate"))
		return strstr(db_error(db), "users_email") ? USERS_EMAIL_TAKEN : USERS_NAME_TAKEN;
	if (s != DB_OK)
		return outcome_of(s);
	*id = 0;
	s = db_exec(db, "SELECT LAST_INSERT_ID()", NULL, 0, on_id, id);
	return outcome_of(s);
}

static const char *purpose_name(enum users_token_purpose p)
{
	return p == USERS_TOKEN_VERIFY ? "verify" : "reset";
}

enum users_outcome users_token_create_in(struct db *db, long long user_id,
					 enum users_token_purpose purpose,
					 const unsigned char hash[TOKEN_HASH_BYTES], long ttl_s)
{
	struct db_param p[] = {DB_STRN((const char *)hash, TOKEN_HASH_BYTES), DB_INT(user_id),
			       DB_STR(purpose_name(purpose)), DB_INT(ttl_s)};
	return outcome_of(db_exec(db,
				  "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at) "
				  "VALUES (?, ?, ?, NOW(3) + INTERVAL ? SECOND)",
				  p, 4, NULL, NULL));
}

static bool on_user(void *ctx, char **cols, const unsigned long *lens, unsigned n)
{
	(void)lens;
	struct user *u = ctx;
	if (n < 7 || !db_column_int(cols[0], &u->id))
		return false;
	copy(u->username, sizeof(u->username), cols[1]);
	copy(u->email, sizeof(u->email), cols[2]);
	copy(u->password_hash, sizeof(u->password_hash), cols[3]);
	u->verified = cols[4] && cols[4][0] == '1';
	u->admin = cols[5] && cols[5][0] == '1';
	copy(u->created_at, sizeof(u->created_at), cols[6]);
	return false;
}

static enum users_outcome find(struct db *db, const char *sql, const struct db_param *p,
			       size_t n, struct user *u)
{
	memset(u, 0, sizeof(*u));
	enum db_status s = db_exec(db, sql, p, n, on_user, u);
	if (s != DB_OK)
		return outcome_of(s);
	return u->id ? USERS_OK : USERS_NOT_FOUND;
}

enum users_outcome users_find_login(struct db *db, const char *name, struct user *u)
{
	struct db_param p[] = {DB_STR(name), DB_STR(name)};
	return find(db, "SELECT " USER_COLUMNS " FROM users WHERE username = ? OR email = ? LIMIT 1",
		    p, 2, u);
}

enum users_outcome users_by_id(struct db *db, long long id, struct user *u)
{
	struct db_param p[] = {DB_INT(id)};
	return find(db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", p, 1, u);
}

enum users_outcome users_by_username(struct db *db, const char *username, struct user *u)
{
	struct db_param p[] = {DB_STR(username)};
	return find(db, "SELECT " USER_COLUMNS " FROM users WHERE username = ?", p, 1, u);
}

enum users_outcome users_by_email(struct db *db, const char *email, struct user *u)
{
	struct db_param p[] = {DB_STR(email)};
	return find(db, "SELECT " USER_COLUMNS " FROM users WHERE email = ?", p, 1, u);
}

enum users_outcome users_set_password(struct db *db, long long id, const char *hash)
{
	struct db_param p[] = {DB_STR(hash), DB_INT(id)};
	return outcome_of(
		db_exec(db, "UPDATE users SET password_hash = ? WHERE id = ?", p, 2, NULL, NULL));
}

static enum users_outcome use_in(struct db *db, enum users_token_purpose purpose,
				 const unsigned char hash[TOKEN_HASH_BYTES], long long *user_id)
{
	*user_id = 0;
	struct db_param p[] = {DB_STRN((const char *)hash, TOKEN_HASH_BYTES),
			       DB_STR(purpose_name(purpose))};
	enum db_status s = db_exec(db,
				   "SELECT user_id FROM email_tokens WHERE token_hash = ? AND "
				   "purpose = ? AND used_at IS NULL AND expires_at > NOW(3) FOR UPDATE",
				   p, 2, on_id, user_id);
	if (s != DB_OK)
		return outcome_of(s);
	if (!*user_id)
		return USERS_NOT_FOUND;
	s = db_exec(db, "UPDATE email_tokens SET used_at = NOW(3) WHERE token_hash = ?", p, 1, NULL,
		    NULL);
	if (s != DB_OK || purpose != USERS_TOKEN_VERIFY)
		return outcome_of(s);
	/* The gap lock on users_admin makes two first verifications take turns. */
	long long admin = 0;
	s = db_exec(db, "SELECT id FROM users WHERE is_admin = 1 LIMIT 1 FOR UPDATE", NULL, 0, on_id,
		    &admin);
	if (s != DB_OK)
		return outcome_of(s);
	struct db_param q[] = {DB_INT(admin ? 0 : 1), DB_INT(*user_id)};
	return outcome_of(db_exec(db,
				  "UPDATE users SET verified_at = COALESCE(verified_at, NOW(3)), "
				  "is_admin = is_admin OR ? WHERE id = ?",
				  q, 2, NULL, NULL));
}

enum users_outcome users_token_use(struct db *db, enum users_token_purpose purpose,
				   const unsigned char hash[TOKEN_HASH_BYTES], long long *user_id)
{
	enum { ATTEMPTS = 3 };
	enum users_outcome o = USERS_ERROR;
	for (int i = 0; i < ATTEMPTS; i++) {
		enum db_status s = db_begin(db);
		if (s != DB_OK)
			return outcome_of(s);
		o = use_in(db, purpose, hash, user_id);
		if (o != USERS_OK) {
			db_rollback(db);
			if (o == USERS_NOT_FOUND || o == USERS_UNAVAILABLE)
				return o;
			continue;
		}
		s = db_commit(db);
		if (s == DB_OK)
			return USERS_OK;
		if (s != DB_CONFLICT)
			return outcome_of(s);
	}
	return o;
}

enum users_outcome users_token_peek(struct db *db, enum users_token_purpose purpose,
				    const unsigned char hash[TOKEN_HASH_BYTES], long long *user_id)
{
	*user_id = 0;
	struct db_param p[] = {DB_STRN((const char *)hash, TOKEN_HASH_BYTES),
			       DB_STR(purpose_name(purpose))};
	enum db_status s = db_exec(db,
				   "SELECT user_id FROM email_tokens WHERE token_hash = ? AND "
				   "purpose = ? AND used_at IS NULL AND expires_at > NOW(3)",
				   p, 2, on_id, user_id);
	if (s != DB_OK)
		return outcome_of(s);
	return *user_id ? USERS_OK : USERS_NOT_FOUND;
}

enum users_outcome users_admin_exists(struct db *db, bool *exists_out)
{
	long long id = 0;
	enum db_status s =
		db_exec(db, "SELECT id FROM users WHERE is_admin = 1 LIMIT 1", NULL, 0, on_id, &id);
	*exists_out = id != 0;
	return outcome_of(s);
}

enum users_outcome users_delete(struct db *db, long long id)
{
	struct db_param p[] = {DB_INT(id)};
	/* sessions and email_tokens go with the row (ON DELETE CASCADE). */
	return outcome_of(db_exec(db, "DELETE FROM users WHERE id = ?", p, 1, NULL, NULL));
}

enum users_outcome users_failure_add(struct db *db, long long user_id, const char *address,
				     long window_s)
{
	struct db_param old[] = {DB_INT(window_s)};
	/* Rows past the window count for nothing: drop them as new ones come. */
	db_exec(db, "DELETE FROM login_failures WHERE created_at < NOW(3) - INTERVAL ? SECOND "
		    "LIMIT 100", old, 1, NULL, NULL);
	struct db_param p[] = {user_id ? DB_INT(user_id) : (struct db_param){.type = DB_PARAM_NULL},
			       DB_STR(address)};
	return outcome_of(db_exec(db, "INSERT INTO login_failures (user_id, address) VALUES (?, ?)",
				  p, 2, NULL, NULL));
}

struct window {
	long long count, retry_ms;
};

static bool on_window(void *ctx, char **cols, const unsigned long *lens, unsigned n)
{
	(void)lens;
	struct window *w = ctx;
	if (n >= 2) {
		db_column_int(cols[0], &w->count);
		db_column_int(cols[1], &w->retry_ms);
	}
	return false;
}

/* How many failures the window holds past the newest max, and when the one that makes max leaves. */
static enum db_status count_window(struct db *db, const char *column, struct db_param who,
				   long window_s, long max, struct window *w)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, NOW(3), "
		 "(SELECT created_at FROM login_failures WHERE %s = ? AND created_at > "
		 "NOW(3) - INTERVAL ? SECOND ORDER BY created_at DESC LIMIT 1 OFFSET ?) "
		 "+ INTERVAL ? SECOND) DIV 1000 FROM login_failures WHERE %s = ? AND "
		 "created_at > NOW(3) - INTERVAL ? SECOND",
		 column, column);
	struct db_param p[] = {who, DB_INT(window_s), DB_INT(max - 1), DB_INT(window_s),
			       who, DB_INT(window_s)};
	memset(w, 0, sizeof(*w));
	return db_exec(db, sql, p, 6, on_window, w);
}

enum users_outcome users_failures_over(struct db *db, long long user_id, const char *address,
				       long window_s, long max_user, long max_address,
				       bool *over, long *retry_after_s)
{
	*over = false;
	*retry_after_s = 0;
	struct window w;
	if (user_id) {
		enum db_status s = count_window(db, "user_id", DB_INT(user_id), window_s, max_user, &w);
		if (s != DB_OK)
			return outcome_of(s);
		if (w.count >= max_user) {
			*over = true;
			*retry_after_s = (long)(w.retry_ms / 1000 + 1);
		}
	}
	enum db_status s = count_window(db, "address", DB_STR(address), window_s, max_address, &w);
	if (s != DB_OK)
		return outcome_of(s);
	if (w.count >= max_address) {
		long r = (long)(w.retry_ms / 1000 + 1);
		*over = true;
		if (r > *retry_after_s)
			*retry_after_s = r;
	}
	return USERS_OK;
}

enum users_outcome users_failures_clear(struct db *db, long long user_id)
{
	struct db_param p[] = {DB_INT(user_id)};
	return outcome_of(
		db_exec(db, "DELETE FROM login_failures WHERE user_id = ?", p, 1, NULL, NULL));
}

enum users_outcome users_image_count(struct db *db, long long id, long long *count)
{
	struct db_param p[] = {DB_INT(id)};
	*count = 0;
	return outcome_of(db_exec(db, "SELECT COUNT(*) FROM images WHERE owner_id = ?", p, 1, on_id,
				  count));
}
