/* users: the SQL of users, mailed tokens and login failures, and the rules for names and addresses. */
#ifndef GALLERY_USERS_H
#define GALLERY_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "core/password.h"
#include "core/token.h"

enum {
	USERS_NAME_MIN = 3,
	USERS_NAME_MAX = 32,
	USERS_EMAIL_MAX = 254,
	USERS_TIME_MAX = 32,
};

struct user {
	long long id;
	char username[USERS_NAME_MAX + 1];
	char email[USERS_EMAIL_MAX + 1];
	char password_hash[PASSWORD_HASH_MAX];
	bool verified, admin;
	char created_at[USERS_TIME_MAX]; /* ISO 8601 UTC */
};

enum users_outcome {
	USERS_OK,
	USERS_NAME_TAKEN,
	USERS_EMAIL_TAKEN,
	USERS_NOT_FOUND, /* no such user, or a token unknown, used or expired */
	USERS_UNAVAILABLE,
	USERS_ERROR,
};

enum users_token_purpose { USERS_TOKEN_VERIFY, USERS_TOKEN_RESET };

/* name lower-cased into out, or why it cannot be a username. */
bool users_name_normalize(const char *name, size_t len, char out[USERS_NAME_MAX + 1], char *err,
			  size_t errlen);
bool users_email_valid(const char *email, size_t len, char *err, size_t errlen);

/* Inside the caller's transaction. */
enum users_outcome users_create_in(struct db *db, const char *username, const char *email,
				   const char *hash, long long *id);
enum users_outcome users_token_create_in(struct db *db, long long user_id,
					 enum users_token_purpose purpose,
					 const unsigned char hash[TOKEN_HASH_BYTES], long ttl_s);

/* By username or email (login). */
enum users_outcome users_find_login(struct db *db, const char *name, struct user *u);
enum users_outcome users_by_id(struct db *db, long long id, struct user *u);
enum users_outcome users_by_username(struct db *db, const char *username, struct user *u);
enum users_outcome users_by_email(struct db *db, const char *email, struct user *u);
enum users_outcome users_set_password(struct db *db, long long id, const char *hash);
/*
 * Uses a mailed token once (its own transaction): USERS_NOT_FOUND when unknown,
 * used or expired. A verify token marks the user verified, and the admin when
 * none is yet.
 */
enum users_outcome users_token_use(struct db *db, enum users_token_purpose purpose,
				   const unsigned char hash[TOKEN_HASH_BYTES], long long *user_id);
/* The user of a live mailed token, without using it up. */
enum users_outcome users_token_peek(struct db *db, enum users_token_purpose purpose,
				    const unsigned char hash[TOKEN_HASH_BYTES], long long *user_id);
enum users_outcome users_admin_exists(struct db *db, bool *exists);
/* The user and every session and token of theirs (images are the caller's). */
enum users_outcome users_delete(struct db *db, long long id);

/* Login throttling, over the last window_s seconds. user_id 0: an unknown name. */
enum users_outcome users_failure_add(struct db *db, long long user_id, const char *address,
				     long window_s);
/*
 * Whether the account (user_id, 0 for none) has max_user failures or the
 * address max_address; *retry_after_s is when the oldest of them leaves the window.
 */
enum users_outcome users_failures_over(struct db *db, long long user_id, const char *address,
				       long window_s, long max_user, long max_address,
				       bool *over, long *retry_after_s);
enum users_outcome users_failures_clear(struct db *db, long long user_id);

/* A profile: images counted; joined is created_at. */
enum users_outcome users_image_count(struct db *db, long long id, long long *count);

#endif
