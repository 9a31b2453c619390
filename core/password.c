/* password: the password rules, and argon2id hashing bounded to a few hashes at once. */
#include "password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxcvbn.h>

/* OWASP's password storage sheet: argon2id with at least 19 MiB and 2 passes. */
#define PASSWORD_OPSLIMIT 2ULL
#define PASSWORD_MEMLIMIT (19ULL << 20)

struct password_hasher {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned running, limit;
	char dummy[PASSWORD_HASH_MAX];
};

static void acquire(struct password_hasher *h)
{
	pthread_mutex_lock(&h->lock);
	while (h->running >= h->limit)
		pthread_cond_wait(&h->freed, &h->lock);
	h->running++;
	pthread_mutex_unlock(&h->lock);
}

static void release(struct password_hasher *h)
{
	pthread_mutex_lock(&h->lock);
	h->running--;
	pthread_cond_signal(&h->freed);
	pthread_mutex_unlock(&h->lock);
}

struct password_hasher *password_hasher_open(unsigned concurrency)
{
	struct password_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->limit = concurrency ? concurrency : 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->freed, NULL);
	unsigned char junk[32];
	randombytes_buf(junk, sizeof(junk));
	if (!password_hash(h, (const char *)junk, sizeof(junk), h->dummy)) {
		password_hasher_close(h);
		return NULL;
	}
	return h;
}

void password_hasher_close(struct password_hasher *h)
{
	if (!h)
		return;
	pthread_cond_destroy(&h->freed);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Characters of valid UTF-8 (no overlong forms, surrogates or NULs), or -1. */
static long utf8_chars(const unsigned char *s, size_t len)
{
	long n = 0;
	for (size_t i = 0; i < len; n++) {
		unsigned c = s[i];
		size_t more;
		unsigned min;
		if (c == 0)
			return -1;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			more = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			more = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			more = 3, min = 0x10000, c &= 0x07;
		} else {
			return -1;
		}
		if (i + more >= len)
			return -1;
		for (size_t k = 1; k <= more; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return -1;
			c = c << 6 | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return -1;
		i += more + 1;
	}
	return n;
}

bool password_acceptable(const char *pw, size_t len, const char *username, const char *email,
			 char *err, size_t errlen)
{
	long chars = pw && len <= PASSWORD_MAX_BYTES ? utf8_chars((const unsigned char *)pw, len)
						     : (pw ? PASSWORD_MAX_CHARS + 1 : 0);
	if (chars < 0) {
		snprintf(err, errlen, "the password is not valid UTF-8 text");
		return false;
	}
	if (chars < PASSWORD_MIN_CHARS || chars > PASSWORD_MAX_CHARS) {
		snprintf(err, errlen, "the password needs %d to %d characters", PASSWORD_MIN_CHARS,
			 PASSWORD_MAX_CHARS);
		return false;
	}
	if ((username && strcasecmp(pw, username) == 0) || (email && strcasecmp(pw, email) == 0)) {
		snprintf(err, errlen, "the password may not be your username or email");
		return false;
	}
	const char *user_dict[3] = {username, email, NULL};
	if (!username)
		user_dict[0] = email, user_dict[1] = NULL;
	double bits = ZxcvbnMatch(pw, user_dict, NULL);
	if (bits < PASSWORD_MIN_BITS) {
		snprintf(err, errlen,
			 "the password is too easy to guess (about %.0f bits; at least %d needed): "
			 "avoid common words, names, dates and keyboard patterns, or make it longer",
			 bits, PASSWORD_MIN_BITS);
		return false;
	}
	return true;
}

bool password_hash(struct password_hasher *h, const char *pw, size_t len,
		   char out[PASSWORD_HASH_MAX])
{
	acquire(h);
	int rc = crypto_pwhash_str(out, pw, len, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT);
	release(h);
	return rc == 0;
}

bool password_verify(struct password_hasher *h, const char *stored, const char *pw, size_t len)
{
	acquire(h);
	int rc = crypto_pwhash_str_verify(stored ? stored : h->dummy, pw, len);
	release(h);
	return stored && rc == 0;
}

bool password_needs_rehash(const char *stored)
{
	return crypto_pwhash_str_needs_rehash(stored, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT) != 0;
}
