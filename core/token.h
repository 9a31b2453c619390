/* token: the secrets of sessions, API tokens and mailed links: made, hashed, and read from headers. */
#ifndef GALLERY_TOKEN_H
#define GALLERY_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

enum {
	TOKEN_BYTES = 32,
	TOKEN_CHARS = 43, /* base64url of TOKEN_BYTES, no padding */
	TOKEN_HASH_BYTES = 32,
	TOKEN_HASH_HEX = 2 * TOKEN_HASH_BYTES + 1,
};

/* What a bearer token starts with, so that a token pasted in the wrong place is told apart. */
#define TOKEN_BEARER_PREFIX "gt_"

/* TOKEN_BYTES random bytes as base64url. */
void token_new(char out[TOKEN_CHARS + 1]);
/* Whether s is exactly TOKEN_CHARS characters of base64url. */
bool token_well_formed(const char *s, size_t len);
/* SHA-256 of the token's characters: what the database keeps. */
void token_hash(const char *token, size_t len, unsigned char out[TOKEN_HASH_BYTES]);
void token_hash_hex(const unsigned char hash[TOKEN_HASH_BYTES], char out[TOKEN_HASH_HEX]);
/*
 * The token in the cookie named name of a Cookie header's value (NULL: none).
 * False when the cookie is missing; *present says whether it was there at all
 * (a malformed one is present and false).
 */
bool token_from_cookie(const char *header, const char *name, char out[TOKEN_CHARS + 1],
		       bool *present);
/*
 * The token of an Authorization header's value "Bearer gt_<token>"; false when
 * the header is missing or malformed (*present says whether there was one).
 */
bool token_from_bearer(const char *header, char out[TOKEN_CHARS + 1], bool *present);

#endif
