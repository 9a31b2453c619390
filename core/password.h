/* password: the password rules, and argon2id hashing bounded to a few hashes at once. */
#ifndef GALLERY_PASSWORD_H
#define GALLERY_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

enum {
	PASSWORD_MIN_CHARS = 8,
	PASSWORD_MAX_CHARS = 128,
	PASSWORD_MAX_BYTES = 4 * PASSWORD_MAX_CHARS,
	PASSWORD_MIN_BITS = 20, /* zxcvbn's estimate */
	PASSWORD_HASH_MAX = 128, /* crypto_pwhash_STRBYTES */
};

struct password_hasher;

/* At most concurrency hashes run at once; the others wait their turn. */
struct password_hasher *password_hasher_open(unsigned concurrency);
void password_hasher_close(struct password_hasher *h);

/* Why pw may not be used (in err), or true. username and email may be NULL. */
bool password_acceptable(const char *pw, size_t len, const char *username, const char *email,
			 char *err, size_t errlen);
bool password_hash(struct password_hasher *h, const char *pw, size_t len,
		   char out[PASSWORD_HASH_MAX]);
/*
 * Whether pw matches stored; stored NULL checks a dummy hash so that an unknown
 * name costs what a known one does, and answers false.
 */
bool password_verify(struct password_hasher *h, const char *stored, const char *pw, size_t len);
/* Whether stored was made with other parameters than password_hash uses now. */
bool password_needs_rehash(const char *stored);

#endif
